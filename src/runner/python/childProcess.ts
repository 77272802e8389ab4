/**
 * Runs the tracer in a child process with the time limit and cancellation. The tracer stops itself
 * at the limit (and reports the line); when Python is stuck where it cannot be interrupted, it is
 * asked for its current line (a faulthandler dump on SIGUSR1) and then killed.
 */
import { spawn } from "node:child_process";

/** How long after the time limit a run that did not stop by itself is killed. */
const GRACE_MS = 2000;
/** How long the faulthandler dump may take before the kill. */
const DUMP_WAIT_MS = 300;
const MAX_OUTPUT_CHARS = 200_000;

export interface ProcessOutcome {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Set when GradLens ended the process, or could not start it. */
  stopped?: "timeout" | "cancelled";
  startError?: NodeJS.ErrnoException;
}

export function runTracerProcess(
  interpreter: string,
  args: string[],
  options: { cwd: string; timeLimitMs: number; signal?: AbortSignal },
): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    const outcome: ProcessOutcome = { exitCode: null, stdout: "", stderr: "" };
    let child;
    try {
      child = spawn(interpreter, args, {
        cwd: options.cwd,
        stdio: ["ignore", "pipe", "pipe"],
        windowsHide: true,
        env: { ...process.env, PYTHONIOENCODING: "utf-8", PYTHONUTF8: "1", PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" },
      });
    } catch (error) {
      resolve({ ...outcome, startError: error as NodeJS.ErrnoException });
      return;
    }
    const timers: NodeJS.Timeout[] = [];
    const finish = () => {
      timers.forEach(clearTimeout);
      options.signal?.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
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
    child.on("close", (code) => {
      outcome.exitCode = code;
      finish();
    });
    options.signal?.addEventListener("abort", onAbort);
    if (options.signal?.aborted) onAbort();
    timers.push(
      setTimeout(() => {
        outcome.stopped ??= "timeout";
        if (process.platform === "win32") return kill();
        // Ask for the current line first (the tracer registered faulthandler on SIGUSR1).
        child.kill("SIGUSR1");
        timers.push(setTimeout(kill, DUMP_WAIT_MS));
      }, options.timeLimitMs + GRACE_MS),
    );
  });
}
