/**
 * Runs the tracer in a child process with the time limit and cancellation. The tracer stops itself
 * at the limit (and reports the line); when Python is stuck where it cannot be interrupted, it is
 * asked for its current line (a faulthandler dump on SIGUSR1) and then killed, with any processes
 * the user's code started (its own process group).
 */
import { spawn } from "node:child_process";

/** How long after the time limit a run that did not stop by itself is killed. */
const GRACE_MS = 2000;
/** How long the faulthandler dump may take before the kill. */
const DUMP_WAIT_MS = 300;
/** How long to wait for the pipes after Python exited (a process it started may hold them open). */
const DRAIN_MS = 500;
const MAX_OUTPUT_CHARS = 200_000;

export interface ProcessOutcome {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Set when GradLens ended the process. */
  stopped?: "timeout" | "cancelled";
  /** Set when the interpreter could not be started. */
  startError?: NodeJS.ErrnoException;
}

const POSIX = process.platform !== "win32";

export function runTracerProcess(
  interpreter: string,
  args: string[],
  options: { cwd: string; timeLimitMs: number; signal?: AbortSignal },
): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    const outcome: ProcessOutcome = { exitCode: null, stdout: "", stderr: "" };
    const child = spawn(interpreter, args, {
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
      windowsHide: true,
      // Its own process group on POSIX, so a kill also ends what the user's code started.
      detached: POSIX,
      env: { ...process.env, PYTHONIOENCODING: "utf-8", PYTHONUTF8: "1", PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" },
    });
    const timers: NodeJS.Timeout[] = [];
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      timers.forEach(clearTimeout);
      options.signal?.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    const kill = () => {
      if (child.pid === undefined) return;
      try {
        if (POSIX) process.kill(-child.pid, "SIGKILL");
        else child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    };
    const onAbort = () => {
      outcome.stopped ??= "cancelled";
      kill();
    };
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (text: string) => {
      if (outcome.stdout.length < MAX_OUTPUT_CHARS) outcome.stdout += text;
    });
    child.stderr.on("data", (text: string) => {
      if (outcome.stderr.length < MAX_OUTPUT_CHARS) outcome.stderr += text;
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      outcome.startError = error;
      finish();
    });
    child.on("exit", (code) => {
      outcome.exitCode = code;
      // Left-over processes of the user's code go with it; the pipes then close.
      kill();
      timers.push(setTimeout(finish, DRAIN_MS));
    });
    child.on("close", finish);
    options.signal?.addEventListener("abort", onAbort);
    if (options.signal?.aborted) onAbort();
    timers.push(
      setTimeout(() => {
        outcome.stopped ??= "timeout";
        if (!POSIX) return kill();
        // Ask for the current line first (the tracer registered faulthandler on SIGUSR1).
        child.kill("SIGUSR1");
        timers.push(setTimeout(kill, DUMP_WAIT_MS));
      }, options.timeLimitMs + GRACE_MS),
    );
  });
}
