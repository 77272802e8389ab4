/**
 * A scalar that remembers how it was computed — the tutorial's `Value`.
 *
 * Each op is a few lines: compute the result, and state beside it the local
 * derivative of the result with respect to each input. `backward()` then applies
 * the chain rule, `child.grad += localGrad * parent.grad`, in reverse topological order.
 *
 * Speed note: a microgpt training step makes 15k–136k nodes, so a node is kept small.
 * Its first two children are fields (every built-in op has one or two inputs) instead
 * of two small arrays per node, and its numbers live in a shared block of doubles (see
 * "slabs" below); `data`, `grad`, `children` and `localGrads` read as before.
 */

/** A `Value` or a plain number, which ops wrap into a constant leaf. */
export type Operand = Value | number;

/**
 * Where new values are being made. The runner points `site` at the source
 * expression currently running; plain engine use leaves it at 0 ("unknown").
 */
export const creationSite = { site: 0 };

/** Creation counter: a child is always created before its parent, so ids grow along every edge. */
let nextId = 0;
/** How many values have been made so far (the next value's `id`); the runner's call records use it. */
export function valuesCreated(): number {
  return nextId;
}
/** Bumped by every graph walk, so "visited" is a number compare instead of a Set lookup. */
let walkEpoch = 0;

const NO_CHILDREN: readonly Value[] = Object.freeze([]);
const NO_LOCAL_GRADS: readonly number[] = Object.freeze([]);

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
  /** How many inputs this value was computed from (read-only outside the engine). */
  childCount: number;
  /** @internal first input — a field, not an array, for speed */
  child0: Value | null;
  /** @internal second input */
  child1: Value | null;
  /** @internal where this node's numbers live: slab[offset + DATA], slab[offset + GRAD], … */
  slab: Float64Array;
  /** @internal */
  offset: number;
  /** @internal all inputs and local gradients when there are more than two (user-defined ops) */
  many: { children: readonly Value[]; localGrads: readonly number[] } | null;

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
    this.child0 = n > 0 && n <= 2 ? children[0] : null;
    this.child1 = n === 2 ? children[1] : null;
    if (n > 0 && n <= 2) slab[o + LOCAL_GRAD_0] = localGrads[0] ?? NaN;
    if (n === 2) slab[o + LOCAL_GRAD_1] = localGrads[1] ?? NaN;
    this.many = n > 2 ? { children: children.slice(), localGrads: children.map((_, i) => localGrads[i] ?? NaN) } : null;
  }

  /** Creation order; unique per process. */
  get id(): number {
    return this.slab[this.offset + ID];
  }

  /** The source site that was running when this value was made (0 = unknown). */
  get site(): number {
    return this.slab[this.offset + SITE];
  }

  /** @internal which graph walk last reached this node */
  get walkStamp(): number {
    return this.slab[this.offset + WALK_STAMP];
  }
  /** @internal */
  set walkStamp(stamp: number) {
    this.slab[this.offset + WALK_STAMP] = stamp;
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
    return binary(this.data + o.data, "+", this, 1, o, 1);
  }

  // d(a·b)/da = b, d(a·b)/db = a
  mul(other: Operand): Value {
    const o = toValue(other);
    return binary(this.data * o.data, "*", this, o.data, o, this.data);
  }

  // d(xⁿ)/dx = n·xⁿ⁻¹ (n is a plain number, as in the tutorial)
  pow(exponent: number): Value {
    return unary(this.data ** exponent, powName(exponent), this, exponent * this.data ** (exponent - 1));
  }

  // d(eˣ)/dx = eˣ
  exp(): Value {
    const e = Math.exp(this.data);
    return unary(e, "exp", this, e);
  }

  // d(ln x)/dx = 1/x
  log(): Value {
    return unary(Math.log(this.data), "log", this, 1 / this.data);
  }

  // d(max(0,x))/dx = 1 if x > 0 else 0 (so relu'(0) = 0)
  relu(): Value {
    return unary(this.data > 0 ? this.data : 0, "relu", this, this.data > 0 ? 1 : 0);
  }

  // d(tanh x)/dx = 1 − tanh²x
  tanh(): Value {
    const t = Math.tanh(this.data);
    return unary(t, "tanh", this, 1 - t * t);
  }

  // d(σ(x))/dx = σ(x)·(1 − σ(x))
  sigmoid(): Value {
    const s = 1 / (1 + Math.exp(-this.data));
    return unary(s, "sigmoid", this, s * (1 - s));
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
    // A node passes its grad on only once every parent has added to it (Kahn's algorithm),
    // so each node's grad is complete when it is used: the order is topological.
    this.grad = 1;
    const ready: Value[] = [this];
    while (ready.length > 0) {
      const v = ready.pop() as Value; // leaves are never pushed: they have nothing to pass on
      const n = v.childCount;
      if (n === 0) continue; // only the root can be a leaf here
      // child.grad += localGrad * v.grad, for each child (written out on the slabs for speed)
      const s = v.slab;
      const o = v.offset;
      const g = s[o + GRAD];
      if (n <= 2) {
        const c0 = v.child0 as Value;
        c0.slab[c0.offset + GRAD] += s[o + LOCAL_GRAD_0] * g;
        if (--c0.slab[c0.offset + PENDING_PARENTS] === 0 && c0.childCount > 0) ready.push(c0);
        if (n === 2) {
          const c1 = v.child1 as Value;
          c1.slab[c1.offset + GRAD] += s[o + LOCAL_GRAD_1] * g;
          if (--c1.slab[c1.offset + PENDING_PARENTS] === 0 && c1.childCount > 0) ready.push(c1);
        }
      } else {
        const { children, localGrads } = v.many as NonNullable<Value["many"]>;
        for (let j = 0; j < children.length; j++) {
          const c = children[j];
          c.grad += localGrads[j] * g;
          if (--c.slab[c.offset + PENDING_PARENTS] === 0 && c.childCount > 0) ready.push(c);
        }
      }
    }
  }

  // ---- Reading the graph ---------------------------------------------------------

  /** The inputs this value was computed from (for one or two inputs, a new array on each read). */
  get children(): readonly Value[] {
    if (this.childCount === 0) return NO_CHILDREN;
    if (this.childCount === 1) return [this.child0 as Value];
    if (this.childCount === 2) return [this.child0 as Value, this.child1 as Value];
    return (this.many as NonNullable<Value["many"]>).children;
  }

  /** d(this)/d(child) for each child, in the same order (for one or two inputs, a new array on each read). */
  get localGrads(): readonly number[] {
    if (this.childCount === 0) return NO_LOCAL_GRADS;
    if (this.childCount === 1) return [this.localGrad(0)];
    if (this.childCount === 2) return [this.localGrad(0), this.localGrad(1)];
    return (this.many as NonNullable<Value["many"]>).localGrads;
  }

  /** The i-th input, without building the `children` array. */
  child(i: number): Value {
    if (this.childCount > 2) return (this.many as NonNullable<Value["many"]>).children[i];
    return (i === 0 ? this.child0 : this.child1) as Value;
  }

  /** d(this)/d(i-th input), without building the `localGrads` array. */
  localGrad(i: number): number {
    if (this.childCount > 2) return (this.many as NonNullable<Value["many"]>).localGrads[i];
    return this.slab[this.offset + (i === 0 ? LOCAL_GRAD_0 : LOCAL_GRAD_1)];
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
}

/** The result of a one-input op (what `new Value(data, [a], [localA], op)` makes, without the arrays). */
function unary(data: number, op: string, a: Value, localA: number): Value {
  const v = new Value(data, NO_CHILDREN, NO_LOCAL_GRADS, op);
  v.childCount = 1;
  v.child0 = a;
  v.slab[v.offset + LOCAL_GRAD_0] = localA;
  return v;
}

/** The result of a two-input op (what `new Value(data, [a, b], [localA, localB], op)` makes, without the arrays). */
function binary(data: number, op: string, a: Value, localA: number, b: Value, localB: number): Value {
  const v = new Value(data, NO_CHILDREN, NO_LOCAL_GRADS, op);
  v.childCount = 2;
  v.child0 = a;
  v.child1 = b;
  v.slab[v.offset + LOCAL_GRAD_0] = localA;
  v.slab[v.offset + LOCAL_GRAD_1] = localB;
  return v;
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

/** Sets the pending-parents count of every node under `root` to its number of parents under `root`. */
function countParents(root: Value): void {
  walkEpoch += 2;
  const seen = walkEpoch;
  const stack: Value[] = [root];
  root.slab[root.offset + WALK_STAMP] = seen;
  root.slab[root.offset + PENDING_PARENTS] = 0;
  const reach = (c: Value): void => {
    const s = c.slab;
    const o = c.offset;
    if (s[o + WALK_STAMP] !== seen) {
      s[o + WALK_STAMP] = seen;
      s[o + PENDING_PARENTS] = 1;
      if (c.childCount > 0) stack.push(c); // a leaf has nothing to walk
    } else {
      s[o + PENDING_PARENTS]++;
    }
  };
  while (stack.length > 0) {
    const v = stack.pop() as Value;
    const n = v.childCount;
    if (n === 0) continue;
    if (n <= 2) {
      reach(v.child0 as Value);
      if (n === 2) reach(v.child1 as Value);
    } else {
      for (const c of v.children) reach(c);
    }
  }
}

/**
 * Every value that `root` depends on, children before parents, `root` last — the order
 * a recursive depth-first search gives. Iterative, with one explicit stack, so a chain
 * of a million nodes cannot overflow the call stack.
 */
export function topologicalOrder(root: Value): Value[] {
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
      const n = v.childCount;
      if (n === 2) {
        if (stampOf(v.child1 as Value) < entered) stack.push(v.child1 as Value);
        if (stampOf(v.child0 as Value) < entered) stack.push(v.child0 as Value);
      } else if (n === 1) {
        if (stampOf(v.child0 as Value) < entered) stack.push(v.child0 as Value);
      } else if (n > 2) {
        const children = v.children;
        for (let j = n - 1; j >= 0; j--) if (stampOf(children[j]) < entered) stack.push(children[j]);
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
}

/** Sets every grad in the graph of `root` to 0 — what to call before a second `backward()`. */
export function zeroGrad(root: Value): void {
  for (const v of topologicalOrder(root)) v.grad = 0;
}
