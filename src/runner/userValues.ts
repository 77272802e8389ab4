/**
 * Learners' own `Value` classes at run time, beside the user's code (in the worker). A value of such a
 * class is recognised by its shape — numeric `data` and `grad`, inputs in `children`/`_children`/`_prev`/
 * `prev` (an array or a Set) — when it passes through the instrumentation's helpers. The class's
 * `backward` is wrapped on its prototype, so each call records its root's graph with every node's data
 * and grad as they were when that `backward()` returned; at the end of the run each recorded graph
 * becomes the same `GraphSnapshot` the engine makes. Local gradients come from `localGrads`/`_localGrads`
 * where the class stores them, else are recovered exactly from each node's `_backward`/`backwardStep`
 * (called in isolation: output grad 1, the inputs' grads saved and zeroed, then restored); where
 * neither exists the local gradient is unknown (NaN in the snapshot, `null` in `graph --json`).
 * GradLens's own engine never comes here: `instanceof Value` is checked first.
 */
import { Value as EngineValue, creationSite, type GraphSnapshot } from "../engine";
import * as l10n from "@vscode/l10n";
import { packLabels } from "./labelTransfer";
import { findNonFinite } from "./snapshotNonFinite";
import type { WorkerBinding, WorkerError, WorkerOutput, WorkerRoot } from "./protocol";

/** A value among its own inputs; `nodes` go around the cycle. */
class GraphCycle extends Error {
  constructor(readonly nodes: UserValue[]) {
    super("cycle");
  }
}

/** The values on the path from `to` down to the top of the stack (entered, not done): the cycle. */
function pathBack(stack: readonly UserValue[], state: ReadonlyMap<UserValue, 1 | 2>, to: UserValue): UserValue[] {
  const path = new Set<UserValue>();
  for (let i = stack.length - 1; i >= 0; i--) {
    const u = stack[i];
    if (state.get(u) === 1) path.add(u);
    if (u === to) break;
  }
  return [...path].reverse();
}

/** Where a class keeps a value's inputs, its op name, its local gradients and its backward step. */
export const CHILDREN_KEYS = ["children", "_children", "_prev", "prev"] as const;
const OP_KEYS = ["op", "_op"] as const;
export const LOCAL_GRAD_KEYS = ["localGrads", "_localGrads", "_local_grads"] as const;
export const STEP_KEYS = ["_backward", "backwardStep"] as const;
/** Op names whose derivative jumps at 0 (a gradient check there is "at a kink"). */
const KINK_OPS = new Set(["relu", "ReLU", "Relu"]);
const MAX_BACKWARD_SITES = 16;
const WRAPPED = Symbol("gradlens.backward");

export type UserValue = Record<string | symbol, unknown>;

/** A graph of a learner's class as a snapshot, with the user's value of each snapshot node (for op checks). */
export interface LearnerGraph {
  /** Index of the graph in the run's roots; undefined for a gradient check's own graph. */
  root?: number;
  graph: GraphSnapshot;
  nodes: readonly UserValue[];
}

/** A root's graph as it was when backward() returned: nodes children-first, their inputs and numbers. */
export interface RecordedGraph {
  nodes: UserValue[];
  inputs: UserValue[][];
  data: Float64Array;
  grad: Float64Array;
}

export function field(v: UserValue, keys: readonly string[]): unknown {
  for (const key of keys) {
    const x = v[key];
    if (x !== undefined) return x;
  }
  return undefined;
}

export function childrenOf(v: UserValue): unknown[] | undefined {
  for (const key of CHILDREN_KEYS) {
    const x = v[key];
    if (Array.isArray(x)) return x;
    if (x instanceof Set) return [...x];
  }
  return undefined;
}

/** The op name of a value whose class names no ops. */
export const UNNAMED_OP = "op";

export function opOf(v: UserValue, hasInputs: boolean): string {
  const op = field(v, OP_KEYS);
  if (typeof op === "string" && op !== "") return op;
  return hasInputs ? UNNAMED_OP : "";
}

export const numberOf = (x: unknown): number => (typeof x === "number" ? x : typeof x === "object" && x !== null && typeof (x as UserValue).data === "number" ? ((x as UserValue).data as number) : Number.NaN);

export class UserValues {
  /** False while GradLens itself calls the user's backward() (gradient checks). */
  enabled = true;
  private readonly classes = new Map<object, boolean>();
  private readonly sites = new WeakMap<object, number>();
  private readonly labels = new WeakMap<object, string>();
  private readonly roots = new Map<number, { graph: RecordedGraph; calls: number }>();
  private readonly bindingLast = new Map<number, UserValue>();
  private readonly bindingCounts = new Map<number, number>();
  private lastValue: { value: UserValue; binding: number } | undefined;
  private backwardDepth = 0;
  /** The first graph found with a value among its own inputs: an error, its graph not drawn (as in Python). */
  private cycle: { through: number; siteId: number; name?: string } | undefined;
  /** A training run's hook (training/workerTraining.ts): each recorded backward() with its graph. */
  onRecorded: ((root: UserValue, graph: RecordedGraph, site: number) => void) | undefined;

  /** The learner's graph of the last gradient check call (adaptForChecks), for its op checks. */
  private lastCheckOutput: UserValue | undefined;

  /** `onBackward`: after each recorded backward() (the worker's checkpoints); `onBackwardStart`: as the outermost one starts. */
  constructor(
    private readonly bindingNames: readonly string[],
    private readonly onBackward: () => void = () => undefined,
    private readonly onBackwardStart: (root: UserValue, site: number) => void = () => undefined,
  ) {}

  isValue(x: unknown): x is UserValue {
    if (typeof x !== "object" || x === null || x instanceof EngineValue || Array.isArray(x)) return false;
    const proto = Object.getPrototypeOf(x) as object | null;
    // Plain objects share one prototype: only class instances are remembered per class.
    const perClass = proto !== null && proto !== Object.prototype;
    const known = perClass ? this.classes.get(proto) : undefined;
    if (known !== undefined) return known;
    let numbers = false;
    let ok = false;
    try {
      const v = x as UserValue;
      numbers = typeof v.data === "number" && typeof v.grad === "number";
      ok = numbers && childrenOf(v) !== undefined;
    } catch {
      ok = false; // a getter that throws: not something GradLens can draw
    }
    // A leaf without an inputs field says nothing about its class: ask again on the next value.
    if (perClass && (ok || !numbers)) {
      this.classes.set(proto, ok);
      if (ok) this.wrapBackward(proto);
    }
    return ok;
  }

  /** The class's constructor reports each new value (instrumented: `__gl_v(this)`); its class is then known before any backward(). */
  made(x: unknown): void {
    if (typeof x !== "object" || x === null || this.sites.has(x)) return;
    this.sites.set(x, creationSite.site);
    this.isValue(x);
  }

  bind(binding: number, x: unknown): void {
    if (!this.isValue(x)) return;
    if (!this.labels.has(x)) this.labels.set(x, this.bindingNames[binding]);
    this.bindingCounts.set(binding, (this.bindingCounts.get(binding) ?? 0) + 1);
    this.bindingLast.set(binding, x);
    this.lastValue = { value: x, binding };
  }

  /** The bindings as they are now; calling the result puts them back (gradient checks bind too). */
  keepBindings(): () => void {
    const last = new Map(this.bindingLast);
    const counts = new Map(this.bindingCounts);
    const lastValue = this.lastValue;
    return () => {
      this.bindingLast.clear();
      for (const [k, v] of last) this.bindingLast.set(k, v);
      this.bindingCounts.clear();
      for (const [k, v] of counts) this.bindingCounts.set(k, v);
      this.lastValue = lastValue;
    };
  }

  expression(x: unknown): void {
    if (this.isValue(x)) this.lastValue = { value: x, binding: -1 };
  }

  private wrapBackward(proto: object): void {
    let owner: object | null = proto;
    while (owner && owner !== Object.prototype && !Object.prototype.hasOwnProperty.call(owner, "backward")) owner = Object.getPrototypeOf(owner) as object | null;
    if (!owner || owner === Object.prototype) return;
    const original = (owner as UserValue).backward;
    if (typeof original !== "function" || (original as unknown as UserValue)[WRAPPED]) return;
    const enter = (root: unknown, site: number) => {
      if (this.backwardDepth++ === 0 && this.enabled && this.isValue(root)) this.onBackwardStart(root, site);
    };
    const noteCycle = (root: unknown) => {
      if (this.backwardDepth > 0 || !this.isValue(root)) return;
      try {
        this.read(root);
      } catch (thrown) {
        if (thrown instanceof GraphCycle) this.noteCycle(thrown);
      }
    };
    // Only the outermost call records: a recursive backward() calls itself on every node.
    const leave = (root: unknown, site: number) => {
      this.backwardDepth--;
      if (this.enabled && this.backwardDepth === 0 && this.isValue(root)) this.recordBackward(root, site);
    };
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      const site = creationSite.site;
      enter(this, site);
      let finished = false;
      try {
        const result = (original as (...a: unknown[]) => unknown).apply(this, args);
        finished = true;
        return result;
      } finally {
        if (finished) leave(this, site);
        else leave(undefined, site);
        // A backward() that failed on a cyclic graph (endless recursion): the cycle is the error.
        if (!finished) noteCycle(this);
      }
    };
    (wrapped as unknown as UserValue)[WRAPPED] = true;
    try {
      Object.defineProperty(owner, "backward", { value: wrapped, writable: true, configurable: true, enumerable: false });
    } catch {
      // A frozen class: its graphs are then drawn from the last value only.
    }
  }

  private recordBackward(root: UserValue, site: number): void {
    let graph: RecordedGraph;
    try {
      graph = this.read(root);
    } catch (thrown) {
      if (thrown instanceof GraphCycle) this.noteCycle(thrown);
      return; // a value GradLens cannot read (a getter that throws): the user's backward() still returns normally
    }
    const entry = this.roots.get(site);
    if (entry) {
      entry.graph = graph;
      entry.calls++;
    } else if (this.roots.size < MAX_BACKWARD_SITES) {
      this.roots.set(site, { graph, calls: 1 });
    }
    this.onRecorded?.(root, graph, site);
    this.onBackward();
  }

  private noteCycle(cycle: GraphCycle): void {
    if (this.cycle) return;
    // Where the value whose inputs lead back to itself was made (the nearest known line).
    const siteId = [...cycle.nodes].reverse().map((v) => this.sites.get(v) ?? 0).find((s) => s > 0) ?? 0;
    this.cycle = { through: cycle.nodes.length, siteId, name: this.labelOf(cycle.nodes[0]) };
  }

  /** Every value `root` depends on, children before parents (first input first), with the numbers now. Throws GraphCycle. */
  private read(root: UserValue): RecordedGraph {
    const state = new Map<UserValue, 1 | 2>(); // 1 entered, 2 done
    const inputsOf = new Map<UserValue, UserValue[]>();
    const nodes: UserValue[] = [];
    const stack: UserValue[] = [root];
    while (stack.length > 0) {
      const v = stack[stack.length - 1];
      const s = state.get(v);
      if (s === undefined) {
        state.set(v, 1);
        let inputs: UserValue[] = [];
        try {
          inputs = (childrenOf(v) ?? []).filter((c): c is UserValue => this.isValue(c));
        } catch {
          inputs = [];
        }
        inputsOf.set(v, inputs);
        for (const c of inputs) {
          // An input entered but not done is on the path from the root to here: a cycle.
          if (state.get(c) === 1) throw new GraphCycle(pathBack(stack, state, c));
        }
        for (let j = inputs.length - 1; j >= 0; j--) if (!state.has(inputs[j])) stack.push(inputs[j]);
      } else {
        stack.pop();
        if (s === 1) {
          state.set(v, 2);
          nodes.push(v);
        }
      }
    }
    const data = Float64Array.from(nodes, (v) => numberOf(v.data));
    const grad = Float64Array.from(nodes, (v) => numberOf(v.grad));
    return { nodes, inputs: nodes.map((v) => inputsOf.get(v) ?? []), data, grad };
  }

  /** The recorded graphs (else the last value's) as worker roots, and the bindings of user values. */
  results(
    rootStart: number,
    nodeLimit: number | undefined,
    allowLastValue: boolean,
  ): { roots: WorkerRoot[]; bindings: WorkerBinding[]; error?: WorkerError; replacesError?: boolean; nonFinite?: WorkerOutput["nonFinite"]; graphs: LearnerGraph[] } {
    const chosen: { graph: RecordedGraph; siteId: number; calls: number; reason: "backward" | "last-value"; name?: string }[] = [];
    for (const [siteId, { graph, calls }] of this.roots) chosen.push({ graph, siteId, calls, reason: "backward" });
    if (chosen.length === 0 && allowLastValue && this.lastValue && !this.cycle) {
      const { value, binding } = this.lastValue;
      try {
        chosen.push({ graph: this.read(value), siteId: this.sites.get(value) ?? 0, calls: 0, reason: "last-value", name: binding >= 0 ? this.bindingNames[binding] : undefined });
      } catch (thrown) {
        if (!(thrown instanceof GraphCycle)) throw thrown;
        this.noteCycle(thrown);
        this.cycle!.name ??= binding >= 0 ? this.bindingNames[binding] : undefined;
      }
    }
    const out: ReturnType<UserValues["results"]> = { roots: [], bindings: [], graphs: [] };
    if (this.cycle) {
      const { through, siteId, name } = this.cycle;
      const message = l10n.t("the graph of {0} has a cycle: a value is among its own inputs (through {1} values), so it cannot be drawn and backward() cannot be right", name ?? l10n.t("root #{0}", rootStart + 1), through);
      out.error = { kind: "runtime", message, frames: [], siteId };
      out.replacesError = true;
    }
    const nodeOf = new Map<UserValue, { root: number; id: number }>();
    for (const c of chosen) {
      const root = c.graph.nodes[c.graph.nodes.length - 1];
      const index = rootStart + out.roots.length;
      const name = this.labelOf(root) ?? c.name ?? l10n.t("root #{0}", index + 1);
      if (nodeLimit !== undefined && c.graph.nodes.length > nodeLimit) {
        const count = c.graph.nodes.length.toLocaleString("en-US");
        out.error ??= { kind: "too-large", message: l10n.t("the graph of {0} has {1} nodes, more than the limit of {2}", name, count, nodeLimit.toLocaleString("en-US")), frames: [], siteId: c.siteId };
        continue;
      }
      const graph = this.snapshot(c.graph);
      out.graphs.push({ root: index, graph: { ...graph }, nodes: c.graph.nodes });
      const labels = packLabels(graph.labels);
      graph.labels = {};
      const workerRoot: WorkerRoot = { name, reason: c.reason, siteId: c.siteId, graph, labels };
      if (c.calls > 1) workerRoot.calls = c.calls;
      out.roots.push(workerRoot);
      c.graph.nodes.forEach((v, id) => {
        if (!nodeOf.has(v)) nodeOf.set(v, { root: index, id });
      });
      out.nonFinite ??= nonFiniteIn(graph, index);
    }
    for (const [id, v] of this.bindingLast) {
      const inputs = childrenOf(v) ?? [];
      const binding: WorkerBinding = { id, data: numberOf(v.data), grad: numberOf(v.grad), op: opOf(v, inputs.length > 0), count: this.bindingCounts.get(id) ?? 0 };
      const node = nodeOf.get(v);
      if (node) binding.node = node;
      out.bindings.push(binding);
    }
    return out;
  }

  /** The learner's graph the last gradient check call built (see adaptForChecks), for its op checks. */
  lastCheckGraph(): LearnerGraph | undefined {
    const out = this.lastCheckOutput;
    if (!out) return undefined;
    const recorded = this.read(out);
    return { graph: this.snapshot(recorded), nodes: recorded.nodes };
  }

  /** The first leaf under `root` that already holds a grad (backward() is about to add to it). */
  firstStaleLeaf(root: UserValue): { label?: string; grad: number } | undefined {
    for (const v of this.read(root).nodes) {
      const grad = numberOf(v.grad);
      if ((childrenOf(v) ?? []).length === 0 && grad !== 0) return { label: this.labelOf(v), grad };
    }
    return undefined;
  }

  private labelOf(v: UserValue): string | undefined {
    const label = v.label;
    return typeof label === "string" && label !== "" ? label : this.labels.get(v);
  }

  /** The site that made a value of the learner's class (0 if unknown). */
  siteOf(v: object): number {
    return this.sites.get(v) ?? 0;
  }

  /** A recorded graph as the engine's snapshot (a training run's kept steps). */
  snapshotOf(recorded: RecordedGraph): GraphSnapshot {
    return this.snapshot(recorded);
  }

  private snapshot(recorded: RecordedGraph): GraphSnapshot {
    const { nodes, inputs } = recorded;
    const n = nodes.length;
    const edges = this.localGradients(recorded);
    const index = new Map<UserValue, number>();
    nodes.forEach((v, i) => index.set(v, i));
    const opNames: string[] = [];
    const opIndex = new Map<string, number>();
    const op = new Uint16Array(n);
    const site = new Int32Array(n);
    const labels: Record<number, string> = {};
    const childStart = new Uint32Array(n + 1);
    const edgeCount = edges.reduce((sum, e) => sum + e.length, 0);
    const child = new Uint32Array(edgeCount);
    const localGrad = new Float64Array(edgeCount);
    let e = 0;
    for (let i = 0; i < n; i++) {
      const v = nodes[i];
      const name = opOf(v, inputs[i].length > 0);
      let k = opIndex.get(name);
      if (k === undefined) {
        k = opNames.length;
        opNames.push(name);
        opIndex.set(name, k);
      }
      op[i] = k;
      site[i] = this.sites.get(v) ?? 0;
      const label = this.labelOf(v);
      if (label !== undefined) labels[i] = label;
      childStart[i] = e;
      for (const [c, g] of edges[i]) {
        child[e] = index.get(c) as number;
        localGrad[e] = g;
        e++;
      }
    }
    childStart[n] = e;
    return { nodeCount: n, opNames, op, data: recorded.data.slice(), grad: recorded.grad.slice(), site, labels, childStart, child, localGrad, root: n - 1 };
  }

  /**
   * Each node's edges [input, d(node)/d(input)]: stored local gradients one edge per input; recovered
   * ones one edge per distinct input (a closure gives `z*z` its combined 2z), computed with every node's
   * data as at backward() so later updates do not leak in. All numbers are put back afterwards.
   */
  private localGradients(recorded: RecordedGraph): [UserValue, number][][] {
    const { nodes, inputs } = recorded;
    const now = nodes.map((v) => [v.data, v.grad] as const);
    try {
      nodes.forEach((v, i) => assign(v, "data", recorded.data[i]));
      return nodes.map((v, i) => {
        const cs = inputs[i];
        if (cs.length === 0) return [];
        const stored = field(v, LOCAL_GRAD_KEYS);
        const raw = childrenOf(v) ?? [];
        if (Array.isArray(stored) && stored.length === raw.length) {
          const edges: [UserValue, number][] = [];
          raw.forEach((c, j) => {
            if (this.isValue(c)) edges.push([c, numberOf(stored[j])]);
          });
          return edges;
        }
        const distinct = [...new Set(cs)];
        const step = field(v, STEP_KEYS);
        if (typeof step !== "function" || distinct.includes(v)) return distinct.map((c): [UserValue, number] => [c, Number.NaN]);
        return recover(v, distinct, step as (this: unknown) => unknown);
      });
    } finally {
      nodes.forEach((v, i) => {
        assign(v, "data", now[i][0]);
        assign(v, "grad", now[i][1]);
      });
    }
  }

  /**
   * The registered functions, for gradient checks of a file with its own `Value` class: each takes the
   * checker's inputs, calls the user's function with values of the user's class, runs the user's own
   * backward(), and hands the checker a GradLens value whose inputs are the checker's leaves with the
   * user's gradients as local gradients (plus one relu marker per relu of the user's graph, so kinks
   * are seen). The checker's tolerances and verdicts are then the same as for GradLens's own engine.
   */
  adaptForChecks(registered: ReadonlyMap<string, unknown>): ReadonlyMap<string, unknown> {
    const UserClass = registered.get("Value");
    if (typeof UserClass !== "function" || UserClass === EngineValue) return registered;
    const make = UserClass as new (data: number) => unknown;
    const adapted = new Map<string, unknown>();
    for (const [name, fn] of registered) {
      if (typeof fn !== "function" || name === "Value") {
        adapted.set(name, fn);
        continue;
      }
      const wrapper = (...args: (EngineValue | EngineValue[])[]) => {
        const leaves: EngineValue[] = [];
        const own: UserValue[] = [];
        const toOwn = (v: EngineValue) => {
          const u = new make(v.data) as UserValue;
          leaves.push(v);
          own.push(u);
          return u;
        };
        const userArgs = args.map((a) => (Array.isArray(a) ? a.map(toOwn) : toOwn(a)));
        const wasEnabled = this.enabled;
        this.enabled = false;
        try {
          const out: unknown = (fn as (...a: unknown[]) => unknown)(...userArgs);
          if (!this.isValue(out)) return out; // the checker says what it returned
          if (typeof out.backward !== "function") throw new TypeError(`${name} returned a value whose class has no backward() method`);
          (out.backward as () => void).call(out);
          this.lastCheckOutput = out;
          const markers = this.read(out).nodes
            .filter((v) => KINK_OPS.has(opOf(v, true)))
            .map((v) => new EngineValue(0, [new EngineValue(numberOf(childrenOf(v)?.[0]))], [0], "relu"));
          return new EngineValue(numberOf(out.data), [...leaves, ...markers], [...own.map((u) => numberOf(u.grad)), ...markers.map(() => 0)], "user");
        } finally {
          this.enabled = wasEnabled;
        }
      };
      learnerClassWrappers.add(wrapper);
      adapted.set(name, wrapper);
    }
    return adapted;
  }
}

/**
 * Functions `adaptForChecks` made: their engine graph is one stand-in node over the user's own graph,
 * so the engine's op checks would judge the stand-in, not the learner's ops.
 */
const learnerClassWrappers = new WeakSet<object>();

export function wrapsLearnerClass(fn: unknown): boolean {
  return typeof fn === "function" && learnerClassWrappers.has(fn);
}

/** d(v)/d(c) for each distinct input c, from one isolated call of v's backward step. */
function recover(v: UserValue, inputs: UserValue[], step: (this: unknown) => unknown): [UserValue, number][] {
  const saved = inputs.map((c) => c.grad);
  const own = v.grad;
  try {
    for (const c of inputs) c.grad = 0;
    v.grad = 1;
    step.call(v);
    return inputs.map((c): [UserValue, number] => [c, numberOf(c.grad)]);
  } catch {
    return inputs.map((c): [UserValue, number] => [c, Number.NaN]);
  } finally {
    inputs.forEach((c, j) => assign(c, "grad", saved[j]));
    assign(v, "grad", own);
  }
}

/** Writes a number back into a user's value; a frozen or read-only one keeps what it has. */
function assign(v: UserValue, key: "data" | "grad", x: unknown): void {
  try {
    v[key] = x;
  } catch {
    // Nothing to restore into.
  }
}

/** The first non-finite value of a graph, found as for Python's graphs (the same snapshot form). */
function nonFiniteIn(graph: GraphSnapshot, root: number): WorkerOutput["nonFinite"] {
  const found = findNonFinite([{ name: "", reason: "backward", graph }], () => undefined);
  return found ? { ...found, root, siteId: graph.site[found.id] } : undefined;
}
