/**
 * Op-level gradient checks: is each op's recorded local gradient d(output)/d(input) what a central
 * difference of the op's forward gives, at the inputs the run actually used?
 *
 * A whole-function check says only *that* a gradient is wrong; learners' bugs are almost always one
 * op (a wrong local gradient in a hand-written op). So every op kind at every source site is checked
 * at a sample of its recorded instances, and the worst instance is reported with its inputs.
 *
 * Forward functions: GradLens's built-in ops have known forwards (below). A user-defined op —
 * `new Value(data, [x], [localGrad], "softplus")` — has no forward anyone recorded, so it is re-run:
 * the function that made the node (the site's enclosing function: a top-level function of Value
 * parameters, or a method of the first input) is called again on fresh leaves holding the recorded
 * inputs ± h, and the node made at the same site is read back. The re-run is trusted only when at the
 * recorded inputs it reproduces the recorded output and takes the fresh leaves as its inputs;
 * otherwise the op is reported as not checkable, with the reason. Works on snapshots, so a graph
 * whose data the program changed after backward() (an optimizer step) is checked at the numbers
 * backward() saw.
 */
import type { GraphSnapshot } from "../engine/snapshot";
import { mulberry32 } from "../engine/gradcheck";
import type { OpCheckResult, OpInstanceCheck } from "../protocol/result";

/** Instances checked per op kind and site. */
export const OP_SAMPLE = 20;
/** Local gradients are compared like function gradients, with a slightly looser rtol (ops are tiny functions). */
const ATOL = 1e-6;
const RTOL = 1e-4;
/** Step sizes tried in turn: the first that agrees decides (a poor difference is not a wrong op). */
const STEPS = [1e-6, 1e-4, 1e-8, 1e-3];
const ROUNDING = 64 * Number.EPSILON;
/** An op that overwrites grads is wrong whatever its numbers say: its instance ranks as the worst. */
const OVERWRITE_SCORE = 1e6;

/** A forward of an op: its output at the given inputs (undefined: could not evaluate). */
export type OpForward = (inputs: readonly number[]) => number | undefined;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const BUILT_IN: Record<string, OpForward> = {
  "+": (x) => (x.length === 2 ? x[0] + x[1] : undefined),
  "*": (x) => (x.length === 2 ? x[0] * x[1] : undefined),
  exp: (x) => (x.length === 1 ? Math.exp(x[0]) : undefined),
  log: (x) => (x.length === 1 ? Math.log(x[0]) : undefined),
  relu: (x) => (x.length === 1 ? (x[0] > 0 ? x[0] : 0) : undefined),
  tanh: (x) => (x.length === 1 ? Math.tanh(x[0]) : undefined),
  sigmoid: (x) => (x.length === 1 ? sigmoid(x[0]) : undefined),
};

/** The forward of a built-in op name ("**2" included), if it is one. */
export function builtInForward(op: string): OpForward | undefined {
  if (Object.prototype.hasOwnProperty.call(BUILT_IN, op)) return BUILT_IN[op];
  const pow = /^\*\*(-?[\d.]+(?:e[-+]?\d+)?)$/.exec(op);
  if (pow) {
    const n = Number(pow[1]);
    return (x) => (x.length === 1 ? x[0] ** n : undefined);
  }
  return undefined;
}

/** Ops with a corner: an instance within a step of it is not judged (the derivative is undefined there). */
const KINKS: Record<string, number> = { relu: 0 };

export interface OpGraph {
  /** Index of the graph in the run's roots, for node references; undefined for a check's own graph. */
  root?: number;
  graph: GraphSnapshot;
}

/** A user-defined op's forward, re-run through the user's code, and what the re-run found out besides. */
export interface UserForward {
  forward: OpForward;
  /** Local gradients from the re-run node, for edges whose recorded one is unknown (NaN). */
  analytic?: readonly number[];
  /** Its backward step sets the inputs' grads instead of adding to them (`=` for `+=`). */
  overwrites?: boolean;
  /** The method of the learner's class that makes the op (the host finds its line). */
  method?: string;
}

export interface OpCheckContext {
  /**
   * A forward for a user-defined op's instance (node `id` of `graph`), or undefined with a reason.
   * Called once per sampled instance; the forward may run user code.
   */
  userForward?: (graph: OpGraph, id: number) => UserForward | { reason: string };
  /** The graphs are of a learner's own class: every op is the user's code, re-run first (built-in forwards only as a fallback). */
  ownClass?: boolean;
  /** The user's gradcheck tolerances, where set (else ATOL/RTOL below). */
  tolerances?: { atol?: number; rtol?: number };
}

interface Group {
  op: string;
  site: number;
  ids: { graph: OpGraph; id: number }[];
  total: number;
}

/** Checks every op kind × site of the graphs (each node once, even when graphs share nodes by id). */
export function checkOps(graphs: readonly OpGraph[], context: OpCheckContext = {}): OpCheckResult[] {
  const groups = new Map<string, Group>();
  const random = mulberry32(15);
  for (const g of graphs) {
    const { graph } = g;
    for (let i = 0; i < graph.nodeCount; i++) {
      if (graph.childStart[i + 1] === graph.childStart[i]) continue; // leaves have no local gradient
      const op = graph.opNames[graph.op[i]];
      const site = graph.site[i];
      const key = `${op}\u0000${site}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { op, site, ids: [], total: 0 }));
      group.total++;
      // A uniform sample of the instances (reservoir sampling, seeded: the same every run).
      if (group.ids.length < OP_SAMPLE) group.ids.push({ graph: g, id: i });
      else {
        const j = Math.floor(random() * group.total);
        if (j < OP_SAMPLE) group.ids[j] = { graph: g, id: i };
      }
    }
  }
  const results: OpCheckResult[] = [];
  for (const group of groups.values()) results.push(checkGroup(group, context));
  return sortOps(results);
}

/** Failing ops first, then in the order the run made them (site ids grow along the source). */
export function sortOps(ops: OpCheckResult[]): OpCheckResult[] {
  return ops.sort((a, b) => Number(a.ok) - Number(b.ok) || a.siteId - b.siteId);
}

function checkGroup(group: Group, context: OpCheckContext): OpCheckResult {
  const builtIn = builtInForward(group.op);
  const result: OpCheckResult = { op: group.op, siteId: group.site, kind: builtIn && !context.ownClass ? "built-in" : "user", ok: true, total: group.total, checked: 0, failed: 0 };
  let worstScore = -1;
  const nodes: { root: number; id: number }[] = [];
  for (const { graph, id } of group.ids) {
    const { graph: snapshot } = graph;
    const inputs: number[] = [];
    const analytic: number[] = [];
    for (let e = snapshot.childStart[id]; e < snapshot.childStart[id + 1]; e++) {
      inputs.push(snapshot.data[snapshot.child[e]]);
      analytic.push(snapshot.localGrad[e]);
    }
    const output = snapshot.data[id];
    // A node named like a built-in whose output the built-in forward does not give was made by user code.
    const builtInHere = builtIn && reproduces(builtIn(inputs), output) ? builtIn : undefined;
    let forward = context.ownClass ? undefined : builtInHere;
    let rerun: UserForward | undefined;
    if (!forward) {
      const found = context.userForward?.(graph, id) ?? { reason: "no way to re-run this op's forward" };
      if ("reason" in found) {
        forward = builtInHere;
        if (!forward) {
          result.unchecked ??= found.reason;
          continue;
        }
      } else {
        rerun = found;
        forward = found.forward;
        result.kind = "user";
        if (found.method) result.method ??= found.method;
        found.analytic?.forEach((g, j) => {
          if (Number.isNaN(analytic[j])) analytic[j] = g;
        });
      }
    }
    const instance = checkInstance(group.op, forward, inputs, output, analytic, context.tolerances);
    if (!instance) continue; // on a kink, or the forward failed at a perturbed point
    if (rerun?.overwrites) {
      instance.check.ok = false;
      instance.score = Math.max(instance.score, OVERWRITE_SCORE);
      result.overwrites = true;
    }
    result.checked++;
    if (!instance.check.ok) {
      result.failed++;
      result.ok = false;
      if (graph.root !== undefined) nodes.push({ root: graph.root, id });
    }
    if (instance.score > worstScore) {
      worstScore = instance.score;
      result.worst = graph.root !== undefined ? { ...instance.check, node: { root: graph.root, id } } : instance.check;
    }
  }
  if (result.checked > 0) delete result.unchecked;
  if (nodes.length > 0) result.nodes = nodes;
  return result;
}

/** Whether a re-run gave the recorded output (to rounding). */
export function reproduces(value: number | undefined, recorded: number): boolean {
  if (value === undefined) return false;
  if (Object.is(value, recorded)) return true;
  return Math.abs(value - recorded) <= 1e-12 * Math.max(1, Math.abs(recorded));
}

/** The instance's local gradients against central differences; score = worst error / tolerance. */
export function checkInstance(
  op: string,
  forward: OpForward,
  inputs: readonly number[],
  output: number,
  analytic: readonly number[],
  tolerances: { atol?: number; rtol?: number } = {},
): { check: OpInstanceCheck; score: number } | undefined {
  const atol = tolerances.atol ?? ATOL;
  const rtol = tolerances.rtol ?? RTOL;
  const kink = KINKS[op];
  const numeric: number[] = [];
  let ok = true;
  let score = 0;
  for (let j = 0; j < inputs.length; j++) {
    const x = inputs[j];
    if (kink !== undefined && Math.abs(x - kink) <= 1e-3 * Math.max(1, Math.abs(x))) return undefined;
    let best: { numeric: number; ratio: number } | undefined;
    for (const step of STEPS) {
      const h = step * Math.max(1, Math.abs(x));
      const at = (delta: number) => inputs.map((y, k) => (k === j ? y + delta : y));
      const plus = forward(at(h));
      const minus = forward(at(-h));
      if (plus === undefined || minus === undefined) return undefined;
      const value = (plus - minus) / (2 * h);
      const noise = (ROUNDING * Math.max(Math.abs(plus), Math.abs(minus), Math.abs(output))) / h;
      const error = Math.abs(analytic[j] - value);
      const ratio = error / (atol + rtol * Math.abs(value) + noise);
      if (!Number.isFinite(value)) continue;
      if (!best || ratio < best.ratio) best = { numeric: value, ratio: Number.isNaN(ratio) ? Infinity : ratio };
      if (ratio <= 1) break;
    }
    if (!best) return undefined;
    numeric.push(best.numeric);
    if (!(best.ratio <= 1)) ok = false;
    score = Math.max(score, best.ratio);
  }
  return { check: { inputs: [...inputs], output, analytic: [...analytic], numeric, ok }, score };
}
