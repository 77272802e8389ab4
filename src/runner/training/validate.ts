/**
 * Step records read from another process (the Python tracer's JSON lines, a webview's state) are
 * checked field by field: a record that does not have the shape is dropped, never trusted.
 * JSON carries NaN and infinities as strings ("NaN", "Infinity"), turned back into numbers here.
 */
import type { GroupStep, StepRecord, TrainingProgress } from "../../protocol/training";
import type { WorkerStepGraph, WorkerTrainingProgress } from "./workerTraining";
import { isRecord } from "../../protocol/guards";

function numberOf(x: unknown): number | undefined {
  if (typeof x === "number") return x;
  if (x === "NaN") return NaN;
  if (x === "Infinity") return Infinity;
  if (x === "-Infinity") return -Infinity;
  return undefined;
}


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

const isStepNumber = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 1;

/** A batch's records and its optional stride, loop bound and kept-graph steps; its `graphs` are read by the caller (their form differs by child). */
export function parseTrainingProgress(x: unknown): TrainingProgress | undefined {
  if (!isRecord(x) || !Array.isArray(x.steps) || !Array.isArray(x.newGroups)) return undefined;
  const steps = x.steps.map(parseStepRecord);
  if (steps.some((s) => s === undefined)) return undefined;
  const progress: TrainingProgress = { steps: steps as StepRecord[], newGroups: x.newGroups.map(String) };
  if (isStepNumber(x.stride)) progress.stride = x.stride;
  if (x.final === true) progress.final = true;
  if (isStepNumber(x.totalSteps)) progress.totalSteps = x.totalSteps;
  if (Array.isArray(x.graphSteps) && x.graphSteps.every(isStepNumber)) progress.graphSteps = x.graphSteps;
  return progress;
}

/** The worker's batch: as above, plus the files of the graphs it kept (read and checked by fromWorker.ts). */
export function parseWorkerTrainingProgress(x: unknown): WorkerTrainingProgress | undefined {
  const progress = parseTrainingProgress(x);
  if (!progress || !isRecord(x)) return undefined;
  const { graphs: _graphs, ...rest } = progress;
  const out: WorkerTrainingProgress = rest;
  if (Array.isArray(x.graphFiles)) {
    const files = x.graphFiles.filter((g): g is { step: number; file: string } => isRecord(g) && isStepNumber(g.step) && typeof g.file === "string");
    if (files.length > 0) out.graphFiles = files;
  }
  return out;
}

/** A kept graph the worker wrote to a file, checked by `isGraph` (the runner protocol's snapshot check). */
export function parseWorkerStepGraph(g: unknown, isGraph: (graph: unknown, labels: unknown) => boolean): WorkerStepGraph | undefined {
  return isRecord(g) && isStepNumber(g.step) && typeof g.name === "string" && typeof g.siteId === "number" && isRecord(g.paths) && isGraph(g.graph, g.labels) ? (g as unknown as WorkerStepGraph) : undefined;
}
