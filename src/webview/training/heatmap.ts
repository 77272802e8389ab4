/**
 * A group × step heatmap of one per-group number (gradient norm or update ratio), for runs with too
 * many groups for a line each. The colour's strength is the number's place on a log scale between the ends of its
 * colour key; the key shows those ends, so a cell can be read without hovering. The ends leave out the
 * few extreme cells (see `heatRange`): one bias that crosses zero must not turn every other row dark.
 */
import type { StepRecord } from "../../protocol/training";
import { formatValue, heatRange, logPosition, rowLabels, sampledGroupValues, type HeatRange, type RowLabel } from "./series";
import { el } from "./dom";

export type GroupField = "gradNorm" | "updateRatio";

export interface HeatCell {
  step: number;
  group: string;
  value: number;
}

/** Row labels: their font size, and the room a label needs (a row shorter than this is labelled by blocks of rows). */
const LABEL_PX = 11;
const LABEL_ROOM = 12;
/** The label gutter takes at most this share of the width. */
const MAX_GUTTER_SHARE = 0.35;

/** Pixels of the colour key's gradient. */
const KEY_WIDTH = 120;
const KEY_HEIGHT = 10;

export class GroupHeatmap {
  readonly box: HTMLElement;
  private readonly canvas = el("canvas");
  private readonly info = el("div", "heatinfo", " ");
  private readonly keyLow = el("span", "keyend");
  private readonly keyHigh = el("span", "keyend");
  private readonly keyBar = el("canvas", "keybar");
  private range: HeatRange | undefined;
  /** Canvas pixels left of the cells, for the row labels. */
  private gutter = 0;
  private steps: readonly StepRecord[] = [];
  private groups: readonly string[] = [];

  /**
   * @param mark a value to mark on the key (the healthy update ratio), if any.
   * @param describe the hover line for a cell.
   */
  constructor(
    readonly field: GroupField,
    title: string,
    private readonly colors: { base: string; bad: string; mark: string; text: string },
    private readonly describe: (cell: HeatCell) => string,
    onClick: (step: number) => void,
    private readonly mark?: { value: number; label: string },
  ) {
    this.box = el("section", `chart heatmap ${field}`);
    const key = el("div", "heatkey");
    this.keyBar.width = KEY_WIDTH;
    this.keyBar.height = KEY_HEIGHT;
    key.append(this.keyLow, this.keyBar, this.keyHigh);
    if (mark) key.append(el("span", "keymark", mark.label));
    this.box.append(el("h2", undefined, title), this.canvas, key, this.info);
    this.canvas.addEventListener("mousemove", (e) => {
      const at = this.cellAt(e);
      this.info.textContent = at ? this.describe(at) : " ";
    });
    this.canvas.addEventListener("click", (e) => {
      const at = this.cellAt(e);
      if (at) onClick(at.step);
    });
  }

  /** The steps (or bins of steps) as columns right of the labels, a row per group. */
  private layout(width: number): { cols: number; rowHeight: number; perCol: number } {
    const cols = Math.max(1, Math.min(this.steps.length, Math.floor(width - this.gutter)));
    return { cols, rowHeight: Math.max(4, Math.min(14, Math.floor(260 / Math.max(1, this.groups.length)))), perCol: Math.max(1, this.steps.length / cols) };
  }

  draw(steps: readonly StepRecord[], groups: readonly string[], width: number): void {
    this.steps = steps;
    this.groups = groups;
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    this.gutter = 0;
    const { rowHeight } = this.layout(width);
    this.canvas.width = width;
    this.canvas.height = rowHeight * groups.length;
    // Setting the size cleared the canvas and its font.
    ctx.font = `${LABEL_PX}px ${getComputedStyle(this.box).fontFamily}`;
    const labels = rowLabels(groups, rowHeight, LABEL_ROOM);
    const widest = labels.reduce((w, l) => (l.rows * rowHeight >= LABEL_ROOM ? Math.max(w, ctx.measureText(l.text).width) : w), 0);
    this.gutter = widest > 0 ? Math.min(Math.ceil(widest) + 8, Math.floor(width * MAX_GUTTER_SHARE)) : 0;
    this.canvas.dataset.gutter = String(this.gutter);
    const { cols, perCol } = this.layout(width);
    this.range = heatRange(sampledGroupValues(steps, groups, this.field), this.mark?.value);
    this.drawLabels(ctx, labels, rowHeight);
    const colWidth = (width - this.gutter) / cols;
    for (let c = 0; c < cols; c++) {
      const record = steps[Math.min(steps.length - 1, Math.floor(c * perCol))];
      if (!record) continue;
      groups.forEach((g, row) => {
        const v = record.groups[g]?.[this.field] ?? 0;
        ctx.globalAlpha = Number.isFinite(v) ? this.alpha(v) : 1;
        ctx.fillStyle = Number.isFinite(v) ? this.colors.base : this.colors.bad;
        ctx.fillRect(this.gutter + c * colWidth, row * rowHeight, Math.ceil(colWidth), rowHeight - 1);
      });
    }
    ctx.globalAlpha = 1;
    this.drawKey();
  }

  /** A group's name beside its row; with short rows, a block's name (`layers[1]`) beside its rows, a line between blocks. */
  private drawLabels(ctx: CanvasRenderingContext2D, labels: readonly RowLabel[], rowHeight: number): void {
    ctx.fillStyle = this.colors.text;
    ctx.textBaseline = "middle";
    const room = this.gutter - 6;
    for (const l of labels) {
      if (l.rows * rowHeight >= LABEL_ROOM) ctx.fillText(fitFromLeft(ctx, l.text, room), 0, l.first * rowHeight + Math.min(l.rows * rowHeight, 2 * LABEL_ROOM) / 2);
      if (rowHeight < LABEL_ROOM && l.first > 0) {
        ctx.globalAlpha = 0.5;
        ctx.fillRect(0, l.first * rowHeight - 1, this.canvas.width, 1);
        ctx.globalAlpha = 1;
      }
    }
  }

  private alpha(v: number): number {
    return this.range ? 0.08 + 0.92 * logPosition(v, this.range.lo, this.range.hi) : 0.08;
  }

  private drawKey(): void {
    const range = this.range;
    this.keyLow.textContent = range ? `≤ ${formatValue(range.lo)}` : "–";
    this.keyHigh.textContent = range ? `≥ ${formatValue(range.hi)}` : "–";
    const ctx = this.keyBar.getContext("2d");
    if (!ctx) return;
    ctx.clearRect(0, 0, KEY_WIDTH, KEY_HEIGHT);
    ctx.fillStyle = this.colors.base;
    for (let x = 0; x < KEY_WIDTH; x++) {
      ctx.globalAlpha = 0.08 + (0.92 * x) / (KEY_WIDTH - 1);
      ctx.fillRect(x, 0, 1, KEY_HEIGHT);
    }
    ctx.globalAlpha = 1;
    if (range && this.mark) {
      const x = Math.round(logPosition(this.mark.value, range.lo, range.hi) * (KEY_WIDTH - 1));
      ctx.fillStyle = this.colors.mark;
      ctx.fillRect(Math.max(0, x - 1), 0, 2, KEY_HEIGHT);
    }
  }

  cellAt(e: { clientX: number; clientY: number }): HeatCell | undefined {
    const rect = this.canvas.getBoundingClientRect();
    const { cols, rowHeight, perCol } = this.layout(this.canvas.width);
    // Canvas pixels: the canvas is stretched to its box's width.
    const x = ((e.clientX - rect.left) / Math.max(1, rect.width)) * this.canvas.width;
    if (x < this.gutter) return undefined;
    const c = Math.floor(((x - this.gutter) / (this.canvas.width - this.gutter)) * cols);
    const row = Math.floor((((e.clientY - rect.top) / Math.max(1, rect.height)) * this.canvas.height) / rowHeight);
    const record = this.steps[Math.min(this.steps.length - 1, Math.floor(c * perCol))];
    const group = this.groups[row];
    if (!record || group === undefined) return undefined;
    return { step: record.step, group, value: record.groups[group]?.[this.field] ?? NaN };
  }
}

/** `text`, or its end after "…" (the specific part of `layers[1].neurons[3].w`), to fit `room` pixels. */
function fitFromLeft(ctx: CanvasRenderingContext2D, text: string, room: number): string {
  if (ctx.measureText(text).width <= room) return text;
  for (let cut = 1; cut < text.length; cut++) {
    const shorter = `…${text.slice(cut)}`;
    if (ctx.measureText(shorter).width <= room) return shorter;
  }
  return "";
}
