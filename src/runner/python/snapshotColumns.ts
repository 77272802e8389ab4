/**
 * A graph as the tracer writes it (python/gradlens_graph.py) turned into a snapshot: its numeric
 * columns are little-endian typed arrays — op uint16, site int32, childStart and child uint32, data,
 * grad and localGrad float64 — so NaN and infinities need no strings. In the result file a column is
 * `{at, bytes}`, a place in the raw block after the JSON (`ColumnBlock` there, `splitResultFile`
 * here); in a line streamed during a training run it is base64 text. A graph already decoded (on the
 * decoding thread, tracerResult.ts) is checked the same way and kept as it is.
 */
import type { GraphSnapshot } from "../../engine/snapshot";
import type { TracerGraph } from "./result";

type NumberArray = Float64Array | Uint32Array | Int32Array | Uint16Array;
type ArrayType<T extends NumberArray> = { new (buffer: ArrayBuffer): T; readonly BYTES_PER_ELEMENT: number };

/** Where a column is in the result file's raw block: a byte offset (a multiple of 8) and a length. */
export type ColumnPlace = { at: number; bytes: number };

/** Columns are placed at multiples of this in the block, and the block starts at one in the file. */
const COLUMN_ALIGN = 8;

/** The result file: its JSON (the first line) and the raw block of columns after it (python/gradlens_graph.py ColumnBlock). */
export function splitResultFile(file: Uint8Array): { json: string; block: Uint8Array } {
  const end = file.indexOf(0x0a);
  const jsonEnd = end === -1 ? file.byteLength : end;
  const blockStart = Math.min(file.byteLength, Math.ceil((jsonEnd + 1) / COLUMN_ALIGN) * COLUMN_ALIGN);
  return { json: Buffer.from(file.buffer, file.byteOffset, jsonEnd).toString("utf8"), block: file.subarray(blockStart) };
}

const isPlace = (x: unknown): x is ColumnPlace => typeof x === "object" && x !== null && Number.isInteger((x as ColumnPlace).at) && Number.isInteger((x as ColumnPlace).bytes);

/**
 * A column's bytes, own and aligned (a copy: neither Buffer's pooled memory nor a place in the block is
 * aligned for 8-byte elements everywhere, and a column must not hold the whole file): from base64
 * text, or from its place in `block`. undefined when it is neither, or its place is not in the block.
 */
export function columnBytes(encoded: unknown, block: Uint8Array | undefined): Uint8Array | undefined {
  if (typeof encoded === "string") {
    const bytes = Buffer.from(encoded, "base64");
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return copy;
  }
  if (!isPlace(encoded) || !block) return undefined;
  const { at, bytes } = encoded;
  if (at < 0 || bytes < 0 || at % COLUMN_ALIGN !== 0 || at + bytes > block.byteLength) return undefined;
  const copy = new Uint8Array(bytes);
  copy.set(block.subarray(at, at + bytes));
  return copy;
}

function column<T extends NumberArray>(type: ArrayType<T>, encoded: unknown, count: number, name: string, block: Uint8Array | undefined): T {
  if (encoded instanceof type) {
    if (encoded.length !== count) throw new Error(`the tracer's ${name} column has ${encoded.length} entries, not ${count}`);
    return encoded;
  }
  const bytes = columnBytes(encoded, block);
  if (!bytes) throw new Error(`the tracer's graph has no ${name} column`);
  if (bytes.byteLength !== count * type.BYTES_PER_ELEMENT) throw new Error(`the tracer's ${name} column has ${bytes.byteLength / type.BYTES_PER_ELEMENT} entries, not ${count}`);
  return new type(bytes.buffer as ArrayBuffer);
}

/** The tracer's graph as a snapshot; throws when its columns do not fit together. `block`: the result file's columns. */
export function toSnapshot(json: TracerGraph | GraphSnapshot, block?: Uint8Array): GraphSnapshot {
  const n = json.nodeCount;
  if (!Number.isInteger(n) || n < 1 || json.root !== n - 1 || !Array.isArray(json.opNames) || !json.opNames.every((name) => typeof name === "string")) throw new Error("the tracer's graph has no nodes");
  const childStart = column(Uint32Array, json.childStart, n + 1, "childStart", block);
  const edges = childStart[n];
  const snapshot: GraphSnapshot = {
    nodeCount: n,
    opNames: json.opNames,
    op: column(Uint16Array, json.op, n, "op", block),
    data: column(Float64Array, json.data, n, "data", block),
    grad: column(Float64Array, json.grad, n, "grad", block),
    site: column(Int32Array, json.site, n, "site", block),
    labels: {},
    childStart,
    child: column(Uint32Array, json.child, edges, "child", block),
    localGrad: column(Float64Array, json.localGrad, edges, "localGrad", block),
    root: n - 1,
  };
  for (let i = 0; i < n; i++) {
    if (childStart[i] > childStart[i + 1] || snapshot.op[i] >= json.opNames.length) throw new Error(`the tracer's node ${i} is malformed`);
    for (let e = childStart[i]; e < childStart[i + 1]; e++) if (snapshot.child[e] >= i) throw new Error(`the tracer's node ${i} has an input that is not before it`);
  }
  const labels: unknown = json.labels;
  if (typeof labels === "object" && labels !== null) for (const [id, label] of Object.entries(labels)) if (typeof label === "string") snapshot.labels[Number(id)] = label;
  return snapshot;
}
