/**
 * Step records read from another process (the Python tracer's JSON lines, a webview's state) are
 * checked field by field: a record that does not have the shape is dropped, never trusted.
 * JSON carries NaN and infinities as strings ("NaN", "Infinity"), turned back into numbers here.
 */
import type { GroupStep, StepRecord, TrainingProgress } from "../../protocol/training";

function numberOf(x: unknown): number | undefined {
  if (typeof x === "number") return x;
  if (x === "NaN") return NaN;
  if (x === "Infinity") return Infinity;
  if (x === "-Infinity") return -Infinity;
  return undefined;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

export function parseStepRecord(x: unknown): StepRecord | undefined {
  if (!isRecord(x)) return undefined;
  const step = x.step;
  const loss = numberOf(x.loss);
  const gradNorm = numberOf(x.gradNorm);
  const timeMs = numberOf(x.timeMs) ?? 0;
  if (typeof step !== "number" || !Number.isInteger(step) || step < 1 || loss === undefined || gradNorm === undefined || !isRecord(x.groups)) return undefined;
  const groups: Record<string, GroupStep> = {};
  for (const [name, g] of Object.entries(x.groups)) {
    if (!isRecord(g)) return undefined;
    const norm = numberOf(g.gradNorm);
    const ratio = numberOf(g.updateRatio);
    if (norm === undefined || ratio === undefined) return undefined;
    groups[name] = { gradNorm: norm, updateRatio: ratio };
  }
  const dead = x.deadReluFraction === null || x.deadReluFraction === undefined ? null : numberOf(x.deadReluFraction);
  if (dead === undefined) return undefined;
  return { step, loss, gradNorm, groups, deadReluFraction: dead, nonFinite: x.nonFinite === true, timeMs };
}

export function parseTrainingProgress(x: unknown): TrainingProgress | undefined {
  if (!isRecord(x) || !Array.isArray(x.steps) || !Array.isArray(x.newGroups)) return undefined;
  const steps = x.steps.map(parseStepRecord);
  if (steps.some((s) => s === undefined)) return undefined;
  return { steps: steps as StepRecord[], newGroups: x.newGroups.map(String) };
}
