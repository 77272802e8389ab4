/**
 * Where did the NaN come from? JavaScript never throws on log(0) or 0⁻¹; it yields
 * ±Infinity or NaN, which then spreads to everything downstream. The useful answer is
 * the first node whose own result went non-finite while all its inputs were finite.
 */
import { Value, topologicalOrder } from "./value";

export interface NonFiniteOrigin {
  node: Value;
  /** "data": the forward result went non-finite; "grad": backprop produced it. */
  field: "data" | "grad";
  value: number;
}

/** The first node (children before parents) whose data is non-finite from finite inputs. */
export function findNonFiniteData(root: Value, order: Value[] = topologicalOrder(root)): NonFiniteOrigin | undefined {
  for (const v of order) {
    if (Number.isFinite(v.data)) continue;
    if (v.children.every((c) => Number.isFinite(c.data))) return { node: v, field: "data", value: v.data };
  }
  return undefined;
}

/**
 * The first node, in backprop order (root first), whose grad is non-finite although
 * every parent that pushed into it had a finite grad — i.e. a local gradient was the culprit.
 */
export function findNonFiniteGrad(root: Value, order: Value[] = topologicalOrder(root)): NonFiniteOrigin | undefined {
  const parentGradFinite = new Map<Value, boolean>();
  for (let i = order.length - 1; i >= 0; i--) {
    const v = order[i];
    const inheritedFinite = parentGradFinite.get(v) ?? true;
    if (!Number.isFinite(v.grad) && inheritedFinite) return { node: v, field: "grad", value: v.grad };
    if (!Number.isFinite(v.grad)) {
      for (const c of v.children) parentGradFinite.set(c, false);
    }
  }
  return undefined;
}

/** The forward origin if there is one, else the backward one. */
export function findNonFiniteOrigin(root: Value): NonFiniteOrigin | undefined {
  const order = topologicalOrder(root);
  return findNonFiniteData(root, order) ?? findNonFiniteGrad(root, order);
}
