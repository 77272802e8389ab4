/**
 * Gradient checks of Python functions: which functions (found in the source), at which point (chosen as
 * for TypeScript: the @gradcheck values, else seeded random ones), with which tolerances; the tracer runs
 * the code and then each check with the user's own class (python/gradlens_check.py), and its results come
 * back as the same `FunctionCheckResult`s the TypeScript runner gives.
 */
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { GRADCHECK_DEFAULTS } from "../../engine/gradcheck";
import { fromJsonNumber, type JsonNumber } from "../../engine/snapshot";
import { DEFAULT_ARRAY_LENGTH, pointFor } from "../workerChecks";
import * as l10n from "@vscode/l10n";
import type { FunctionCheckResult, InputCheckResult, RunError, RunResult, SourcePosition } from "../../protocol/result";
import { placeOps } from "../opCheckPositions";
import { fromTracerOp, type TracerOpCheck } from "./result";
import { findCheckablePythonFunctions } from "./checkableFunctions";
import { localizeTracerError, type MessageParts } from "./tracerMessages";
import type { PythonRunInput } from "./request";
import { runPython, type PythonRunOptions } from "./index";

/** One check as the tracer is asked for it. */
export interface TracerCheckRequest {
  name: string;
  params: { name: string; kind: "scalar" | "array" }[];
  point: Record<string, number | number[]>;
  pointSource: "@gradcheck" | "random";
  note?: string;
}

/** One check as the tracer reports it (numbers in the graph's JSON form). */
export interface TracerCheck {
  name: string;
  point: Record<string, number | number[]>;
  pointSource: "@gradcheck" | "random";
  ok: boolean;
  output?: JsonNumber;
  maxRelError: JsonNumber;
  inputs: (Omit<InputCheckResult, "analytic" | "numeric" | "absError" | "relError"> & { analytic: JsonNumber; numeric: JsonNumber; absError: JsonNumber; relError: JsonNumber })[];
  error?: RunError & { l10n?: MessageParts };
  note?: string;
  /** The op checks of the function's graph at the point (python/gradlens_opcheck.py). */
  ops?: TracerOpCheck[];
}

/** Runs the Python file (or Markdown block), then checks every checkable function of it (or only `functionName`). */
export async function checkPython(input: PythonRunInput, options: PythonRunOptions & { functionName?: string } = {}): Promise<RunResult> {
  const file = path.resolve(input.file);
  let source: string;
  try {
    source = input.code ?? (await readFile(file, "utf8"));
  } catch {
    source = "";
  }
  const functions = findCheckablePythonFunctions(source, file, input.origin?.line ?? 1).filter((f) => options.functionName === undefined || f.name === options.functionName);
  const seed = options.gradcheck?.seed ?? 0;
  const checks: TracerCheckRequest[] = functions.map((f) => {
    const { point, pointSource } = pointFor({ name: f.name, params: f.params, ...(f.point ? { point: f.point } : {}) }, seed);
    const defaulted = f.params.filter((p) => p.kind === "array" && !Array.isArray(f.point?.[p.name])).map((p) => p.name);
    // The TypeScript note points at a JSDoc tag; Python's tag lives in the docstring.
    const note = defaulted.length > 0
      ? l10n.t("{0}: random lists of length {1}; give values with a \"@gradcheck {2}=[…]\" line in the docstring", defaulted.join(", "), DEFAULT_ARRAY_LENGTH, defaulted[0])
      : undefined;
    return { name: f.name, params: f.params, point, pointSource, ...(note ? { note } : {}) };
  });
  const gradcheck = {
    eps: options.gradcheck?.eps ?? GRADCHECK_DEFAULTS.eps,
    atol: options.gradcheck?.atol ?? GRADCHECK_DEFAULTS.atol,
    rtol: options.gradcheck?.rtol ?? GRADCHECK_DEFAULTS.rtol,
  };
  const result = await runPython(input, { ...options, checkRequest: { checks, gradcheck } });
  const byName = new Map(functions.map((f) => [f.name, f.range]));
  // A run that never reached the checks (a syntax error, a timeout) has none: the run's error says why.
  result.checks = (result.checks ?? []).map((c) => ({ ...c, range: byName.get(c.name) ?? c.range }));
  return result;
}

/** What the tracer is sent in check mode. */
export interface CheckRequestFields {
  checks: TracerCheckRequest[];
  gradcheck: { eps: number; atol: number; rtol: number };
}

export function checkFromTracer(file: string, c: TracerCheck, positionOfSite: (id: number) => SourcePosition | undefined): FunctionCheckResult {
  const out: FunctionCheckResult = {
    name: c.name,
    range: { file, line: 1, column: 1, endLine: 1, endColumn: 1 },
    point: c.point,
    pointSource: c.pointSource,
    ok: c.ok,
    maxRelError: fromJsonNumber(c.maxRelError),
    inputs: c.inputs.map((i) => ({ ...i, analytic: fromJsonNumber(i.analytic), numeric: fromJsonNumber(i.numeric), absError: fromJsonNumber(i.absError), relError: fromJsonNumber(i.relError) })),
  };
  if (c.output !== undefined) out.output = fromJsonNumber(c.output);
  if (c.error) out.error = localizeTracerError(c.error);
  if (c.note) out.note = c.note;
  if (Array.isArray(c.ops)) out.ops = placeOps(c.ops.map(fromTracerOp), positionOfSite);
  return out;
}
