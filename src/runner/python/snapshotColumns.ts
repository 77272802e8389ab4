/**
 * A graph as the tracer writes it (python/gradlens_graph.py) turned into a snapshot: its numeric
 * columns are base64 of little-endian typed arrays — op uint16, site int32, childStart and child
 * uint32, data, grad and localGrad float64 — so NaN and infinities need no strings. A graph already
 * decoded (on the decoding thread, tracerResult.ts) is checked the same way and kept as it is.
 */
import type { GraphSnapshot } from "../../engine/snapshot";
import type { TracerGraph } from "./result";

type NumberArray = Float64Array | Uint32Array | Int32Array | Uint16Array;
type ArrayType<T extends NumberArray> = { new (buffer: ArrayBuffer): T; readonly BYTES_PER_ELEMENT: number };

function column<T extends NumberArray>(type: ArrayType<T>, encoded: unknown, count: number, name: string): T {
  if (encoded instanceof type) {
    if (encoded.length !== count) throw new Error(`the tracer's ${name} column has ${encoded.length} entries, not ${count}`);
    return encoded;
  }
  if (typeof encoded !== "string") throw new Error(`the tracer's graph has no ${name} column`);
  const bytes = Buffer.from(encoded, "base64");
  if (bytes.byteLength !== count * type.BYTES_PER_ELEMENT) throw new Error(`the tracer's ${name} column has ${bytes.byteLength / type.BYTES_PER_ELEMENT} entries, not ${count}`);
  // A copy: Buffer's pooled memory is not aligned for 8-byte elements.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new type(copy.buffer);
}

/** The tracer's graph as a snapshot; throws when its columns do not fit together. */
export function toSnapshot(json: TracerGraph | GraphSnapshot): GraphSnapshot {
  const n = json.nodeCount;
  if (!Number.isInteger(n) || n < 1 || json.root !== n - 1 || !Array.isArray(json.opNames) || !json.opNames.every((name) => typeof name === "string")) throw new Error("the tracer's graph has no nodes");
  const childStart = column(Uint32Array, json.childStart, n + 1, "childStart");
  const edges = childStart[n];
  const snapshot: GraphSnapshot = {
    nodeCount: n,
    opNames: json.opNames,
    op: column(Uint16Array, json.op, n, "op"),
    data: column(Float64Array, json.data, n, "data"),
    grad: column(Float64Array, json.grad, n, "grad"),
    site: column(Int32Array, json.site, n, "site"),
    labels: {},
    childStart,
    child: column(Uint32Array, json.child, edges, "child"),
    localGrad: column(Float64Array, json.localGrad, edges, "localGrad"),
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
