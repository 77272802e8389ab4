/**
 * A graph as the tracer writes it (python/gradlens_graph.py) turned into a snapshot: its numeric
 * columns are little-endian typed arrays — order, tag, childCount and child uint32, data, grad and
 * localGrad float64, op uint16 when the class names its ops — so NaN and infinities need no strings.
 * They come in the order the tracer captured the values, and `order` gives the node ids (inNodeOrder).
 * A node's site, and its op otherwise, come from the run's per-tag tables (tagSite int32, tagOp
 * uint32) at its tag. In the result file a column is
 * `{at, bytes}`, a place in the raw block after the JSON (`ColumnBlock` there, `splitResultFile`
 * here); in a line streamed during a training run it is base64 text. A graph already decoded (on the
 * decoding thread, tracerResult.ts) is checked the same way and kept as it is.
 */
import type { GraphSnapshot } from "../../engine/snapshot";
import type { TracerGraph } from "./result";
import { renumberEdges, renumberGraph, topologicalRenumbering, type Renumbering } from "./graphOrder";

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

/** A column of any length (the run's per-tag tables). */
function table<T extends NumberArray>(type: ArrayType<T>, encoded: unknown, name: string, block: Uint8Array | undefined): T {
  if (encoded instanceof type) return encoded;
  const bytes = columnBytes(encoded, block);
  if (!bytes || bytes.byteLength % type.BYTES_PER_ELEMENT !== 0) throw new Error(`the tracer's graph has no ${name} table`);
  return new type(bytes.buffer as ArrayBuffer);
}

/** A graph's columns by node id; `edgeOf`: the edge each of the tracer's edges became. */
interface NodeColumns {
  childStart: Uint32Array;
  child: Uint32Array;
  localGrad: Float64Array;
  data: Float64Array;
  grad: Float64Array;
  tag: Uint32Array;
  op?: Uint16Array;
  edgeOf: Uint32Array;
}

/**
 * The tracer's columns, which are in the order it captured the values (per value: data, grad, tag,
 * op, childCount; per edge: child as a capture position, localGrad), put in node order: node k is
 * the captured value `order[k]`. The tracer leaves this to the reader (a pass per column here costs
 * a fraction of what each costs in Python).
 */
function inNodeOrder(json: TracerGraph, n: number, block: Uint8Array | undefined): NodeColumns {
  const order = column(Uint32Array, json.order, n, "order", block);
  const rank = new Uint32Array(n); // capture position -> node id
  const seen = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const v = order[k];
    if (v >= n || seen[v]) throw new Error("the tracer's node order is not one of its nodes each");
    seen[v] = 1;
    rank[v] = k;
  }
  const childCount = column(Uint32Array, json.childCount, n, "childCount", block);
  const captureStart = new Uint32Array(n + 1);
  let edges = 0;
  for (let v = 0; v < n; v++) {
    edges += childCount[v];
    if (edges > 0xffffffff) throw new Error("the tracer's graph has too many edges");
    captureStart[v + 1] = edges;
  }
  const capturedChild = column(Uint32Array, json.child, edges, "child", block);
  const capturedLocal = column(Float64Array, json.localGrad, edges, "localGrad", block);
  const capturedData = column(Float64Array, json.data, n, "data", block);
  const capturedGrad = column(Float64Array, json.grad, n, "grad", block);
  const capturedTag = column(Uint32Array, json.tag, n, "tag", block);
  const capturedOp = json.op === undefined ? undefined : column(Uint16Array, json.op, n, "op", block);
  const out: NodeColumns = {
    childStart: new Uint32Array(n + 1),
    child: new Uint32Array(edges),
    localGrad: new Float64Array(edges),
    data: new Float64Array(n),
    grad: new Float64Array(n),
    tag: new Uint32Array(n),
    ...(capturedOp ? { op: new Uint16Array(n) } : {}),
    edgeOf: new Uint32Array(edges),
  };
  let e = 0;
  for (let k = 0; k < n; k++) {
    const v = order[k];
    out.data[k] = capturedData[v];
    out.grad[k] = capturedGrad[v];
    out.tag[k] = capturedTag[v];
    if (capturedOp) out.op![k] = capturedOp[v];
    for (let c = captureStart[v]; c < captureStart[v + 1]; c++, e++) {
      const input = capturedChild[c];
      if (input >= n) throw new Error(`the tracer's node ${k} has an input that is not in the graph`);
      out.child[e] = rank[input];
      out.localGrad[e] = capturedLocal[c];
      out.edgeOf[c] = e;
    }
    out.childStart[k + 1] = e;
  }
  return out;
}

/** Each node's site: the run's per-tag table read at each node's tag. */
function nodeSites(json: TracerGraph, tag: Uint32Array, block: Uint8Array | undefined): Int32Array {
  const tagSite = table(Int32Array, json.tagSite, "tagSite", block);
  const site = new Int32Array(tag.length);
  for (let i = 0; i < tag.length; i++) {
    if (tag[i] >= tagSite.length) throw new Error(`the tracer's node ${i} has no site`);
    site[i] = tagSite[tag[i]];
  }
  return site;
}

/** Each node's op when the class names none: the op of the method that made it (per tag: `tagOp`
 * into `opNames`; "op" when unnamed) for a node with inputs, "" for a leaf. */
function opsOfTags(json: TracerGraph, childStart: Uint32Array, tag: Uint32Array, block: Uint8Array | undefined): { opNames: string[]; op: Uint16Array } {
  const names = json.opNames;
  const tagOp = table(Uint32Array, json.tagOp, "tagOp", block);
  const opNames: string[] = [];
  const indexOfName = new Map<string, number>();
  // Per (tag, has inputs): the node's op index, found once (-1: not yet).
  const opOfKey = new Int32Array(tagOp.length * 2).fill(-1);
  const op = new Uint16Array(tag.length);
  for (let i = 0; i < tag.length; i++) {
    const t = tag[i];
    if (t >= tagOp.length || tagOp[t] >= names.length) throw new Error(`the tracer's node ${i} has no op`);
    const hasInputs = childStart[i + 1] > childStart[i] ? 1 : 0;
    const key = t * 2 + hasInputs;
    if (opOfKey[key] < 0) {
      const name = hasInputs ? names[tagOp[t]] || "op" : "";
      let index = indexOfName.get(name);
      if (index === undefined) {
        index = opNames.length;
        if (index > 0xffff) throw new Error("the tracer's graph has more than 65,536 op names");
        opNames.push(name);
        indexOfName.set(name, index);
      }
      opOfKey[key] = index;
    }
    op[i] = opOfKey[key];
  }
  return { opNames, op };
}

const isEdgeList = (x: unknown): x is unknown[] => Array.isArray(x);

/** A graph as GraphSnapshot (the tracer's columns, or a graph decoded already and handed on), its
 * checks passed, and the edges whose local gradient is unknown; not yet in topological order. */
function nodeOrderGraph(json: TracerGraph | GraphSnapshot, n: number, block: Uint8Array | undefined): { graph: GraphSnapshot; unknownLocalGrad: number[] } {
  const unknown = (json as { unknownLocalGrad?: unknown }).unknownLocalGrad;
  const listed = isEdgeList(unknown) ? unknown.filter((e): e is number => Number.isInteger(e) && (e as number) >= 0) : [];
  if ("site" in json) {
    // Decoded already (on the decoding thread): checked again, kept as it is.
    const childStart = column(Uint32Array, json.childStart, n + 1, "childStart", block);
    const edges = childStart[n];
    const graph: GraphSnapshot = {
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
      if (childStart[i] > childStart[i + 1]) throw new Error(`the tracer's node ${i} is malformed`);
      for (let e = childStart[i]; e < childStart[i + 1]; e++) if (graph.child[e] >= n) throw new Error(`the tracer's node ${i} has an input that is not in the graph`);
    }
    return { graph, unknownLocalGrad: listed.filter((e) => e < edges) };
  }
  const columns = inNodeOrder(json, n, block);
  const { opNames, op } = columns.op ? { opNames: json.opNames, op: columns.op } : opsOfTags(json, columns.childStart, columns.tag, block);
  const graph: GraphSnapshot = {
    nodeCount: n,
    opNames,
    op,
    data: columns.data,
    grad: columns.grad,
    site: nodeSites(json, columns.tag, block),
    labels: {},
    childStart: columns.childStart,
    child: columns.child,
    localGrad: columns.localGrad,
    root: n - 1,
  };
  const edges = columns.child.length;
  return { graph, unknownLocalGrad: listed.filter((e) => e < edges).map((e) => columns.edgeOf[e]).sort((a, b) => a - b) };
}

/** The tracer's graph as a snapshot in topological order, the edges whose local gradient is unknown,
 * and how its node ids were renumbered to be in that order (undefined: they came in it, graphOrder.ts).
 * Throws when its columns do not fit together. `block`: the result file's columns. */
export function decodeSnapshot(json: TracerGraph | GraphSnapshot, block?: Uint8Array): { graph: GraphSnapshot; unknownLocalGrad: number[]; renumbering?: Renumbering } {
  const n = json.nodeCount;
  if (!Number.isInteger(n) || n < 1 || json.root !== n - 1 || !Array.isArray(json.opNames) || !json.opNames.every((name) => typeof name === "string")) throw new Error("the tracer's graph has no nodes");
  const { graph, unknownLocalGrad } = nodeOrderGraph(json, n, block);
  for (let i = 0; i < n; i++) if (graph.op[i] >= graph.opNames.length) throw new Error(`the tracer's node ${i} is malformed`);
  const labels: unknown = json.labels;
  if (typeof labels === "object" && labels !== null) {
    for (const [id, label] of Object.entries(labels)) if (typeof label === "string" && Number(id) >= 0 && Number(id) < n) graph.labels[Number(id)] = label;
  }
  const renumbering = topologicalRenumbering(graph.childStart, graph.child);
  if (!renumbering) return { graph, unknownLocalGrad };
  return { graph: renumberGraph(graph, renumbering), unknownLocalGrad: renumberEdges(unknownLocalGrad, renumbering), renumbering };
}

/** The tracer's graph as a snapshot in topological order, for callers with no node ids of their own to move along. */
export function toSnapshot(json: TracerGraph | GraphSnapshot, block?: Uint8Array): GraphSnapshot {
  return decodeSnapshot(json, block).graph;
}
