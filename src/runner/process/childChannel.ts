/**
 * The child's end of its channel to the host (the IPC channel Node opens for a child started with
 * one). Loaded before any user code runs, it keeps what user code must not reach: the run's token
 * (every message to the host carries it, so one the user's `process.send` forges is not trusted) and
 * the functions it sends and exits with, taken before user code could replace them.
 */
import { readHostMessage, type ChildMessage, type HostMessage, type WorkerInput } from "../protocol";
import { splitColumns } from "./columnTransfer";

type Payload = ChildMessage extends infer M ? (M extends { token: string } ? Omit<M, "token"> : never) : never;
type RawSend = (message: unknown, handle: undefined, options: object, callback: (error: Error | null) => void) => boolean;

export interface ChildChannel {
  /** Sends a message to the host; `done` runs when it has been written (or could not be). */
  send(message: Payload, done?: () => void): void;
  /** Called when the host asks the run to stop softly. */
  onStop(listener: (reason: "timeout" | "memory" | "cancelled") => void): void;
}

// Taken now: user code may replace process.send, process._send, process.kill or process.exit later.
const rawSend = (process as unknown as { _send?: RawSend })._send;
const kill = process.kill.bind(process);
const reallyExit = process.exit.bind(process);

/**
 * The program may signal itself and what it started, as in a plain run, but not the host that runs
 * it (nor, with -1, every process of the user): that would take the editor down with it.
 */
export function guardProcessKill(beforeSignallingItself: () => void): void {
  const host = process.ppid;
  process.kill = ((pid: number, signal?: string | number) => {
    if (pid === host || pid === -host || pid === -1) {
      throw Object.assign(new Error(`kill EPERM (GradLens does not let the program signal the process that runs it)`), { code: "EPERM", syscall: "kill" });
    }
    // What it printed so far goes out first: the signal may end it before the next batch.
    if (pid === process.pid || pid === -process.pid || pid === 0) beforeSignallingItself();
    return kill(pid, signal);
  }) as typeof process.kill;
}

/** Ends this process and everything it started (it leads its own process group). */
export function killOwnGroup(): never {
  try {
    kill(-process.pid, "SIGKILL");
  } catch {
    // Not a group leader (started without `detached`): at least this process goes.
  }
  kill(process.pid, "SIGKILL");
  return reallyExit(137);
}

/**
 * The run's end, once its result has been written to the channel: the program's own "exit"
 * listeners run as at a plain exit, then the process group is killed rather than torn down. Node's
 * own teardown (joining the watchdog thread, maybe still starting, and freeing the heap) took
 * 20–60 ms of a one-line run, and the host waits for the exit; it has the result already.
 */
export function exitAfterResult(): never {
  try {
    (process as unknown as { _exiting: boolean })._exiting = true;
    process.emit("exit", 0);
  } catch {
    // An "exit" listener of the program threw (or called the stubbed process.exit): the run is over anyway.
  }
  return killOwnGroup();
}

/** Exits for real (user code sees a stubbed process.exit). */
export function exitProcess(code: number): never {
  return reallyExit(code);
}

/** Waits for the host's start message; undefined when this process was not started by a host. */
export function openChildChannel(): Promise<{ input: WorkerInput; channel: ChildChannel } | undefined> {
  if (typeof rawSend !== "function" || !process.channel) return Promise.resolve(undefined);
  // The host went away (closed the channel, or died): the run goes with it.
  process.on("disconnect", killOwnGroup);
  return new Promise((resolve) => {
    let token: string | undefined;
    let columnIds = 0;
    const stopListeners: ((reason: "timeout" | "memory" | "cancelled") => void)[] = [];
    let pendingStop: "timeout" | "memory" | "cancelled" | undefined;
    const channel: ChildChannel = {
      send(message, done) {
        try {
          // A graph's big columns go first, in pieces (columnTransfer.ts): the host stays responsive.
          if (message.type === "checkpoint" || message.type === "result") {
            const split = splitColumns(message, () => columnIds++);
            for (const piece of split.pieces) rawSend.call(process, { type: "column", piece, token }, undefined, {}, () => undefined);
            message = split.message;
          }
          rawSend.call(process, { ...message, token }, undefined, {}, () => done?.());
        } catch {
          done?.();
        }
      },
      onStop(listener) {
        stopListeners.push(listener);
        // A stop that came while the child was still starting (a busy machine) is not lost.
        if (pendingStop) listener(pendingStop);
      },
    };
    process.on("message", (raw: unknown) => {
      const message: HostMessage | undefined = readHostMessage(raw);
      if (!message) return;
      if (message.type === "start" && token === undefined) {
        token = message.token;
        // From now on the channel must not keep the process alive: the run ends when the program's event loop drains.
        process.channel?.unref();
        resolve({ input: message.input, channel });
      } else if (message.type === "stop") {
        pendingStop ??= message.reason;
        for (const listener of stopListeners) listener(message.reason);
      }
    });
  });
}
