/**
 * One training run as its caller sees it, whatever the language: the step records as they stream
 * in (kept even when the run is stopped hard), Stop (ask the program to end at its next
 * backward(); end it for good after a grace period), and the time limit, which stops the same way.
 */
import type { RunResult } from "../../protocol/result";
import type { SourceSite } from "../../protocol/result";
import { StepLog } from "../../protocol/stepLog";
import type { StepGraph, StepRecord, TrainingProgress, TrainingResult } from "../../protocol/training";
import type { TrainingRunOptions } from "./options";

/** Training runs get an hour by default (the Train command's setting, `gradlens train --timeout`). */
export const DEFAULT_TRAINING_TIME_LIMIT_MS = 3_600_000;
/** After Stop, how long the program has to reach its next backward() before it is ended. */
export const STOP_GRACE_MS = 5_000;

export class TrainingControl {
  /** Every step streamed so far, bounded as the child bounds them. */
  readonly log: StepLog;
  readonly groups: string[] = [];
  /** Graphs kept so far in the run (to open while it goes), and the sites their nodes point at. */
  graphs: StepGraph[] = [];
  sites: SourceSite[] = [];
  totalSteps: number | undefined;
  private readonly stopFlag = new SharedArrayBuffer(4);
  private readonly abort = new AbortController();
  private graceTimer: NodeJS.Timeout | undefined;
  private limitTimer: NodeJS.Timeout | undefined;
  private stopReason: "stop" | "time-limit" | undefined;

  constructor(
    private readonly onProgress?: (progress: TrainingProgress, control: TrainingControl) => void,
    private readonly maxKeptSteps?: number,
  ) {
    this.log = new StepLog(maxKeptSteps);
  }

  get steps(): readonly StepRecord[] {
    return this.log.records;
  }

  /** Options for runFile / runPython; `timeLimitMs` is the training limit (a graceful stop), the hard one comes after the grace. */
  runOptions(timeLimitMs: number, maxSteps?: number): { training: TrainingRunOptions; timeLimitMs: number; signal: AbortSignal } {
    clearTimeout(this.limitTimer);
    // The run itself keeps its caller alive; a caller that never calls finish() must not be kept waiting for the limit.
    this.limitTimer = setTimeout(() => this.stop("time-limit"), timeLimitMs).unref();
    return {
      training: {
        stopFlag: this.stopFlag,
        ...(maxSteps !== undefined ? { maxSteps } : {}),
        ...(this.maxKeptSteps !== undefined ? { maxKeptSteps: this.maxKeptSteps } : {}),
        onProgress: (progress) => {
          this.log.addBatch(progress.steps, progress.stride, progress.final);
          this.groups.push(...progress.newGroups);
          if (progress.totalSteps !== undefined) this.totalSteps = progress.totalSteps;
          if (progress.graphs) {
            const now = new Set(progress.graphSteps ?? []);
            this.graphs = [...this.graphs.filter((g) => now.has(g.step)), ...progress.graphs];
            if (progress.sites) this.sites = progress.sites;
          }
          this.onProgress?.(progress, this);
        },
      },
      timeLimitMs: timeLimitMs + STOP_GRACE_MS,
      signal: this.abort.signal,
    };
  }

  /** Asks the program to end at its next backward(); ends it after the grace period if it does not. */
  stop(reason: "stop" | "time-limit" = "stop"): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    Atomics.store(new Int32Array(this.stopFlag), 0, 1);
    this.graceTimer = setTimeout(() => this.abort.abort(), STOP_GRACE_MS).unref();
  }

  /** Ends the run now (the panel was closed). */
  cancel(): void {
    this.stop();
    this.abort.abort();
  }

  get stopped(): "stop" | "time-limit" | undefined {
    return this.stopReason;
  }

  /** The run's training result: the runner's own when it finished, else every step streamed so far. */
  finish(result: RunResult): TrainingResult {
    clearTimeout(this.limitTimer);
    clearTimeout(this.graceTimer);
    const training = result.training ?? { steps: this.log.records, groups: this.groups, graphs: this.graphs };
    // Steps that streamed but are missing from a result (a run ended hard) are kept, and so are the graphs kept while it ran.
    if (training.steps.length === 0 || training.steps[training.steps.length - 1].step < this.log.lastStepNumber) {
      training.steps = this.log.records;
      if (this.log.stride > 1) training.thinned = { every: this.log.stride, steps: this.log.lastStepNumber };
    }
    if (training.graphs.length === 0) training.graphs = this.graphs;
    if (training.totalSteps === undefined && this.totalSteps !== undefined) training.totalSteps = this.totalSteps;
    if (this.stopReason && training.stoppedAfter === undefined) training.stoppedAfter = training.steps.length;
    result.training = training;
    return training;
  }
}
