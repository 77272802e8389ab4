/**
 * The forward of a user-defined op of GradLens's engine, for op checks (see opCheck.ts): the function
 * that made the node is called again on fresh leaves, and the node it makes at the same site is read.
 * Candidates, in turn: the top-level function the site is in (registered for checks: all its
 * parameters are Values), and a method of that name on the first input (`x.softplus()`, a subclass
 * or a patched prototype). A candidate counts only if, at the recorded inputs, it makes a node with
 * the same op at the same site from exactly the fresh leaves, with the recorded output.
 */
import * as l10n from "@vscode/l10n";
import { Value, topologicalOrder } from "../engine";
import type { OpForward, OpGraph } from "./opCheck";

type Candidate = (leaves: Value[]) => unknown;

export function rerunForward(
  orders: ReadonlyMap<OpGraph, readonly Value[]>,
  registered: ReadonlyMap<string, unknown>,
  functionOfSite: (site: number) => string | undefined,
): (graph: OpGraph, id: number) => { forward: OpForward } | { reason: string } {
  return (graph, id) => {
    const node = orders.get(graph)?.[id];
    if (!node) return { reason: l10n.t("its node is not at hand to re-run") };
    const name = functionOfSite(node.site);
    if (!name) return { reason: l10n.t("{0} is made outside a function, so its forward cannot be re-run", node.op) };
    const children = [...node.children];
    const candidates: Candidate[] = [];
    const fn = registered.get(name);
    if (typeof fn === "function") candidates.push((leaves) => (fn as (...args: Value[]) => unknown)(...leaves));
    const method: unknown = (children[0] as unknown as Record<string, unknown>)[name];
    if (typeof method === "function") candidates.push((leaves) => (method as (...args: Value[]) => unknown).apply(leaves[0], leaves.slice(1)));
    const recorded = graph.graph;
    const inputs: number[] = [];
    for (let e = recorded.childStart[id]; e < recorded.childStart[id + 1]; e++) inputs.push(recorded.data[recorded.child[e]]);
    for (const candidate of candidates) {
      const forward: OpForward = (at) => {
        try {
          const leaves = at.map((x, j) => leafLike(children[j], x));
          return madeAt(candidate(leaves), node, leaves)?.data;
        } catch {
          return undefined;
        }
      };
      const again = forward(inputs);
      if (again !== undefined && (Object.is(again, recorded.data[id]) || Math.abs(again - recorded.data[id]) <= 1e-12 * Math.max(1, Math.abs(recorded.data[id])))) return { forward };
    }
    return {
      reason: l10n.t("could not re-run {0}: write it as a function of its input Values (function {1}(x: Value): Value) or a method of its first input", node.op, name),
    };
  };
}

/** A fresh leaf of the same class as `like` (a learner's subclass keeps its methods). */
function leafLike(like: Value, x: number): Value {
  const Kind = like.constructor as new (data: number) => Value;
  try {
    const leaf = new Kind(x);
    if (leaf instanceof Value) return leaf;
  } catch {
    // a subclass whose constructor wants more: a plain leaf
  }
  return new Value(x);
}

/** The node `out`'s graph made at `like`'s site with `like`'s op from exactly `leaves`. */
function madeAt(out: unknown, like: Value, leaves: readonly Value[]): Value | undefined {
  if (!(out instanceof Value)) return undefined;
  for (const v of topologicalOrder(out)) {
    if (v.site !== like.site || v.op !== like.op || v.childCount !== leaves.length) continue;
    if (leaves.every((leaf, j) => v.child(j) === leaf)) return v;
  }
  return undefined;
}
