/**
 * What a training run records per `backward()` call (a "step") — shared by the runners, the CLI,
 * the extension and the training view. Types only, so the webview may import it.
 */
import type { RootGraph, SourceSite } from "./result";

/** One parameter group's numbers at one step. */
export interface GroupStep {
  /** 2-norm of the group's grads as backward() left them. */
  gradNorm: number;
  /** |Δp| / |p| over the group, Δp from this backward() to the next one (or to the end of the run). */
  updateRatio: number;
}

export interface StepRecord {
  /** Counts backward() calls from 1. */
  step: number;
  /** The root's data. */
  loss: number;
  /** 2-norm over all parameters of the grads as backward() left them. */
  gradNorm: number;
  groups: Record<string, GroupStep>;
  /** Share of ReLUs in the step's graph whose input was ≤ 0; null when the graph has none. */
  deadReluFraction: number | null;
  /** Some number in the step's graph (data or grad) was NaN or ±Infinity. */
  nonFinite: boolean;
  /** Milliseconds since the run started, when the step's backward() returned. */
  timeMs: number;
}

/** A full graph kept for one step (first, last completed, first non-finite, a few recent ones). */
export interface StepGraph {
  step: number;
  root: RootGraph;
  /** Parameter path (`model.layers[0].w[3]`) of the graph's parameter nodes, by node id. */
  paths?: Record<number, string>;
}

/** A training run's records, as they come back at its end. */
export interface TrainingResult {
  steps: StepRecord[];
  /** Group names in the order they were first seen (the order of charts and heatmap rows). */
  groups: string[];
  graphs: StepGraph[];
  /** The run stopped on request (Stop, `--steps N`) after this many steps. */
  stoppedAfter?: number;
  /** The loop bound, when the run could tell it (for an ETA). */
  totalSteps?: number;
  /** Set when a long run's records were thinned (src/protocol/stepLog.ts): every `every`-th step is kept of `steps` recorded. */
  thinned?: { every: number; steps: number };
}

/** What a training run streams while it goes: records come in batches (a few per second at most). */
export interface TrainingProgress {
  steps: StepRecord[];
  /** Groups first seen in this batch (in order). */
  newGroups: string[];
  /** Full graphs kept so far in the run (step 1, the first non-finite one, a recent one), to open while it runs. */
  graphs?: StepGraph[];
  /** With `graphs`: every step whose graph is kept now (a newer recent graph replaces the older one). */
  graphSteps?: number[];
  /** With `graphs`: the run's source sites so far (what the graphs' nodes point at). */
  sites?: SourceSite[];
  /** The child's stride of kept steps (src/protocol/stepLog.ts); absent while every step is kept. */
  stride?: number;
  /** The batch ends with the run's last step (kept whatever its number). */
  final?: boolean;
  /** The loop bound, once the child could tell it (for an ETA). */
  totalSteps?: number;
}
