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

// Plain JavaScript, run by the thread from this string: it needs no bundle of its own.
const THREAD = `
const { workerData, parentPort } = require("node:worker_threads");
const flag = new Int32Array(workerData.flag);
const { deadline, memoryLimitBytes, parent } = workerData;
const stop = (reason) => {
  if (Atomics.compareExchange(flag, 0, 0, reason) === 0) parentPort.postMessage(reason);
};
setInterval(() => {
  if (process.ppid !== parent) {
    try { process.kill(-process.pid, "SIGKILL"); } catch {}
    process.kill(process.pid, "SIGKILL");
  }
  if (Date.now() >= deadline) stop(${STOP.timeout});
  else if (process.memoryUsage.rss() > memoryLimitBytes) stop(${STOP.memory});
}, ${SAMPLE_MS});
`;

/**
 * Starts the thread; `flag[0]` becomes a STOP value at a limit, and `onStop` runs when the main
 * thread next gets to its event loop.
 */
export function startWatchdog(options: WatchdogOptions, onStop: (reason: StopReason) => void): Int32Array {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  try {
    const thread = new Worker(THREAD, {
      eval: true,
      workerData: { flag: flag.buffer, deadline: options.startedAt + options.timeLimitMs, memoryLimitBytes: options.memoryLimitMb * 2 ** 20, parent: process.ppid },
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
      stdout: false,
      stderr: false,
      execArgv: [],
    });
    thread.on("message", (reason: number) => onStop(reason === STOP.memory ? "memory" : "timeout"));
    thread.on("error", () => undefined);
    // The program's own event loop decides when the run ends, not the watchdog.
    thread.unref();
  } catch {
    // Without the thread the host's limits still hold (it kills the process group at limit + grace).
  }
  return flag;
}
