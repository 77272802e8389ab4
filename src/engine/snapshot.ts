/**
 * A serialisable picture of everything that leads to a root.
 *
 * Columnar (one typed array per field) so that a million-node graph costs a few
 * tens of megabytes and crosses a worker or webview boundary without per-node objects.
 * Node ids are positions in topological order: children before parents, the root last.
 */
import { Value, topologicalOrder, numberPositions, positionIn } from "./value";

export interface GraphSnapshot {
  nodeCount: number;
  /** Distinct op names; `op[i]` indexes into this table ("" is a leaf). */
  opNames: string[];
  op: Uint16Array;
  data: Float64Array;
  grad: Float64Array;
  /** Source site per node (0 = unknown); the runner maps sites to file positions. */
  site: Int32Array;
  /** Labels of the nodes that have one, by node id. */
  labels: Record<number, string>;
  /** Children of node i are `child[childStart[i] .. childStart[i+1])`, with matching `localGrad`. */
  childStart: Uint32Array;
  child: Uint32Array;
  localGrad: Float64Array;
  /** Id of the root (always nodeCount − 1). */
  root: number;
}

/**
 * A snapshot's labels as typed arrays, by ascending node id (names in order of first use): the
 * form in which they cross process boundaries (see runner/labelTransfer.ts).
 */
export interface PackedLabels {
  ids: Uint32Array;
  /** Index into `names` per id. */
  nameIndex: Uint32Array;
  names: string[];
}

export function snapshotGraph(root: Value, order: Value[] = topologicalOrder(root)): GraphSnapshot {
  const { graph, labels } = snapshotGraphPacked(root, order);
  for (let k = 0; k < labels.ids.length; k++) graph.labels[labels.ids[k]] = labels.names[labels.nameIndex[k]];
  return graph;
}

/**
 * The snapshot of a graph that is sent away: its labels come packed (and `graph.labels` is empty),
 * without a record keyed by node (a microgpt step labels ~40 % of its nodes: building that record
 * and packing it afterwards cost about as much as the rest of the snapshot).
 */
export function snapshotGraphPacked(root: Value, order: Value[] = topologicalOrder(root)): { graph: GraphSnapshot; labels: PackedLabels } {
  const n = order.length;
  let edgeCount = 0;
  for (let i = 0; i < n; i++) edgeCount += order[i].childCount;
  const mark = numberPositions(order);
  const opIndex = new Map<string, number>();
  const opNames: string[] = [];
  const op = new Uint16Array(n);
  const data = new Float64Array(n);
  const grad = new Float64Array(n);
  const site = new Int32Array(n);
  const labelled: number[] = [];
  const nameOf: number[] = [];
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  // Labels come in runs of the same name (a variable's values): the last one's index usually serves.
  let lastName: string | undefined;
  let lastIndex = -1;
  const childStart = new Uint32Array(n + 1);
  const child = new Uint32Array(edgeCount);
  const localGrad = new Float64Array(edgeCount);
  let e = 0;
  for (let i = 0; i < n; i++) {
    const v = order[i];
    let k = opIndex.get(v.op);
    if (k === undefined) {
      k = opNames.length;
      opNames.push(v.op);
      opIndex.set(v.op, k);
    }
    op[i] = k;
    data[i] = v.data;
    grad[i] = v.grad;
    site[i] = v.site;
    const label = v.label;
    if (label !== undefined) {
      if (label !== lastName) {
        let index = nameIndex.get(label);
        if (index === undefined) {
          index = names.length;
          names.push(label);
          nameIndex.set(label, index);
        }
        lastName = label;
        lastIndex = index;
      }
      labelled.push(i);
      nameOf.push(lastIndex);
    }
    childStart[i] = e;
    for (let j = 0; j < v.childCount; j++) {
      // A child outside `order` (a caller's partial list) reads as node 0, as it always has.
      child[e] = Math.max(0, positionIn(v.child(j), mark));
      localGrad[e] = v.localGrad(j);
      e++;
    }
  }
  childStart[n] = e;
  const graph: GraphSnapshot = { nodeCount: n, opNames, op, data, grad, site, labels: {}, childStart, child, localGrad, root: n - 1 };
  return { graph, labels: { ids: Uint32Array.from(labelled), nameIndex: Uint32Array.from(nameOf), names } };
}

/** One node, as a plain object (for small graphs, tests and the CLI). */
export interface SnapshotNode {
  id: number;
  op: string;
  label: string | undefined;
  data: number;
  grad: number;
  site: number;
}

/** One edge from an input (`from`) to the value computed from it (`to`). */
export interface SnapshotEdge {
  from: number;
  to: number;
  localGrad: number;
}

export function snapshotNodes(s: GraphSnapshot): SnapshotNode[] {
  const nodes: SnapshotNode[] = [];
  for (let i = 0; i < s.nodeCount; i++) {
    nodes.push({ id: i, op: s.opNames[s.op[i]], label: s.labels[i], data: s.data[i], grad: s.grad[i], site: s.site[i] });
  }
  return nodes;
}

export function snapshotEdges(s: GraphSnapshot): SnapshotEdge[] {
  const edges: SnapshotEdge[] = [];
  for (let to = 0; to < s.nodeCount; to++) {
    for (let e = s.childStart[to]; e < s.childStart[to + 1]; e++) {
      edges.push({ from: s.child[e], to, localGrad: s.localGrad[e] });
    }
  }
  return edges;
}

/**
 * JSON cannot hold NaN or ±Infinity; these become the strings "NaN", "Infinity", "-Infinity"
 * wherever a number is written for a user (CLI output, webview messages).
 */
export type JsonNumber = number | "NaN" | "Infinity" | "-Infinity";

export function toJsonNumber(x: number): JsonNumber {
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";
}

export function fromJsonNumber(x: JsonNumber): number {
  return typeof x === "number" ? x : Number(x);
}

/**
 * A `GraphSnapshot` as plain JSON: typed arrays become arrays, non-finite numbers strings.
 * The one JSON form of a graph — webview messages and the Python tracer's output both use it.
 */
export interface SnapshotJson {
  nodeCount: number;
  opNames: string[];
  op: number[];
  data: JsonNumber[];
  grad: JsonNumber[];
  site: number[];
  labels: Record<number, string>;
  childStart: number[];
  child: number[];
  localGrad: JsonNumber[];
  root: number;
}

export function snapshotToJson(s: GraphSnapshot): SnapshotJson {
  return {
    nodeCount: s.nodeCount,
    opNames: s.opNames,
    op: Array.from(s.op),
    data: Array.from(s.data, toJsonNumber),
    grad: Array.from(s.grad, toJsonNumber),
    site: Array.from(s.site),
    labels: { ...s.labels },
    childStart: Array.from(s.childStart),
    child: Array.from(s.child),
    localGrad: Array.from(s.localGrad, toJsonNumber),
    root: s.root,
  };
}

export function snapshotFromJson(json: SnapshotJson): GraphSnapshot {
  // JSON object keys are strings; labels are keyed by node id.
  const labels: Record<number, string> = {};
  for (const [id, label] of Object.entries(json.labels)) labels[Number(id)] = label;
  return {
    nodeCount: json.nodeCount,
    opNames: json.opNames,
    op: Uint16Array.from(json.op),
    data: Float64Array.from(json.data, fromJsonNumber),
    grad: Float64Array.from(json.grad, fromJsonNumber),
    site: Int32Array.from(json.site),
    labels,
    childStart: Uint32Array.from(json.childStart),
    child: Uint32Array.from(json.child),
    localGrad: Float64Array.from(json.localGrad, fromJsonNumber),
    root: json.root,
  };
}
