/**
 * Reads the tracer's result file for the runner: a small one right here, a big one (a training
 * program's graph is megabytes) on a thread of its own (resultThread.ts), so the caller's event loop
 * keeps turning. Either way it is checked before it is used (tracerResult.ts). Never throws.
 */
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { decodeTracerResult, type TracerResultReading } from "./tracerResult";

/** Up to this size a result is read inline: a thread costs more than parsing it. */
export const INLINE_RESULT_BYTES = 256 * 1024;

/** dist/pythonResultThread.js beside the running bundle (or the test build's, env override). */
export function resultThreadPath(): string | undefined {
  const candidates = [process.env.GRADLENS_PYTHON_RESULT_THREAD, path.join(__dirname, "pythonResultThread.js")];
  return candidates.find((c): c is string => typeof c === "string" && c !== "" && existsSync(c));
}

/** The decoded result; undefined when the tracer wrote none; `thread`: it was read off this thread. */
export async function readTracerResult(file: string): Promise<(TracerResultReading & { thread: boolean }) | undefined> {
  const size = await stat(file).then((s) => s.size, () => undefined);
  if (size === undefined) return undefined;
  const script = size > INLINE_RESULT_BYTES ? resultThreadPath() : undefined;
  if (script) {
    const read = await readOnThread(script, file);
    if (read) return { ...read, thread: true };
  }
  // Small, or no thread could be started: read here.
  try {
    return { ...decodeTracerResult(await readFile(file, "utf8")), thread: false };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error), thread: false };
  }
}

function readOnThread(script: string, file: string): Promise<TracerResultReading | undefined> {
  return new Promise((resolve) => {
    let thread: Worker;
    try {
      thread = new Worker(script, { workerData: { file }, stdout: true, stderr: true });
    } catch {
      resolve(undefined);
      return;
    }
    let answered = false;
    thread.once("message", (reading: TracerResultReading) => {
      answered = true;
      resolve(reading);
      void thread.terminate();
    });
    // A thread that could not even read (out of memory, a broken build) leaves it to the caller's thread.
    thread.once("error", () => resolve(undefined));
    thread.once("exit", () => {
      if (!answered) resolve(undefined);
    });
  });
}
