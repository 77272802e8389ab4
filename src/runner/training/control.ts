/**
 * One training run as its caller sees it, whatever the language: the step records as they stream
 * in (kept even when the run is stopped hard), Stop (ask the program to end at its next
 * backward(); end it for good after a grace period), and the time limit, which stops the same way.
 */
import type { RunResult } from "../../protocol/result";
import type { StepRecord, TrainingProgress, TrainingResult } from "../../protocol/training";
import type { TrainingRunOptions } from "./options";

/** Training runs get an hour by default (the Train command's setting, `gradlens train --timeout`). */
export const DEFAULT_TRAINING_TIME_LIMIT_MS = 3_600_000;
/** After Stop, how long the program has to reach its next backward() before it is ended. */
export const STOP_GRACE_MS = 5_000;

export class TrainingControl {
  readonly steps: StepRecord[] = [];
  readonly groups: string[] = [];
  private readonly stopFlag = new SharedArrayBuffer(4);
  private readonly abort = new AbortController();
  private graceTimer: NodeJS.Timeout | undefined;
  private limitTimer: NodeJS.Timeout | undefined;
  private stopReason: "stop" | "time-limit" | undefined;

  constructor(private readonly onProgress?: (progress: TrainingProgress, control: TrainingControl) => void) {}

  /** Options for runFile / runPython; `timeLimitMs` is the training limit (a graceful stop), the hard one comes after the grace. */
  runOptions(timeLimitMs: number, maxSteps?: number): { training: TrainingRunOptions; timeLimitMs: number; signal: AbortSignal } {
    this.limitTimer = setTimeout(() => this.stop("time-limit"), timeLimitMs);
    return {
      training: {
        stopFlag: this.stopFlag,
        ...(maxSteps !== undefined ? { maxSteps } : {}),
        onProgress: (progress) => {
          this.steps.push(...progress.steps);
          this.groups.push(...progress.newGroups);
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
    this.graceTimer = setTimeout(() => this.abort.abort(), STOP_GRACE_MS);
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
    const training = result.training ?? { steps: this.steps, groups: this.groups, graphs: [] };
    // Steps that streamed but are missing from a result (a run ended hard) are kept.
    if (training.steps.length < this.steps.length) training.steps = this.steps;
    if (this.stopReason && training.stoppedAfter === undefined) training.stoppedAfter = training.steps.length;
    result.training = training;
    return training;
  }
}
