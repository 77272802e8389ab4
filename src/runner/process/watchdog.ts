/**
 * The child's own watchdog: a small thread beside the user's code that keeps time, samples the
 * process's resident memory (heap, typed arrays, Buffers and the engine's slabs alike) and watches
 * that the host is still there. At a limit it raises a shared flag that the instrumented code checks
 * at every loop iteration and call site, so even a busy synchronous loop stops softly, keeping what
 * it recorded; it also posts a message, for a program that waits (timers, promises) rather than
 * loops. If the host has gone, it ends the process group at once: the main thread may be too busy
 * to notice.
 */
import { Worker } from "node:worker_threads";

export const STOP = { none: 0, timeout: 1, memory: 2 } as const;
export type StopReason = "timeout" | "memory";

export interface WatchdogOptions {
  /** Date.now() when the run started, and how long it may take from then. */
  startedAt: number;
  timeLimitMs: number;
  memoryLimitMb: number;
}

/** How often the thread looks: small against any limit, negligible in CPU. */
const SAMPLE_MS = 10;

// Plain JavaScript, run by the thread from this string: it needs no bundle of its own. Until its
// run starts (`limits[0]`, the deadline, is still 0) it only watches the host.
const THREAD = `
const { workerData, parentPort } = require("node:worker_threads");
const flag = new Int32Array(workerData.flag);
const limits = new Float64Array(workerData.limits);
const { parent } = workerData;
const stop = (reason) => {
  if (Atomics.compareExchange(flag, 0, 0, reason) === 0) parentPort.postMessage(reason);
};
setInterval(() => {
  if (process.ppid !== parent) {
    try { process.kill(-process.pid, "SIGKILL"); } catch {}
    process.kill(process.pid, "SIGKILL");
  }
  const deadline = limits[0];
  if (deadline === 0) return;
  if (Date.now() >= deadline) stop(${STOP.timeout});
  else if (process.memoryUsage.rss() > limits[1]) stop(${STOP.memory});
}, ${SAMPLE_MS});
`;

export interface Watchdog {
  /** `flag[0]` becomes a STOP value at a limit. */
  readonly flag: Int32Array;
  /** Gives it the run's limits; `onStop` runs when the main thread next gets to its event loop. */
  arm(options: WatchdogOptions, onStop: (reason: StopReason) => void): void;
}

/**
 * Starts the thread before the run is known (while the process waits for it: a thread costs
 * milliseconds to start); `arm` hands it the limits.
 */
export function startWatchdog(): Watchdog {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const limits = new Float64Array(new SharedArrayBuffer(16));
  let listener: ((reason: StopReason) => void) | undefined;
  try {
    const thread = new Worker(THREAD, {
      eval: true,
      workerData: { flag: flag.buffer, limits: limits.buffer, parent: process.ppid },
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
      stdout: false,
      stderr: false,
      execArgv: [],
    });
    thread.on("message", (reason: number) => listener?.(reason === STOP.memory ? "memory" : "timeout"));
    thread.on("error", () => undefined);
    // The program's own event loop decides when the run ends, not the watchdog.
    thread.unref();
  } catch {
    // Without the thread the host's limits still hold (it kills the process group at limit + grace).
  }
  return {
    flag,
    arm(options, onStop) {
      listener = onStop;
      limits[1] = options.memoryLimitMb * 2 ** 20;
      limits[0] = options.startedAt + options.timeLimitMs;
    },
  };
}
