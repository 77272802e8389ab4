/** The `gradlens check` outputs: JSON for CI, and a table for people. */
import { toJsonNumber, type JsonNumber } from "../engine/snapshot";
import type { FunctionCheckResult } from "../protocol/result";
import { formatNumber, table } from "./graphOutput";

export interface CheckJson {
  ok: boolean;
  functions: {
    name: string;
    ok: boolean;
    line: number;
    point: Record<string, number | number[]>;
    error?: string;
    inputs: { name: string; analytic: JsonNumber; numeric: JsonNumber; ok: boolean; verdict: string; note?: string }[];
  }[];
}

/** A check passes when it ran without error and every input agreed. */
export const checkPassed = (c: FunctionCheckResult): boolean => c.ok && c.error === undefined;

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
      })),
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
    for (const i of c.inputs) if (i.note && i.verdict !== "ok") notes.push(`${c.name}: ${i.note}`);
    if (c.note) notes.push(`${c.name}: ${c.note}`);
  }
  const passed = checks.filter(checkPassed).length;
  const summary = `${passed} of ${checks.length} function${checks.length === 1 ? "" : "s"} passed`;
  return [table(["function", "input", "analytic", "numeric", "verdict", "result"], rows), "", ...notes.map((n) => `note: ${n}`), summary].join("\n");
}
