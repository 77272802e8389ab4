/**
 * What the view derives once from a snapshot: each node's role, its layer (longest path from
 * the inputs, so inputs sit left and the output right), its parents, and the non-finite nodes.
 * Linear in nodes + edges, because node ids are already a topological order.
 */
import type { GraphSnapshot } from "../engine/snapshot";
import type { ParameterPaths, SourceSite } from "../protocol/result";

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
  /** The first non-finite node (where the NaN or Infinity started), if the run reported one in this graph. */
  origin: number | undefined;
  /** Parameter paths by node, when the runner found them. */
  paths: Map<number, string> | undefined;
  /** 1 for each edge whose local gradient is unknown (a closure-based engine keeps it in `_backward`). */
  unknownEdge: Uint8Array | undefined;
}

export function buildModel(snapshot: GraphSnapshot, sites: SourceSite[], extra: { origin?: number; paths?: ParameterPaths; unknownLocalGrad?: readonly number[] } = {}): GraphModel {
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
  let paths: Map<number, string> | undefined;
  if (extra.paths && extra.paths.node.length === extra.paths.path.length) {
    paths = new Map();
    for (let k = 0; k < extra.paths.node.length; k++) paths.set(extra.paths.node[k], extra.paths.path[k]);
  }
  const origin = extra.origin !== undefined && extra.origin >= 0 && extra.origin < n ? extra.origin : firstNonFinite(snapshot, nonFinite);
  let unknownEdge: Uint8Array | undefined;
  for (const e of extra.unknownLocalGrad ?? []) {
    if (!Number.isInteger(e) || e < 0 || e >= child.length) continue;
    unknownEdge ??= new Uint8Array(child.length);
    unknownEdge[e] = 1;
  }
  return { snapshot, sites, layer, parentStart, parent, nonFinite, logGradRange: [lo, hi], origin, paths, unknownEdge };
}

/** Whether edge e's local gradient is unknown (not a NaN the program computed). */
export function localGradUnknown(model: GraphModel, e: number): boolean {
  return model.unknownEdge !== undefined && model.unknownEdge[e] === 1;
}

/**
 * Where a NaN or Infinity started when the runner did not say: the first value that went
 * non-finite in the forward pass, else the first grad in the backward pass (the highest id).
 */
function firstNonFinite(s: GraphSnapshot, nonFinite: number[]): number | undefined {
  const data = nonFinite.find((i) => !Number.isFinite(s.data[i]));
  return data ?? nonFinite[nonFinite.length - 1];
}

export function roleOf(model: GraphModel, i: number): Role {
  const s = model.snapshot;
  if (i === s.root) return "output";
  return s.childStart[i + 1] === s.childStart[i] ? "leaf" : "intermediate";
}

export function opOf(model: GraphModel, i: number): string {
  return model.snapshot.opNames[model.snapshot.op[i]];
}

/** Longest name shown on a node (the tooltip has the whole expression). */
const maxNameLength = 28;

export function shorten(text: string, max = maxNameLength): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A constant as the program wrote it: `2`, `0.5`, `-1e-8`. */
export function constantText(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  return String(Number(x.toPrecision(4)));
}

/**
 * The node's display name, in the program's own words: its label (a name the user gave, or the
 * variable its expression was bound to), else its parameter path, else the variable its source
 * expression went to (only for that expression's final value: in `z = x*y + w`, `x*y` is not `z`),
 * else the expression itself, shortened; a constant is its value. Never empty, never an internal id.
 */
export function nameOf(model: GraphModel, i: number): string {
  const s = model.snapshot;
  const label = s.labels[i];
  if (label !== undefined) return label;
  const path = model.paths?.get(i);
  if (path !== undefined) return path;
  const site = s.site[i] > 0 ? model.sites[s.site[i]] : undefined;
  if (s.childStart[i + 1] === s.childStart[i]) {
    // `new Value(uniform())` says where a parameter came from; a bare number made inside an op is a constant.
    if (site && /^(new\s|\w+\s*=\s*)?\w*Value\(/.test(site.text) && !/^(new\s)?\w*Value\(-?[\d.e+-]+\)$/.test(site.text)) return shorten(site.text);
    return constantText(s.data[i]);
  }
  if (site?.binding && isSiteResult(model, i)) return site.binding;
  if (site) return shorten(site.text);
  return opOf(model, i) || constantText(s.data[i]);
}

/** No consumer of the node comes from the same source expression: it is what the expression gave back. */
function isSiteResult(model: GraphModel, i: number): boolean {
  const s = model.snapshot;
  for (let e = model.parentStart[i]; e < model.parentStart[i + 1]; e++) if (s.site[model.parent[e]] === s.site[i]) return false;
  return true;
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
