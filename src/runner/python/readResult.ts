/**
 * Reads the tracer's result file for the runner: a small one right here, a big one (a training
 * program's graph is megabytes) on a thread of its own (resultThread.ts), so the caller's event loop
 * keeps turning. Either way it is checked before it is used (tracerResult.ts). Never throws.
 *
 * The thread lives across runs and is started while Python runs (`prepareResultThread`): starting
 * one costs more than decoding a graph of 70,000 nodes, and that cost then overlaps the run instead of
 * following it. It goes away after a while without work, and never keeps the process alive.
 */
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { decodeTracerResult, type TracerResultReading } from "./tracerResult";
import type { ResultThreadAnswer, ResultThreadRequest } from "./resultThread";

/** Up to this size a result is read inline: handing it to the thread costs more than parsing it. */
export const INLINE_RESULT_BYTES = 256 * 1024;
/** A thread with no work for this long is ended (it holds a few megabytes). */
export const RESULT_THREAD_IDLE_MS = 60_000;

/** dist/pythonResultThread.js beside the running bundle (or the test build's, env override). */
export function resultThreadPath(): string | undefined {
  const candidates = [process.env.GRADLENS_PYTHON_RESULT_THREAD, path.join(__dirname, "pythonResultThread.js")];
  return candidates.find((c): c is string => typeof c === "string" && c !== "" && existsSync(c));
}

/** The decoded result; undefined when the tracer wrote none; `thread`: it was read off this thread. */
export async function readTracerResult(file: string): Promise<(TracerResultReading & { thread: boolean }) | undefined> {
  const size = await stat(file).then((s) => s.size, () => undefined);
  if (size === undefined) return undefined;
  const thread = size > INLINE_RESULT_BYTES ? resultThread() : undefined;
  if (thread) {
    const read = await thread.read(file);
    if (read) return { ...read, thread: true };
  }
  // Small, or no thread could read it: read here.
  try {
    return { ...decodeTracerResult(await readFile(file)), thread: false };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error), thread: false };
  }
}

/** Starts the reading thread now (if there is a thread script), so that it is ready when the run ends. */
export function prepareResultThread(): void {
  resultThread();
}

let current: ResultThread | undefined;
let started = 0;

/** How many reading threads this process has started (one serves many runs). */
export function resultThreadsStarted(): number {
  return started;
}

function resultThread(): ResultThread | undefined {
  if (current?.usable) return current;
  const script = resultThreadPath();
  current = script ? ResultThread.start(script) : undefined;
  return current;
}

class ResultThread {
  private readonly waiting = new Map<number, (reading: TracerResultReading | undefined) => void>();
  private next = 0;
  private idle: NodeJS.Timeout | undefined;
  usable = true;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (answer: ResultThreadAnswer) => {
      const resolve = this.waiting.get(answer.id);
      this.waiting.delete(answer.id);
      resolve?.(answer.reading);
      this.scheduleEnd();
    });
    // A thread that could not read (out of memory, a broken build) leaves the reading to the caller's thread.
    worker.on("error", () => this.fail());
    worker.on("exit", () => this.fail());
    // Held only while it has a result to read (after the listeners: adding one holds it again).
    worker.unref();
    this.scheduleEnd();
  }

  static start(script: string): ResultThread | undefined {
    try {
      // No inherited flags: the script is a bundle, and loaders of the host (a test's tsx) only slow its start.
      const worker = new Worker(script, { execArgv: [], stdout: true, stderr: true });
      started++;
      return new ResultThread(worker);
    } catch {
      return undefined;
    }
  }

  read(file: string): Promise<TracerResultReading | undefined> {
    if (!this.usable) return Promise.resolve(undefined);
    clearTimeout(this.idle);
    const id = this.next++;
    this.worker.ref();
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.worker.postMessage({ id, file } satisfies ResultThreadRequest);
    });
  }

  private scheduleEnd(): void {
    clearTimeout(this.idle);
    if (this.waiting.size > 0) return;
    this.worker.unref();
    this.idle = setTimeout(() => {
      this.usable = false;
      void this.worker.terminate();
    }, RESULT_THREAD_IDLE_MS);
    this.idle.unref();
  }

  private fail(): void {
    this.usable = false;
    clearTimeout(this.idle);
    for (const resolve of this.waiting.values()) resolve(undefined);
    this.waiting.clear();
  }
}
