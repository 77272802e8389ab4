/** The `gradlens check` outputs: JSON for CI, and a table for people. */
import { toJsonNumber, type JsonNumber } from "../engine/snapshot";
import type { FunctionCheckResult, OpCheckResult } from "../protocol/result";
import { checkPassed, culpritOp, inputVerdictText, mutationMessage, opMessage, worstInput, type VerdictWords } from "../protocol/checkVerdict";
import { formatNumber, table } from "./graphOutput";

export { checkPassed };

const cliWords: VerdictWords = { number: formatNumber };

export interface OpJson {
  op: string;
  line: number;
  ok: boolean;
  /** The worst instance's inputs and local gradients (empty when the op could not be checked). */
  inputs: JsonNumber[];
  analytic: JsonNumber[];
  numeric: JsonNumber[];
  /** Why the op could not be checked. */
  note?: string;
}

export interface CheckJson {
  ok: boolean;
  functions: {
    name: string;
    ok: boolean;
    line: number;
    point: Record<string, number | number[]>;
    error?: string;
    inputs: { name: string; analytic: JsonNumber; numeric: JsonNumber; ok: boolean; verdict: string; note?: string; weak: boolean }[];
    ops: OpJson[];
  }[];
}

export function opJson(op: OpCheckResult): OpJson {
  const numbers = (xs: readonly number[] | undefined) => (xs ?? []).map(toJsonNumber);
  return {
    op: op.op,
    line: op.position?.line ?? 0,
    ok: op.ok,
    inputs: numbers(op.worst?.inputs),
    analytic: numbers(op.worst?.analytic),
    numeric: numbers(op.worst?.numeric),
    ...(op.unchecked && !op.worst ? { note: op.unchecked } : {}),
  };
}

export function checkJson(checks: readonly FunctionCheckResult[]): CheckJson {
  return {
    ok: checks.every(checkPassed),
    functions: checks.map((c) => ({
      name: c.name,
      ok: checkPassed(c),
      line: c.range.line,
      point: c.point,
      ...(c.error ? { error: c.error.message } : {}),
      inputs: c.inputs.map((i) => ({
        name: i.name,
        analytic: toJsonNumber(i.analytic),
        numeric: toJsonNumber(i.numeric),
        ok: i.ok,
        verdict: i.verdict,
        ...(i.note ? { note: i.note } : {}),
        weak: i.weak === true,
      })),
      ops: (c.ops ?? []).map(opJson),
    })),
  };
}

export function checkTable(checks: readonly FunctionCheckResult[]): string {
  if (checks.length === 0) return "no checkable functions (top-level functions whose parameters are all Value or Value[])";
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const c of checks) {
    const mark = checkPassed(c) ? "ok" : "FAIL";
    if (c.error) {
      rows.push([c.name, "", "", "", "", mark]);
      notes.push(`${c.name} (line ${c.range.line}): ${c.error.message}${c.error.position ? ` at line ${c.error.position.line}` : ""}`);
      continue;
    }
    c.inputs.forEach((i, k) => rows.push([k === 0 ? c.name : "", i.name, formatNumber(i.analytic), formatNumber(i.numeric), i.verdict, k === 0 ? mark : ""]));
    if (c.inputs.length === 0) rows.push([c.name, "", "", "", c.mode === "fast" ? "ok (random directions)" : "", mark]);
    // Under a failing function: the op that is wrong, with its line.
    const culprit = checkPassed(c) ? undefined : culpritOp(c);
    if (culprit?.worst) {
      const at = worstInput(culprit.worst);
      rows.push(["", `op ${culprit.op} (line ${culprit.position?.line ?? "?"})`, formatNumber(culprit.worst.analytic[at]), formatNumber(culprit.worst.numeric[at]), "wrong op", ""]);
      notes.push(`${c.name}: ${opMessage(culprit, cliWords)}`);
    }
    const mutation = mutationMessage(c, cliWords);
    if (mutation) notes.push(`${c.name}: ${mutation}`);
    for (const i of c.inputs) if (i.note && i.verdict !== "ok") notes.push(`${c.name}: ${i.note}`);
    for (const i of c.inputs) if (i.verdict === "ok" && (i.weak || i.sweepVerdict)) notes.push(`${c.name}: ${i.name}: ${inputVerdictText(i, cliWords)}`);
    if (c.note) notes.push(`${c.name}: ${c.note}`);
    if (c.pointSource === "random") notes.push(`${c.name}: at ${pointText(c.point)}`);
  }
  const passed = checks.filter(checkPassed).length;
  const summary = `${passed} of ${checks.length} function${checks.length === 1 ? "" : "s"} passed`;
  return [table(["function", "input", "analytic", "numeric", "verdict", "result"], rows), "", ...notes.map((n) => `note: ${n}`), summary].join("\n");
}

function pointText(point: FunctionCheckResult["point"]): string {
  return Object.entries(point)
    .map(([name, value]) => `${name} = ${Array.isArray(value) ? `[${value.map(formatNumber).join(", ")}]` : formatNumber(value)}`)
    .join(", ");
}
