/** Gradient checks of the registered top-level functions, inside the worker. */
import { Value, gradcheck, mulberry32, snapshotGraph, topologicalOrder, type GradcheckInput } from "../engine";
import type { CheckRequest, WorkerError, WorkerOutput } from "./protocol";
import { checkOps, type OpGraph } from "./opCheck";
import { UNNAMED_OP, wrapsLearnerClass, type LearnerGraph } from "./userValues";
import { learnerForward } from "./opCheckLearner";
import type { OpCheckResult } from "../protocol/result";
import { rerunForward } from "./opCheckRerun";
import { checkGraph } from "./opCheckModel";
import * as l10n from "@vscode/l10n";

/** Length of an array parameter when no `@gradcheck` tag gives its values and none can be inferred. */
export const DEFAULT_ARRAY_LENGTH = 3;
/** Above this many scalar inputs the check uses random directions (fast mode) first. */
export const FAST_MODE_ABOVE = 100;
/** Elements of the probe array that finds which indices a function reads. */
const PROBE_LENGTH = 64;

type CheckOutput = NonNullable<WorkerOutput["checks"]>[number];

export interface CheckContext {
  /** The enclosing function of each site, for re-running user-defined ops. */
  functionOfSite: (site: number) => string | undefined;
  /** The learner's graph of the last check call of a function over the learner's own class (userValues.ts). */
  lastLearnerGraph?: () => LearnerGraph | undefined;
}

export function runChecks(
  requests: readonly CheckRequest[],
  registered: ReadonlyMap<string, unknown>,
  options: { eps?: number; atol?: number; rtol?: number; seed?: number },
  errorOf: (thrown: unknown) => WorkerError,
  context: CheckContext = { functionOfSite: () => undefined },
): CheckOutput[] {
  return requests.map((request) => {
    const fn = registered.get(request.name);
    const lengths = typeof fn === "function" ? inferLengths(request, fn as (...args: unknown[]) => unknown) : {};
    const { point, pointSource, note } = pointFor(request, options.seed ?? 0, lengths);
    const result: CheckOutput = { name: request.name, point, pointSource, ok: false, maxRelError: 0, inputs: [] };
    if (note) result.note = note;
    if (Object.keys(lengths).length > 0) result.inferredLengths = lengths;
    if (typeof fn !== "function") {
      result.error = { kind: "runtime", message: l10n.t("{0} could not be found when the file ran", request.name), frames: [], siteId: 0 };
      return result;
    }
    const checked = (...args: (Value | Value[])[]): Value => {
      const out: unknown = fn(...args);
      if (!(out instanceof Value)) throw new TypeError(`${request.name} must return a Value to be checked, but it returned ${typeof out === "object" ? String(out) : typeof out}`);
      return out;
    };
    try {
      const inputs: GradcheckInput[] = request.params.map((p) => point[p.name]);
      const size = inputs.reduce<number>((n, x) => n + (typeof x === "number" ? 1 : x.length), 0);
      const fast = size > FAST_MODE_ABOVE;
      const check = gradcheck(checked, inputs, { eps: options.eps, atol: options.atol, rtol: options.rtol, names: request.params.map((p) => p.name), fast, seed: options.seed });
      result.ok = check.ok;
      result.output = check.output;
      result.maxRelError = check.maxRelError;
      result.mode = check.mode;
      result.inputs = check.inputs;
      if (check.mutations) result.mutations = check.mutations;
      // The ops of the function's graph at the point, checked one by one.
      const out = checked(...inputs.map((x) => (typeof x === "number" ? new Value(x) : x.map((y) => new Value(y)))));
      if (wrapsLearnerClass(fn)) {
        // The engine's graph is one stand-in node: the learner's own graph of this call is checked instead.
        const own = context.lastLearnerGraph?.();
        if (own) result.ops = learnerOpChecks([own], registered, context.functionOfSite, options);
      } else {
        const order = topologicalOrder(out);
        const graph: OpGraph = { graph: snapshotGraph(out, order) };
        result.ops = checkOps([graph], { userForward: rerunForward(new Map([[graph, order]]), registered, context.functionOfSite), ...opTolerances(options) });
      }
      if (result.ops?.some((op) => !op.ok)) result.ok = false;
    } catch (thrown) {
      result.error = errorOf(thrown);
    }
    return result;
  });
}

/**
 * The length each untagged array parameter should have: the function is called once on arrays that
 * record which elements it reads. A function that reads `length` (loops, map, reduce) takes any
 * length, so the default stays; one that reads fixed indices gets the highest index read + 1.
 */
export function inferLengths(request: CheckRequest, fn: (...args: unknown[]) => unknown): Record<string, number> {
  const arrays = request.params.filter((p) => p.kind === "array" && request.point?.[p.name] === undefined);
  if (arrays.length === 0) return {};
  const reads = new Map<string, { maxIndex: number; usesLength: boolean }>();
  const args = request.params.map((p) => {
    if (p.kind !== "array") return new Value(0.5);
    if (request.point?.[p.name] !== undefined) {
      const given = request.point[p.name];
      return Array.isArray(given) ? given.map((x) => new Value(x)) : new Value(given);
    }
    const seen = { maxIndex: -1, usesLength: false };
    reads.set(p.name, seen);
    const target = Array.from({ length: PROBE_LENGTH }, (_, i) => new Value(0.1 * ((i % 7) + 1)));
    return new Proxy(target, {
      get(array, key, receiver) {
        if (typeof key === "string" && /^\d+$/.test(key)) seen.maxIndex = Math.max(seen.maxIndex, Number(key));
        else if (key === "length" || key === Symbol.iterator) seen.usesLength = true;
        return Reflect.get(array, key, receiver) as unknown;
      },
    });
  });
  try {
    fn(...args);
  } catch {
    // The probe is only a hint: the check itself reports what goes wrong.
  }
  const lengths: Record<string, number> = {};
  for (const [name, seen] of reads) if (!seen.usesLength && seen.maxIndex >= 0 && seen.maxIndex < PROBE_LENGTH - 1) lengths[name] = seen.maxIndex + 1;
  return lengths;
}

/** The tag's values where given, else seeded random values in [−2, 2] (the same every run). */
export function pointFor(
  request: CheckRequest,
  seed: number,
  lengths: Readonly<Record<string, number>> = {},
): { point: Record<string, number | number[]>; pointSource: "@gradcheck" | "random"; note?: string } {
  const random = mulberry32((seed ^ hashName(request.name)) >>> 0);
  const draw = () => Math.round((random() * 4 - 2) * 1000) / 1000;
  const point: Record<string, number | number[]> = {};
  const defaulted: string[] = [];
  const inferred: string[] = [];
  let fromTag = 0;
  for (const p of request.params) {
    const tagged = request.point?.[p.name];
    if (tagged !== undefined && (p.kind === "array") === Array.isArray(tagged)) {
      point[p.name] = tagged;
      fromTag++;
    } else if (p.kind === "array") {
      const length = lengths[p.name];
      point[p.name] = Array.from({ length: length ?? DEFAULT_ARRAY_LENGTH }, draw);
      if (length === undefined) defaulted.push(p.name);
      else inferred.push(`${p.name}: ${length}`);
    } else {
      point[p.name] = draw();
    }
  }
  const notes: string[] = [];
  if (inferred.length > 0) notes.push(l10n.t("random arrays of the length the function reads ({0})", inferred.join(", ")));
  if (defaulted.length > 0) notes.push(l10n.t("{0}: random arrays of length {1}; give values with /** @gradcheck {2}=[…] */", defaulted.join(", "), DEFAULT_ARRAY_LENGTH, defaulted[0]));
  return { point, pointSource: fromTag > 0 && fromTag === request.params.length ? "@gradcheck" : "random", ...(notes.length > 0 ? { note: notes.join("; ") } : {}) };
}

function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * Checks of each backward() graph with respect to all its leaves, at the program's own values (see
 * opCheckModel.ts), named after the function that made the root (`loss`), else the root's name.
 */
export function modelChecks(
  graphs: ReadonlyMap<OpGraph, readonly Value[]>,
  roots: readonly { name: string; reason: "backward" | "last-value" }[],
  registered: ReadonlyMap<string, unknown>,
  options: { eps?: number; atol?: number; rtol?: number; seed?: number },
  context: CheckContext,
  taken: ReadonlySet<string>,
): CheckOutput[] {
  const out: CheckOutput[] = [];
  const forward = rerunForward(graphs, registered, context.functionOfSite);
  for (const graph of graphs.keys()) {
    const g = graph.graph;
    const root = roots[graph.root ?? 0];
    // Only a graph backward() ran on has the grads to compare with (a last value's are all 0).
    if (root?.reason !== "backward") continue;
    const name = context.functionOfSite(g.site[g.root]) ?? root.name;
    if (!name || taken.has(name) || out.some((c) => c.name === name)) continue;
    const check = checkGraph(graph, { userForward: forward }, options);
    if (check.unreplayable) continue;
    out.push({
      name,
      point: {},
      pointSource: "program",
      ok: check.ok,
      output: check.output,
      maxRelError: check.maxRelError,
      inputs: check.inputs,
      mode: check.mode,
      note: l10n.t("with respect to all {0} leaves (parameters and inputs) of the graph backward() ran on, at the program's own values", check.leaves),
      // Which op is wrong, when the check fails (the run's op checks cover every graph; this is this graph's).
      ...(check.ok ? {} : { ops: checkOps([graph], { userForward: forward, ...opTolerances(options) }) }),
    });
  }
  return out;
}

/** Op checks of graphs of a learner's own class: each op re-made by the class itself (opCheckLearner.ts). */
export function learnerOpChecks(
  graphs: readonly LearnerGraph[],
  registered: ReadonlyMap<string, unknown>,
  functionOfSite: (site: number) => string | undefined,
  options: { atol?: number; rtol?: number },
): OpCheckResult[] {
  const nodes = new Map<OpGraph, LearnerGraph["nodes"]>(graphs.map((g) => [{ ...(g.root !== undefined ? { root: g.root } : {}), graph: g.graph }, g.nodes]));
  const forward = learnerForward({ nodesOf: (graph) => nodes.get(graph), registered, functionOfSite });
  const ops = checkOps([...nodes.keys()], { userForward: forward, ownClass: true, ...opTolerances(options) });
  // A class that names no ops (microgpt's shape) is read as "op": the method that makes it says more.
  return ops.map((op) => (op.op === UNNAMED_OP && op.method ? { ...op, op: op.method } : op));
}

/** The user's atol/rtol (settings) apply to op checks too; without them ops use their own, tighter defaults. */
function opTolerances(options: { atol?: number; rtol?: number }): { tolerances?: { atol?: number; rtol?: number } } {
  return options.atol === undefined && options.rtol === undefined ? {} : { tolerances: { atol: options.atol, rtol: options.rtol } };
}
