/** The caller's side of a TypeScript training run: what the worker is asked, and its answer mapped to positions. */
import * as path from "node:path";
import { unpackLabels } from "../labelTransfer";
import type { TrainingRunOptions } from "../index";
import type { WorkerTrainingInput, WorkerTrainingOutput } from "./workerTraining";
import type { SourcePosition, SourceSite } from "../../protocol/result";
import type { TrainingResult } from "../../protocol/training";

export function trainingInput(options: TrainingRunOptions, sites: readonly SourceSite[]): WorkerTrainingInput {
  return {
    stopFlag: options.stopFlag ?? new SharedArrayBuffer(4),
    ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}),
    siteLabels: sites.map((s) => (s.file ? `${path.basename(s.file)}:${s.line}` : "?")),
  };
}

export function trainingResult(output: WorkerTrainingOutput, sitePosition: (id: number) => SourcePosition | undefined): TrainingResult {
  const result: TrainingResult = {
    steps: output.steps,
    groups: output.groups,
    graphs: output.graphs.map((g) => {
      const graph = { ...g.graph, labels: unpackLabels(g.labels) };
      const position = sitePosition(g.siteId);
      return { step: g.step, paths: g.paths, root: { name: g.name, reason: "backward" as const, graph, ...(position ? { position } : {}) } };
    }),
  };
  if (output.stoppedAfter !== undefined) result.stoppedAfter = output.stoppedAfter;
  return result;
}
