/**
 * One child process of a run, as both runners start it (the TypeScript child and the Python
 * tracer): its own process group, the run's mark in its environment, output read within the
 * budget, and the limits. At a limit, or when cancelled, the child is first asked to stop softly
 * (it then hands over what it recorded); `STOP_GRACE_MS` later the whole group is killed, with
 * blocking calls and anything the program started. When the child ends, whatever it started goes
 * too. Never throws; the outcome says how the process ended.
 *
 * Starting the process and running it are two steps (`prepareChild`, then `start`), so a Node child
 * can be started ahead of its run and wait for it (warmChild.ts): the limits count from `start`.
 */
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { StringDecoder } from "node:string_decoder";
import { MAX_LINE_CHARS, OUTPUT_BUDGET_CHARS, STOP_GRACE_MS, type RunLimits } from "../../protocol/limits";
import { LineSplitter, OutputBudget, type SplitLine } from "./outputBudget";
import { killRunProcesses, killRunProcessesSoon, newRunMark, residentMemoryMb, POSIX, RUN_MARK_VARIABLE } from "./processTree";

export type StopCause = "timeout" | "memory" | "cancelled";

/** The process itself: what is started. */
export interface ProcessSpec {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** A Node child: an IPC channel (advanced serialization, so typed arrays cross as they are). */
  ipc?: boolean;
  /**
   * An extra pipe as fd 3 that GradLens never writes: the child reads it and ends itself at EOF,
   * that is, when the host is gone (the Python tracer).
   */
  parentPipe?: boolean;
}

/** The run in it: its limits and who hears from it. */
export interface RunSpec {
  limits: RunLimits;
  signal?: AbortSignal;
  /** Asked to stop softly (a limit, or cancelled); the child has STOP_GRACE_MS before the kill. */
  onStopRequest?: (cause: StopCause) => void;
  /** Lines of the child's own stdout/stderr (not what its console sends over the channel). */
  onLine?: (stream: "stdout" | "stderr", text: string) => void;
  /** Messages on the IPC channel, unread: the runner checks them. */
  onMessage?: (message: unknown) => void;
  /**
   * The process itself has exited (`ended` follows once what it started is gone and its pipes are
   * drained): what it left on disk can be read meanwhile.
   */
  onExit?: () => void;
}

export type ChildSpec = ProcessSpec & RunSpec;

export interface ChildEnd {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when GradLens asked the child to stop (and, if it did not, killed it). */
  stopped?: StopCause;
  /** GradLens killed the process group because it did not end within the grace. */
  killed: boolean;
  startError?: NodeJS.ErrnoException;
  /** Characters of the child's own stdout/stderr that were over the budget. */
  droppedChars: number;
  peakMemoryMb?: number;
}

/** How long to wait for the pipes after the child exited (a process it started may hold them). */
const DRAIN_MS = 300;
/** How often the host samples the child's memory (the child's own watchdog samples faster). */
const MEMORY_SAMPLE_MS = 100;

export interface RunningChild {
  process: ChildProcess | undefined;
  ended: Promise<ChildEnd>;
  /** Asks for a soft stop now (as a limit would). */
  stop(cause: StopCause): void;
  /** Kills the process group and what the program started, now. */
  kill(): void;
}

/** A started process waiting for its run: `start` it once, or `discard` it. */
export interface PreparedChild {
  readonly process: ChildProcess | undefined;
  /** Still running and reachable, not yet given a run. */
  usable(): boolean;
  start(run: RunSpec): RunningChild;
  /** Kills it and what it started (a prepared child nobody will use). */
  discard(): void;
}

export function startChild(spec: ChildSpec): RunningChild {
  return prepareChild(spec).start(spec);
}

/**
 * Starts the process. Until `start`, its output is read and dropped and it holds nothing of the
 * caller's: it does not keep the caller's event loop alive.
 */
export function prepareChild(spec: ProcessSpec): PreparedChild {
  const mark = newRunMark();
  const stdio: StdioOptions = ["ignore", "pipe", "pipe", ...(spec.parentPipe ? (["pipe"] as const) : []), ...(spec.ipc ? (["ipc"] as const) : [])];
  const end: ChildEnd = { exitCode: null, signal: null, killed: false, droppedChars: 0 };
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      stdio,
      windowsHide: true,
      // Its own process group on POSIX: one kill ends the program and what it started.
      detached: POSIX,
      env: { ...(spec.env ?? process.env), [RUN_MARK_VARIABLE]: mark },
      ...(spec.ipc ? { serialization: "advanced" as const } : {}),
    });
  } catch (error) {
    end.startError = error as NodeJS.ErrnoException;
    const failed: RunningChild = { process: undefined, ended: Promise.resolve(end), stop: () => undefined, kill: () => undefined };
    return { process: undefined, usable: () => false, start: () => failed, discard: () => undefined };
  }

  let run: RunSpec | undefined;
  let started = false;
  let stopTimer: NodeJS.Timeout | undefined;
  let timeLimit: NodeJS.Timeout | undefined;
  let memorySampler: NodeJS.Timeout | undefined;
  const kill = () => killRunProcesses(child.pid, mark);
  const stop = (cause: StopCause) => {
    if (end.stopped || exited) return;
    end.stopped = cause;
    try {
      run?.onStopRequest?.(cause);
    } catch {
      // The child may be gone already.
    }
    stopTimer = setTimeout(() => {
      end.killed = true;
      kill();
    }, STOP_GRACE_MS);
  };

  const budget = new OutputBudget(OUTPUT_BUDGET_CHARS, MAX_LINE_CHARS);
  const readStream = (name: "stdout" | "stderr") => {
    const stream = child[name];
    if (!stream) return;
    const decoder = new StringDecoder("utf8");
    const lines = new LineSplitter(MAX_LINE_CHARS);
    const emit = (split: SplitLine[]) => {
      if (!run) return; // before its run: nothing the user wrote
      for (const line of split) {
        const kept = budget.admit(line.text, line.extra);
        if (kept !== undefined) run.onLine?.(name, kept);
      }
    };
    stream.on("data", (chunk: Buffer) => emit(lines.push(decoder.write(chunk))));
    stream.on("end", () => emit(lines.push(decoder.end()).concat(lines.flush())));
    stream.on("error", () => undefined);
  };
  readStream("stdout");
  readStream("stderr");
  if (spec.ipc) {
    child.on("message", (message: unknown) => run?.onMessage?.(message));
    // A write to a child that already exited fails: that is not the host's problem.
    child.on("error", () => undefined);
  }

  const onAbort = () => stop("cancelled");
  let exited = false;
  const ended = new Promise<ChildEnd>((resolve) => {
    let drainTimer: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timeLimit);
      clearTimeout(stopTimer);
      clearTimeout(drainTimer);
      clearInterval(memorySampler);
      run?.signal?.removeEventListener("abort", onAbort);
      end.droppedChars = budget.droppedChars;
      resolve(end);
    };
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) {
        end.startError = error;
        settle();
      }
    });
    let swept = false;
    let closed = false;
    child.on("exit", (code, signal) => {
      exited = true;
      end.exitCode = code;
      end.signal = signal;
      try {
        run?.onExit?.();
      } catch {
        // The caller's own problem: the run still ends.
      }
      // Whatever the program started goes with it (found without blocking the caller); then the pipes close.
      void killRunProcessesSoon(child.pid, mark).then(() => {
        swept = true;
        if (closed) settle();
      });
      drainTimer = setTimeout(() => {
        closed = true;
        if (swept) settle();
      }, DRAIN_MS);
    });
    child.on("close", () => {
      if (!exited) return;
      closed = true;
      if (swept) settle();
    });
  });
  const handles = [child, child.channel, child.stdout, child.stderr, ...child.stdio.slice(3)] as ({ ref?: () => void; unref?: () => void } | null | undefined)[];
  // Waiting for its run, it must not keep a CLI (or a test) from exiting; the child ends itself when the caller goes.
  for (const handle of handles) handle?.unref?.();

  return {
    process: child,
    usable: () => !started && !exited && child.pid !== undefined && (!spec.ipc || child.connected),
    discard: () => {
      started = true;
      kill();
    },
    start(spec: RunSpec): RunningChild {
      started = true;
      run = spec;
      for (const handle of handles) handle?.ref?.();
      timeLimit = setTimeout(() => stop("timeout"), spec.limits.timeLimitMs);
      memorySampler = setInterval(() => {
        if (child.pid === undefined) return;
        const mb = residentMemoryMb(child.pid);
        if (mb === undefined) return;
        end.peakMemoryMb = Math.max(end.peakMemoryMb ?? 0, mb);
        if (mb > spec.limits.memoryLimitMb) stop("memory");
      }, MEMORY_SAMPLE_MS);
      spec.signal?.addEventListener("abort", onAbort);
      if (spec.signal?.aborted) onAbort();
      // Ended before its run (an early exit is settled already): the timers above are cleared with it.
      if (exited) void ended.then(() => {
        clearTimeout(timeLimit);
        clearInterval(memorySampler);
      });
      return {
        process: child,
        ended,
        stop,
        kill: () => {
          end.killed = true;
          kill();
        },
      };
    },
  };
}
