/**
 * Where a graph snapshot first went non-finite, for both runners (the Python tracer's graphs and
 * learners' own Value classes in the TypeScript child). Its own module, light on imports: the child
 * loads it, and must not load the Python runner (and its parser) with it.
 */
import { Value } from "../engine/value";
import { describeNonFinite } from "./nonFiniteMessage";
import type { NonFiniteReport, RootGraph, SourcePosition } from "../protocol/result";

/**
 * The first node whose data went NaN or ±Infinity from finite inputs, else the first (from the root)
 * whose grad did while its parents' grads were finite. Python raises where JavaScript gives NaN, so
 * this is rare (float overflow, `float("inf")`), but then it says where.
 */
export function findNonFinite(roots: RootGraph[], positionOfSite: (id: number) => SourcePosition | undefined): NonFiniteReport | undefined {
  for (let r = 0; r < roots.length; r++) {
    const g = roots[r].graph;
    const childrenOf = (i: number) => Array.from(g.child.subarray(g.childStart[i], g.childStart[i + 1]));
    let found: { id: number; field: "data" | "grad" } | undefined;
    for (let i = 0; i < g.nodeCount && !found; i++) {
      if (!Number.isFinite(g.data[i]) && childrenOf(i).every((c) => Number.isFinite(g.data[c]))) found = { id: i, field: "data" };
    }
    if (!found) {
      const parentGradFinite = new Array<boolean>(g.nodeCount).fill(true);
      for (let i = g.nodeCount - 1; i >= 0 && !found; i--) {
        if (!Number.isFinite(g.grad[i]) && parentGradFinite[i]) found = { id: i, field: "grad" };
        else if (!Number.isFinite(g.grad[i])) for (const c of childrenOf(i)) parentGradFinite[c] = false;
      }
    }
    if (!found) continue;
    const { id, field } = found;
    const op = g.opNames[g.op[id]];
    const value = field === "data" ? g.data[id] : g.grad[id];
    // The message is the TypeScript runner's; it reads the node's op and its inputs' data.
    const node = new Value(g.data[id], childrenOf(id).map((c) => new Value(g.data[c])), [], op);
    const report: NonFiniteReport = { field, value, op, root: r, id, message: describeNonFinite({ node, field, value }) };
    const position = positionOfSite(g.site[id]);
    if (position) report.position = position;
    return report;
  }
  return undefined;
}
