/**
 * The tracer's JSON (columns of plain numbers; NaN and infinities as strings) turned into the
 * shared `RunResult`, and the results of runs that never wrote one (killed, crashed, no Python).
 */
import { fromJsonNumber, type GraphSnapshot, type JsonNumber } from "../../engine/snapshot";
import { Value } from "../../engine/value";
import { describeNonFinite } from "../nonFiniteMessage";
import { placeOps, positioned } from "../opCheckPositions";
import { backwardWarningMessage } from "../backwardWarnings";
import type { BindingValue, ConsoleLine, NonFiniteReport, OpCheckResult, RootGraph, RunError, RunNote, RunResult, SourcePosition, SourceRange, SourceSite } from "../../protocol/result";
import type { TracerRequest } from "./request";
import { localizeTracerError, localizeTracerLine, localizeTracerNote, type MessageParts } from "./tracerMessages";
import * as l10n from "@vscode/l10n";
import { checkFromTracer, type TracerCheck } from "./check";
import { emptyResult } from "../../protocol/emptyResult";
import { formatSeconds } from "../../protocol/limits";

/**
 * A graph as the tracer writes it (python/gradlens_graph.py): a snapshot whose numeric columns are
 * base64 of little-endian typed arrays — op uint16, site int32, childStart and child uint32, data,
 * grad and localGrad float64 — so NaN and infinities need no strings and 70,000 nodes cost
 * milliseconds to write and read.
 */
export interface TracerGraph {
  nodeCount: number;
  opNames: string[];
  labels: Record<string, string>;
  root: number;
  op: string;
  site: string;
  childStart: string;
  child: string;
  data: string;
  grad: string;
  localGrad: string;
  /** Edges whose local gradient is unknown (their localGrad is NaN). */
  unknownLocalGrad?: number[];
}

export interface TracerOutput {
  roots: { name: string; reason: "backward" | "last-value"; site: number; calls?: number; truncated?: boolean; graph: TracerGraph }[];
  bindings: { name: string; range: SourceRange; data: JsonNumber; grad: JsonNumber; op: string; count: number; node?: { root: number; id: number } }[];
  sites: SourceSite[];
  console: (ConsoleLine & { l10n?: MessageParts })[];
  notes?: (RunNote & { l10n?: MessageParts })[];
  /** `l10n`: the parts the message was made of, for translating it (tracerMessages.ts). */
  error?: RunError & { l10n?: MessageParts };
  durationMs?: number;
  /** In check mode: the gradient checks (check.ts). */
  checks?: TracerCheck[];
  /** The interpreter binary that ran (differs from the one started when that was a launcher script). */
  executable?: string;
  /** python/gradlens_opcheck.py's op checks (numbers as JSON numbers). */
  opChecks?: TracerOpCheck[];
  /** python/gradlens_backward_watch.py: a second backward() without zeroing; the words are made here. */
  warnings?: { kind: "double-backward" | "grads-not-reset"; siteId: number; name: string; grad: JsonNumber }[];
}

export type TracerOpCheck = Omit<OpCheckResult, "worst"> & { worst?: { inputs: JsonNumber[]; output: JsonNumber; analytic: JsonNumber[]; numeric: JsonNumber[]; ok: boolean; node?: { root: number; id: number } } };

export function emptyPythonResult(file: string, error: RunError | undefined, durationMs: number, console: ConsoleLine[] = []): RunResult {
  return emptyResult("python", file, error, durationMs, console);
}

type NumberArray = Float64Array | Uint32Array | Int32Array | Uint16Array;

function column<T extends NumberArray>(make: (buffer: ArrayBuffer) => T, bytesPerElement: number, base64: unknown, count: number, name: string): T {
  if (typeof base64 !== "string") throw new Error(`the tracer's graph has no ${name} column`);
  const bytes = Buffer.from(base64, "base64");
  if (bytes.byteLength !== count * bytesPerElement) throw new Error(`the tracer's ${name} column has ${bytes.byteLength / bytesPerElement} entries, not ${count}`);
  // A copy: Buffer's pooled memory is not aligned for 8-byte elements.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return make(copy.buffer);
}

/** The tracer's graph as a snapshot; throws when its columns do not fit together. */
export function toSnapshot(json: TracerGraph): GraphSnapshot {
  const n = json.nodeCount;
  if (!Number.isInteger(n) || n < 1 || json.root !== n - 1 || !Array.isArray(json.opNames)) throw new Error("the tracer's graph has no nodes");
  const childStart = column((b) => new Uint32Array(b), 4, json.childStart, n + 1, "childStart");
  const edges = childStart[n];
  const snapshot: GraphSnapshot = {
    nodeCount: n,
    opNames: json.opNames,
    op: column((b) => new Uint16Array(b), 2, json.op, n, "op"),
    data: column((b) => new Float64Array(b), 8, json.data, n, "data"),
    grad: column((b) => new Float64Array(b), 8, json.grad, n, "grad"),
    site: column((b) => new Int32Array(b), 4, json.site, n, "site"),
    labels: {},
    childStart,
    child: column((b) => new Uint32Array(b), 4, json.child, edges, "child"),
    localGrad: column((b) => new Float64Array(b), 8, json.localGrad, edges, "localGrad"),
    root: n - 1,
  };
  for (let i = 0; i < n; i++) {
    if (childStart[i] > childStart[i + 1] || snapshot.op[i] >= json.opNames.length) throw new Error(`the tracer's node ${i} is malformed`);
    for (let e = childStart[i]; e < childStart[i + 1]; e++) if (snapshot.child[e] >= i) throw new Error(`the tracer's node ${i} has an input that is not before it`);
  }
  for (const [id, label] of Object.entries(json.labels ?? {})) if (typeof label === "string") snapshot.labels[Number(id)] = label;
  return snapshot;
}

export function fromTracerOutput(file: string, output: TracerOutput, durationMs: number): RunResult {
  const sites = output.sites;
  const positionOfSite = (id: number): SourcePosition | undefined => {
    const site = id > 0 ? sites[id] : undefined;
    return site ? { file: site.file, line: site.line, column: site.column } : undefined;
  };
  const roots: RootGraph[] = output.roots.map((r) => {
    const root: RootGraph = { name: rootName(r.name), reason: r.reason, graph: toSnapshot(r.graph) };
    const unknown = r.graph.unknownLocalGrad?.filter((e) => Number.isInteger(e) && e >= 0 && e < root.graph.child.length);
    if (unknown?.length) root.unknownLocalGrad = unknown;
    const position = positionOfSite(r.site);
    if (position) root.position = position;
    if (r.calls !== undefined) root.calls = r.calls;
    if (r.truncated) root.truncated = true;
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
    stats: { durationMs, nodeCount: roots.reduce((n, r) => n + r.graph.nodeCount, 0) },
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

/**
 * The first node whose data went NaN or ±Infinity from finite inputs, else the first (from the root)
 * whose grad did while its parents' grads were finite. Python raises where JavaScript gives NaN, so
 * this is rare (float overflow, `float("inf")`), but then it says where.
 */
export function findNonFinite(roots: RootGraph[], positionOfSite: (id: number) => SourcePosition | undefined): NonFiniteReport | undefined {
  for (let r = 0; r < roots.length; r++) {
    const g = roots[r].graph;
    const childrenOf = (i: number) => Array.from(g.child.subarray(g.childStart[i], g.childStart[i + 1]));
    let found: { id: number; field: "data" | "grad" } | undefined;
    for (let i = 0; i < g.nodeCount && !found; i++) {
      if (!Number.isFinite(g.data[i]) && childrenOf(i).every((c) => Number.isFinite(g.data[c]))) found = { id: i, field: "data" };
    }
    if (!found) {
      const parentGradFinite = new Array<boolean>(g.nodeCount).fill(true);
      for (let i = g.nodeCount - 1; i >= 0 && !found; i--) {
        if (!Number.isFinite(g.grad[i]) && parentGradFinite[i]) found = { id: i, field: "grad" };
        else if (!Number.isFinite(g.grad[i])) for (const c of childrenOf(i)) parentGradFinite[c] = false;
      }
    }
    if (!found) continue;
    const { id, field } = found;
    const op = g.opNames[g.op[id]];
    const value = field === "data" ? g.data[id] : g.grad[id];
    // The message is the TypeScript runner's; it reads the node's op and its inputs' data.
    const node = new Value(g.data[id], childrenOf(id).map((c) => new Value(g.data[c])), [], op);
    const report: NonFiniteReport = { field, value, op, root: r, id, message: describeNonFinite({ node, field, value }) };
    const position = positionOfSite(g.site[id]);
    if (position) report.position = position;
    return report;
  }
  return undefined;
}

/** A run that wrote no result: it was stopped, crashed, or its Python could not start. */
export function fromUnfinishedRun(
  request: TracerRequest,
  run: { stdout: string; stderr: string; exitCode: number | null; signal?: NodeJS.Signals | null; stopped?: "timeout" | "memory" | "cancelled"; dump: string },
  interpreter: string,
  durationMs: number,
): RunResult {
  const console: ConsoleLine[] = [
    ...linesOf(run.stdout).map((text): ConsoleLine => ({ stream: "stdout", text })),
    ...linesOf(run.stderr)
      .filter((text) => !text.startsWith("GRADLENS_"))
      .map((text): ConsoleLine => ({ stream: "stderr", text })),
  ];
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
