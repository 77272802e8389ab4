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
import { ThreadKeeper } from "../process/serviceThread";
import { decodeTracerResult, type TracerResultReading } from "./tracerResult";
import type { ResultThreadRequest } from "./resultThread";

/** Up to this size a result is read inline: handing it to the thread costs more than parsing it. */
export const INLINE_RESULT_BYTES = 256 * 1024;
/** A thread with no work for this long is ended (it holds a few megabytes). */
export const RESULT_THREAD_IDLE_MS = 60_000;

/** dist/pythonResultThread.js beside the running bundle (or the test build's, env override). */
export function resultThreadPath(): string | undefined {
  const candidates = [process.env.GRADLENS_PYTHON_RESULT_THREAD, path.join(__dirname, "pythonResultThread.js")];
  return candidates.find((c): c is string => typeof c === "string" && c !== "" && existsSync(c));
}

const threads = new ThreadKeeper(resultThreadPath, RESULT_THREAD_IDLE_MS);

/** The decoded result; undefined when the tracer wrote none; `thread`: it was read off this thread. */
export async function readTracerResult(file: string): Promise<(TracerResultReading & { thread: boolean }) | undefined> {
  const size = await stat(file).then((s) => s.size, () => undefined);
  if (size === undefined) return undefined;
  if (size > INLINE_RESULT_BYTES) {
    // The thread checked the file's content itself (tracerResult.ts): its answer is one of its two readings.
    const read = (await threads.ask({ file } satisfies ResultThreadRequest)) as TracerResultReading | undefined;
    if (read && ("output" in read || "problem" in read)) return { ...read, thread: true };
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
  threads.prepare();
}

/** How many reading threads this process has started (one serves many runs). */
export function resultThreadsStarted(): number {
  return threads.started;
}
