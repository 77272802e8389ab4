/** Pure helpers of the training view (no DOM): smoothing, the nearest kept graph, heatmap colours. */
import type { GroupStep, StepRecord } from "../../protocol/training";

/** Exponential moving average, debiased at the start (as TensorBoard smooths); non-finite points are skipped. */
export function smooth(values: readonly number[], weight = 0.9): (number | null)[] {
  const out: (number | null)[] = [];
  let last = 0;
  let count = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) {
      out.push(null);
      continue;
    }
    last = last * weight + (1 - weight) * v;
    count++;
    out.push(last / (1 - weight ** count));
  }
  return out;
}

/** The kept graph nearest to `step` (ties: the earlier one); undefined when none is kept. */
export function nearestGraphStep(step: number, kept: readonly number[]): number | undefined {
  let best: number | undefined;
  for (const k of kept) if (best === undefined || Math.abs(k - step) < Math.abs(best - step)) best = k;
  return best;
}

/** Numbers a log-scale chart can draw: ≤ 0 and non-finite become gaps. */
export function forLogScale(values: readonly number[]): (number | null)[] {
  return values.map((v) => (Number.isFinite(v) && v > 0 ? v : null));
}

/** 0..1 position of `v` on a log scale between `lo` and `hi` (clamped; non-positive → 0). */
export function logPosition(v: number, lo: number, hi: number): number {
  if (!(v > 0) || !(hi > lo) || !(lo > 0)) return 0;
  return Math.min(1, Math.max(0, (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))));
}

/** Cells a colour range or axis is read from, at most: a long run's 4,000 steps × 60 groups would be a big sort per redraw. */
const RANGE_SAMPLE = 20_000;

/** One per-group number of every k-th step, at most RANGE_SAMPLE of them: what `heatRange` reads. */
export function sampledGroupValues(steps: readonly StepRecord[], groups: readonly string[], field: keyof GroupStep): number[] {
  const values: number[] = [];
  const stepsRead = Math.max(1, Math.floor(RANGE_SAMPLE / Math.max(1, groups.length)));
  const every = Math.max(1, Math.ceil(steps.length / stepsRead));
  for (let i = 0; i < steps.length; i += every) for (const g of groups) values.push(steps[i].groups[g]?.[field] ?? NaN);
  return values;
}

export interface HeatRange {
  lo: number;
  hi: number;
}

/** Share of the cells left out at each end of a heatmap's colour range. */
const HEAT_TAIL = 0.02;

/**
 * The ends of a heatmap's log colour scale: the positive finite values from the 2nd to the 98th
 * percentile, so a few extreme cells (a bias at 1e-17 that a step then moves by 0.1) saturate instead
 * of pressing every other row to one shade. `around`, when given, stays a decade inside the range
 * (the healthy update ratio keeps its place on the key). Undefined when no value is positive.
 */
export function heatRange(values: readonly number[], around?: number): HeatRange | undefined {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0).sort((a, b) => a - b);
  if (positive.length === 0) return undefined;
  const at = (q: number) => positive[Math.min(positive.length - 1, Math.max(0, Math.round(q * (positive.length - 1))))];
  let lo = at(HEAT_TAIL);
  let hi = at(1 - HEAT_TAIL);
  if (around !== undefined && around > 0) {
    lo = Math.min(lo, around / 10);
    hi = Math.max(hi, around * 10);
  }
  if (!(hi > lo)) {
    lo /= 10;
    hi *= 10;
  }
  return { lo, hi };
}

/**
 * Which decades of a log axis get a label: every one when they fit (at least `minGap` pixels apart
 * on an axis `pixels` tall), else every 2nd, 5th, 10th… so labels never overlap.
 */
export function decadeLabelStep(decades: number, pixels: number, minGap = 18): number {
  const fit = Math.max(1, Math.floor(pixels / minGap));
  for (const step of [1, 2, 5, 10, 20, 50, 100]) if (decades / step <= fit) return step;
  return Math.ceil(decades / fit);
}

/** A heatmap row label: its text and the rows it names (one group, or a block of them). */
export interface RowLabel {
  text: string;
  first: number;
  rows: number;
}

/** The head of a group's name that its neighbours share: `layers[1].neurons[3].w` → `layers[1]`, `layer0.attn_wq` → `layer0`. */
export function blockOf(group: string): string {
  return /^[^.[]*(\[[^\]]*\])*/.exec(group)?.[0] || group;
}

/**
 * What a heatmap's rows are labelled with: every group when a row is tall enough for a line of
 * text, else each run of neighbouring groups of one block (`layers[0]`, `layers[1]`), labelled
 * where the run is tall enough.
 */
export function rowLabels(groups: readonly string[], rowHeight: number, textHeight: number): RowLabel[] {
  if (rowHeight >= textHeight) return groups.map((text, first) => ({ text, first, rows: 1 }));
  const runs: RowLabel[] = [];
  groups.forEach((g, row) => {
    const text = blockOf(g);
    const last = runs[runs.length - 1];
    if (last && last.text === text) last.rows++;
    else runs.push({ text, first: row, rows: 1 });
  });
  return runs;
}

/** Seconds as "42 s", "3 min 5 s", "1 h 2 min". */
export function durationText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined) return "–";
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(3);
  return v.toPrecision(5);
}
