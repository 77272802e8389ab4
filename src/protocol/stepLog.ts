/**
 * The bounded list of a run's step records, one rule for every holder (the worker, the Python
 * tracer's twin in python/gradlens_training.py, the caller, the extension, the training view):
 * every step is kept exactly up to `cap`; past it the stride doubles and only steps 1, 1 + k,
 * 1 + 2k, … stay (so the chart still covers the whole run evenly with at most `cap` points),
 * plus the first non-finite step and the run's last step. Holders downstream of the child add each
 * batch at the stride the child reported with it (`addBatch`), so all of them hold the same records.
 * No imports with side effects: the webview bundles it.
 */
import type { StepRecord } from "./training";

/** Steps kept exactly before thinning starts (a 1,000-step microgpt run is never thinned). */
export const MAX_KEPT_STEPS = 4_000;

export class StepLog {
  records: StepRecord[] = [];
  /** Every `stride`-th step is kept (1: all of them). */
  stride = 1;
  private firstNonFinite: number | undefined;
  private lastStep: number | undefined;

  constructor(private readonly cap = MAX_KEPT_STEPS) {}

  /** Whether a step the child just recorded is kept at the current stride. */
  keeps(record: StepRecord): boolean {
    return (record.step - 1) % this.stride === 0 || (record.nonFinite && this.firstNonFinite === undefined);
  }

  /** Appends a record (the caller decided it is kept); thins when the cap is passed. */
  add(record: StepRecord): void {
    if (record.nonFinite && this.firstNonFinite === undefined) this.firstNonFinite = record.step;
    this.records.push(record);
    if (this.records.length > this.cap) this.thinTo(this.stride * 2);
  }

  /**
   * A batch the child sent, at the stride it had then: records of the batch the child has thinned
   * away since it queued them are dropped here too. `endsRun`: its last record is the run's last step.
   */
  addBatch(records: readonly StepRecord[], stride = 1, endsRun = false): void {
    this.thinTo(stride);
    const last = endsRun ? records.at(-1) : undefined;
    for (const r of records) {
      if (r === last) this.addLast(r);
      else if (this.keeps(r)) this.add(r);
    }
  }

  /** The run's last step is kept whatever its number. */
  addLast(record: StepRecord): void {
    this.lastStep = record.step;
    this.add(record);
  }

  /** Keeps only every `stride`-th step from now on (a larger stride than the current one). */
  thinTo(stride: number): void {
    if (!(stride > this.stride)) return;
    this.stride = stride;
    this.records = this.records.filter((r) => (r.step - 1) % stride === 0 || r.step === this.firstNonFinite || r.step === this.lastStep);
  }

  /** Replaces everything (a final result that holds what the stream cut off). */
  reset(records: readonly StepRecord[], stride = 1): void {
    this.records = records.slice();
    this.stride = Math.max(1, stride);
    this.firstNonFinite = records.find((r) => r.nonFinite)?.step;
    this.lastStep = undefined;
  }

  get length(): number {
    return this.records.length;
  }

  /** The highest step number held (backward() calls recorded, when the last one is in). */
  get lastStepNumber(): number {
    return this.records.length > 0 ? this.records[this.records.length - 1].step : 0;
  }
}
