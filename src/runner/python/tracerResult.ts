/**
 * Reading the Python tracer's result file: parsed, checked field by field against the shape
 * result.ts reads, and its graphs' base64 columns decoded into typed arrays. The file is written by
 * a process that ran user code, so nothing in it is trusted: a malformed result is a problem named
 * here (and reported to the user), never a throw or a cast. Pure: it runs on a thread of its own
 * for big results (resultThread.ts) and inline for small ones (readTracerResult in result.ts).
 */
import type { GraphSnapshot } from "../../engine/snapshot";
import type { TracerGraph, TracerOutput } from "./result";
import { decodeSnapshot, splitResultFile } from "./snapshotColumns";
import { renumberFrames, renumberKeys, renumberNodeRef, type Renumbering } from "./graphOrder";
import { framesFromTracer, type TracerFrames } from "./tracerFrames";
import type { CallFrames } from "../../protocol/result";
import { isInt, isRecord, isString } from "../../protocol/guards";

/** A graph as result.ts uses it: decoded, with the edges whose local gradient is unknown and its call stacks. */
export type DecodedGraph = GraphSnapshot & { unknownLocalGrad?: number[]; frames?: CallFrames };

type TracerRoot = TracerOutput["roots"][number];
type TrainingGraph = { step: number; name: string; site: number; graph: DecodedGraph; paths: Record<string, string> };

/** The tracer's output with every graph decoded (the training summary's too). */
export type DecodedTracerOutput = Omit<TracerOutput, "roots"> & {
  roots: (Omit<TracerRoot, "graph"> & { graph: DecodedGraph })[];
  training?: { steps: unknown[]; groups: string[]; graphs: TrainingGraph[]; stoppedAfter?: number };
};

export type TracerResultReading = { output: DecodedTracerOutput } | { problem: string };

const isJsonNumber = (x: unknown): boolean => typeof x === "number" || x === "NaN" || x === "Infinity" || x === "-Infinity";
const optional = (x: unknown, check: (y: unknown) => boolean): boolean => x === undefined || check(x);
const ERROR_KINDS = new Set<string>(["syntax", "runtime", "timeout", "memory", "cancelled", "too-large", "interpreter", "internal", "exit", "signal"]);

const isPosition = (x: unknown): boolean => isRecord(x) && isString(x.file) && isInt(x.line) && isInt(x.column);
const isRange = (x: unknown): boolean => isPosition(x) && isRecord(x) && isInt(x.endLine) && isInt(x.endColumn);
const isParts = (x: unknown): boolean => Array.isArray(x) && x.every((part) => Array.isArray(part) && part.every(isString));
const isSite = (x: unknown): boolean => isRange(x) && isRecord(x) && isInt(x.id) && isString(x.text) && optional(x.binding, isString) && optional(x.functionName, isString);
const isConsoleLine = (x: unknown): boolean => isRecord(x) && (x.stream === "stdout" || x.stream === "stderr") && isString(x.text) && optional(x.position, isPosition) && optional(x.l10n, isParts);
const isNote = (x: unknown): boolean => isRecord(x) && isString(x.kind) && isString(x.message) && optional(x.l10n, isParts);
const isStop = (x: unknown): boolean =>
  isRecord(x) && Array.isArray(x.functions) && x.functions.every((f) => f === null || isString(f)) && optional(x.quietMs, (q) => typeof q === "number" && Number.isFinite(q));
const isError = (x: unknown): boolean =>
  isRecord(x) && isString(x.kind) && ERROR_KINDS.has(x.kind) && isString(x.message) && optional(x.position, isPosition) && optional(x.stack, isString) && optional(x.l10n, isParts) && optional(x.stop, isStop);
const isNodeRef = (x: unknown): boolean => isRecord(x) && isInt(x.root) && isInt(x.id);
const isBinding = (x: unknown): boolean =>
  isRecord(x) && isString(x.name) && isRange(x.range) && isJsonNumber(x.data) && isJsonNumber(x.grad) && isString(x.op) && typeof x.count === "number" && optional(x.node, isNodeRef);
const isCheck = (x: unknown): boolean =>
  isRecord(x) && isString(x.name) && typeof x.ok === "boolean" && isRecord(x.point) && isJsonNumber(x.maxRelError) && Array.isArray(x.inputs) && x.inputs.every(isRecord) && optional(x.error, isError);
const isOpCheck = (x: unknown): boolean => isRecord(x) && isString(x.op) && isInt(x.siteId) && typeof x.ok === "boolean" && isInt(x.total) && isInt(x.checked) && isInt(x.failed);
const isWarning = (x: unknown): boolean => isRecord(x) && (x.kind === "double-backward" || x.kind === "grads-not-reset") && isInt(x.siteId) && isString(x.name) && isJsonNumber(x.grad);

/** Each element checked; the first that fails is named. */
function listProblem(x: unknown, name: string, check: (y: unknown) => boolean): string | undefined {
  if (!Array.isArray(x)) return `${name} is not a list`;
  const bad = x.findIndex((y) => !check(y));
  return bad === -1 ? undefined : `${name}[${bad}] is malformed`;
}

/** A graph's columns decoded and checked (decodeSnapshot names what does not fit), in topological
 * order: `renumbering` says how its node ids moved when the tracer's order was not one (graphOrder.ts). */
function decodeGraph(x: unknown, name: string, siteCount: number, block: Uint8Array | undefined): { graph: DecodedGraph; renumbering?: Renumbering } | string {
  if (!isRecord(x)) return `${name} is not a graph`;
  try {
    if (x.unknownLocalGrad !== undefined && !Array.isArray(x.unknownLocalGrad)) return `${name}.unknownLocalGrad is not a list`;
    const { graph, unknownLocalGrad, renumbering }: { graph: DecodedGraph; unknownLocalGrad: number[]; renumbering?: Renumbering } = decodeSnapshot(x as unknown as TracerGraph, block);
    if (x.unknownLocalGrad !== undefined) graph.unknownLocalGrad = unknownLocalGrad;
    // Malformed call stacks are dropped (the view then groups by expression), not a failed result.
    const frames = isRecord(x.frames) ? framesFromTracer(x.frames as unknown as TracerFrames, graph.nodeCount, siteCount, block) : undefined;
    if (frames) graph.frames = renumbering ? renumberFrames(frames, renumbering) : frames;
    return renumbering ? { graph, renumbering } : { graph };
  } catch (error) {
    return `${name}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** The result file, read: its output, or what is wrong with it. The file's bytes (JSON, then the
 * columns' raw block: snapshotColumns.ts), or JSON text alone (its columns then base64). */
export function decodeTracerResult(file: string | Uint8Array): TracerResultReading {
  let raw: unknown;
  let block: Uint8Array | undefined;
  try {
    let text: string;
    if (typeof file === "string") text = file;
    else ({ json: text, block } = splitResultFile(file));
    raw = JSON.parse(text);
  } catch (error) {
    return { problem: `it is not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  if (!isRecord(raw)) return { problem: "it is not an object" };
  const problem =
    listProblem(raw.roots, "roots", (r) => isRecord(r) && isString(r.name) && (r.reason === "backward" || r.reason === "last-value") && isInt(r.site) && optional(r.calls, isInt) && optional(r.truncated, (t) => typeof t === "boolean")) ??
    listProblem(raw.bindings, "bindings", isBinding) ??
    listProblem(raw.sites, "sites", isSite) ??
    listProblem(raw.console, "console", isConsoleLine) ??
    (raw.notes === undefined ? undefined : listProblem(raw.notes, "notes", isNote)) ??
    (optional(raw.error, isError) ? undefined : "error is malformed") ??
    (optional(raw.durationMs, (d) => typeof d === "number") ? undefined : "durationMs is not a number") ??
    (optional(raw.cpuMs, (d) => typeof d === "number" && d >= 0) ? undefined : "cpuMs is not a number") ??
    (optional(raw.executable, isString) ? undefined : "executable is not a string") ??
    (raw.checks === undefined ? undefined : listProblem(raw.checks, "checks", isCheck)) ??
    (raw.opChecks === undefined ? undefined : listProblem(raw.opChecks, "opChecks", isOpCheck)) ??
    (raw.warnings === undefined ? undefined : listProblem(raw.warnings, "warnings", isWarning)) ??
    (optional(raw.training, (t) => isRecord(t) && Array.isArray(t.steps) && Array.isArray(t.groups) && optional(t.graphs, Array.isArray)) ? undefined : "training is malformed");
  if (problem) return { problem };

  const roots: DecodedTracerOutput["roots"] = [];
  const renumberings: (Renumbering | undefined)[] = [];
  for (const [i, root] of (raw.roots as Record<string, unknown>[]).entries()) {
    const decoded = decodeGraph(root.graph, `roots[${i}].graph`, (raw.sites as unknown[]).length, block);
    if (typeof decoded === "string") return { problem: decoded };
    roots.push({ ...(root as unknown as TracerRoot), graph: decoded.graph });
    renumberings.push(decoded.renumbering);
  }
  const output = { ...(raw as unknown as TracerOutput), roots } as DecodedTracerOutput;
  if (renumberings.some((r) => r !== undefined)) {
    for (const binding of output.bindings) renumberNodeRef(binding.node, renumberings);
    for (const check of output.opChecks ?? []) renumberNodeRef(check.worst?.node, renumberings);
  }
  if (isRecord(raw.training)) {
    const graphs: TrainingGraph[] = [];
    for (const [i, g] of ((raw.training.graphs as unknown[] | undefined) ?? []).entries()) {
      if (!isRecord(g) || !isInt(g.step) || !isString(g.name) || !isInt(g.site) || !optional(g.paths, isRecord)) return { problem: `training.graphs[${i}] is malformed` };
      const decoded = decodeGraph(g.graph, `training.graphs[${i}].graph`, (raw.sites as unknown[]).length, block);
      if (typeof decoded === "string") return { problem: decoded };
      const paths = (g.paths as Record<string, string> | undefined) ?? {};
      graphs.push({ step: g.step, name: g.name, site: g.site, graph: decoded.graph, paths: decoded.renumbering ? renumberKeys(paths, decoded.renumbering) : paths });
    }
    output.training = { ...(raw.training as unknown as NonNullable<DecodedTracerOutput["training"]>), graphs };
  }
  return { output };
}

/** The buffers of every decoded graph: moved, not copied, from the thread that decoded them. */
export function graphBuffers(output: DecodedTracerOutput): ArrayBuffer[] {
  const graphs = [...output.roots.map((r) => r.graph), ...(output.training?.graphs ?? []).map((g) => g.graph)];
  const buffers = new Set<ArrayBuffer>();
  for (const g of graphs) for (const column of [g.op, g.data, g.grad, g.site, g.childStart, g.child, g.localGrad]) buffers.add(column.buffer as ArrayBuffer);
  return [...buffers];
}
