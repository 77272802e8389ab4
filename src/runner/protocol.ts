/**
 * The messages between the runner (caller side) and its worker thread. Positions travel as site
 * ids and bundle line/column pairs; the caller maps them to the user's source.
 */
import type { GraphSnapshot } from "../engine/snapshot";
import type { PackedLabels } from "./labelTransfer";
import type { FunctionCheckResult, NonFiniteReport, OpCheckResult, RootGraph, RunErrorKind, RunWarning } from "../protocol/result";

export interface CheckRequest {
  name: string;
  params: { name: string; kind: "scalar" | "array" }[];
  point?: Record<string, number | number[]>;
}

export interface WorkerInput {
  code: string;
  /** Names the code may use without importing (snippet mode): engine exports passed in as parameters. */
  injectedHelpers: string[];
  /** Name of each binding id, for labelling values. */
  bindingNames: string[];
  /** Shared with the caller: [0] = id of the loop site the code last entered. */
  currentSite: SharedArrayBuffer;
  nodeLimit?: number;
  checks?: CheckRequest[];
  gradcheck?: { eps?: number; atol?: number; rtol?: number; seed?: number };
  /** The extension's l10n bundle, so messages made in the worker are in the display language. */
  translations?: Record<string, string>;
  /** The enclosing function of each site (by site id), for re-running user-defined ops in op checks. */
  siteFunctions?: (string | null)[];
  /** Also check the local gradients of the ops in the run's own graphs. */
  opChecks?: boolean;
}

/** A stack frame inside the bundle (1-based line and column). */
export interface BundleFrame {
  line: number;
  column: number;
  functionName?: string;
}

export interface WorkerError {
  kind: RunErrorKind;
  message: string;
  frames: BundleFrame[];
  /** The call site that was running when it happened (a fallback position). */
  siteId: number;
}

export interface WorkerRoot extends Omit<RootGraph, "position" | "graph"> {
  /** The snapshot, its `labels` left empty: they travel in `labels`. */
  graph: GraphSnapshot;
  labels: PackedLabels;
  siteId: number;
}

export interface WorkerBinding {
  id: number;
  data: number;
  grad: number;
  op: string;
  count: number;
  node?: { root: number; id: number };
}

/** One line the user's code printed; posted as it happens. */
export interface WorkerConsoleLine {
  stream: "stdout" | "stderr";
  text: string;
  /** The call site of the console call. */
  siteId: number;
}

/** What the worker posts: console lines while running, then one output (or an internal error). */
export type WorkerMessage = { console: WorkerConsoleLine } | { internalError: string } | WorkerOutput;

export interface WorkerOutput {
  roots: WorkerRoot[];
  bindings: WorkerBinding[];
  error?: WorkerError;
  nonFinite?: Omit<NonFiniteReport, "position"> & { siteId: number };
  checks?: (Omit<FunctionCheckResult, "range" | "error"> & { error?: WorkerError })[];
  /** Op checks carry site ids; the caller adds positions. */
  opChecks?: OpCheckResult[];
  warnings?: (Omit<RunWarning, "position"> & { siteId: number })[];
  durationMs: number;
  /** The worker's used heap after the graphs were captured (near its peak), in MB. */
  heapUsedMb: number;
}
