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

/** The numeric derivative at one step size, and how far it is from backprop. */
export interface SweepPoint {
  eps: number;
  numeric: number;
  absError: number;
}

/**
 * The check of one scalar input — the one type shared by the engine, the runners' results, the CLI
 * and the editor (`InputCheckResult` in src/protocol/result.ts is this type).
 */
export interface InputCheck {
  /** "x", or "w[1]" for an element of an array input. */
  name: string;
  /** Which argument of `f`, and which element of it (0 for a scalar); absent where a runner cannot tell. */
  argument?: number;
  element?: number;
  analytic: number;
  numeric: number;
  absError: number;
  relError: number;
  ok: boolean;
  verdict: Verdict;
  /** Why a result that is not "ok" may still be fine, or what went wrong, in words. */
  note?: string;
  /** atol + rtol·|numeric|: the error this input was allowed. */
  tolerance?: number;
  /** Which term of atol + rtol·|numeric| is the larger, i.e. decided the comparison. */
  decidedBy?: "atol" | "rtol";
  /**
   * The absolute term alone would have passed this input whatever backprop said (|grad| below atol,
   * or only atol let the error through): it was judged by relative error instead, or could not be judged.
   */
  weak?: boolean;
  /** A weak input whose gradient is below the rounding noise of the difference: the check could not tell. */
  undecided?: boolean;
  /** On a mismatch: the numeric derivative at step sizes 1e-2 … 1e-8. */
  sweep?: SweepPoint[];
  /** What the sweep says: the error stays (a wrong gradient) or shrinks then grows (a poor difference at the default step). */
  sweepVerdict?: "wrong-gradient" | "poor-difference";
}

/** `f` wrote to one of its inputs: the numbers it was checked at are not the point it was given. */
export interface InputMutation {
  /** "x" or "w[2]". */
  input: string;
  field: "data" | "grad";
}

export interface GradcheckResult {
  ok: boolean;
  /** The function's value at the point. */
  output: number;
  inputs: InputCheck[];
  /** Largest relative error over the inputs (0 when all are exact). */
  maxRelError: number;
  /**
   * "full": every input was perturbed; "fast": random directions — one for the whole point, and on a
   * failure directions over halves of the inputs, down to the single inputs that are named in `inputs`.
   */
  mode: "full" | "fast";
  evaluations: number;
  /** In fast mode: the directional derivative from backprop and from differences. */
  direction?: { analytic: number; numeric: number };
  /** Inputs `f` changed (then `ok` is false: the check is of another point). */
  mutations?: InputMutation[];
  /** In fast mode, when more inputs failed than were named. */
  truncated?: boolean;
}

/** The tolerances and step a check uses when none are given (the Python checker is sent these). */
export const GRADCHECK_DEFAULTS: Readonly<{ eps: number; atol: number; rtol: number }> = { eps: 1e-6, atol: 1e-5, rtol: 1e-3 };
/** The step sizes of the sweep done on a mismatch. */
export const SWEEP_STEPS = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8];
/** At most this many inputs get a sweep (each costs 14 evaluations of f). */
const MAX_SWEPT = 8;
/** Fast mode names at most this many failing inputs. */
const MAX_LOCATED = 32;
/** Relative rounding error of one double, times a safety factor: the noise floor of a difference. */
const ROUNDING = 64 * Number.EPSILON;

export function gradcheck<Args extends Argument[]>(
  f: (...args: Args) => Value,
  inputs: readonly GradcheckInput[],
  options: GradcheckOptions = {},
): GradcheckResult {
  const eps = options.eps ?? GRADCHECK_DEFAULTS.eps;
  const atol = options.atol ?? GRADCHECK_DEFAULTS.atol;
  const rtol = options.rtol ?? GRADCHECK_DEFAULTS.rtol;
  const point = inputs.map((x) => (typeof x === "number" ? [x] : [...x]));
  const isArray = inputs.map((x) => typeof x !== "number");
  const names = options.names ?? inputs.map((_, i) => `arg${i}`);
  const nameOf = (a: number, k: number) => (isArray[a] ? `${names[a]}[${k}]` : names[a]);
  let evaluations = 0;
  const mutations: InputMutation[] = [];
  const noteMutations = (leaves: Value[][], at: number[][], grads: boolean) => {
    if (mutations.length > 0) return; // the first evaluation that writes says it; every later one would too
    leaves.forEach((vs, a) =>
      vs.forEach((v, k) => {
        if (!Object.is(v.data, at[a][k])) mutations.push({ input: nameOf(a, k), field: "data" });
        else if (grads && v.grad !== 0) mutations.push({ input: nameOf(a, k), field: "grad" });
      }),
    );
  };

  /** Runs f on the point; `kinks()` reads the graph's relu pattern only when a check needs it. */
  const evaluate = (at: number[][], withGrads: boolean) => {
    evaluations++;
    const leaves = at.map((xs) => xs.map((x) => new Value(x)));
    const args: Argument[] = leaves.map((vs, i) => (isArray[i] ? vs : vs[0]));
    const out = f(...(args as Args));
    noteMutations(leaves, at, true);
    if (withGrads) {
      for (const v of topologicalOrder(out)) v.grad = 0;
      out.backward();
    }
    return { output: out.data, leaves, kinks: () => kinkPattern(topologicalOrder(out)) };
  };

  const base = evaluate(point, true);
  const analytic = base.leaves.map((vs) => vs.map((v) => v.grad));
  const finish = (result: GradcheckResult): GradcheckResult => {
    if (mutations.length > 0) {
      result.mutations = mutations;
      result.ok = false;
    }
    return result;
  };

  const moved = (a: number, k: number, delta: number) => point.map((ys, b) => (b === a ? ys.map((y, j) => (j === k ? y + delta : y)) : ys));
  /** The central difference along input (a, k) with step h, and the two evaluations. */
  const difference = (a: number, k: number, h: number) => {
    const plus = evaluate(moved(a, k, h), false);
    const minus = evaluate(moved(a, k, -h), false);
    return { numeric: (plus.output - minus.output) / (2 * h), plus, minus };
  };
  let swept = 0;

  const checkInput = (a: number, k: number): InputCheck => {
    const { numeric, plus, minus } = difference(a, k, eps);
    const g = analytic[a][k];
    const name = nameOf(a, k);
    const noise = (ROUNDING * Math.max(Math.abs(plus.output), Math.abs(minus.output), Math.abs(base.output))) / eps;
    const check: InputCheck = { name, argument: a, element: k, ...compare(g, numeric, { atol, rtol, noise }), verdict: "ok" };
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
      const scale = Math.max(Math.abs(plus.output), Math.abs(minus.output), Math.abs(base.output));
      if (swept++ < MAX_SWEPT) sweepInput(check, (h) => difference(a, k, h).numeric, (n, h) => compare(g, n, { atol, rtol, noise: (ROUNDING * scale) / h }).ok);
    } else if (check.undecided) {
      check.note = `|gradient| is below the rounding noise of the difference (${noise.toPrecision(2)}): the check cannot tell`;
    } else if (check.weak) {
      check.note = `|gradient| is small next to atol = ${atol}: judged by relative error (${check.relError.toPrecision(2)}) instead`;
    }
    return check;
  };

  const summary = (checks: InputCheck[], mode: GradcheckResult["mode"], extra: Partial<GradcheckResult> = {}): GradcheckResult =>
    finish({
      ok: checks.every((c) => c.ok),
      output: base.output,
      inputs: checks,
      maxRelError: checks.reduce((m, c) => (Number.isFinite(c.relError) ? Math.max(m, c.relError) : m), 0),
      mode,
      evaluations,
      ...extra,
    });

  if (options.fast) {
    const random = mulberry32(options.seed ?? 0);
    const direction = point.map((xs) => xs.map(() => (random() < 0.5 ? -1 : 1) * (0.5 + random())));
    /** Does the directional derivative along `direction` restricted to `within` agree? */
    const agreesAlong = (within: (a: number, k: number) => boolean) => {
      const shifted = (sign: number) => point.map((xs, a) => xs.map((x, k) => (within(a, k) ? x + sign * eps * direction[a][k] : x)));
      const numeric = (evaluate(shifted(1), false).output - evaluate(shifted(-1), false).output) / (2 * eps);
      let directional = 0;
      direction.forEach((ds, a) => ds.forEach((d, k) => within(a, k) && (directional += d * analytic[a][k])));
      const ok = Number.isFinite(directional) && Number.isFinite(numeric) && Math.abs(directional - numeric) <= atol + rtol * Math.abs(numeric);
      return { ok, analytic: directional, numeric };
    };
    const whole = agreesAlong(() => true);
    if (whole.ok) {
      return finish({ ok: true, output: base.output, inputs: [], maxRelError: relativeError(whole.analytic, whole.numeric), mode: "fast", evaluations, direction: { analytic: whole.analytic, numeric: whole.numeric } });
    }
    // Bisect the flattened inputs: a half whose direction disagrees holds a wrong input. A few
    // evaluations per wrong input instead of two per input (10,000 inputs: ~60 instead of 20,000).
    const flat: [number, number][] = [];
    const offsets: number[] = [];
    point.forEach((xs, a) => {
      offsets.push(flat.length);
      xs.forEach((_, k) => flat.push([a, k]));
    });
    const { found: indices, truncated } = bisect(flat.length, (lo, hi) => agreesAlong((a, k) => offsets[a] + k >= lo && offsets[a] + k < hi).ok);
    const found = indices.map((i) => flat[i]);
    const checks = found.map(([a, k]) => checkInput(a, k));
    if (checks.every((c) => c.ok)) {
      // The whole direction disagreed but no single input does: say so rather than pass silently.
      checks.push({ name: names.join(", "), ...compare(whole.analytic, whole.numeric, { atol, rtol, noise: 0 }), ok: false, verdict: "mismatch", note: `the derivative along a random direction disagrees (backprop ${whole.analytic}, numeric ${whole.numeric}), but no single input could be named` });
    }
    return summary(checks, "fast", { direction: { analytic: whole.analytic, numeric: whole.numeric }, ...(truncated ? { truncated } : {}) });
  }

  const checks: InputCheck[] = [];
  point.forEach((xs, a) => xs.forEach((_, k) => checks.push(checkInput(a, k))));
  return summary(checks, "full");
}

/**
 * Backprop against a numeric derivative: |analytic − numeric| ≤ atol + rtol·|numeric|. Where the
 * gradient is below atol (or only atol lets the error pass) the absolute term would pass anything,
 * so the input is "weak" and judged by relative error — unless both are within rounding noise.
 */
export function compare(analytic: number, numeric: number, tolerances: { atol: number; rtol: number; noise: number }): Pick<InputCheck, "analytic" | "numeric" | "absError" | "relError" | "ok" | "tolerance" | "decidedBy" | "weak" | "undecided"> {
  const { atol, rtol, noise } = tolerances;
  const absError = Math.abs(analytic - numeric);
  const relative = rtol * Math.abs(numeric);
  const tolerance = atol + relative;
  const out = { analytic, numeric, absError, relError: relativeError(analytic, numeric), ok: absError <= tolerance, tolerance, decidedBy: (atol >= relative ? "atol" : "rtol") as "atol" | "rtol", weak: false };
  if (!Number.isFinite(absError)) return out;
  const small = Math.max(Math.abs(analytic), Math.abs(numeric)) < atol;
  if (small || (out.ok && absError > relative + noise)) {
    out.weak = true;
    if (Math.max(Math.abs(analytic), Math.abs(numeric)) <= noise) return { ...out, ok: true, undecided: true };
    out.ok = absError <= relative + noise;
  }
  return out;
}

/**
 * The numeric derivative at step sizes 1e-2 … 1e-8. A wrong gradient stays wrong at every step; a
 * right one that the default step measured badly (rounding at tiny steps, curvature at big ones)
 * agrees somewhere in between: the error shrinks, then grows.
 */
export function sweepInput(check: InputCheck, numericAt: (h: number) => number, agrees: (numeric: number, h: number) => boolean): void {
  check.sweep = SWEEP_STEPS.map((h) => {
    const numeric = numericAt(h);
    return { eps: h, numeric, absError: Math.abs(check.analytic - numeric) };
  });
  const agreeing = check.sweep.filter((s) => Number.isFinite(s.numeric) && agrees(s.numeric, s.eps));
  if (agreeing.length === 0) {
    check.sweepVerdict = "wrong-gradient";
    const best = Math.min(...check.sweep.map((s) => s.absError));
    check.note = `backprop says ${check.analytic}, numerical differentiation says ${check.numeric}; at every step from 1e-2 to 1e-8 the error stays (at least ${best.toPrecision(2)}): the gradient is wrong`;
    return;
  }
  const best = agreeing.reduce((b, s) => (s.absError < b.absError ? s : b));
  check.sweepVerdict = "poor-difference";
  check.ok = true;
  check.verdict = "ok";
  check.note = `a poor finite difference, not a wrong gradient: at step ${best.eps} numerical differentiation gives ${best.numeric}, which agrees (the error shrinks, then grows)`;
}

/**
 * The indices in [0, count) where a check fails, found by halving: a range whose check (`agrees`)
 * fails is split until single indices remain. A few checks per failing index instead of one per
 * index; at most `max` are named (`truncated` then says more failed).
 */
export function bisect(count: number, agrees: (from: number, to: number) => boolean, max = MAX_LOCATED): { found: number[]; truncated: boolean } {
  const found: number[] = [];
  let truncated = false;
  const locate = (from: number, to: number): void => {
    if (found.length >= max) {
      truncated = true;
      return;
    }
    if (to - from === 1) {
      found.push(from);
      return;
    }
    const middle = (from + to) >> 1;
    for (const [lo, hi] of [[from, middle], [middle, to]]) if (!agrees(lo, hi)) locate(lo, hi);
  };
  if (count > 0) locate(0, count);
  return { found, truncated };
}

/** |a − n| / |n|, or the absolute error where the numeric value is 0. */
export function relativeError(analytic: number, numeric: number): number {
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
