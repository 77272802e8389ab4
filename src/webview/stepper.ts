/**
 * Stepping through backprop (or the forward pass). On a graph shown node by node each step is
 * one node, as in the tutorial's trace. On a level of groups a step takes every node of the next
 * item at once — its grads pushed and their sum — so a 60k-node graph steps group by group, and
 * inside an opened group node by node.
 */
import type { GraphStrings } from "../protocol/messages";
import { BackwardAnimation } from "./animation";
import { el } from "./dom";
import { fillIn, formatNumber } from "./format";
import { localGradUnknown, nameOf, opOf, type GraphModel } from "./graphModel";
import type { Level } from "./level";

export type StepMode = "backward" | "forward";

interface Run {
  /** Animation step (backward) or forward step at the end of the run. */
  end: number;
  /** Item index in the level, −1 for nodes outside it. */
  item: number;
}

export interface StepSummary {
  item: number;
  pushes: number;
  /** The sum of the known pushes. */
  sum: number;
  /** Pushes whose local gradient (or grad) was unknown: not in the sum. */
  unknown: number;
}

export class Stepper {
  mode: StepMode = "backward";
  readonly animation: BackwardAnimation;
  private forwardStep = 0;
  private runs: Run[] | undefined;
  private index = 0;
  /** What the last grouped step did (for the trace). */
  last: StepSummary | undefined;

  constructor(private readonly model: GraphModel) {
    this.animation = new BackwardAnimation(model.snapshot, model.unknownEdge);
  }

  /** Steps by item on a level of groups, node by node on a flat one. */
  setLevel(level: Level | undefined): void {
    const keep = this.rawStep;
    this.runs = level && level.group !== undefined ? this.runsOf(level) : undefined;
    this.seekRaw(keep);
  }

  get step(): number {
    return this.runs ? this.index : this.rawStep;
  }

  get stepCount(): number {
    if (this.runs) return this.runs.length;
    const n = this.model.snapshot.nodeCount;
    return this.mode === "backward" ? n + 1 : n;
  }

  /** The underlying node-by-node step. */
  get rawStep(): number {
    return this.mode === "backward" ? this.animation.step : this.forwardStep;
  }

  setMode(mode: StepMode, level: Level | undefined): void {
    this.animation.reset();
    this.forwardStep = 0;
    this.index = 0;
    this.mode = mode;
    this.setLevel(level);
  }

  seek(target: number): void {
    const k = Math.max(0, Math.min(target, this.stepCount));
    if (!this.runs) {
      this.seekRaw(k);
      return;
    }
    this.index = k;
    const end = k === 0 ? 0 : this.runs[k - 1].end;
    const start = k <= 1 ? 0 : this.runs[k - 2].end;
    this.last = undefined;
    if (this.mode === "forward") {
      this.forwardStep = end;
      if (k > 0) this.last = { item: this.runs[k - 1].item, pushes: end - start, sum: 0, unknown: 0 };
      return;
    }
    this.animation.seek(start);
    let pushes = 0;
    let sum = 0;
    let unknown = 0;
    while (this.animation.step < end) {
      for (const p of this.animation.next().pushes) {
        pushes++;
        if (p.unknown) unknown++;
        else sum += p.local * p.parentGrad;
      }
    }
    if (k > 0) this.last = { item: this.runs[k - 1].item, pushes, sum, unknown };
  }

  /** Whether node i's data is known at this forward step (always in backward mode). */
  known(i: number): boolean {
    return this.mode === "backward" || this.rawStep === 0 || i < this.forwardStep;
  }

  /**
   * The grad to show for node i: the running one while stepping backward; null while it depends
   * on an unknown local gradient (after the last step, the run's own grad).
   */
  grad(i: number): number | null {
    const a = this.animation;
    if (this.mode !== "backward" || a.step === 0 || (a.step >= a.stepCount && a.unknown[i] === 1)) return this.model.snapshot.grad[i];
    return a.unknown[i] === 1 ? null : a.grad[i];
  }

  /** The node being worked on, if stepping node by node. */
  get activeNode(): number | undefined {
    if (this.rawStep === 0) return undefined;
    return this.mode === "backward" ? this.animation.last.active : this.forwardStep - 1;
  }

  traceLines(strings: GraphStrings, itemTitle: (item: number) => string): HTMLElement[] {
    const step = this.step;
    if (step === 0) return [];
    const head = (text: string): HTMLElement => el("div", { class: "trace-head" }, text);
    const line = (text: string): HTMLElement => el("div", { class: "trace-line" }, text);
    const done = step === this.stepCount ? [el("div", { class: "trace-done" }, this.mode === "backward" ? strings.backwardDone : strings.forwardDone)] : [];
    const name = (i: number): string => nameOf(this.model, i);
    const s = this.model.snapshot;
    if (this.runs && this.last && this.last.pushes !== 1) {
      const title = itemTitle(this.last.item);
      const sum = this.last.unknown > 0 && this.last.unknown === this.last.pushes ? strings.unknown : formatNumber(this.last.sum);
      return [head(`${step}/${this.stepCount} · ${title}`), line(fillIn(strings.groupStep, title, this.last.pushes, sum)), ...done];
    }
    if (this.mode === "forward") {
      const i = this.forwardStep - 1;
      const op = opOf(this.model, i);
      const inputs: string[] = [];
      for (let e = s.childStart[i]; e < s.childStart[i + 1]; e++) inputs.push(name(s.child[e]));
      const text = op ? `${op}(${inputs.join(", ")})` : formatNumber(s.data[i]);
      return [head(fillIn(strings.forwardStep, step, this.stepCount, name(i), text)), line(`${name(i)}.data = ${formatNumber(s.data[i])}`), ...done];
    }
    const a = this.animation;
    if (a.step === 1) return [head(`${step}/${this.stepCount}`), line(fillIn(strings.backwardStart, name(s.root))), ...done];
    const v = a.last.active as number;
    const op = opOf(this.model, v);
    const number = (x: number, unknown: boolean): string => (unknown ? strings.unknown : formatNumber(x));
    const gradOfV = number(a.grad[v], a.unknown[v] === 1);
    const lines = [head(`${step}/${this.stepCount} · ${name(v)}${op ? ` (${op})` : ""} · ${strings.grad} ${gradOfV}`)];
    for (let k = 0; k < a.last.pushes.length; k++) {
      const p = a.last.pushes[k];
      const local = number(p.local, localGradUnknown(this.model, s.childStart[v] + k));
      lines.push(line(`${name(p.child)}.grad += ${local} × ${gradOfV} = ${number(p.after, p.unknown)}`));
    }
    if (a.last.pushes.length === 0) lines.push(line(`${name(v)}: ${strings.leaf}`));
    return [...lines, ...done];
  }

  private seekRaw(k: number): void {
    if (this.mode === "backward") this.animation.seek(k);
    else this.forwardStep = Math.max(0, Math.min(k, this.model.snapshot.nodeCount));
    if (this.runs) {
      // The grouped step that contains raw step k.
      let r = 0;
      while (r < this.runs.length && this.runs[r].end < k) r++;
      this.index = k === 0 ? 0 : r + 1;
    }
  }

  /** Consecutive raw steps on the same item make one step. */
  private runsOf(level: Level): Run[] {
    const s = this.model.snapshot;
    const n = s.nodeCount;
    const { rep } = level;
    const { childStart } = s;
    const runs: Run[] = [];
    // One tight loop over every node (60k on a microgpt step): the run grows while the item stays.
    let item = NaN;
    let last: Run | undefined;
    const step = (end: number, next: number): void => {
      if (next === item && last) last.end = end;
      else {
        item = next;
        last = { end, item: next };
        runs.push(last);
      }
    };
    if (this.mode === "backward") {
      // Step 1 sets the output's grad, step k ≥ 2 pushes node n − (k − 1). A leaf pushes nothing:
      // its step joins the current one, so a level of parameters and computations steps by computation.
      step(1, rep[s.root]);
      for (let k = 2; k <= n + 1; k++) {
        const v = n - (k - 1);
        step(k, childStart[v + 1] === childStart[v] ? item : rep[v]);
      }
    } else {
      for (let k = 1; k <= n; k++) step(k, rep[k - 1]);
    }
    return runs;
  }
}
