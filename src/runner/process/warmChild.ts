/**
 * One child process started ahead of the next run, so a run does not wait for Node to start and
 * load the runner (the editor runs a file again and again). Every run still gets a process of its
 * own, used exactly once: the waiting child has run no user code, and is replaced after each run.
 * It is used only if it was started the same way (same Node, same flags: a changed memory limit
 * discards it), it ends itself when the caller goes (its IPC channel closes), and after a while
 * unused it is let go, so an idle editor does not keep a process around.
 */
import { prepareChild, type PreparedChild, type ProcessSpec } from "./childRun";

/** How long a waiting child is kept unused before it is let go. */
const IDLE_MS = 10 * 60_000;

export class WarmChild {
  private waiting: { key: string; child: PreparedChild; idle: NodeJS.Timeout } | undefined;
  private enabled = false;

  /** On: after each run the next one's process is started ahead. Off: the waiting one goes. */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    if (!enabled) this.clear();
  }

  /** The waiting process if it was started as `spec` says and still waits; else a new one. */
  take(spec: ProcessSpec): PreparedChild {
    const waiting = this.detach();
    if (waiting && waiting.key === keyOf(spec) && waiting.child.usable()) return waiting.child;
    waiting?.child.discard();
    return prepareChild(spec);
  }

  /** A taken process that was not used after all (the code did not bundle): kept for the next run, or let go. */
  giveBack(spec: ProcessSpec, child: PreparedChild): void {
    if (this.enabled && !this.waiting && child.usable()) this.keep(spec, child);
    else child.discard();
  }

  /** A process started ahead for the very next run, kept whether on or off (if none waits already). */
  hold(spec: ProcessSpec, child: PreparedChild): void {
    if (!this.waiting && child.usable()) this.keep(spec, child);
    else child.discard();
  }

  /** After a run: the next run's process, started now (when on). */
  prepareNext(spec: ProcessSpec): void {
    if (this.enabled && !this.waiting) this.keep(spec, prepareChild(spec));
  }

  /** The waiting process's pid (tests). */
  get pid(): number | undefined {
    return this.waiting?.child.process?.pid;
  }

  clear(): void {
    this.detach()?.child.discard();
  }

  private keep(spec: ProcessSpec, child: PreparedChild): void {
    const idle = setTimeout(() => this.clear(), IDLE_MS);
    idle.unref();
    this.waiting = { key: keyOf(spec), child, idle };
  }

  private detach(): { key: string; child: PreparedChild } | undefined {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) clearTimeout(waiting.idle);
    return waiting;
  }
}

/** What makes two processes interchangeable for a run: the same program and flags (the directory is set per run). */
function keyOf(spec: ProcessSpec): string {
  return JSON.stringify([spec.command, spec.args, spec.ipc === true, spec.parentPipe === true]);
}
