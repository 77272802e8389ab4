/**
 * A worker thread that does one kind of heavy work for the caller's thread — the extension host's,
 * which every extension in the window shares — so that thread's event loop keeps turning: reading
 * a Python result of megabytes (python/resultThread.ts), bundling and instrumenting the user's code
 * (bundleThread.ts). One thread is kept across runs, held only while it has work, and ended after a
 * while without any; a thread that fails leaves the work to the caller's thread (`ask` answers
 * undefined), never a run without its result.
 */
import { Worker, parentPort } from "node:worker_threads";

interface Envelope {
  id: number;
  request: unknown;
}

interface Reply {
  id: number;
  answer: unknown;
}

/** The thread's side: answers each request with `handle`'s result, whose `transfer` buffers are moved, not copied. */
export function serveRequests<Request>(handle: (request: Request) => Promise<{ answer: unknown; transfer?: ArrayBuffer[] }>): void {
  parentPort?.on("message", ({ id, request }: Envelope) => {
    void handle(request as Request).then(
      ({ answer, transfer }) => parentPort?.postMessage({ id, answer } satisfies Reply, transfer ?? []),
      (error: unknown) => parentPort?.postMessage({ id, answer: { threadError: error instanceof Error ? error.message : String(error) } } satisfies Reply),
    );
  });
}

/** The caller's side of one thread. */
class ServiceThread {
  private readonly waiting = new Map<number, (answer: unknown) => void>();
  private next = 0;
  private idle: NodeJS.Timeout | undefined;
  usable = true;

  constructor(
    private readonly worker: Worker,
    private readonly idleMs: number,
  ) {
    worker.on("message", (reply: Reply) => {
      const resolve = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      resolve?.(reply.answer);
      this.scheduleEnd();
    });
    // A thread that could not answer (out of memory, a broken build) leaves the work to the caller's thread.
    worker.on("error", () => this.fail());
    worker.on("exit", () => this.fail());
    // Held only while it has work (after the listeners: adding one holds it again).
    worker.unref();
    this.scheduleEnd();
  }

  ask(request: unknown): Promise<unknown> {
    if (!this.usable) return Promise.resolve(undefined);
    clearTimeout(this.idle);
    const id = this.next++;
    this.worker.ref();
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.worker.postMessage({ id, request } satisfies Envelope);
    });
  }

  private scheduleEnd(): void {
    clearTimeout(this.idle);
    if (this.waiting.size > 0) return;
    this.worker.unref();
    this.idle = setTimeout(() => {
      this.usable = false;
      void this.worker.terminate();
    }, this.idleMs);
    this.idle.unref();
  }

  private fail(): void {
    this.usable = false;
    clearTimeout(this.idle);
    for (const resolve of this.waiting.values()) resolve(undefined);
    this.waiting.clear();
  }
}

/** Keeps one thread of a script: started on first need (or ahead, `prepare`), replaced when it has ended. */
export class ThreadKeeper {
  private current: ServiceThread | undefined;
  /** How many threads this keeper has started (one serves many runs). */
  started = 0;

  constructor(
    private readonly scriptPath: () => string | undefined,
    private readonly idleMs: number,
  ) {}

  /** Starts the thread now, if there is a thread script, so it is ready when its work comes. */
  prepare(): void {
    this.thread();
  }

  /** The thread's answer to `request`; undefined when there is no thread, or it failed. */
  ask(request: unknown): Promise<unknown> {
    return this.thread()?.ask(request) ?? Promise.resolve(undefined);
  }

  private thread(): ServiceThread | undefined {
    if (this.current?.usable) return this.current;
    const script = this.scriptPath();
    this.current = undefined;
    if (!script) return undefined;
    try {
      // No inherited flags: the script is a bundle, and loaders of the host (a test's tsx) only slow its start.
      this.current = new ServiceThread(new Worker(script, { execArgv: [], stdout: true, stderr: true }), this.idleMs);
      this.started++;
    } catch {
      this.current = undefined;
    }
    return this.current;
  }
}
