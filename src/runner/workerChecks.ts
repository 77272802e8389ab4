/** Gradient checks of the registered top-level functions, inside the worker. */
import { Value, gradcheck, mulberry32, type GradcheckInput } from "../engine";
import type { CheckRequest, WorkerError, WorkerOutput } from "./protocol";
import type { InputCheckResult } from "../protocol/result";
import * as l10n from "@vscode/l10n";

/** Length of an array parameter when no `@gradcheck` tag gives its values. */
export const DEFAULT_ARRAY_LENGTH = 3;

type CheckOutput = NonNullable<WorkerOutput["checks"]>[number];

export function runChecks(
  requests: readonly CheckRequest[],
  registered: ReadonlyMap<string, unknown>,
  options: { eps?: number; atol?: number; rtol?: number; seed?: number },
  errorOf: (thrown: unknown) => WorkerError,
): CheckOutput[] {
  return requests.map((request) => {
    const { point, pointSource, note } = pointFor(request, options.seed ?? 0);
    const result: CheckOutput = { name: request.name, point, pointSource, ok: false, maxRelError: 0, inputs: [] };
    if (note) result.note = note;
    const fn = registered.get(request.name);
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
      const check = gradcheck(checked, inputs, { eps: options.eps, atol: options.atol, rtol: options.rtol, names: request.params.map((p) => p.name) });
      result.ok = check.ok;
      result.output = check.output;
      result.maxRelError = check.maxRelError;
      result.inputs = check.inputs.map((c): InputCheckResult => {
        const input: InputCheckResult = { name: c.name, analytic: c.analytic, numeric: c.numeric, absError: c.absError, relError: c.relError, ok: c.ok, verdict: c.verdict };
        if (c.note) input.note = c.note;
        return input;
      });
    } catch (thrown) {
      result.error = errorOf(thrown);
    }
    return result;
  });
}

/** The tag's values where given, else seeded random values in [−2, 2] (the same every run). */
export function pointFor(request: CheckRequest, seed: number): { point: Record<string, number | number[]>; pointSource: "@gradcheck" | "random"; note?: string } {
  const random = mulberry32((seed ^ hashName(request.name)) >>> 0);
  const draw = () => Math.round((random() * 4 - 2) * 1000) / 1000;
  const point: Record<string, number | number[]> = {};
  const defaulted: string[] = [];
  let fromTag = 0;
  for (const p of request.params) {
    const tagged = request.point?.[p.name];
    if (tagged !== undefined && (p.kind === "array") === Array.isArray(tagged)) {
      point[p.name] = tagged;
      fromTag++;
    } else if (p.kind === "array") {
      point[p.name] = Array.from({ length: DEFAULT_ARRAY_LENGTH }, draw);
      defaulted.push(p.name);
    } else {
      point[p.name] = draw();
    }
  }
  const note = defaulted.length > 0
    ? l10n.t("{0}: random arrays of length {1}; give values with /** @gradcheck {2}=[…] */", defaulted.join(", "), DEFAULT_ARRAY_LENGTH, defaulted[0])
    : undefined;
  return { point, pointSource: fromTag > 0 && fromTag === request.params.length ? "@gradcheck" : "random", note };
}

function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}
