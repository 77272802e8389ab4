/**
 * The backprop and forward step-throughs, recomputed from the snapshot's own numbers
 * (data, local gradients), never from formulas written for one example.
 *
 * Backward, as in the tutorial's trace: step 0 is "every grad is 0", step 1 sets the
 * output's grad to 1, and each later step takes the next node in reverse topological order
 * and pushes its grad to its children: `child.grad += local × grad`.
 * Forward: after step k the values of nodes 0 … k−1 (topological order) are known.
 */
import type { GraphSnapshot } from "../engine/snapshot";

export interface Push {
  child: number;
  local: number;
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
  step = 0;
  last: BackwardStep = { active: undefined, pushes: [] };

  constructor(private readonly s: GraphSnapshot) {
    this.grad = new Float64Array(s.nodeCount);
  }

  get stepCount(): number {
    return backwardStepCount(this.s);
  }

  reset(): void {
    this.grad.fill(0);
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
      this.grad[c] = before + s.localGrad[e] * this.grad[v];
      pushes.push({ child: c, local: s.localGrad[e], parentGrad: this.grad[v], before, after: this.grad[c] });
    }
    this.last = { active: v, pushes };
    return this.last;
  }
}
