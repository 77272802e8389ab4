/** The caller's side of a TypeScript training run: what the worker is asked, and its answer mapped to positions. */
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { unpackLabels } from "../labelTransfer";
import type { TrainingRunOptions } from "./options";
import type { WorkerTrainingInput, WorkerTrainingOutput } from "./workerTraining";
import type { SourcePosition, SourceSite } from "../../protocol/result";
import type { TrainingResult } from "../../protocol/training";

/** How often the caller's Stop flag is looked at. */
const STOP_POLL_MS = 50;

export function trainingInput(options: TrainingRunOptions, sites: readonly SourceSite[]): WorkerTrainingInput {
  return {
    stopPath: path.join(tmpdir(), `gradlens-stop-${randomBytes(9).toString("hex")}`),
    ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}),
    siteLabels: sites.map((s) => (s.file ? `${path.basename(s.file)}:${s.line}` : "?")),
  };
}

/**
 * The program runs in another process, busy in its own loop: Stop reaches it as a file it looks for
 * at each backward() (as the Python tracer does). Returns the cleanup.
 */
export function watchStopFlag(options: TrainingRunOptions, input: WorkerTrainingInput): () => void {
  const flag = options.stopFlag ? new Int32Array(options.stopFlag) : undefined;
  const timer = flag
    ? setInterval(() => {
        if (Atomics.load(flag, 0) === 0) return;
        clearInterval(timer);
        try {
          writeFileSync(input.stopPath, "stop");
        } catch {
          // No temporary folder: the hard stop after the grace period still ends the run.
        }
      }, STOP_POLL_MS)
    : undefined;
  return () => {
    clearInterval(timer);
    rmSync(input.stopPath, { force: true });
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
