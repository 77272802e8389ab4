/**
 * The backprop and forward step-throughs, recomputed from the snapshot's own numbers
 * (data, local gradients), never from formulas written for one example.
 *
 * Backward, as in the tutorial's trace: step 0 is "every grad is 0", step 1 sets the
 * output's grad to 1, and each later step takes the next node in reverse topological order
 * and pushes its grad to its children: `child.grad += local × grad`.
 * Forward: after step k the values of nodes 0 … k−1 (topological order) are known.
 *
 * An edge whose local gradient is unknown (a closure-based engine keeps it inside `_backward`)
 * pushes nothing: its child's grad becomes unknown, and so does everything it then pushes — the
 * animation says "unknown" rather than inventing a NaN.
 */
import type { GraphSnapshot } from "../engine/snapshot";

export interface Push {
  child: number;
  /** The edge's local gradient; NaN when it is unknown (then `after` is the known part only). */
  local: number;
  /** The local gradient, or the grad being pushed, is unknown: nothing was added. */
  unknown: boolean;
  parentGrad: number;
  before: number;
  after: number;
}

export interface BackwardStep {
  /** The node whose grad is being pushed at this step (the output at step 1). */
  active: number | undefined;
  pushes: Push[];
}

export function backwardStepCount(s: GraphSnapshot): number {
  return s.nodeCount + 1;
}

export function forwardStepCount(s: GraphSnapshot): number {
  return s.nodeCount;
}

/** Grads after `step` steps of the backward pass, and what the last step did. */
export class BackwardAnimation {
  readonly grad: Float64Array;
  /** 1 where the running grad depends on an unknown local gradient. */
  readonly unknown: Uint8Array;
  step = 0;
  last: BackwardStep = { active: undefined, pushes: [] };

  constructor(
    private readonly s: GraphSnapshot,
    private readonly unknownEdge?: Uint8Array,
  ) {
    this.grad = new Float64Array(s.nodeCount);
    this.unknown = new Uint8Array(s.nodeCount);
  }

  get stepCount(): number {
    return backwardStepCount(this.s);
  }

  reset(): void {
    this.grad.fill(0);
    this.unknown.fill(0);
    this.step = 0;
    this.last = { active: undefined, pushes: [] };
  }

  /** Moves to `target` (replaying from zero when going back: grads only accumulate). */
  seek(target: number): void {
    const clamped = Math.max(0, Math.min(target, this.stepCount));
    if (clamped < this.step) this.reset();
    while (this.step < clamped) this.next();
  }

  next(): BackwardStep {
    if (this.step >= this.stepCount) return this.last;
    const s = this.s;
    this.step++;
    if (this.step === 1) {
      this.grad[s.root] = 1;
      this.last = { active: s.root, pushes: [] };
      return this.last;
    }
    const v = s.nodeCount - (this.step - 1); // reverse topological order: root first
    const pushes: Push[] = [];
    for (let e = s.childStart[v]; e < s.childStart[v + 1]; e++) {
      const c = s.child[e];
      const before = this.grad[c];
      const unknown = this.unknown[v] === 1 || this.unknownEdge?.[e] === 1;
      if (unknown) this.unknown[c] = 1;
      else this.grad[c] = before + s.localGrad[e] * this.grad[v];
      pushes.push({ child: c, local: s.localGrad[e], unknown, parentGrad: this.grad[v], before, after: this.grad[c] });
    }
    this.last = { active: v, pushes };
    return this.last;
  }
}
