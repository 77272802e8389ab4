/**
 * A scalar that remembers how it was computed — the tutorial's `Value`.
 *
 * Each op is a few lines: compute the result, and state beside it the local
 * derivative of the result with respect to each input. `backward()` then applies
 * the chain rule, `child.grad += localGrad * parent.grad`, in reverse topological order.
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
/** Bumped by every graph walk, so "visited" is a number compare instead of a Set lookup. */
let walkEpoch = 0;

export class Value {
  data: number;
  grad = 0;
  /** A user's name for the node (shown in the graph); the runner fills in bound variable names. */
  label: string | undefined = undefined;
  /** The inputs this value was computed from. */
  readonly children: readonly Value[];
  /** d(this)/d(child) for each child, in the same order. */
  readonly localGrads: readonly number[];
  /** The op that made it: "+", "*", "**2", "exp", …; "" for a leaf. */
  readonly op: string;
  /** Creation order; unique per process. */
  readonly id: number;
  /** The source site that was running when this value was made (0 = unknown). */
  readonly site: number;
  /** @internal visit stamp for graph walks */
  walkStamp = 0;

  constructor(data: number, children: readonly Value[] = [], localGrads: readonly number[] = [], op = "") {
    this.data = data;
    this.children = children;
    this.localGrads = localGrads;
    this.op = op;
    this.id = nextId++;
    this.site = creationSite.site;
  }

  // d(a+b)/da = 1, d(a+b)/db = 1
  add(other: Operand): Value {
    const o = toValue(other);
    return new Value(this.data + o.data, [this, o], [1, 1], "+");
  }

  // d(a·b)/da = b, d(a·b)/db = a
  mul(other: Operand): Value {
    const o = toValue(other);
    return new Value(this.data * o.data, [this, o], [o.data, this.data], "*");
  }

  // d(xⁿ)/dx = n·xⁿ⁻¹ (n is a plain number, as in the tutorial)
  pow(exponent: number): Value {
    return new Value(this.data ** exponent, [this], [exponent * this.data ** (exponent - 1)], `**${exponent}`);
  }

  // d(eˣ)/dx = eˣ
  exp(): Value {
    const e = Math.exp(this.data);
    return new Value(e, [this], [e], "exp");
  }

  // d(ln x)/dx = 1/x
  log(): Value {
    return new Value(Math.log(this.data), [this], [1 / this.data], "log");
  }

  // d(max(0,x))/dx = 1 if x > 0 else 0 (so relu'(0) = 0)
  relu(): Value {
    return new Value(this.data > 0 ? this.data : 0, [this], [this.data > 0 ? 1 : 0], "relu");
  }

  // d(tanh x)/dx = 1 − tanh²x
  tanh(): Value {
    const t = Math.tanh(this.data);
    return new Value(t, [this], [1 - t * t], "tanh");
  }

  // d(σ(x))/dx = σ(x)·(1 − σ(x))
  sigmoid(): Value {
    const s = 1 / (1 + Math.exp(-this.data));
    return new Value(s, [this], [s * (1 - s)], "sigmoid");
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

  /**
   * Backpropagation: the output's grad is set to 1, then every node pushes its grad
   * to its children, outputs first. Grads accumulate (`+=`), so a node used twice gets
   * both contributions — and so does calling `backward()` twice (see `zeroGrad`).
   */
  backward(): void {
    const order = topologicalOrder(this);
    this.grad = 1;
    for (let i = order.length - 1; i >= 0; i--) {
      const v = order[i];
      const children = v.children;
      const localGrads = v.localGrads;
      for (let j = 0; j < children.length; j++) children[j].grad += localGrads[j] * v.grad;
    }
  }

  /** Names the node for the graph view; returns `this` so it can be chained. */
  named(label: string): this {
    this.label = label;
    return this;
  }

  toString(): string {
    return `Value(data=${this.data}, grad=${this.grad})`;
  }
}

export function toValue(x: Operand): Value {
  return x instanceof Value ? x : new Value(x);
}

/**
 * Every value that `root` depends on, children before parents, `root` last.
 * Iterative depth-first post-order, so a chain of a million nodes cannot overflow the stack.
 */
export function topologicalOrder(root: Value): Value[] {
  const stamp = ++walkEpoch;
  const order: Value[] = [];
  const stack: Value[] = [root];
  const nextChild: number[] = [0];
  root.walkStamp = stamp;
  while (stack.length > 0) {
    const top = stack.length - 1;
    const v = stack[top];
    const i = nextChild[top];
    if (i < v.children.length) {
      nextChild[top] = i + 1;
      const child = v.children[i];
      if (child.walkStamp !== stamp) {
        child.walkStamp = stamp;
        stack.push(child);
        nextChild.push(0);
      }
    } else {
      stack.pop();
      nextChild.pop();
      order.push(v);
    }
  }
  return order;
}

/** Sets every grad in the graph of `root` to 0 — what to call before a second `backward()`. */
export function zeroGrad(root: Value): void {
  for (const v of topologicalOrder(root)) v.grad = 0;
}
