/**
 * The thread that reads big tracer results (built to dist/pythonResultThread.js; readResult.ts keeps
 * one across runs): reading megabytes of columns and checking them here keeps the caller's thread —
 * the extension host's — free. The decoded columns are moved to the caller, not copied.
 */
import { readFileSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { decodeTracerResult, graphBuffers, type TracerResultReading } from "./tracerResult";

export type ResultThreadRequest = { id: number; file: string };
export type ResultThreadAnswer = { id: number; reading: TracerResultReading };

parentPort?.on("message", ({ id, file }: ResultThreadRequest) => {
  let reading: TracerResultReading;
  try {
    reading = decodeTracerResult(readFileSync(file));
  } catch (error) {
    reading = { problem: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage({ id, reading } satisfies ResultThreadAnswer, "output" in reading ? graphBuffers(reading.output) : []);
});
