/**
 * The thread that reads big tracer results (built to dist/pythonResultThread.js; readResult.ts keeps
 * one across runs): reading megabytes of columns and checking them here keeps the caller's thread —
 * the extension host's — free. The decoded columns are moved to the caller, not copied.
 */
import { readFileSync } from "node:fs";
import { serveRequests } from "../process/serviceThread";
import { decodeTracerResult, graphBuffers, type TracerResultReading } from "./tracerResult";

/** What the caller asks: the result file to read. */
export type ResultThreadRequest = { file: string };

serveRequests<ResultThreadRequest>(async ({ file }) => {
  let reading: TracerResultReading;
  try {
    reading = decodeTracerResult(readFileSync(file));
  } catch (error) {
    reading = { problem: error instanceof Error ? error.message : String(error) };
  }
  return { answer: reading, transfer: "output" in reading ? graphBuffers(reading.output) : [] };
});
