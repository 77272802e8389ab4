/**
 * A scalar that remembers how it was computed — the tutorial's `Value`.
 *
 * Each op is a few lines: compute the result, and state beside it the local
 * derivative of the result with respect to each input. `backward()` then applies
 * the chain rule, `child.grad += localGrad * parent.grad`, in reverse topological order.
 *
 * Speed note: a microgpt training step makes 15k–136k nodes, so a node is kept small.
 * Its first two children are fields (every built-in op has one or two inputs) instead
 * of an array, and its numbers live in a shared block of doubles (see "slabs" below);
 * `data`, `grad`, `children` and `localGrads` read as the tutorial's fields do.
 * test/unit/engineOracle.test.ts checks all of it against the tutorial-style reference.
 */

/** A `Value` or a plain number, which ops wrap into a constant leaf. */
export type Operand = Value | number;

/**
 * Where new values are being made. The runner points `site` at the source
 * expression currently running; plain engine use leaves it at 0 ("unknown").
 */
export const creationSite = { site: 0 };

/**
 * Told about every `backward()` once it has run — the runner records which values were
 * backpropagated through this. One observer at a time; `undefined` removes it.
 */
let backwardObserver: ((root: Value) => void) | undefined;
export function observeBackward(observer: ((root: Value) => void) | undefined): void {
  backwardObserver = observer;
}

/** Creation counter: a child is always created before its parent, so ids grow along every edge. */
let nextId = 0;
/** How many values have been made so far (the next value's `id`); the runner's call records use it. */
export function valuesCreated(): number {
  return nextId;
}
/** Bumped by every graph walk, so "visited" is a number compare instead of a Set lookup. */
let walkEpoch = 0;
/** The stamp the last backward()'s walk left on every node it reached (valid until the next walk). */
let lastBackwardStamp = -1;
/**
 * The first-made leaf that already held a grad when the last backward() began, and that grad: the
 * walk that counts parents meets every leaf anyway, so the runner's "grads not reset" warning
 * needs no walk of its own.
 */
let staleLeaf: Value | undefined;
let staleLeafGrad = 0;

// Not frozen: the constructor reads them, never keeps them, and one array kind keeps its loads fast.
const NO_CHILDREN: readonly Value[] = [];
const NO_LOCAL_GRADS: readonly number[] = [];

/**
 * The built-in ops hand the constructor their inputs in these reused arrays, so a node costs
 * no arrays: the constructor copies one or two inputs into fields and never keeps the array.
 */
const ONE_INPUT: Value[] = [];
const TWO_INPUTS: Value[] = [];
const ONE_LOCAL_GRAD: number[] = [0.5]; // a double from the start, so the array stays one of doubles
const TWO_LOCAL_GRADS: number[] = [0.5, 0.5];
function inputs(a: Value, b?: Value): readonly Value[] {
  if (b === undefined) {
    ONE_INPUT[0] = a;
    return ONE_INPUT;
  }
  TWO_INPUTS[0] = a;
  TWO_INPUTS[1] = b;
  return TWO_INPUTS;
}
function derivatives(da: number, db?: number): readonly number[] {
  if (db === undefined) {
    ONE_LOCAL_GRAD[0] = da;
    return ONE_LOCAL_GRAD;
  }
  TWO_LOCAL_GRADS[0] = da;
  TWO_LOCAL_GRADS[1] = db;
  return TWO_LOCAL_GRADS;
}

/** A user-defined op's inputs from the third on, and their local gradients (kept out of the constructor so it stays small). */
function inputsAfterTheSecond(children: readonly Value[], localGrads: readonly number[]): { children: readonly Value[]; localGrads: readonly number[] } {
  const rest = children.slice(2);
  return { children: rest, localGrads: rest.map((_, i) => localGrads[i + 2] ?? NaN) };
}

/** The graph walks below need the nodes' private fields, so `Value`'s static block defines them. */
let countParents: (root: Value) => void;
let sortTopologically: (root: Value) => Value[];
let numberNodes: (order: readonly Value[]) => number;
let numberOfNode: (v: Value, mark: number) => number;
let anyLeafWhere: (root: Value, test: (leaf: Value) => boolean) => boolean;
let reachedByLastBackward: (v: Value) => boolean | undefined;

/**
 * Slabs: the numbers of each node — data, grad, the local gradients of its first two
 * inputs, and its bookkeeping — are eight consecutive doubles in a shared Float64Array,
 * not fields of the object. V8 boxes every double field in a heap object of its own, and
 * the garbage collector copies each box and field of every live node of a 136k-node graph;
 * a slab is one off-heap block for a thousand nodes, which the collector does not copy.
 * A slab lives as long as any of its nodes (at most 64 KB held by one long-lived value).
 */
const SLAB_NODES = 1024;
const SLOTS = 8;
const DATA = 0;
const GRAD = 1;
const LOCAL_GRAD_0 = 2;
const LOCAL_GRAD_1 = 3;
const ID = 4;
const SITE = 5;
const WALK_STAMP = 6; // which graph walk last reached the node
const PENDING_PARENTS = 7; // during backward(): parents still to push their grad here
let slab = new Float64Array(SLAB_NODES * SLOTS);
let slabUsed = 0;

export class Value {
  /** A user's name for the node (shown in the graph); the runner fills in bound variable names. */
  label: string | undefined;
  /** The op that made it: "+", "*", "**2", "exp", …; "" for a leaf. */
  readonly op: string;
  /** How many inputs this value was computed from. */
  readonly childCount: number;
  /** Inputs 0 and 1 are fields, for speed; a user-defined op's further inputs and their local gradients, an array. */
  private readonly child0: Value | null;
  private readonly child1: Value | null;
  private readonly moreInputs: { children: readonly Value[]; localGrads: readonly number[] } | null;
  /** Where this node's numbers live: slab[offset + DATA], slab[offset + GRAD], … */
  private readonly slab: Float64Array;
  private readonly offset: number;

  /**
   * A leaf (`new Value(3)`), or the result of an op given its inputs and the local
   * gradient d(result)/d(input) of each: `new Value(x.data ** 2, [x], [2 * x.data], "square")`.
   * A missing local gradient counts as NaN, so the mistake shows instead of hiding.
   */
  constructor(data: number, children: readonly Value[] = NO_CHILDREN, localGrads: readonly number[] = NO_LOCAL_GRADS, op = "") {
    if (slabUsed === SLAB_NODES) {
      slab = new Float64Array(SLAB_NODES * SLOTS);
      slabUsed = 0;
    }
    const o = SLOTS * slabUsed++;
    this.slab = slab;
    this.offset = o;
    slab[o + DATA] = data;
    slab[o + ID] = nextId++;
    slab[o + SITE] = creationSite.site;
    this.label = undefined;
    this.op = op;
    const n = children.length;
    this.childCount = n;
    this.child0 = n > 0 ? children[0] : null;
    this.child1 = n > 1 ? children[1] : null;
    if (n > 0) slab[o + LOCAL_GRAD_0] = localGrads[0] ?? NaN;
    if (n > 1) slab[o + LOCAL_GRAD_1] = localGrads[1] ?? NaN;
    this.moreInputs = n > 2 ? inputsAfterTheSecond(children, localGrads) : null;
  }

  /** Creation order; unique per process. */
  get id(): number {
    return this.slab[this.offset + ID];
  }

  /** The source site that was running when this value was made (0 = unknown). */
  get site(): number {
    return this.slab[this.offset + SITE];
  }

  /** The number this value holds (computed in the forward pass). */
  get data(): number {
    return this.slab[this.offset + DATA];
  }
  set data(x: number) {
    this.slab[this.offset + DATA] = x;
  }

  /** d(root)/d(this), filled in by the root's backward(). */
  get grad(): number {
    return this.slab[this.offset + GRAD];
  }
  set grad(x: number) {
    this.slab[this.offset + GRAD] = x;
  }

  // ---- The ops: the result, and beside it d(result)/d(each input) -------------------

  // d(a+b)/da = 1, d(a+b)/db = 1
  add(other: Operand): Value {
    const o = toValue(other);
    return new Value(this.data + o.data, inputs(this, o), derivatives(1, 1), "+");
  }

  // d(a·b)/da = b, d(a·b)/db = a
  mul(other: Operand): Value {
    const o = toValue(other);
    return new Value(this.data * o.data, inputs(this, o), derivatives(o.data, this.data), "*");
  }

  // d(xⁿ)/dx = n·xⁿ⁻¹ (n is a plain number, as in the tutorial)
  pow(exponent: number): Value {
    return new Value(this.data ** exponent, inputs(this), derivatives(exponent * this.data ** (exponent - 1)), powName(exponent));
  }

  // d(eˣ)/dx = eˣ
  exp(): Value {
    const e = Math.exp(this.data);
    return new Value(e, inputs(this), derivatives(e), "exp");
  }

  // d(ln x)/dx = 1/x
  log(): Value {
    return new Value(Math.log(this.data), inputs(this), derivatives(1 / this.data), "log");
  }

  // d(max(0,x))/dx = 1 if x > 0 else 0 (so relu'(0) = 0)
  relu(): Value {
    return new Value(this.data > 0 ? this.data : 0, inputs(this), derivatives(this.data > 0 ? 1 : 0), "relu");
  }

  // d(tanh x)/dx = 1 − tanh²x
  tanh(): Value {
    const t = Math.tanh(this.data);
    return new Value(t, inputs(this), derivatives(1 - t * t), "tanh");
  }

  // d(σ(x))/dx = σ(x)·(1 − σ(x))
  sigmoid(): Value {
    const s = 1 / (1 + Math.exp(-this.data));
    return new Value(s, inputs(this), derivatives(s * (1 - s)), "sigmoid");
  }

  // Derived ops, written as the tutorial writes them.
  neg(): Value {
    return this.mul(-1);
  }

  sub(other: Operand): Value {
    return this.add(typeof other === "number" ? -other : other.neg());
  }

  div(other: Operand): Value {
    return this.mul(typeof other === "number" ? other ** -1 : other.pow(-1));
  }

  // ---- Backpropagation -----------------------------------------------------------

  /**
   * Backpropagation: the output's grad is set to 1, then every node pushes its grad
   * to its children, outputs first. Grads accumulate (`+=`), so a node used twice gets
   * both contributions — and so does calling `backward()` twice (see `zeroGrad`).
   */
  backward(): void {
    countParents(this);
    lastBackwardStamp = walkEpoch;
    // A node passes its grad on only once every parent has added to it (Kahn's algorithm),
    // so each node's grad is complete when it is used: the order is topological.
    this.grad = 1;
    const ready: Value[] = [this];
    while (ready.length > 0) {
      const v = ready.pop() as Value; // leaves are never pushed: they have nothing to pass on
      const g = v.grad;
      for (let j = 0; j < v.childCount; j++) {
        const c = v.child(j);
        c.grad += v.localGrad(j) * g; // the chain rule
        if (--c.slab[c.offset + PENDING_PARENTS] === 0 && c.childCount > 0) ready.push(c);
      }
    }
    backwardObserver?.(this);
  }

  // ---- Reading the graph ---------------------------------------------------------

  /** The inputs this value was computed from (a new array on each read). */
  get children(): readonly Value[] {
    return Array.from({ length: this.childCount }, (_, i) => this.child(i));
  }

  /** d(this)/d(child) for each child, in the same order (a new array on each read). */
  get localGrads(): readonly number[] {
    return Array.from({ length: this.childCount }, (_, i) => this.localGrad(i));
  }

  /** The i-th input, without building the `children` array. */
  child(i: number): Value {
    return (i === 0 ? this.child0 : i === 1 ? this.child1 : this.moreInputs?.children[i - 2]) as Value;
  }

  /** d(this)/d(i-th input), without building the `localGrads` array. */
  localGrad(i: number): number {
    return i < 2 ? this.slab[this.offset + LOCAL_GRAD_0 + i] : (this.moreInputs?.localGrads[i - 2] as number);
  }

  /** Names the node for the graph view; returns `this` so it can be chained. */
  named(label: string): this {
    this.label = label;
    return this;
  }

  toString(): string {
    return `Value(data=${this.data}, grad=${this.grad})`;
  }

  /** What `JSON.stringify` writes for a value (not its graph). */
  toJSON(): { data: number; grad: number; label?: string; op: string } {
    return { data: this.data, grad: this.grad, label: this.label, op: this.op };
  }

  /** What `console.log` shows in Node: the numbers, not the slab they live in. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.label === undefined ? this.toString() : `${this.toString()} ${this.label}`;
  }

  // ---- Graph walks (here because they read the walk stamps in the private slab) ----

  static {
    /** Sets the pending-parents count of every node under `root` to its number of parents under `root`. */
    countParents = (root: Value): void => {
      staleLeaf = undefined;
      walkEpoch += 2;
      const seen = walkEpoch;
      const stack: Value[] = [root];
      root.slab[root.offset + WALK_STAMP] = seen;
      root.slab[root.offset + PENDING_PARENTS] = 0;
      while (stack.length > 0) {
        const v = stack.pop() as Value;
        for (let j = 0; j < v.childCount; j++) {
          const c = v.child(j);
          const s = c.slab;
          const o = c.offset;
          if (s[o + WALK_STAMP] !== seen) {
            s[o + WALK_STAMP] = seen;
            s[o + PENDING_PARENTS] = 1;
            if (c.childCount > 0) stack.push(c); // a leaf has nothing to walk
            else if (s[o + GRAD] !== 0) noteStaleLeaf(c);
          } else {
            s[o + PENDING_PARENTS]++;
          }
        }
      }
    };

    // Each node once, in no particular order, and no list of them: a question about the leaves
    // ("does any still hold a grad?") costs about half a topological sort of the graph.
    anyLeafWhere = (root: Value, test: (leaf: Value) => boolean): boolean => {
      walkEpoch += 2;
      const seen = walkEpoch;
      const stack: Value[] = [root];
      root.slab[root.offset + WALK_STAMP] = seen;
      while (stack.length > 0) {
        const v = stack.pop() as Value;
        if (v.childCount === 0 && test(v)) return true;
        for (let j = 0; j < v.childCount; j++) {
          const c = v.child(j);
          if (c.slab[c.offset + WALK_STAMP] !== seen) {
            c.slab[c.offset + WALK_STAMP] = seen;
            stack.push(c);
          }
        }
      }
      return false;
    };

    reachedByLastBackward = (v: Value): boolean | undefined => (walkEpoch === lastBackwardStamp ? v.slab[v.offset + WALK_STAMP] === lastBackwardStamp : undefined);

    // A node's position in a list, kept in its slab (the pending-parents slot is free outside
    // backward(), which recounts it first): far cheaper than a Map of every node of a big graph.
    numberNodes = (order: readonly Value[]): number => {
      walkEpoch += 2;
      const mark = walkEpoch;
      for (let i = 0; i < order.length; i++) {
        const v = order[i];
        v.slab[v.offset + WALK_STAMP] = mark;
        v.slab[v.offset + PENDING_PARENTS] = i;
      }
      return mark;
    };
    numberOfNode = (v: Value, mark: number): number => (v.slab[v.offset + WALK_STAMP] === mark ? v.slab[v.offset + PENDING_PARENTS] : -1);

    sortTopologically = (root: Value): Value[] => {
      // A node is "entered" when its children have been pushed and "done" once it is in `order`.
      walkEpoch += 2;
      const entered = walkEpoch;
      const done = walkEpoch + 1;
      const stampOf = (v: Value): number => v.slab[v.offset + WALK_STAMP];
      const order: Value[] = [];
      const stack: Value[] = [root];
      while (stack.length > 0) {
        const v = stack[stack.length - 1];
        if (stampOf(v) < entered) {
          v.slab[v.offset + WALK_STAMP] = entered;
          // Pushed last-first so the first child is explored first, as the recursive sort does.
          for (let j = v.childCount - 1; j >= 0; j--) {
            const c = v.child(j);
            if (stampOf(c) < entered) stack.push(c);
          }
        } else {
          stack.pop();
          if (stampOf(v) === entered) {
            v.slab[v.offset + WALK_STAMP] = done;
            order.push(v);
          }
        }
      }
      return order;
    };
  }
}

/** Kept out of the walk's loop: most backward() calls meet no leaf holding a grad. */
function noteStaleLeaf(leaf: Value): void {
  if (staleLeaf === undefined || leaf.id < staleLeaf.id) {
    staleLeaf = leaf;
    staleLeafGrad = leaf.grad;
  }
}

/**
 * The first-made leaf of the last backward()'s graph that already held a grad when that backward()
 * began (a second backward() without zeroing, or a training step whose grads were not reset), with
 * the grad it held; undefined when every leaf started from 0.
 */
export function staleLeafOfLastBackward(): { leaf: Value; grad: number } | undefined {
  return staleLeaf === undefined ? undefined : { leaf: staleLeaf, grad: staleLeafGrad };
}

/** "**2", "**-1", …; cached because softmax and rmsnorm make one pow node per element. */
const powNames = new Map<number, string>();
function powName(exponent: number): string {
  let name = powNames.get(exponent);
  if (name === undefined) {
    name = `**${exponent}`;
    if (powNames.size < 1000) powNames.set(exponent, name);
  }
  return name;
}

export function toValue(x: Operand): Value {
  return x instanceof Value ? x : new Value(x);
}

/** Whether `test` holds for some leaf `root` depends on (a cheaper walk than topologicalOrder; it stops at the first). */
export function anyLeaf(root: Value, test: (leaf: Value) => boolean): boolean {
  return anyLeafWhere(root, test);
}

/**
 * Whether `v` is in the graph of the last backward() (its walk stamped every node it reached), or
 * undefined once another graph walk has run since: a question about a few values that would
 * otherwise cost a walk of the whole graph (the training recorder's "is this leaf used again?").
 */
export function inLastBackward(v: Value): boolean | undefined {
  return reachedByLastBackward(v);
}

/**
 * Every value that `root` depends on, children before parents, `root` last — the order
 * a recursive depth-first search gives. Iterative, with one explicit stack, so a chain
 * of a million nodes cannot overflow the call stack.
 */
export function topologicalOrder(root: Value): Value[] {
  return sortTopologically(root);
}

/**
 * Numbers the nodes of `order` by their position; `positionIn(v, mark)` then reads it back (−1 for
 * a node not in `order`) until the next graph walk or backward(). For the engine's own snapshots.
 */
export function numberPositions(order: readonly Value[]): number {
  return numberNodes(order);
}

export function positionIn(v: Value, mark: number): number {
  return numberOfNode(v, mark);
}

/** Sets every grad in the graph of `root` to 0 — what to call before a second `backward()`. */
export function zeroGrad(root: Value): void {
  for (const v of topologicalOrder(root)) v.grad = 0;
}
