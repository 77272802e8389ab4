/**
 * Runs the Python tracer as a child process of the run (process/childRun.ts: its own process group,
 * the limits, the output budget, what it started ended with it). The tracer stops itself at the
 * time limit (and reports the line); when Python is stuck where it cannot be interrupted, it is
 * asked for its current line (a faulthandler dump on SIGUSR1) just before the kill. It reads fd 3
 * until EOF and ends itself (removing its temporary folder) when the host is gone.
 */
import { startChild, type StopCause } from "../process/childRun";
import { POSIX } from "../process/processTree";
import { STOP_GRACE_MS, type RunLimits } from "../../protocol/limits";

/** How long before the kill the faulthandler dump is asked for. */
const DUMP_BEFORE_KILL_MS = 250;

export interface ProcessOutcome {
  exitCode: number | null;
  /** The signal that ended the process, when one did (a crash, or GradLens's kill). */
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when GradLens ended the process. */
  stopped?: StopCause;
  /** Set when the interpreter could not be started. */
  startError?: NodeJS.ErrnoException;
}

/** `onExit`: the tracer process has exited (its result is written); the outcome follows once what it started is gone. */
export function runTracerProcess(interpreter: string, args: string[], options: { cwd: string; limits: RunLimits; signal?: AbortSignal; onExit?: () => void }): Promise<ProcessOutcome> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const timers: NodeJS.Timeout[] = [];
  const child = startChild({
    command: interpreter,
    args,
    cwd: options.cwd,
    env: { ...process.env, PYTHONIOENCODING: "utf-8", PYTHONUTF8: "1", PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1", GRADLENS_PARENT_FD: "3" },
    parentPipe: true,
    limits: options.limits,
    signal: options.signal,
    onStopRequest: (cause) => {
      if (cause === "cancelled") return child.kill();
      // The tracer's own timer has stopped it by now unless Python is stuck: ask where, then it is killed.
      if (POSIX) timers.push(setTimeout(() => child.process?.kill("SIGUSR1"), Math.max(0, STOP_GRACE_MS - DUMP_BEFORE_KILL_MS)));
    },
    onLine: (stream, text) => (stream === "stdout" ? stdout : stderr).push(text),
    ...(options.onExit ? { onExit: options.onExit } : {}),
  });
  return child.ended.then((end) => {
    timers.forEach(clearTimeout);
    const outcome: ProcessOutcome = { exitCode: end.exitCode, signal: end.signal, stdout: joinLines(stdout), stderr: joinLines(stderr) };
    // A tracer that stopped itself at the limit and wrote its result was not stopped by GradLens.
    if (end.stopped && (end.killed || end.stopped === "cancelled")) outcome.stopped = end.stopped;
    if (end.startError) outcome.startError = end.startError;
    return outcome;
  });
}

function joinLines(lines: string[]): string {
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
