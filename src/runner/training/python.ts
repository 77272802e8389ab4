/**
 * The caller's side of a Python training run: the tracer appends step records to a JSON-lines
 * file (python/gradlens_training.py), read here a few times a second and handed on as they come;
 * Stop is a file the tracer looks for at each backward(). Records are validated when read.
 */
import { open, writeFile, type FileHandle } from "node:fs/promises";
import * as path from "node:path";
import { toSnapshot, type TracerGraph } from "../python/result";
import type { GraphSnapshot } from "../../engine/snapshot";
import type { TrainingRunOptions } from "./options";
import type { SourcePosition, SourceSite } from "../../protocol/result";
import type { StepRecord, TrainingProgress, TrainingResult } from "../../protocol/training";
import { parseTrainingProgress, parseStepRecord } from "./validate";

const POLL_MS = 100;

/** What the tracer's request carries for a training run. */
export interface PythonTrainingSpec {
  progressPath: string;
  stopPath: string;
  maxSteps?: number;
}

/** The tracer's end-of-run summary (python/gradlens_training.py `finish`). */
export interface TracerTraining {
  steps: unknown[];
  groups: string[];
  /** Graphs as the tracer wrote them, or decoded already (python/tracerResult.ts). */
  graphs: { step: number; name: string; site: number; graph: TracerGraph | GraphSnapshot; paths: Record<string, string> }[];
  stoppedAfter?: number;
}

export class PythonTrainingSession {
  readonly spec: PythonTrainingSpec;
  /** Every record streamed so far (what a run that never finished still shows). */
  readonly steps: StepRecord[] = [];
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
    };
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
        const progress = parseTrainingProgress(safeJson(line));
        if (!progress) continue;
        this.steps.push(...progress.steps);
        this.groups.push(...progress.newGroups);
        this.options.onProgress?.(progress);
      }
    } catch {
      // Not written yet (no backward() so far).
    } finally {
      await handle?.close();
    }
  }

  /** The run's training result: the tracer's summary when it wrote one, else what was streamed. */
  result(summary: TracerTraining | undefined, sites: readonly SourceSite[]): TrainingResult {
    const position = (id: number): SourcePosition | undefined => {
      const site = id > 0 ? sites[id] : undefined;
      return site ? { file: site.file, line: site.line, column: site.column } : undefined;
    };
    if (!summary) return { steps: this.steps, groups: this.groups, graphs: [] };
    const steps = summary.steps.map(parseStepRecord).filter((s): s is StepRecord => s !== undefined);
    const out: TrainingResult = {
      steps,
      groups: Array.isArray(summary.groups) ? summary.groups.map(String) : this.groups,
      graphs: (summary.graphs ?? []).map((g) => {
        const where = position(g.site);
        const paths: Record<number, string> = {};
        for (const [id, p] of Object.entries(g.paths ?? {})) paths[Number(id)] = String(p);
        return { step: g.step, paths, root: { name: g.name, reason: "backward" as const, graph: toSnapshot(g.graph), ...(where ? { position: where } : {}) } };
      }),
    };
    if (typeof summary.stoppedAfter === "number") out.stoppedAfter = summary.stoppedAfter;
    return out;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export type { TrainingProgress };
