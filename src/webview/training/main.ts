/**
 * The training view: loss (raw and smoothed), grad norm per parameter group (lines, or a group ×
 * step heatmap when there are many groups), update ratios and the dead-ReLU fraction, drawn with
 * uPlot and redrawn at most once per animation frame as step records stream in. Hovering shows
 * the numbers (uPlot's legend); clicking a step asks the host for that step's graph.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./training.css";
import type { StepRecord } from "../../protocol/training";
import { StepLog } from "../../protocol/stepLog";
import { parseHostMessage, type TrainingHostMessage, type TrainingStatus, type TrainingStrings, type TrainingViewMessage } from "../../protocol/trainingMessages";
import { durationText, forLogScale, formatValue, logPosition, nearestGraphStep, smooth } from "./series";

interface Host {
  postMessage(message: TrainingViewMessage): void;
}
declare function acquireVsCodeApi(): Host;
const host = acquireVsCodeApi();

/** Above this many groups, grad norms are a heatmap (a line each would be unreadable). */
const MAX_GROUP_LINES = 12;
const CHART_HEIGHT = 170;

/** A tick label: 0.001, 1, 100, 1e-6. */
function axisNumber(v: number): string {
  return Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5 ? v.toExponential(0) : String(Number(v.toPrecision(3)));
}

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
};

function themeColor(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

function palette(): string[] {
  return [
    themeColor("--vscode-charts-blue", "#3794ff"),
    themeColor("--vscode-charts-orange", "#d18616"),
    themeColor("--vscode-charts-green", "#89d185"),
    themeColor("--vscode-charts-purple", "#b180d7"),
    themeColor("--vscode-charts-red", "#f14c4c"),
    themeColor("--vscode-charts-yellow", "#cca700"),
    "#4ec9b0",
    "#c586c0",
    "#9cdcfe",
    "#ce9178",
    "#dcdcaa",
    "#6a9955",
  ];
}

class TrainingView {
  private strings: TrainingStrings | undefined;
  /** Every step drawn so far, bounded as the run bounds them (read by the e2e tests through `window.gradlensTraining`). */
  private log = new StepLog();
  get steps(): StepRecord[] {
    return this.log.records;
  }
  private groups: string[] = [];
  private graphSteps: number[] = [];
  private status: TrainingStatus = "running";
  private elapsedMs = 0;
  private totalSteps: number | undefined;
  private message: string | undefined;
  private charts: uPlot[] = [];
  private heatmap: HTMLCanvasElement | undefined;
  private heatmapInfo: HTMLElement | undefined;
  private chartGroups = -1;
  private drawPending = false;
  private updates = 0;
  private readonly header = el("div", "header");
  private readonly statusLine = el("div", "status");
  private readonly stopButton = el("button", "stop");
  private readonly chartsBox = el("div", "charts");
  private readonly graphsBox = el("div", "graphs");
  private readonly note = el("div", "note");

  constructor(private readonly root: HTMLElement) {
    const bar = el("div", "bar");
    bar.append(this.statusLine, this.stopButton);
    this.stopButton.addEventListener("click", () => {
      this.stopButton.disabled = true;
      host.postMessage({ type: "stop" });
    });
    root.append(this.header, bar, this.chartsBox, this.graphsBox, this.note);
    // Resized in the next frame: resizing the charts inside the observer's callback would trigger it again.
    new ResizeObserver(() => requestAnimationFrame(() => this.resize())).observe(this.chartsBox);
  }

  /** When the message being drawn arrived (for the "rendered" report's drawMs). */
  private receivedAt: number | undefined;

  handle(message: TrainingHostMessage): void {
    this.receivedAt ??= performance.now();
    switch (message.type) {
      case "init":
        this.strings = message.strings;
        this.log = new StepLog();
        this.log.reset(message.steps, message.stride);
        this.groups = message.groups.slice();
        this.graphSteps = message.graphSteps.slice();
        this.status = message.status;
        this.elapsedMs = message.elapsedMs;
        this.totalSteps = message.totalSteps;
        this.message = message.message;
        this.header.textContent = `${message.strings.title} — ${message.file}`;
        this.stopButton.textContent = message.strings.stop;
        this.rebuild();
        break;
      case "progress":
        this.log.addBatch(message.steps, message.stride, message.final);
        if (message.totalSteps !== undefined) this.totalSteps = message.totalSteps;
        if (message.graphSteps) this.graphSteps = message.graphSteps.slice();
        this.groups.push(...message.newGroups);
        this.elapsedMs = message.elapsedMs;
        if (message.newGroups.length > 0) this.rebuild();
        else this.scheduleDraw();
        break;
      case "status":
        this.status = message.status;
        this.graphSteps = message.graphSteps.slice();
        this.message = message.message;
        this.scheduleDraw();
        break;
    }
  }

  private get manyGroups(): boolean {
    return this.groups.length > MAX_GROUP_LINES;
  }

  /** New charts when the set of series changes; otherwise only their data. */
  private rebuild(): void {
    const s = this.strings;
    if (!s) return;
    for (const c of this.charts) c.destroy();
    this.charts = [];
    this.chartsBox.replaceChildren();
    this.heatmap = undefined;
    const width = this.chartWidth();
    const fg = themeColor("--vscode-foreground", "#ccc");
    const grid = themeColor("--vscode-editorWidget-border", "#8884");
    const colors = palette();
    const axes = (logY: boolean): uPlot.Axis[] => [
      { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
      {
        stroke: fg,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid },
        size: 60,
        space: 24,
        // Log axes: only the powers of ten get a label (1e-4, 0.01, 1), so labels never crowd.
        ...(logY ? { values: (_u: uPlot, splits: number[]) => splits.map((v) => (Number.isInteger(Math.log10(v)) ? axisNumber(v) : "")) } : {}),
      },
    ];
    const make = (title: string, series: uPlot.Series[], logY: boolean, id: string): void => {
      const box = el("section", `chart ${id}`);
      box.append(el("h2", undefined, title));
      this.chartsBox.append(box);
      const opts: uPlot.Options = {
        width,
        height: CHART_HEIGHT,
        scales: { x: { time: false }, y: logY ? { distr: 3 } : {} },
        axes: axes(logY),
        series: [{ label: s.step, value: (_u, v) => (v === null ? "–" : String(v)) }, ...series],
        cursor: { drag: { x: false, y: false } },
        legend: { live: true },
      };
      const chart = new uPlot(opts, [[]], box);
      chart.over.addEventListener("click", () => {
        const idx = chart.cursor.idx;
        if (idx !== null && idx !== undefined && this.steps[idx]) this.openStep(this.steps[idx].step);
      });
      this.charts.push(chart);
    };
    const line = (label: string, stroke: string, width = 1.5, dash?: number[]): uPlot.Series => ({ label, stroke, width, ...(dash ? { dash } : {}), value: (_u, v) => formatValue(v), spanGaps: false, points: { show: false } });
    make(s.loss, [line(s.loss, colors[0], 1), line(s.lossSmoothed, colors[1], 2)], false, "loss");
    if (this.manyGroups) {
      make(s.gradNorm, [line(s.gradNormAll, colors[0], 2)], true, "grad");
      const box = el("section", "chart heatmap");
      box.append(el("h2", undefined, `${s.gradNorm} — ${s.heatmapNote}`));
      this.heatmap = el("canvas");
      this.heatmapInfo = el("div", "heatinfo", " ");
      box.append(this.heatmap, this.heatmapInfo);
      this.chartsBox.append(box);
      this.heatmap.addEventListener("mousemove", (e) => this.heatmapHover(e));
      this.heatmap.addEventListener("click", (e) => {
        const at = this.heatmapCell(e);
        if (at) this.openStep(at.step);
      });
    } else {
      make(s.gradNorm, [line(s.gradNormAll, fg, 2), ...this.groups.map((g, i) => line(g, colors[i % colors.length]))], true, "grad");
    }
    make(s.updateRatio, this.groups.map((g, i) => line(g, colors[i % colors.length])), true, "ratio");
    make(s.deadRelu, [line(s.deadRelu, colors[4], 1.5)], false, "relu");
    this.chartGroups = this.groups.length;
    this.draw();
  }

  private scheduleDraw(): void {
    if (this.drawPending) return;
    this.drawPending = true;
    requestAnimationFrame(() => {
      this.drawPending = false;
      this.draw();
    });
  }

  private draw(): void {
    const s = this.strings;
    if (!s) return;
    const started = this.receivedAt ?? performance.now();
    this.receivedAt = undefined;
    if (this.chartGroups !== this.groups.length) {
      this.rebuild();
      return;
    }
    const x = this.steps.map((r) => r.step);
    const loss = this.steps.map((r) => (Number.isFinite(r.loss) ? r.loss : null));
    const lossSmoothed = smooth(this.steps.map((r) => r.loss));
    const groupSeries = (field: "gradNorm" | "updateRatio") => this.groups.map((g) => forLogScale(this.steps.map((r) => r.groups[g]?.[field] ?? NaN)));
    const total = forLogScale(this.steps.map((r) => r.gradNorm));
    const [lossChart, gradChart, ratioChart, reluChart] = this.charts;
    lossChart?.setData([x, loss, lossSmoothed] as uPlot.AlignedData);
    gradChart?.setData((this.manyGroups ? [x, total] : [x, total, ...groupSeries("gradNorm")]) as uPlot.AlignedData);
    ratioChart?.setData([x, ...groupSeries("updateRatio")] as uPlot.AlignedData);
    reluChart?.setData([x, this.steps.map((r) => r.deadReluFraction)] as uPlot.AlignedData);
    if (this.heatmap) this.drawHeatmap();
    this.drawStatus();
    this.drawGraphs();
    this.updates++;
    const steps = this.steps.length;
    const updates = this.updates;
    // uPlot draws in a microtask after setData: report once the frame with the new data is out.
    requestAnimationFrame(() => host.postMessage({ type: "rendered", steps, updates, drawMs: performance.now() - started }));
  }

  private drawStatus(): void {
    const s = this.strings as TrainingStrings;
    // Step numbers, not records: a long run's records are thinned.
    const n = this.log.lastStepNumber;
    const perSecond = this.elapsedMs > 0 ? (n / this.elapsedMs) * 1000 : 0;
    const live = this.status === "running" || this.status === "stopping";
    const parts = [live ? s.progress.replace("{0}", String(n)).replace("{1}", perSecond.toFixed(perSecond < 10 ? 1 : 0)) : s.stepsDone.replace("{0}", String(n))];
    if (this.status === "running" && this.totalSteps && perSecond > 0 && n < this.totalSteps) parts.push(s.eta.replace("{0}", durationText(((this.totalSteps - n) / perSecond) * 1000)));
    if (this.log.stride > 1) parts.push(s.thinned.replace("{0}", String(this.log.stride)).replace("{1}", String(n)));
    const label = { running: s.running, stopping: s.stopping, finished: s.finished, stopped: s.stopped, failed: s.failed }[this.status];
    const nonFinite = this.steps.find((r) => r.nonFinite);
    this.statusLine.textContent = `${label} · ${n === 0 ? s.waiting : parts.join(" · ")}${nonFinite ? ` · ${s.nonFinite}: ${s.step} ${nonFinite.step}` : ""}${this.message ? ` — ${this.message}` : ""}`;
    this.statusLine.classList.toggle("bad", this.status === "failed" || nonFinite !== undefined);
    this.stopButton.hidden = this.status !== "running" && this.status !== "stopping";
    this.stopButton.disabled = this.status === "stopping";
  }

  private drawGraphs(): void {
    const s = this.strings as TrainingStrings;
    this.graphsBox.replaceChildren();
    if (this.graphSteps.length === 0) return;
    this.graphsBox.append(el("span", "label", s.graphsKept));
    for (const step of this.graphSteps) {
      const b = el("button", "graphstep", String(step));
      b.dataset.step = String(step);
      b.addEventListener("click", () => this.openStep(step));
      this.graphsBox.append(b);
    }
    this.graphsBox.append(el("span", "hint", s.clickHint));
  }

  private openStep(step: number): void {
    const s = this.strings as TrainingStrings;
    const kept = nearestGraphStep(step, this.graphSteps);
    if (kept === undefined) return;
    this.note.textContent = kept === step ? "" : s.nearestGraph.replace("{0}", String(step)).replace("{1}", String(kept));
    host.postMessage({ type: "openStep", step: kept });
  }

  // ---- the heatmap: a row per group, a column per step (or per bin of steps) ----------------

  private heatmapLayout(): { cols: number; rowHeight: number; perCol: number } {
    const width = this.chartWidth();
    const cols = Math.max(1, Math.min(this.steps.length, Math.floor(width)));
    return { cols, rowHeight: Math.max(4, Math.min(14, Math.floor(260 / Math.max(1, this.groups.length)))), perCol: Math.max(1, this.steps.length / cols) };
  }

  private drawHeatmap(): void {
    const canvas = this.heatmap as HTMLCanvasElement;
    const { cols, rowHeight, perCol } = this.heatmapLayout();
    const width = this.chartWidth();
    canvas.width = width;
    canvas.height = rowHeight * this.groups.length;
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    let lo = Infinity;
    let hi = 0;
    for (const r of this.steps) for (const g of this.groups) {
      const v = r.groups[g]?.gradNorm ?? 0;
      if (v > 0 && Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    const colors = palette();
    const base = colors[0];
    const bad = colors[4];
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const colWidth = width / cols;
    for (let c = 0; c < cols; c++) {
      const record = this.steps[Math.min(this.steps.length - 1, Math.floor(c * perCol))];
      if (!record) continue;
      this.groups.forEach((g, row) => {
        const v = record.groups[g]?.gradNorm ?? 0;
        ctx.globalAlpha = Number.isFinite(v) ? 0.08 + 0.92 * logPosition(v, lo, hi) : 1;
        ctx.fillStyle = Number.isFinite(v) ? base : bad;
        ctx.fillRect(c * colWidth, row * rowHeight, Math.ceil(colWidth), rowHeight - 1);
      });
    }
    ctx.globalAlpha = 1;
  }

  private heatmapCell(e: MouseEvent): { step: number; group: string; value: number } | undefined {
    const canvas = this.heatmap as HTMLCanvasElement;
    const { cols, rowHeight, perCol } = this.heatmapLayout();
    const rect = canvas.getBoundingClientRect();
    const c = Math.floor(((e.clientX - rect.left) / rect.width) * cols);
    const row = Math.floor((e.clientY - rect.top) / rowHeight);
    const record = this.steps[Math.min(this.steps.length - 1, Math.floor(c * perCol))];
    const group = this.groups[row];
    if (!record || group === undefined) return undefined;
    return { step: record.step, group, value: record.groups[group]?.gradNorm ?? NaN };
  }

  private heatmapHover(e: MouseEvent): void {
    const at = this.heatmapCell(e);
    const s = this.strings as TrainingStrings;
    if (this.heatmapInfo) this.heatmapInfo.textContent = at ? `${s.step} ${at.step} · ${at.group} · ${s.gradNorm} ${formatValue(at.value)}` : " ";
  }

  private chartWidth(): number {
    return Math.max(280, Math.floor(this.chartsBox.clientWidth || this.root.clientWidth || 600) - 8);
  }

  private resize(): void {
    const width = this.chartWidth();
    for (const c of this.charts) c.setSize({ width, height: CHART_HEIGHT });
    if (this.heatmap) this.drawHeatmap();
  }
}

const app = document.getElementById("app") ?? document.body;
const view = new TrainingView(app);
// Test hook (as the graph view's `gradlensView`): the e2e tests read the steps drawn.
(window as unknown as { gradlensTraining: unknown }).gradlensTraining = view;
window.addEventListener("message", (event: MessageEvent<unknown>) => {
  const message = parseHostMessage(event.data);
  if (!message) return;
  try {
    view.handle(message);
  } catch (error) {
    host.postMessage({ type: "error", message: error instanceof Error ? error.message : String(error) });
  }
});
window.addEventListener("error", (event) => {
  // The browser's note that a resize was put off to the next frame is not a failure.
  if (/ResizeObserver loop/.test(event.message)) return;
  host.postMessage({ type: "error", message: event.message });
});
host.postMessage({ type: "ready" });
