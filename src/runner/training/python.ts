/**
 * The caller's side of a Python training run: the tracer appends step records to a JSON-lines
 * file (python/gradlens_training.py), read here a few times a second and handed on as they come;
 * Stop is a file the tracer looks for at each backward(). Records are validated when read.
 */
import { open, writeFile, type FileHandle } from "node:fs/promises";
import * as path from "node:path";
import { type TracerGraph } from "../python/result";
import { decodeSnapshot } from "../python/snapshotColumns";
import { renumberFrames, renumberKeys } from "../python/graphOrder";
import type { GraphSnapshot } from "../../engine/snapshot";
import type { TrainingRunOptions } from "./options";
import type { CallFrames, RootGraph, SourcePosition, SourceSite } from "../../protocol/result";
import { framesFromTracer, type TracerFrames } from "../python/tracerFrames";
import type { StepGraph, StepRecord, TrainingProgress, TrainingResult } from "../../protocol/training";
import { parseTrainingProgress, parseStepRecord } from "./validate";
import { StepLog } from "../../protocol/stepLog";
import { isRecord } from "../../protocol/guards";

const POLL_MS = 100;

/** What the tracer's request carries for a training run. */
export interface PythonTrainingSpec {
  progressPath: string;
  stopPath: string;
  maxSteps?: number;
  maxKeptSteps?: number;
}

/** The tracer's end-of-run summary (python/gradlens_training.py `finish`). */
export interface TracerTraining {
  steps: unknown[];
  groups: string[];
  /** Graphs as the tracer wrote them, or decoded already (python/tracerResult.ts). */
  graphs: { step: number; name: string; site: number; graph: TracerGraph | GraphSnapshot; paths: Record<string, string> }[];
  stoppedAfter?: number;
  totalSteps?: number;
  thinned?: unknown;
}

export class PythonTrainingSession {
  readonly spec: PythonTrainingSpec;
  /** Every record streamed so far, bounded as the tracer bounds them (what a run that never finished still shows). */
  private readonly log: StepLog;
  readonly groups: string[] = [];
  private offset = 0;
  private partial = "";
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();
  private stopWritten = false;

  constructor(directory: string, private readonly options: TrainingRunOptions) {
    this.spec = {
      progressPath: path.join(directory, "training.jsonl"),
      stopPath: path.join(directory, "stop"),
      ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}),
      ...(options.maxKeptSteps !== undefined ? { maxKeptSteps: options.maxKeptSteps } : {}),
    };
    this.log = new StepLog(options.maxKeptSteps);
  }

  start(): void {
    this.timer = setInterval(() => {
      this.reading = this.reading.then(() => this.poll());
    }, POLL_MS);
  }

  /** Reads what is left; call after the tracer has exited. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.reading;
    await this.poll();
  }

  private async poll(): Promise<void> {
    const flag = this.options.stopFlag;
    if (flag && !this.stopWritten && Atomics.load(new Int32Array(flag), 0) !== 0) {
      this.stopWritten = true;
      await writeFile(this.spec.stopPath, "stop").catch(() => undefined);
    }
    let handle: FileHandle | undefined;
    try {
      handle = await open(this.spec.progressPath, "r");
      const { size } = await handle.stat();
      if (size <= this.offset) return;
      const buffer = Buffer.alloc(size - this.offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
      this.offset += bytesRead;
      const text = this.partial + buffer.subarray(0, bytesRead).toString("utf8");
      const lines = text.split("\n");
      this.partial = lines.pop() ?? "";
      for (const line of lines) {
        if (line.trim() === "") continue;
        const raw = safeJson(line);
        const progress = parseTrainingProgress(raw);
        if (!progress) continue;
        this.liveGraphs(progress, raw);
        this.log.addBatch(progress.steps, progress.stride, progress.final);
        this.groups.push(...progress.newGroups);
        this.options.onProgress?.(progress);
      }
    } catch {
      // Not written yet (no backward() so far).
    } finally {
      await handle?.close();
    }
  }

  /** A line's kept graphs (with the tracer's sites so far), made into the caller's form; a graph that does not read is left out. */
  private liveGraphs(progress: TrainingProgress, raw: unknown): void {
    if (!isRecord(raw) || !Array.isArray(raw.graphs) || !Array.isArray(raw.sites)) return;
    const sites = raw.sites.filter(isSite);
    const graphs: StepGraph[] = [];
    for (const g of raw.graphs as unknown[]) {
      try {
        if (isRecord(g) && typeof g.step === "number" && Number.isInteger(g.step) && typeof g.name === "string" && typeof g.site === "number" && isRecord(g.graph)) {
          graphs.push(stepGraphOf(g as unknown as TracerTraining["graphs"][number], sites));
        }
      } catch {
        // A graph that does not read (decodeSnapshot checks its columns): the step is still recorded.
      }
    }
    if (graphs.length === 0) return;
    progress.graphs = graphs;
    progress.sites = sites;
  }

  /** The run's training result: the tracer's summary when it wrote one, else what was streamed. */
  result(summary: TracerTraining | undefined, sites: readonly SourceSite[]): TrainingResult {
    if (!summary) return { steps: this.log.records, groups: this.groups, graphs: [], ...(this.log.stride > 1 ? { thinned: { every: this.log.stride, steps: this.log.lastStepNumber } } : {}) };
    const steps = summary.steps.map(parseStepRecord).filter((s): s is StepRecord => s !== undefined);
    const out: TrainingResult = {
      steps,
      groups: Array.isArray(summary.groups) ? summary.groups.map(String) : this.groups,
      graphs: (summary.graphs ?? []).map((g) => stepGraphOf(g, sites)),
    };
    if (typeof summary.stoppedAfter === "number") out.stoppedAfter = summary.stoppedAfter;
    if (typeof summary.totalSteps === "number") out.totalSteps = summary.totalSteps;
    const thinned = summary.thinned;
    if (isRecord(thinned) && typeof thinned.every === "number" && typeof thinned.steps === "number") out.thinned = { every: thinned.every, steps: thinned.steps };
    return out;
  }
}

function stepGraphOf(g: TracerTraining["graphs"][number], sites: readonly SourceSite[]): StepGraph {
  const site = g.site > 0 ? sites[g.site] : undefined;
  const where: SourcePosition | undefined = site ? { file: site.file, line: site.line, column: site.column } : undefined;
  // In topological order: a streamed graph may come renumbered (graphOrder.ts), and its node ids with it.
  const { graph, unknownLocalGrad: unknown, renumbering } = decodeSnapshot(g.graph);
  const paths: Record<number, string> = {};
  for (const [id, p] of Object.entries(renumbering ? renumberKeys(g.paths ?? {}, renumbering) : (g.paths ?? {}))) paths[Number(id)] = String(p);
  const root: RootGraph = { name: g.name, reason: "backward", graph, ...(where ? { position: where } : {}) };
  // A kept step's call stacks and unknown local gradients, as a plain run's root has them: decoded
  // already in the run's summary (tracerResult.ts), raw in a streamed line (malformed ones are dropped).
  const extra = g.graph as { frames?: TracerFrames | CallFrames };
  const frames = extra.frames && extra.frames.parent instanceof Int32Array ? (extra.frames as CallFrames) : framesFromTracer(extra.frames as TracerFrames | undefined, graph.nodeCount, sites.length);
  if (frames) root.frames = renumbering ? renumberFrames(frames, renumbering) : frames;
  if (unknown.length > 0) root.unknownLocalGrad = unknown;
  return { step: g.step, paths, root };
}

const isSite = (x: unknown): x is SourceSite =>
  isRecord(x) && typeof x.id === "number" && typeof x.file === "string" && typeof x.line === "number" && typeof x.column === "number" && typeof x.text === "string";

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export type { TrainingProgress };
