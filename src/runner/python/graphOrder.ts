/**
 * A tracer graph put in topological order when the order it came in is not one. The tracer orders
 * nodes by when their values were made, which is topological unless a value's creation record is not
 * its own (a value made by copy or pickle, not by its class's `__init__`, can take the record of an
 * older value that had its id). That is rare, so the tracer checks every edge only when the program
 * changed some value's inputs (python/gradlens_graph.py `_order`) and leaves the other cases to this
 * reader, which checks every edge anyway (snapshotColumns.ts).
 */
import type { GraphSnapshot } from "../../engine/snapshot";
import type { CallFrames } from "../../protocol/result";

/** What a renumbered graph's ids were: index by the id in the tracer's order, read the new one. */
export interface Renumbering {
  node: Uint32Array;
  edge: Uint32Array;
}

/** undefined when every input comes before its node (the usual case); else a depth-first order of
 * the graph from its root (inputs first, the root last). Throws on a cycle, or when a node does not
 * lead to the root (the tracer never writes one). `child` values must be below the node count. */
export function topologicalRenumbering(childStart: Uint32Array, child: Uint32Array): Renumbering | undefined {
  const n = childStart.length - 1;
  if (isTopological(childStart, child)) return undefined;
  const root = n - 1;
  const ON_PATH = 1;
  const PLACED = 2;
  const state = new Uint8Array(n);
  const nextEdge = new Uint32Array(n);
  const path = new Uint32Array(n);
  const node = new Uint32Array(n);
  let placed = 0;
  let depth = 0;
  path[depth++] = root;
  state[root] = ON_PATH;
  nextEdge[root] = childStart[root];
  while (depth > 0) {
    const v = path[depth - 1];
    if (nextEdge[v] < childStart[v + 1]) {
      const c = child[nextEdge[v]++];
      if (state[c] === ON_PATH) throw new Error("the graph has a cycle: a value is among its own inputs");
      if (state[c] === 0) {
        state[c] = ON_PATH;
        nextEdge[c] = childStart[c];
        path[depth++] = c;
      }
    } else {
      state[v] = PLACED;
      node[v] = placed++;
      depth--;
    }
  }
  if (placed !== n) throw new Error(`${n - placed} of the graph's nodes do not lead to its root`);
  const order = new Uint32Array(n); // new id -> old id
  for (let v = 0; v < n; v++) order[node[v]] = v;
  const edge = new Uint32Array(child.length);
  let e = 0;
  for (let k = 0; k < n; k++) {
    const v = order[k];
    for (let old = childStart[v]; old < childStart[v + 1]; old++) edge[old] = e++;
  }
  return { node, edge };
}

function isTopological(childStart: Uint32Array, child: Uint32Array): boolean {
  const n = childStart.length - 1;
  for (let i = 0; i < n; i++) for (let e = childStart[i]; e < childStart[i + 1]; e++) if (child[e] >= i) return false;
  return true;
}

/** The graph with its nodes and edges in their new places (labels too). */
export function renumberGraph(g: GraphSnapshot, r: Renumbering): GraphSnapshot {
  const n = g.nodeCount;
  const op = new Uint16Array(n);
  const data = new Float64Array(n);
  const grad = new Float64Array(n);
  const site = new Int32Array(n);
  const counts = new Uint32Array(n);
  for (let v = 0; v < n; v++) {
    const k = r.node[v];
    op[k] = g.op[v];
    data[k] = g.data[v];
    grad[k] = g.grad[v];
    site[k] = g.site[v];
    counts[k] = g.childStart[v + 1] - g.childStart[v];
  }
  const childStart = new Uint32Array(n + 1);
  for (let k = 0; k < n; k++) childStart[k + 1] = childStart[k] + counts[k];
  const child = new Uint32Array(g.child.length);
  const localGrad = new Float64Array(g.localGrad.length);
  for (let e = 0; e < g.child.length; e++) {
    child[r.edge[e]] = r.node[g.child[e]];
    localGrad[r.edge[e]] = g.localGrad[e];
  }
  const labels: Record<number, string> = {};
  for (const [id, label] of Object.entries(g.labels)) labels[r.node[Number(id)]] = label;
  return { nodeCount: n, opNames: g.opNames, op, data, grad, site, labels, childStart, child, localGrad, root: n - 1 };
}

/** Edge indices (the unknown local gradients) in their new places, in edge order. */
export function renumberEdges(edges: number[], r: Renumbering): number[] {
  return edges.map((e) => r.edge[e]).sort((a, b) => a - b);
}

/** A graph's call stacks with their per-node column in the nodes' new places. */
export function renumberFrames(frames: CallFrames, r: Renumbering): CallFrames {
  const node = new Int32Array(frames.node.length);
  for (let v = 0; v < node.length; v++) node[r.node[v]] = frames.node[v];
  return { ...frames, node };
}

/** `{root, id}` references to nodes (bindings, op checks) moved with their graphs' renumberings. */
export function renumberNodeRef(ref: { root: number; id: number } | undefined, renumberings: readonly (Renumbering | undefined)[]): void {
  const r = ref ? renumberings[ref.root] : undefined;
  if (ref && r && ref.id >= 0 && ref.id < r.node.length) ref.id = r.node[ref.id];
}

/** A record keyed by node id (a training step's parameter paths) with its keys moved. */
export function renumberKeys<T>(byNode: Record<string, T>, r: Renumbering): Record<string, T> {
  const moved: Record<string, T> = {};
  for (const [id, value] of Object.entries(byNode)) {
    const old = Number(id);
    if (Number.isInteger(old) && old >= 0 && old < r.node.length) moved[String(r.node[old])] = value;
  }
  return moved;
}
