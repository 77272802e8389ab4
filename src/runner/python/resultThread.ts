/**
 * The thread that reads a big tracer result (built to dist/pythonResultThread.js): parsing and
 * decoding megabytes of JSON and base64 here keeps the caller's thread — the extension host's —
 * free. The decoded columns are moved to the caller, not copied.
 */
import { readFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { decodeTracerResult, graphBuffers, type TracerResultReading } from "./tracerResult";

const { file } = workerData as { file: string };
let reading: TracerResultReading;
try {
  reading = decodeTracerResult(readFileSync(file, "utf8"));
} catch (error) {
  reading = { problem: error instanceof Error ? error.message : String(error) };
}
parentPort?.postMessage(reading, "output" in reading ? graphBuffers(reading.output) : []);
