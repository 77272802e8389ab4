/**
 * A model's gradient check with respect to all its parameters, at the program's own values: the
 * graph a `backward()` call recorded is replayed with its leaves moved (each op's forward, as for op
 * checks: built-in forwards, user ops re-run), and the change of the output is compared with the
 * grads backward() left on the leaves. This checks what a function check cannot reach — a loss that
 * takes no Value parameters (`loss(tokens)` over a global state dict) — without calling the function
 * again: the graph is the function, with its branches as the run took them. Above ~100 leaves it uses
 * random directions (2 replays) and halves them to name the leaves that disagree.
 */
import { GRADCHECK_DEFAULTS, bisect, compare, mulberry32, relativeError, type InputCheck } from "../engine/gradcheck";
import { builtInForward, type OpCheckContext, type OpForward, type OpGraph } from "./opCheck";

const ROUNDING = 64 * Number.EPSILON;
const FULL_UP_TO = 100;

export interface GraphCheck {
  ok: boolean;
  output: number;
  /** Leaves of the graph: the parameters and inputs the output depends on. */
  leaves: number;
  mode: "full" | "fast";
  evaluations: number;
  inputs: InputCheck[];
  maxRelError: number;
  direction?: { analytic: number; numeric: number };
  /** Why the graph could not be replayed (then nothing was checked). */
  unreplayable?: string;
}

/** Replays `graph` with new leaf values: each node's output from its children's, in topological order. */
export function replayer(graph: OpGraph, context: OpCheckContext): { leafIds: number[]; run: (leafValues: ArrayLike<number>) => number } | { reason: string } {
  const g = graph.graph;
  const n = g.nodeCount;
  const forwards: (OpForward | undefined)[] = new Array(n);
  const leafIds: number[] = [];
  const inputsOf = (i: number, values: ArrayLike<number>): number[] => {
    const xs: number[] = [];
    for (let e = g.childStart[i]; e < g.childStart[i + 1]; e++) xs.push(values[g.child[e]]);
    return xs;
  };
  for (let i = 0; i < n; i++) {
    if (g.childStart[i + 1] === g.childStart[i]) {
      leafIds.push(i);
      continue;
    }
    const op = g.opNames[g.op[i]];
    const builtIn = builtInForward(op);
    const recorded = inputsOf(i, g.data);
    const again = builtIn?.(recorded);
    if (builtIn && again !== undefined && (Object.is(again, g.data[i]) || Math.abs(again - g.data[i]) <= 1e-12 * Math.max(1, Math.abs(g.data[i])))) {
      forwards[i] = builtIn;
      continue;
    }
    const found = context.userForward?.(graph, i) ?? { reason: `no forward for ${op}` };
    if ("reason" in found) return { reason: `${op}: ${found.reason}` };
    forwards[i] = found.forward;
  }
  const values = new Float64Array(n);
  return {
    leafIds,
    run(leafValues) {
      leafIds.forEach((id, k) => (values[id] = leafValues[k]));
      for (let i = 0; i < n; i++) {
        const forward = forwards[i];
        if (forward) values[i] = forward(inputsOf(i, values)) ?? NaN;
      }
      return values[n - 1];
    },
  };
}

export function checkGraph(graph: OpGraph, context: OpCheckContext, options: { eps?: number; atol?: number; rtol?: number; seed?: number } = {}): GraphCheck {
  const eps = options.eps ?? GRADCHECK_DEFAULTS.eps;
  const atol = options.atol ?? GRADCHECK_DEFAULTS.atol;
  const rtol = options.rtol ?? GRADCHECK_DEFAULTS.rtol;
  const g = graph.graph;
  const output = g.data[g.nodeCount - 1];
  const replay = replayer(graph, context);
  if ("reason" in replay) return { ok: true, output, leaves: 0, mode: "full", evaluations: 0, inputs: [], maxRelError: 0, unreplayable: replay.reason };
  const { leafIds } = replay;
  const base = leafIds.map((id) => g.data[id]);
  const grads = leafIds.map((id) => g.grad[id]);
  let evaluations = 0;
  const along = (direction: ArrayLike<number>, h: number) => {
    evaluations += 2;
    const plus = replay.run(base.map((x, k) => x + h * direction[k]));
    const minus = replay.run(base.map((x, k) => x - h * direction[k]));
    return { numeric: (plus - minus) / (2 * h), noise: (ROUNDING * Math.max(Math.abs(plus), Math.abs(minus), Math.abs(output))) / h };
  };
  const nameOf = (k: number) => g.labels[leafIds[k]] ?? `node ${leafIds[k]} (${Number(base[k].toPrecision(4))})`;
  const checkLeaf = (k: number): InputCheck => {
    const unit = new Float64Array(leafIds.length);
    unit[k] = 1;
    const { numeric, noise } = along(unit, eps);
    const check: InputCheck = { name: nameOf(k), element: leafIds[k], ...compare(grads[k], numeric, { atol, rtol, noise }), verdict: "ok" };
    if (!Number.isFinite(grads[k]) || !Number.isFinite(numeric)) {
      check.ok = false;
      check.verdict = "non-finite";
    } else if (!check.ok) {
      check.verdict = "mismatch";
      check.note = `backprop says ${grads[k]}, numerical differentiation says ${numeric}`;
    }
    return check;
  };
  const summary = (inputs: InputCheck[], mode: GraphCheck["mode"], direction?: GraphCheck["direction"]): GraphCheck => ({
    ok: inputs.every((c) => c.ok),
    output,
    leaves: leafIds.length,
    mode,
    evaluations,
    inputs,
    maxRelError: direction ? relativeError(direction.analytic, direction.numeric) : inputs.reduce((m, c) => (Number.isFinite(c.relError) ? Math.max(m, c.relError) : m), 0),
    ...(direction ? { direction } : {}),
  });
  if (leafIds.length <= FULL_UP_TO) return summary(leafIds.map((_, k) => checkLeaf(k)), "full");

  const random = mulberry32(options.seed ?? 0);
  const direction = leafIds.map(() => (random() < 0.5 ? -1 : 1) * (0.5 + random()));
  const agreesOn = (from: number, to: number) => {
    const d = direction.map((x, k) => (k >= from && k < to ? x : 0));
    const { numeric, noise } = along(d, eps);
    let analytic = 0;
    for (let k = from; k < to; k++) analytic += d[k] * grads[k];
    return { ok: compare(analytic, numeric, { atol, rtol, noise }).ok, analytic, numeric };
  };
  const whole = agreesOn(0, leafIds.length);
  const wholeDirection = { analytic: whole.analytic, numeric: whole.numeric };
  if (whole.ok) return summary([], "fast", wholeDirection);
  const { found } = bisect(leafIds.length, (from, to) => agreesOn(from, to).ok);
  const inputs = found.map(checkLeaf);
  if (inputs.every((c) => c.ok)) {
    inputs.push({ name: "(all leaves)", ...compare(whole.analytic, whole.numeric, { atol, rtol, noise: 0 }), ok: false, verdict: "mismatch", note: "the derivative along a random direction disagrees, but no single leaf could be named" });
  }
  return { ...summary(inputs, "fast", wholeDirection), ok: false };
}
