/** What a caller asks of a training run (runFile / runPython's `training` option). */
import type { TrainingProgress } from "../../protocol/training";

export interface TrainingRunOptions {
  /** Batches of step records while the run goes. */
  onProgress?: (progress: TrainingProgress) => void;
  /** End the program cleanly after this many backward() calls. */
  maxSteps?: number;
  /** Set [0] to 1 (Atomics.store) to ask the program to stop at its next backward(). */
  stopFlag?: SharedArrayBuffer;
  /** Steps kept exactly before older ones are thinned (src/protocol/stepLog.ts; tests make it small). */
  maxKeptSteps?: number;
}
