/**
 * The training view: loss (raw and smoothed), grad norm and update ratio per parameter group (lines,
 * or group × step heatmaps when there are many groups) and the dead-ReLU fraction, drawn with
 * uPlot and redrawn at most once per animation frame as step records stream in. Hovering shows
 * the numbers (uPlot's legend); clicking a step asks the host for that step's graph.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./training.css";
import type { StepRecord } from "../../protocol/training";
import { StepLog } from "../../protocol/stepLog";
import { parseHostMessage, type TrainingHostMessage, type TrainingStatus, type TrainingStrings, type TrainingViewMessage } from "../../protocol/trainingMessages";
import { decadeLabelStep, durationText, forLogScale, formatValue, heatRange, nearestGraphStep, sampledGroupValues, smooth } from "./series";
import { GroupHeatmap, type GroupField } from "./heatmap";
import { el } from "./dom";

interface Host {
  postMessage(message: TrainingViewMessage): void;
}
declare function acquireVsCodeApi(): Host;
const host = acquireVsCodeApi();

/** Above this many groups, grad norms and update ratios are heatmaps (a line each would be unreadable). */
const MAX_GROUP_LINES = 12;
const CHART_HEIGHT = 170;
/** The plot's own height inside a chart (the rest is the x axis). */
const PLOT_HEIGHT = CHART_HEIGHT - 50;
/** An update ratio near this is the usual sign of a sane learning rate (marked on the ratio heatmap's key). */
const HEALTHY_UPDATE_RATIO = 1e-3;

/** A tick label: 0.001, 1, 100, 1e-6. */
function axisNumber(v: number): string {
  return Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5 ? v.toExponential(0) : String(Number(v.toPrecision(3)));
}

/** Labels of a log axis's splits: powers of ten only, thinned to what fits the plot's height. */
function decadeLabels(splits: number[]): string[] {
  const decades = splits.filter((v) => Number.isInteger(Math.log10(v))).length;
  const every = decadeLabelStep(decades, PLOT_HEIGHT);
  return splits.map((v) => {
    const exponent = Math.log10(v);
    return Number.isInteger(exponent) && exponent % every === 0 ? axisNumber(v) : "";
  });
}

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
  private heatmaps: GroupHeatmap[] = [];
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
    this.heatmaps = [];
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
        // Log axes: only powers of ten get a label (1e-4, 0.01, 1), and only as many as fit one above the other.
        ...(logY ? { values: (_u: uPlot, splits: number[]) => decadeLabels(splits) } : {}),
      },
    ];
    const make = (title: string, series: uPlot.Series[], logY: boolean, id: string, yRange?: uPlot.Scale.Range): void => {
      const box = el("section", `chart ${id}`);
      box.append(el("h2", undefined, title));
      this.chartsBox.append(box);
      const opts: uPlot.Options = {
        width,
        height: CHART_HEIGHT,
        scales: { x: { time: false }, y: logY ? { distr: 3, ...(yRange ? { range: yRange } : {}) } : {} },
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
    const heatmap = (field: GroupField, title: string, mark?: { value: number; label: string }): void => {
      const name = field === "gradNorm" ? s.gradNorm : s.updateRatio;
      const map = new GroupHeatmap(field, `${title} — ${s.heatmapNote}`, { base: colors[0], bad: colors[4], mark: colors[1], text: fg }, (c) => `${s.step} ${c.step} · ${c.group} · ${name} ${formatValue(c.value)}`, (step) => this.openStep(step), mark);
      this.heatmaps.push(map);
      this.chartsBox.append(map.box);
    };
    if (this.manyGroups) {
      make(s.gradNorm, [line(s.gradNormAll, colors[0], 2)], true, "grad");
      heatmap("gradNorm", s.gradNorm);
      heatmap("updateRatio", s.updateRatio, { value: HEALTHY_UPDATE_RATIO, label: s.healthyRatio });
    } else {
      make(s.gradNorm, [line(s.gradNormAll, fg, 2), ...this.groups.map((g, i) => line(g, colors[i % colors.length]))], true, "grad");
      // The axis spans the usual ratios, not a bias at 1e-17 moved by 0.1 (1e16): such a line leaves the top, its number stays in the legend.
      make(s.updateRatio, this.groups.map((g, i) => line(g, colors[i % colors.length])), true, "ratio", () => this.ratioAxis());
    }
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
    const chart = (id: string) => this.charts.find((c) => c.root.parentElement?.classList.contains(id));
    chart("loss")?.setData([x, loss, lossSmoothed] as uPlot.AlignedData);
    chart("grad")?.setData((this.manyGroups ? [x, total] : [x, total, ...groupSeries("gradNorm")]) as uPlot.AlignedData);
    chart("ratio")?.setData([x, ...groupSeries("updateRatio")] as uPlot.AlignedData);
    chart("relu")?.setData([x, this.steps.map((r) => r.deadReluFraction)] as uPlot.AlignedData);
    this.drawHeatmaps();
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

  private drawHeatmaps(): void {
    const width = this.chartWidth();
    for (const map of this.heatmaps) map.draw(this.steps, this.groups, width);
  }

  /** The update-ratio axis: whole decades around the usual ratios of this run (see heatRange). */
  private ratioAxis(): [number, number] {
    const range = heatRange(sampledGroupValues(this.steps, this.groups, "updateRatio"), HEALTHY_UPDATE_RATIO) ?? { lo: HEALTHY_UPDATE_RATIO / 10, hi: HEALTHY_UPDATE_RATIO * 10 };
    return [10 ** Math.floor(Math.log10(range.lo)), 10 ** Math.ceil(Math.log10(range.hi))];
  }

  private chartWidth(): number {
    return Math.max(280, Math.floor(this.chartsBox.clientWidth || this.root.clientWidth || 600) - 8);
  }

  private resize(): void {
    const width = this.chartWidth();
    for (const c of this.charts) c.setSize({ width, height: CHART_HEIGHT });
    this.drawHeatmaps();
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
