/**
 * The limits of a run and their defaults, in one place: the extension's settings, the CLI's flags
 * and both runners (TypeScript child, Python tracer) read them from here. No Node or vscode imports.
 */

/** Time a run may take before it is stopped (the `gradlens.timeLimitSeconds` setting, `--timeout`). */
export const DEFAULT_TIME_LIMIT_MS = 10_000;
/**
 * Memory a run may use, measured on its process (heap, typed arrays, Buffers, the engine's slabs:
 * resident memory), in MB (`gradlens.heapLimitMb`, `--memory`).
 */
export const DEFAULT_MEMORY_LIMIT_MB = 1024;
/** Below this the run could not even start: Node alone is about 50 MB resident. */
export const MIN_MEMORY_LIMIT_MB = 96;
/** Nodes a graph may have before it is reported as too large instead (`gradlens.nodeLimit`). */
export const DEFAULT_NODE_LIMIT = 500_000;

/** Output a run keeps: the first megabyte of what it prints; what follows is counted and dropped. */
export const OUTPUT_BUDGET_CHARS = 1 << 20;
/** Each kept line also costs this much of the budget, so a flood of empty lines stays a few thousand. */
export const LINE_OVERHEAD_CHARS = 32;
/** A longer line is cut (with a mark saying how much was cut); the lines after it are still kept. */
export const MAX_LINE_CHARS = 8 * 1024;

/** After a soft stop is asked for, how long the run may take to hand over what it recorded. */
export const STOP_GRACE_MS = 600;
/** How often a running program sends its latest completed backward() graph (survives a hard kill). */
export const CHECKPOINT_INTERVAL_MS = 2000;
/** Checkpoints take at most about 1/CHECKPOINT_SHARE of a run's time: each waits 50× the last one's cost. */
export const CHECKPOINT_SHARE = 50;
/** "an endless loop?" is said only of a run that printed nothing and completed no backward() for this long. */
export const QUIET_RUN_MS = 3000;

export interface RunLimits {
  timeLimitMs: number;
  memoryLimitMb: number;
}

/** What callers pass (the old `heapLimitMb` is the same limit, under its first name). */
export interface LimitOptions {
  timeLimitMs?: number;
  memoryLimitMb?: number;
  /** @deprecated the name before the limit covered more than the heap: use memoryLimitMb. */
  heapLimitMb?: number;
}

/** The limits of a run: given ones where they are positive numbers, else the defaults. */
export function resolveLimits(options: LimitOptions): RunLimits {
  const positive = (x: number | undefined): x is number => typeof x === "number" && Number.isFinite(x) && x > 0;
  const memory = positive(options.memoryLimitMb) ? options.memoryLimitMb : positive(options.heapLimitMb) ? options.heapLimitMb : DEFAULT_MEMORY_LIMIT_MB;
  return {
    timeLimitMs: positive(options.timeLimitMs) ? options.timeLimitMs : DEFAULT_TIME_LIMIT_MS,
    memoryLimitMb: Math.max(MIN_MEMORY_LIMIT_MB, Math.round(memory)),
  };
}

/** "10", "1.5": a time limit in seconds as messages state it (no unit; whole seconds without decimals). */
export function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return Number.isInteger(seconds) ? String(seconds) : seconds.toFixed(1);
}
