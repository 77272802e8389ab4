/** The caller's side of a TypeScript training run: what the worker is asked, and its answer mapped to positions. */
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { unpackLabels } from "../labelTransfer";
import type { TrainingRunOptions } from "./options";
import { deserialize } from "node:v8";
import { loopBoundOfTypeScript } from "./loopBound";
import { parseWorkerStepGraph } from "./validate";
import { isCallFrames, isPackedLabels, isSnapshot } from "../protocol";
import type { WorkerStepGraph, WorkerTrainingInput, WorkerTrainingOutput, WorkerTrainingProgress } from "./workerTraining";
import type { RootGraph, SourcePosition, SourceSite } from "../../protocol/result";
import type { StepGraph, TrainingProgress, TrainingResult } from "../../protocol/training";

/** How often the caller's Stop flag is looked at. */
const STOP_POLL_MS = 50;

export function trainingInput(options: TrainingRunOptions, sites: readonly SourceSite[], file: string): WorkerTrainingInput {
  const bound = loopBoundOf(file);
  const totalSteps = bound !== undefined && options.maxSteps !== undefined ? Math.min(bound, options.maxSteps) : (bound ?? options.maxSteps);
  return {
    stopPath: path.join(tmpdir(), `gradlens-stop-${randomBytes(9).toString("hex")}`),
    ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}),
    ...(totalSteps !== undefined ? { totalSteps } : {}),
    ...(options.maxKeptSteps !== undefined ? { maxKeptSteps: options.maxKeptSteps } : {}),
    siteLabels: sites.map((s) => (s.file ? `${path.basename(s.file)}:${s.line}` : "?")),
  };
}

function loopBoundOf(file: string): number | undefined {
  try {
    return loopBoundOfTypeScript(readFileSync(file, "utf8"));
  } catch {
    return undefined; // unreadable here: the run reports it
  }
}

/** The worker's batches as the caller's options want them: graphs with source positions. */
export function trainingListener(options: TrainingRunOptions, sites: readonly SourceSite[]): (progress: WorkerTrainingProgress) => void {
  const position = sitePositions(sites);
  return (progress) => {
    const { graphFiles, ...rest } = progress;
    const out: TrainingProgress = rest;
    if (graphFiles) {
      out.graphs = graphFiles.flatMap(({ file }) => {
        const graph = readGraphFile(file);
        return graph ? [stepGraph(graph, position)] : [];
      });
      out.sites = sites.slice();
    }
    options.onProgress?.(out);
  };
}

/** A graph file the worker wrote (then removed): read, checked, or undefined. */
function readGraphFile(file: string): WorkerStepGraph | undefined {
  try {
    return parseWorkerStepGraph(deserialize(readFileSync(file)), (graph, labels) => isSnapshot(graph) && isPackedLabels(labels));
  } catch {
    return undefined; // gone or unreadable: the graph still comes with the run's result
  } finally {
    rmSync(file, { force: true });
  }
}

function sitePositions(sites: readonly SourceSite[]): (id: number) => SourcePosition | undefined {
  return (id) => {
    const site = id > 0 ? sites[id] : undefined;
    return site ? { file: site.file, line: site.line, column: site.column } : undefined;
  };
}

function stepGraph(g: WorkerStepGraph, sitePosition: (id: number) => SourcePosition | undefined): StepGraph {
  const graph = { ...g.graph, labels: unpackLabels(g.labels) };
  const position = sitePosition(g.siteId);
  const root: RootGraph = { name: g.name, reason: "backward", graph, ...(position ? { position } : {}) };
  // Call stacks that do not fit the graph are dropped (the view then groups by expression).
  if (g.frames && isCallFrames(g.frames, graph.nodeCount)) root.frames = g.frames;
  return { step: g.step, paths: g.paths, root };
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
    // Graph files of a run that ended before its last messages were read.
    const prefix = `${path.basename(input.stopPath)}.graph-`;
    try {
      for (const name of readdirSync(path.dirname(input.stopPath))) if (name.startsWith(prefix)) rmSync(path.join(path.dirname(input.stopPath), name), { force: true });
    } catch {
      // The folder is gone: nothing is left in it.
    }
  };
}

export function trainingResult(output: WorkerTrainingOutput, sitePosition: (id: number) => SourcePosition | undefined): TrainingResult {
  const result: TrainingResult = {
    steps: output.steps,
    groups: output.groups,
    graphs: output.graphs.map((g) => stepGraph(g, sitePosition)),
  };
  if (output.stoppedAfter !== undefined) result.stoppedAfter = output.stoppedAfter;
  if (output.totalSteps !== undefined) result.totalSteps = output.totalSteps;
  if (output.thinned) result.thinned = output.thinned;
  return result;
}
