/**
 * Search over every node, whether its group is open or not: names (labels, parameter paths,
 * bound variables), ops, the source expression that made it, and the functions on its call stack.
 */
import { nameOf, type GraphModel } from "./graphModel";
import type { Hierarchy } from "./hierarchy";

/** Nodes that match `query` (case-insensitive), ascending. */
export function findNodes(model: GraphModel, hierarchy: Hierarchy | undefined, query: string): number[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const s = model.snapshot;
  const ops = new Set<number>();
  s.opNames.forEach((op, k) => {
    if (op && op.toLowerCase().includes(q)) ops.add(k);
  });
  const sites = new Set<number>();
  model.sites.forEach((site, k) => {
    if (k > 0 && (site.text.toLowerCase().includes(q) || site.binding?.toLowerCase().includes(q) || site.functionName?.toLowerCase().includes(q))) sites.add(k);
  });
  // A call matches when it, or a call around it, does (computed callers-first).
  const calls = hierarchy?.callsMatching(q);
  const out: number[] = [];
  for (let i = 0; i < s.nodeCount; i++) {
    const call = hierarchy ? hierarchy.callOf(i) : -1;
    if (ops.has(s.op[i]) || sites.has(s.site[i]) || (calls && call >= 0 && calls[call]) || nameOf(model, i).toLowerCase().includes(q)) out.push(i);
  }
  return out;
}

/** Every node the gradient flows through from `starts` up to the output (the nodes that use them, transitively). */
export function pathsToRoot(model: GraphModel, starts: readonly number[]): Uint8Array {
  const on = new Uint8Array(model.snapshot.nodeCount);
  const stack = [...starts];
  for (const i of starts) on[i] = 1;
  while (stack.length > 0) {
    const i = stack.pop() as number;
    for (let e = model.parentStart[i]; e < model.parentStart[i + 1]; e++) {
      const p = model.parent[e];
      if (!on[p]) {
        on[p] = 1;
        stack.push(p);
      }
    }
  }
  return on;
}
