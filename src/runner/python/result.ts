/**
 * The tracer's JSON (columns of plain numbers; NaN and infinities as strings) turned into the
 * shared `RunResult`, and the results of runs that never wrote one (killed, crashed, no Python).
 */
import type { TracerFrames } from "./tracerFrames";
import type { ColumnPlace } from "./snapshotColumns";
import { fromJsonNumber, type JsonNumber } from "../../engine/snapshot";
import type { DecodedTracerOutput } from "./tracerResult";
import { placeOps, positioned } from "../opCheckPositions";
import { backwardWarningMessage } from "../backwardWarnings";
import type { BindingValue, ConsoleLine, OpCheckResult, RootGraph, RunError, RunNote, RunResult, SourcePosition, SourceRange, SourceSite } from "../../protocol/result";
import type { TracerRequest } from "./request";
import { localizeTracerError, localizeTracerLine, localizeTracerNote, type MessageParts } from "./tracerMessages";
import * as l10n from "@vscode/l10n";
import { checkFromTracer, type TracerCheck } from "./check";
import { findNonFinite } from "../snapshotNonFinite";
import { emptyResult } from "../../protocol/emptyResult";
import { formatSeconds } from "../../protocol/limits";
import { describeStop } from "../stopMessages";

/**
 * A graph as the tracer writes it (python/gradlens_graph.py): a snapshot whose numeric columns are
 * little-endian typed arrays (snapshotColumns.ts), so NaN and infinities need no strings and 70,000
 * nodes cost milliseconds to write and read.
 */
export type TracerColumn = string | ColumnPlace;

export interface TracerGraph {
  nodeCount: number;
  opNames: string[];
  labels: Record<string, string>;
  root: number;
  // Each a column: base64 text in a streamed line, a place in the raw block in the result file
  // (snapshotColumns.ts). Per value and per edge, in the order the tracer captured them.
  /** Per node id: the captured value it is. */
  order: TracerColumn;
  /** Per value, when the class names its ops (`_op`); else `tagOp`. */
  op?: TracerColumn;
  /** Per value: the (op, site) pair of the method and line that made it, an index into the tables below. */
  tag: TracerColumn;
  /** Per tag: its site; and its op (into `opNames`) when there is no `op` column. */
  tagSite: TracerColumn;
  tagOp?: TracerColumn;
  data: TracerColumn;
  grad: TracerColumn;
  /** Per value: how many inputs it has; per edge (the values' inputs in turn): the input's capture position, and its local gradient. */
  childCount: TracerColumn;
  child: TracerColumn;
  localGrad: TracerColumn;
  /** Edges (in capture order) whose local gradient is unknown (their localGrad is NaN). */
  unknownLocalGrad?: number[];
  /** The user's function calls that made the nodes (python/gradlens_frames.py). */
  frames?: TracerFrames;
}

export interface TracerOutput {
  roots: { name: string; reason: "backward" | "last-value"; site: number; calls?: number; truncated?: boolean; graph: TracerGraph }[];
  bindings: { name: string; range: SourceRange; data: JsonNumber; grad: JsonNumber; op: string; count: number; node?: { root: number; id: number } }[];
  sites: SourceSite[];
  console: (ConsoleLine & { l10n?: MessageParts })[];
  notes?: (RunNote & { l10n?: MessageParts })[];
  /** `l10n`: the parts the message was made of, for translating it (tracerMessages.ts); `stop`: see TracerStop. */
  error?: RunError & { l10n?: MessageParts; stop?: TracerStop };
  durationMs?: number;
  /** The tracer process's CPU time until it wrote its result, start-up included. */
  cpuMs?: number;
  /** In check mode: the gradient checks (check.ts). */
  checks?: TracerCheck[];
  /** The interpreter binary that ran (differs from the one started when that was a launcher script). */
  executable?: string;
  /** python/gradlens_opcheck.py's op checks (numbers as JSON numbers). */
  opChecks?: TracerOpCheck[];
  /** python/gradlens_backward_watch.py: a second backward() without zeroing; the words are made here. */
  warnings?: { kind: "double-backward" | "grads-not-reset"; siteId: number; name: string; grad: JsonNumber }[];
}

/** What the tracer knew of a time or memory stop, for the host to word it as for TypeScript (stopMessages.ts). */
export interface TracerStop {
  /** The user's functions the program was in, innermost first; null at a module's top level. */
  functions: (string | null)[];
  /** How long before the stop the program last printed or completed a backward(). */
  quietMs?: number;
}

export type TracerOpCheck = Omit<OpCheckResult, "worst"> & { worst?: { inputs: JsonNumber[]; output: JsonNumber; analytic: JsonNumber[]; numeric: JsonNumber[]; ok: boolean; node?: { root: number; id: number } } };

export { toSnapshot } from "./snapshotColumns";

export function emptyPythonResult(file: string, error: RunError | undefined, durationMs: number, console: ConsoleLine[] = []): RunResult {
  return emptyResult("python", file, error, durationMs, console);
}

/** The tracer's output (read and checked by tracerResult.ts, its graphs decoded) as a RunResult. */
export function fromTracerOutput(file: string, output: DecodedTracerOutput, durationMs: number): RunResult {
  const sites = output.sites;
  const positionOfSite = (id: number): SourcePosition | undefined => {
    const site = id > 0 ? sites[id] : undefined;
    return site ? { file: site.file, line: site.line, column: site.column } : undefined;
  };
  const roots: RootGraph[] = output.roots.map((r) => {
    const { unknownLocalGrad: unknown, frames, ...graph } = r.graph;
    const root: RootGraph = { name: rootName(r.name), reason: r.reason, graph };
    if (unknown?.length) root.unknownLocalGrad = unknown;
    const position = positionOfSite(r.site);
    if (position) root.position = position;
    if (r.calls !== undefined) root.calls = r.calls;
    if (r.truncated) root.truncated = true;
    if (frames) root.frames = frames;
    return root;
  });
  const bindings: BindingValue[] = output.bindings.map((b) => ({ ...b, data: fromJsonNumber(b.data), grad: fromJsonNumber(b.grad) }));
  const result: RunResult = {
    ok: !output.error,
    language: "python",
    file,
    roots,
    sites,
    bindings,
    console: output.console.map(localizeTracerLine),
    stats: { durationMs, nodeCount: roots.reduce((n, r) => n + r.graph.nodeCount, 0), ...(output.cpuMs !== undefined ? { executeCpuMs: output.cpuMs } : {}) },
  };
  if (output.error) result.error = localizeTracerError(output.error);
  if (output.opChecks) result.opChecks = placeOps(output.opChecks.map(fromTracerOp), positionOfSite);
  if (output.warnings) {
    result.warnings = output.warnings.map((w) => ({ kind: w.kind, message: backwardWarningMessage(w.kind, w.name, fromJsonNumber(w.grad)), ...positioned(positionOfSite(w.siteId)) }));
  }
  if (output.checks) result.checks = output.checks.map((c) => checkFromTracer(file, c, positionOfSite));
  const notes = (output.notes ?? []).map(localizeTracerNote);
  if (notes.length) result.notes = notes;
  const nonFinite = findNonFinite(roots, positionOfSite);
  if (nonFinite) result.nonFinite = nonFinite;
  return result;
}

/** A run that wrote no result: it was stopped, crashed, or its Python could not start. */
export function fromUnfinishedRun(
  request: TracerRequest,
  run: { stdout: string; stderr: string; exitCode: number | null; signal?: NodeJS.Signals | null; stopped?: "timeout" | "memory" | "cancelled"; dump: string },
  interpreter: string,
  durationMs: number,
): RunResult {
  const console = consoleOfRun(run);
  let error: RunError;
  if (run.stopped === "cancelled") {
    error = { kind: "cancelled", message: l10n.t("cancelled") };
  } else if (run.stopped === "timeout") {
    error = { kind: "timeout", message: l10n.t("stopped after {0} s: the code was still running", secondsText(request.timeLimitMs)) };
    const position = lineFromDump(run.dump, request);
    if (position) {
      error.position = position;
      error.message += l10n.t(" — last at line {0}", position.line);
    }
  } else if (/GRADLENS_PYTHON_TOO_OLD (\S+)/.test(run.stderr)) {
    const version = /GRADLENS_PYTHON_TOO_OLD (\S+)/.exec(run.stderr)?.[1];
    error = { kind: "interpreter", message: l10n.t("GradLens needs Python 3.8 or newer, but {0} is Python {1}. Set gradlens.pythonPath to a newer interpreter.", interpreter, version ?? "?") };
  } else if (run.stopped === "memory" || /\bMemoryError\b/.test(run.stderr)) {
    error = { kind: "memory", message: l10n.t("stopped: the code used more than the memory limit of {0} MB", request.heapLimitMb) };
  } else if (/SyntaxError/.test(run.stderr) && /gradlens_/.test(run.stderr)) {
    error = { kind: "interpreter", message: l10n.t("{0} could not run GradLens's tracer (is it Python 3?). Set gradlens.pythonPath to a Python 3.8+ interpreter.", interpreter) };
  } else if (run.signal) {
    error = { kind: "signal", message: l10n.t("the program was killed by the signal {0}", run.signal) };
  } else if (run.exitCode !== null && run.exitCode !== 0 && !/Traceback|gradlens_/.test(run.stderr)) {
    // os._exit(n): the program's own exit, not GradLens's failure.
    error = { kind: "exit", message: l10n.t("the program ended with exit code {0} before GradLens could read its values", String(run.exitCode)) };
  } else {
    const tail = run.stderr.trim().split(/\r?\n/).slice(-3).join(" ");
    error = {
      kind: "internal",
      message: tail
        ? l10n.t("Python stopped before GradLens could read its values (exit code {0}): {1}", String(run.exitCode), tail)
        : l10n.t("Python stopped before GradLens could read its values (exit code {0})", String(run.exitCode)),
    };
  }
  return emptyPythonResult(request.file, error, durationMs, console);
}

/**
 * A run stopped before it wrote its result, with the graphs and bindings of its last checkpoint
 * (python/gradlens_checkpoint.py): the stop's error and the console are those of the end.
 */
export function fromCheckpoint(file: string, checkpoint: DecodedTracerOutput, unfinished: RunResult): RunResult {
  const kept = fromTracerOutput(file, checkpoint, unfinished.stats.durationMs);
  kept.ok = false;
  kept.console = unfinished.console;
  if (unfinished.error) kept.error = unfinished.error;
  return kept;
}

/**
 * A time or memory stop worded as the TypeScript runner words it (stopMessages.ts): where the program
 * was, and "an endless loop?" only of a run that showed no progress for a while. Other errors as they are.
 */
export function restateStop(result: RunResult, request: TracerRequest, stop?: TracerStop): void {
  const error = result.error;
  if (!error || (error.kind !== "timeout" && error.kind !== "memory")) return;
  const functions = stop?.functions.map((f) => f ?? undefined);
  result.error = {
    ...error,
    message: describeStop({
      kind: error.kind,
      limits: { timeLimitMs: request.timeLimitMs, memoryLimitMb: request.heapLimitMb },
      ...(error.position ? { line: error.position.line } : {}),
      ...(functions ? { functions } : {}),
      ...(stop?.quietMs !== undefined ? { quietMs: stop.quietMs } : {}),
      keptGraph: result.roots.length > 0,
      printed: result.console.length > 0,
    }),
  };
}

/** What the process printed on its own streams (GradLens's own markers left out). */
export function consoleOfRun(run: { stdout: string; stderr: string }): ConsoleLine[] {
  return [
    ...linesOf(run.stdout).map((text): ConsoleLine => ({ stream: "stdout", text })),
    ...linesOf(run.stderr)
      .filter((text) => !text.startsWith("GRADLENS_"))
      .map((text): ConsoleLine => ({ stream: "stderr", text })),
  ];
}

function linesOf(text: string): string[] {
  if (text === "") return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export const secondsText = formatSeconds;

/** The innermost frame of the user's code in a faulthandler dump ("File "…", line N in f"). */
export function lineFromDump(dump: string, request: TracerRequest): SourcePosition | undefined {
  const chunks = [request.main, ...request.context];
  for (const match of dump.matchAll(/File "(.*)", line (\d+)/g)) {
    const chunk = chunks.find((c) => c.compileName === match[1]);
    if (chunk) return { file: chunk.file, line: chunk.line + Number(match[2]) - 1, column: 1 + chunk.shift };
  }
  return undefined;
}

/** The tracer names a root without a name "root #2" (no Python name has a space): in the display language. */
function rootName(name: string): string {
  const made = /^root #(\d+)$/.exec(name);
  return made ? l10n.t("root #{0}", made[1]) : name;
}

export function fromTracerOp(op: TracerOpCheck): OpCheckResult {
  const { worst, ...rest } = op;
  if (!worst) return rest;
  const numbers = (xs: JsonNumber[]) => xs.map(fromJsonNumber);
  return { ...rest, worst: { ...worst, inputs: numbers(worst.inputs), output: fromJsonNumber(worst.output), analytic: numbers(worst.analytic), numeric: numbers(worst.numeric) } };
}
