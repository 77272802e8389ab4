/**
 * Does backprop agree with numerical differentiation?
 *
 * For each scalar input x_i, the central difference (f(x+εe_i) − f(x−εe_i)) / 2ε is
 * compared with the gradient backprop computed. Defaults follow torch.autograd.gradcheck
 * (float64, ε = 1e-6, atol = 1e-5, rtol = 1e-3): an input passes when
 * |analytic − numeric| ≤ atol + rtol·|numeric|.
 */
import { Value, topologicalOrder } from "./value";

/** One input of `f`: a scalar becomes a `Value`, an array a `Value[]`. */
export type GradcheckInput = number | readonly number[];
type Argument = Value | Value[];

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Names of the inputs, for reports ("x", "w" → "w[1]"); defaults to "arg0", "arg1", … */
  names?: readonly string[];
  /** Check one random direction first (2 evaluations instead of 2 per input); full check only on failure. */
  fast?: boolean;
  /** Seed of the random direction in fast mode. */
  seed?: number;
}

export type Verdict = "ok" | "mismatch" | "kink" | "non-finite";

export interface InputCheck {
  /** "x", or "w[1]" for an element of an array input. */
  name: string;
  /** Which argument of `f`, and which element of it (0 for a scalar). */
  argument: number;
  element: number;
  analytic: number;
  numeric: number;
  absError: number;
  relError: number;
  ok: boolean;
  verdict: Verdict;
  /** Why a result that is not "ok" may still be fine, or what went wrong, in words. */
  note?: string;
}

export interface GradcheckResult {
  ok: boolean;
  /** The function's value at the point. */
  output: number;
  inputs: InputCheck[];
  /** Largest relative error over the inputs (0 when all are exact). */
  maxRelError: number;
  /** "full": every input was perturbed; "fast": one random direction sufficed. */
  mode: "full" | "fast";
  evaluations: number;
  /** In fast mode: the directional derivative from backprop and from differences. */
  direction?: { analytic: number; numeric: number };
}

const DEFAULTS = { eps: 1e-6, atol: 1e-5, rtol: 1e-3 };

export function gradcheck<Args extends Argument[]>(
  f: (...args: Args) => Value,
  inputs: readonly GradcheckInput[],
  options: GradcheckOptions = {},
): GradcheckResult {
  const eps = options.eps ?? DEFAULTS.eps;
  const atol = options.atol ?? DEFAULTS.atol;
  const rtol = options.rtol ?? DEFAULTS.rtol;
  const point = inputs.map((x) => (typeof x === "number" ? [x] : [...x]));
  const isArray = inputs.map((x) => typeof x !== "number");
  const names = options.names ?? inputs.map((_, i) => `arg${i}`);
  let evaluations = 0;

  /** Runs f on the point; `kinks()` reads the graph's relu pattern only when a check needs it. */
  const evaluate = (at: number[][], withGrads: boolean) => {
    evaluations++;
    const leaves = at.map((xs) => xs.map((x) => new Value(x)));
    const args: Argument[] = leaves.map((vs, i) => (isArray[i] ? vs : vs[0]));
    const out = f(...(args as Args));
    if (withGrads) {
      for (const v of topologicalOrder(out)) v.grad = 0;
      out.backward();
    }
    return { output: out.data, leaves, kinks: () => kinkPattern(topologicalOrder(out)) };
  };

  const base = evaluate(point, true);
  const analytic = base.leaves.map((vs) => vs.map((v) => v.grad));

  if (options.fast) {
    const random = mulberry32(options.seed ?? 0);
    const direction = point.map((xs) => xs.map(() => (random() < 0.5 ? -1 : 1) * (0.5 + random())));
    const shifted = (sign: number) => point.map((xs, a) => xs.map((x, k) => x + sign * eps * direction[a][k]));
    const numeric = (evaluate(shifted(1), false).output - evaluate(shifted(-1), false).output) / (2 * eps);
    let directional = 0;
    direction.forEach((ds, a) => ds.forEach((d, k) => (directional += d * analytic[a][k])));
    if (Math.abs(directional - numeric) <= atol + rtol * Math.abs(numeric)) {
      return {
        ok: true,
        output: base.output,
        inputs: [],
        maxRelError: relativeError(directional, numeric),
        mode: "fast",
        evaluations,
        direction: { analytic: directional, numeric },
      };
    }
  }

  const checks: InputCheck[] = [];
  point.forEach((xs, a) => {
    xs.forEach((x, k) => {
      const moved = (delta: number) => point.map((ys, b) => (b === a ? ys.map((y, j) => (j === k ? x + delta : y)) : ys));
      const plus = evaluate(moved(eps), false);
      const minus = evaluate(moved(-eps), false);
      const numeric = (plus.output - minus.output) / (2 * eps);
      const g = analytic[a][k];
      const absError = Math.abs(g - numeric);
      const name = isArray[a] ? `${names[a]}[${k}]` : names[a];
      const check: InputCheck = {
        name,
        argument: a,
        element: k,
        analytic: g,
        numeric,
        absError,
        relError: relativeError(g, numeric),
        ok: absError <= atol + rtol * Math.abs(numeric),
        verdict: "ok",
      };
      if (!Number.isFinite(g) || !Number.isFinite(numeric)) {
        check.ok = false;
        check.verdict = "non-finite";
        check.note = `gradient is not finite here (backprop ${g}, numeric ${numeric})`;
      } else if (!check.ok && (plus.kinks() !== base.kinks() || minus.kinks() !== base.kinks())) {
        // A step of ±ε flips a relu between its branches: the function has a corner at this
        // point, the central difference averages the two slopes, and neither answer is "wrong".
        check.ok = true;
        check.verdict = "kink";
        check.note = `${name} sits on a kink (a relu argument is within ε of 0): the derivative is undefined there; backprop uses relu'(0) = 0, the central difference averages both sides`;
      } else if (!check.ok) {
        check.verdict = "mismatch";
        check.note = `backprop says ${g}, numerical differentiation says ${numeric}`;
      }
      checks.push(check);
    });
  });

  return {
    ok: checks.every((c) => c.ok),
    output: base.output,
    inputs: checks,
    maxRelError: checks.reduce((m, c) => (Number.isFinite(c.relError) ? Math.max(m, c.relError) : m), 0),
    mode: "full",
    evaluations,
  };
}

/** |a − n| / |n|, or the absolute error where the numeric value is 0. */
function relativeError(analytic: number, numeric: number): number {
  const abs = Math.abs(analytic - numeric);
  return numeric === 0 ? abs : abs / Math.abs(numeric);
}

/** Which side of its corner each relu is on: equal patterns mean the same smooth piece of f. */
function kinkPattern(order: Value[]): string {
  let pattern = "";
  for (const v of order) if (v.op === "relu") pattern += v.child(0).data > 0 ? "1" : "0";
  return pattern;
}

/** A small seeded generator, so fast-mode directions and random points repeat exactly. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The tolerances and step a check uses when none are given (the Python checker is sent these). */
export const GRADCHECK_DEFAULTS: Readonly<typeof DEFAULTS> = DEFAULTS;
