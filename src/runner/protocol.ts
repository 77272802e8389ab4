/**
 * The messages between the runner (host side) and the child process that runs the user's code,
 * versioned and checked when read. The child is Node with an IPC channel in "advanced"
 * serialization, so typed arrays of graph snapshots cross as they are.
 *
 * The user's code runs in the same process as the child's side of the channel and may call
 * `process.send` itself: every GradLens message carries the run's secret token, which the child
 * receives before any user code runs and keeps out of its reach. A message without it, or of an
 * unknown shape, is not trusted (`readChildMessage` returns undefined and the host counts it).
 * Positions travel as site ids and bundle line/column pairs; the host maps them to the user's source.
 */
import type { GraphSnapshot } from "../engine/snapshot";
import type { PackedLabels } from "./labelTransfer";
import type { BindingValue, FunctionCheckResult, NonFiniteReport, OpCheckResult, RootGraph, RunErrorKind, RunWarning } from "../protocol/result";
import type { WorkerTrainingInput, WorkerTrainingOutput, WorkerTrainingProgress } from "./training/workerTraining";
import { parseWorkerTrainingProgress } from "./training/validate";
import type { ColumnAssembly, ColumnPiece } from "./process/columnTransfer";
import { isArrayOf, isInt, isNumber, isRecord, isString } from "../protocol/guards";

/** Bumped when a message changes shape: a child of another version is refused, not misread. */
export const PROTOCOL_VERSION = 2;

export interface CheckRequest {
  name: string;
  params: { name: string; kind: "scalar" | "array" }[];
  point?: Record<string, number | number[]>;
}

export interface WorkerInput {
  code: string;
  entryFile: string;
  /** Names the code may use without importing (snippet mode): engine exports passed in as parameters. */
  injectedHelpers: string[];
  /** Name of each binding id, for labelling values. */
  bindingNames: string[];
  nodeLimit?: number;
  checks?: CheckRequest[];
  gradcheck?: { eps?: number; atol?: number; rtol?: number; seed?: number };
  /** The extension's l10n bundle, so messages made in the child are in the display language. */
  translations?: Record<string, string>;
  /** The enclosing function of each site (by site id), for re-running user-defined ops in op checks. */
  siteFunctions?: (string | null)[];
  /** Also check the local gradients of the ops in the run's own graphs. */
  opChecks?: boolean;
  /** Record per-step training statistics (a training run); see training/workerTraining.ts. */
  training?: WorkerTrainingInput;
  /** The child stops itself softly at these (and the host kills it a little later). */
  timeLimitMs: number;
  /** When the host started the run (Date.now()): the time limit counts from there, start-up included. */
  startedAt: number;
  memoryLimitMb: number;
  /** How many characters of output the child keeps, and the longest line it keeps whole. */
  outputBudgetChars: number;
  maxLineChars: number;
  checkpointIntervalMs: number;
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
  /** For "exit": the code the program passed to process.exit. */
  exitCode?: number;
  /** For a stop: how long before it the program last printed or completed a backward(), in ms. */
  quietMs?: number;
}

export interface WorkerRoot extends Omit<RootGraph, "position" | "graph"> {
  /** The snapshot, its `labels` left empty: they travel in `labels`. */
  graph: GraphSnapshot;
  labels: PackedLabels;
  siteId: number;
}

/** A binding's last value as the child knows it: the declaration's name and range are the host's. */
export type WorkerBinding = Omit<BindingValue, "name" | "range"> & { id: number };

/** One line the user's code printed. */
export interface WorkerConsoleLine {
  stream: "stdout" | "stderr";
  text: string;
  /** The call site of the console call. */
  siteId: number;
}

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
  /** The child's CPU time (user + system, all its threads) over the same span, in ms: the bench's ratio on a loaded machine. */
  cpuMs?: number;
  /** The child's used heap after the graphs were captured (near its peak), in MB. */
  heapUsedMb: number;
  training?: WorkerTrainingOutput;
}

// --- host → child ------------------------------------------------------------------------------

export type HostMessage =
  | { type: "start"; version: number; token: string; input: WorkerInput }
  /**
   * Stop softly now (the child hands over what it recorded): cancelled, or a limit the host saw first.
   * Without the token: user code listening to process "message" events would learn it here.
   */
  | { type: "stop"; reason: "timeout" | "memory" | "cancelled" };

// --- child → host ------------------------------------------------------------------------------

export type ChildMessage =
  /** Output so far, in batches. */
  | { type: "console"; token: string; lines: WorkerConsoleLine[]; droppedChars: number }
  /** A piece of a big typed array of the next checkpoint or result (process/columnTransfer.ts). */
  | { type: "column"; token: string; piece: ColumnPiece }
  /** The graphs of the latest completed backward(): what a hard kill still leaves. */
  | { type: "checkpoint"; token: string; output: WorkerOutput }
  /** The end of the run: finished, threw, stopped or exited, with everything recorded. */
  | { type: "result"; token: string; output: WorkerOutput }
  /** GradLens itself failed inside the child. */
  | { type: "failure"; token: string; message: string }
  /** Step records of a training run, in batches (training/workerTraining.ts). */
  | { type: "training"; token: string; progress: WorkerTrainingProgress };

// --- checks of what arrives ---------------------------------------------------------------------

const ERROR_KINDS = new Set<string>(["syntax", "runtime", "timeout", "memory", "cancelled", "too-large", "interpreter", "internal", "exit", "signal"]);

function isFrame(x: unknown): x is BundleFrame {
  return isRecord(x) && isInt(x.line) && isInt(x.column) && (x.functionName === undefined || isString(x.functionName));
}

function isWorkerError(x: unknown): x is WorkerError {
  return (
    isRecord(x) &&
    isString(x.kind) &&
    ERROR_KINDS.has(x.kind) &&
    isString(x.message) &&
    isArrayOf(x.frames, isFrame) &&
    isInt(x.siteId) &&
    (x.exitCode === undefined || isInt(x.exitCode)) &&
    (x.quietMs === undefined || isNumber(x.quietMs))
  );
}

function isConsoleLine(x: unknown): x is WorkerConsoleLine {
  return isRecord(x) && (x.stream === "stdout" || x.stream === "stderr") && isString(x.text) && isInt(x.siteId);
}

/** A snapshot whose arrays have the types and lengths its readers index them by. */
export function isSnapshot(x: unknown): x is GraphSnapshot {
  if (!isRecord(x) || !isInt(x.nodeCount) || x.nodeCount < 0 || !isArrayOf(x.opNames, isString)) return false;
  const n = x.nodeCount;
  const { op, data, grad, site, childStart, child, localGrad } = x;
  if (!(op instanceof Uint16Array && data instanceof Float64Array && grad instanceof Float64Array && site instanceof Int32Array)) return false;
  if (!(childStart instanceof Uint32Array && child instanceof Uint32Array && localGrad instanceof Float64Array)) return false;
  if (op.length !== n || data.length !== n || grad.length !== n || site.length !== n || childStart.length !== n + 1) return false;
  if (child.length !== localGrad.length || childStart[n] !== child.length || x.root !== n - 1) return false;
  const ops = x.opNames.length;
  for (let i = 0; i < n; i++) if (op[i] >= ops || childStart[i] > childStart[i + 1]) return false;
  for (let e = 0; e < child.length; e++) if (child[e] >= n) return false;
  return true;
}

export function isPackedLabels(x: unknown): x is PackedLabels {
  if (!isRecord(x) || !(x.ids instanceof Uint32Array) || !(x.nameIndex instanceof Uint32Array) || !isArrayOf(x.names, isString)) return false;
  if (x.ids.length !== x.nameIndex.length) return false;
  const names = x.names.length;
  return x.nameIndex.every((k) => k < names);
}

/** Call stacks (callFrames.ts): callers before callees, every index in range. */
export function isCallFrames(x: unknown, n: number): boolean {
  if (!isRecord(x) || !isArrayOf(x.functions, (f): f is { name: string } => isRecord(f) && isString(f.name) && isString(f.file) && isInt(f.line))) return false;
  const { parent, fn, callSite, node } = x;
  if (!(parent instanceof Int32Array && fn instanceof Int32Array && callSite instanceof Int32Array && node instanceof Int32Array)) return false;
  const calls = parent.length;
  if (fn.length !== calls || callSite.length !== calls || node.length !== n) return false;
  for (let k = 0; k < calls; k++) if (parent[k] >= k || parent[k] < -1 || fn[k] < 0 || fn[k] >= x.functions.length) return false;
  return node.every((k) => k >= -1 && k < calls);
}

function isRoot(x: unknown): x is WorkerRoot {
  return (
    isRecord(x) &&
    isString(x.name) &&
    (x.reason === "backward" || x.reason === "last-value") &&
    isInt(x.siteId) &&
    (x.calls === undefined || isInt(x.calls)) &&
    isSnapshot(x.graph) &&
    isPackedLabels(x.labels) &&
    (x.frames === undefined || isCallFrames(x.frames, x.graph.nodeCount))
  );
}

function isBinding(x: unknown): x is WorkerBinding {
  if (!isRecord(x) || !isInt(x.id) || !isNumber(x.data) || !isNumber(x.grad) || !isString(x.op) || !isNumber(x.count)) return false;
  return x.node === undefined || (isRecord(x.node) && isInt(x.node.root) && isInt(x.node.id));
}

function isCheck(x: unknown): boolean {
  return isRecord(x) && isString(x.name) && isRecord(x.point) && isArrayOf(x.inputs, isRecord) && typeof x.ok === "boolean" && (x.error === undefined || isWorkerError(x.error));
}

const isNumbers = (x: unknown): x is number[] => isArrayOf(x, isNumber);

function isNodeRef(x: unknown): x is { root: number; id: number } {
  return isRecord(x) && isInt(x.root) && isInt(x.id);
}

function isOpCheck(x: unknown): x is OpCheckResult {
  if (!isRecord(x) || !isString(x.op) || !isInt(x.siteId) || (x.kind !== "built-in" && x.kind !== "user") || typeof x.ok !== "boolean") return false;
  if (!isInt(x.total) || !isInt(x.checked) || !isInt(x.failed) || (x.unchecked !== undefined && !isString(x.unchecked)) || (x.method !== undefined && !isString(x.method))) return false;
  if (x.nodes !== undefined && !isArrayOf(x.nodes, isNodeRef)) return false;
  const w = x.worst;
  return w === undefined || (isRecord(w) && isNumbers(w.inputs) && isNumber(w.output) && isNumbers(w.analytic) && isNumbers(w.numeric) && typeof w.ok === "boolean" && (w.node === undefined || isNodeRef(w.node)));
}

function isWarning(x: unknown): x is NonNullable<WorkerOutput["warnings"]>[number] {
  return isRecord(x) && (x.kind === "double-backward" || x.kind === "grads-not-reset") && isString(x.message) && isInt(x.siteId);
}

function isOutput(x: unknown): x is WorkerOutput {
  return (
    isRecord(x) &&
    isArrayOf(x.roots, isRoot) &&
    isArrayOf(x.bindings, isBinding) &&
    (x.error === undefined || isWorkerError(x.error)) &&
    (x.nonFinite === undefined || (isRecord(x.nonFinite) && isString(x.nonFinite.message) && isInt(x.nonFinite.siteId))) &&
    (x.checks === undefined || (Array.isArray(x.checks) && x.checks.every(isCheck))) &&
    (x.checks === undefined || x.checks.every((c: Record<string, unknown>) => c.ops === undefined || isArrayOf(c.ops, isOpCheck))) &&
    (x.opChecks === undefined || isArrayOf(x.opChecks, isOpCheck)) &&
    (x.warnings === undefined || isArrayOf(x.warnings, isWarning)) &&
    isNumber(x.durationMs) &&
    (x.cpuMs === undefined || isNumber(x.cpuMs)) &&
    isNumber(x.heapUsedMb)
  );
}

/**
 * The message if it is GradLens's own of this run and well formed; otherwise undefined. A
 * checkpoint's or result's big arrays came before it in pieces: `columns` puts them back.
 */
export function readChildMessage(raw: unknown, token: string, columns?: ColumnAssembly): ChildMessage | undefined {
  try {
    if (!isRecord(raw) || raw.token !== token || !isString(raw.type)) return undefined;
    switch (raw.type) {
      case "console":
        return isArrayOf(raw.lines, isConsoleLine) && isNumber(raw.droppedChars) ? (raw as ChildMessage) : undefined;
      case "column":
        // Its contents are checked as it is put in place (ColumnAssembly.add).
        return isRecord(raw.piece) ? (raw as ChildMessage) : undefined;
      case "checkpoint":
      case "result": {
        const output = columns ? columns.resolve(raw.output) : raw.output;
        return isOutput(output) ? { type: raw.type, token, output } : undefined;
      }
      case "failure":
        return isString(raw.message) ? (raw as ChildMessage) : undefined;
      case "training": {
        const progress = parseWorkerTrainingProgress(raw.progress);
        return progress ? { type: "training", token, progress } : undefined;
      }
      default:
        return undefined;
    }
  } catch {
    // A getter or proxy cannot reach here through the channel, but nothing read may throw.
    return undefined;
  }
}

/** The host's message if well formed (the child reads its start and stop requests with this). */
export function readHostMessage(raw: unknown): HostMessage | undefined {
  if (!isRecord(raw)) return undefined;
  if (raw.type === "start" && raw.version === PROTOCOL_VERSION && isString(raw.token) && isRecord(raw.input) && isString(raw.input.code)) return raw as HostMessage;
  if (raw.type === "stop" && (raw.reason === "timeout" || raw.reason === "memory" || raw.reason === "cancelled")) return raw as HostMessage;
  return undefined;
}
