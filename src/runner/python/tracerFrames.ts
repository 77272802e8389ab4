/**
 * The call stacks the Python tracer writes beside a graph (python/gradlens_frames.py): the same
 * `CallFrames` the TypeScript runner records, with its int32 columns as little-endian arrays (snapshotColumns.ts: base64 text, or a place in the result file's block).
 * Anything that does not fit together is dropped (the view then groups by expression), never thrown.
 */
import type { CallFrames } from "../../protocol/result";
import { columnBytes } from "./snapshotColumns";

export interface TracerFrames {
  functions: unknown;
  parent: unknown;
  fn: unknown;
  callSite: unknown;
  node: unknown;
}

function int32s(encoded: unknown, block: Uint8Array | undefined): Int32Array | undefined {
  const bytes = columnBytes(encoded, block);
  if (!bytes || bytes.byteLength % 4 !== 0) return undefined;
  return new Int32Array(bytes.buffer as ArrayBuffer);
}

const isFunction = (f: unknown): f is { name: string; file: string; line: number } =>
  typeof f === "object" && f !== null && typeof (f as { name?: unknown }).name === "string" && typeof (f as { file?: unknown }).file === "string" && Number.isInteger((f as { line?: unknown }).line);

/** The frames of a graph of `nodeCount` nodes with `siteCount` sites, or undefined when absent or malformed. */
export function framesFromTracer(json: TracerFrames | undefined, nodeCount: number, siteCount: number, block?: Uint8Array): CallFrames | undefined {
  if (!json || !Array.isArray(json.functions) || !json.functions.every(isFunction)) return undefined;
  const functions = json.functions.map((f) => ({ name: f.name, file: f.file, line: f.line }));
  const [parent, fn, callSite, node] = [json.parent, json.fn, json.callSite, json.node].map((c) => int32s(c, block));
  if (!parent || !fn || !callSite || !node) return undefined;
  const calls = parent.length;
  if (fn.length !== calls || callSite.length !== calls || node.length !== nodeCount) return undefined;
  for (let k = 0; k < calls; k++) {
    // Callers come before their callees.
    if (parent[k] >= k || parent[k] < -1 || fn[k] < 0 || fn[k] >= functions.length || callSite[k] < 0 || callSite[k] >= siteCount) return undefined;
  }
  for (let i = 0; i < nodeCount; i++) if (node[i] < -1 || node[i] >= calls) return undefined;
  return { functions, parent, fn, callSite, node };
}
