/**
 * Messages between the extension and the training view (its own webview panel). Types, and the
 * checks each side runs on what it receives: a message that does not have its shape is ignored.
 */
import type { StepRecord } from "./training";
import { isArrayOf, isNumber, isRecord, isString } from "./guards";

/** Every word the training view shows, in the display language (made by the extension). */
export interface TrainingStrings {
  title: string;
  loss: string;
  lossSmoothed: string;
  gradNorm: string;
  gradNormAll: string;
  updateRatio: string;
  deadRelu: string;
  step: string;
  stop: string;
  running: string;
  stopping: string;
  finished: string;
  stopped: string;
  failed: string;
  /** "{0} steps" (a run that has ended) */
  stepsDone: string;
  /** "{0} steps · {1} steps/s" */
  progress: string;
  /** "about {0} left" */
  eta: string;
  /** "Graphs kept for steps:" */
  graphsKept: string;
  /** "Click a step to open its graph." */
  clickHint: string;
  /** "No graph was kept for step {0}; showing step {1}." */
  nearestGraph: string;
  /** "non-finite" */
  nonFinite: string;
  /** "Waiting for the first backward() …" */
  waiting: string;
  /** "a row per group, the stronger the colour, the larger (log scale)" */
  heatmapNote: string;
  /** The update-ratio heatmap key's mark: "marked: 0.001, the usual ratio of a sane learning rate" */
  healthyRatio: string;
  /** "one step in {0} shown (of {1})" */
  thinned: string;
}

export type TrainingStatus = "running" | "stopping" | "finished" | "stopped" | "failed";

export type TrainingHostMessage =
  /** `elapsedMs`: the run's time so far, so the first status a (re)opened view draws has the real rate. */
  | { type: "init"; strings: TrainingStrings; file: string; groups: string[]; steps: StepRecord[]; graphSteps: number[]; status: TrainingStatus; elapsedMs: number; totalSteps?: number; stride?: number; message?: string }
  /** `stride`: the steps are thinned (src/protocol/stepLog.ts); `graphSteps`: the steps whose graph can be opened now. */
  | { type: "progress"; steps: StepRecord[]; newGroups: string[]; elapsedMs: number; stride?: number; final?: boolean; totalSteps?: number; graphSteps?: number[] }
  | { type: "status"; status: TrainingStatus; graphSteps: number[]; message?: string };

export type TrainingViewMessage = { type: "ready" } | { type: "stop" } | { type: "openStep"; step: number } | { type: "rendered"; steps: number; updates: number; drawMs?: number } | { type: "error"; message: string };

const statuses: readonly string[] = ["running", "stopping", "finished", "stopped", "failed"];
const isStep = (x: unknown): x is StepRecord =>
  isRecord(x) && typeof x.step === "number" && typeof x.loss === "number" && typeof x.gradNorm === "number" && isRecord(x.groups) && typeof x.nonFinite === "boolean";
const isStrings = (x: unknown): x is string[] => isArrayOf(x, isString);
const isNumbers = (x: unknown): x is number[] => isArrayOf(x, isNumber);
const optionalCount = (x: unknown): boolean => x === undefined || (typeof x === "number" && Number.isInteger(x) && x >= 1);

/** What the view accepts from the host. */
export function parseHostMessage(x: unknown): TrainingHostMessage | undefined {
  if (!isRecord(x)) return undefined;
  switch (x.type) {
    case "init":
      return isRecord(x.strings) && typeof x.file === "string" && isStrings(x.groups) && Array.isArray(x.steps) && x.steps.every(isStep) && isNumbers(x.graphSteps) && statuses.includes(String(x.status)) && typeof x.elapsedMs === "number" && optionalCount(x.stride) && optionalCount(x.totalSteps)
        ? (x as TrainingHostMessage)
        : undefined;
    case "progress":
      return Array.isArray(x.steps) && x.steps.every(isStep) && isStrings(x.newGroups) && typeof x.elapsedMs === "number" && optionalCount(x.stride) && optionalCount(x.totalSteps) && (x.graphSteps === undefined || isNumbers(x.graphSteps))
        ? (x as TrainingHostMessage)
        : undefined;
    case "status":
      return statuses.includes(String(x.status)) && isNumbers(x.graphSteps) ? (x as TrainingHostMessage) : undefined;
    default:
      return undefined;
  }
}

/** What the host accepts from the view. */
export function parseViewMessage(x: unknown): TrainingViewMessage | undefined {
  if (!isRecord(x)) return undefined;
  switch (x.type) {
    case "ready":
    case "stop":
      return { type: x.type };
    case "openStep":
      return typeof x.step === "number" && Number.isInteger(x.step) && x.step >= 1 ? { type: "openStep", step: x.step } : undefined;
    case "rendered":
      return typeof x.steps === "number" && typeof x.updates === "number" ? { type: "rendered", steps: x.steps, updates: x.updates } : undefined;
    case "error":
      return typeof x.message === "string" ? { type: "error", message: x.message } : undefined;
    default:
      return undefined;
  }
}
