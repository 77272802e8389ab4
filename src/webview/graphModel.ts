/**
 * What the view derives once from a snapshot: each node's role, its layer (longest path from
 * the inputs, so inputs sit left and the output right), its parents, and the non-finite nodes.
 * Linear in nodes + edges, because node ids are already a topological order.
 */
import type { GraphSnapshot } from "../engine/snapshot";
import type { SourceSite } from "../protocol/result";

export type Role = "leaf" | "intermediate" | "output";

export interface GraphModel {
  snapshot: GraphSnapshot;
  sites: SourceSite[];
  /** Column of each value node: 0 for inputs; a leaf sits just left of its first consumer. */
  layer: Int32Array;
  /** Parents (consumers) of node i are `parent[parentStart[i] .. parentStart[i+1])`. */
  parentStart: Uint32Array;
  parent: Uint32Array;
  /** Nodes whose data or grad is NaN or ±Infinity, in topological order. */
  nonFinite: number[];
  /** Log10 of the smallest and largest finite non-zero |grad|, for the colour scale. */
  logGradRange: [number, number];
}

export function buildModel(snapshot: GraphSnapshot, sites: SourceSite[]): GraphModel {
  const n = snapshot.nodeCount;
  const { childStart, child } = snapshot;
  const layer = new Int32Array(n);
  const parentCount = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) {
    let deepest = -1;
    for (let e = childStart[i]; e < childStart[i + 1]; e++) {
      const c = child[e];
      if (layer[c] > deepest) deepest = layer[c];
      parentCount[c + 1]++;
    }
    layer[i] = deepest + 1;
  }
  const parentStart = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) parentStart[i + 1] = parentStart[i] + parentCount[i + 1];
  const parent = new Uint32Array(parentStart[n]);
  const fill = parentStart.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let e = childStart[i]; e < childStart[i + 1]; e++) parent[fill[child[e]]++] = i;
  }
  // A leaf (a constant, a parameter) goes one column before its earliest consumer, not all the
  // way left: micrograd's pictures keep `2` next to the `*` that uses it.
  for (let i = 0; i < n; i++) {
    if (childStart[i + 1] !== childStart[i] || parentStart[i + 1] === parentStart[i]) continue;
    let earliest = Infinity;
    for (let e = parentStart[i]; e < parentStart[i + 1]; e++) earliest = Math.min(earliest, layer[parent[e]]);
    layer[i] = Math.max(0, earliest - 1);
  }
  const nonFinite: number[] = [];
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const g = snapshot.grad[i];
    if (!Number.isFinite(g) || !Number.isFinite(snapshot.data[i])) nonFinite.push(i);
    if (Number.isFinite(g) && g !== 0) {
      const l = Math.log10(Math.abs(g));
      if (l < lo) lo = l;
      if (l > hi) hi = l;
    }
  }
  if (lo > hi) [lo, hi] = [0, 0];
  return { snapshot, sites, layer, parentStart, parent, nonFinite, logGradRange: [lo, hi] };
}

export function roleOf(model: GraphModel, i: number): Role {
  const s = model.snapshot;
  if (i === s.root) return "output";
  return s.childStart[i + 1] === s.childStart[i] ? "leaf" : "intermediate";
}

export function opOf(model: GraphModel, i: number): string {
  return model.snapshot.opNames[model.snapshot.op[i]];
}

/**
 * The node's display name: its label, else the variable its source expression was bound to
 * (not for constants made inside that expression: `2` in `y = x.mul(2)` is not `y`), else "".
 */
export function nameOf(model: GraphModel, i: number): string {
  const s = model.snapshot;
  const label = s.labels[i];
  if (label !== undefined) return label;
  if (s.childStart[i + 1] === s.childStart[i]) return "";
  return model.sites[s.site[i]]?.binding ?? "";
}

export const gradBuckets = 8;

/** Which colour bucket |grad| falls in on the graph's log scale; -1 for zero, -2 for non-finite. */
export function gradBucket(model: GraphModel, grad: number): number {
  if (!Number.isFinite(grad)) return -2;
  if (grad === 0) return -1;
  const [lo, hi] = model.logGradRange;
  if (hi <= lo) return gradBuckets - 1;
  const t = (Math.log10(Math.abs(grad)) - lo) / (hi - lo);
  return Math.min(gradBuckets - 1, Math.max(0, Math.floor(t * gradBuckets)));
}
