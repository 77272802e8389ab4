/**
 * The forward of an op of a learner's own TypeScript `Value` class, for op checks (see opCheck.ts).
 * GradLens does not know the class's ops, so each recorded node is made again by the class itself:
 * a method of one of its inputs (the methods named like the op first: `sub` for "-", `pow` for
 * "**2"), or the top-level function its site is in, is called on fresh leaves of the class, and the
 * node it makes from exactly those leaves with the recorded op is read back. A way of re-making the
 * op is trusted only when, at the recorded inputs, it gives the recorded output. The re-made node
 * also gives what the recorded graph may lack: its local gradients when the class stores none (its
 * own `backward()` on the node alone), and whether its backward step overwrites its inputs' grads
 * (called once with them at zero and once with them already non-zero, the sums must differ by that).
 */
import * as l10n from "@vscode/l10n";
import { reproduces, type OpForward, type OpGraph, type UserForward } from "./opCheck";
import { childrenOf, field, LOCAL_GRAD_KEYS, numberOf, opOf, STEP_KEYS, type UserValue } from "./userValues";

/** Grads the inputs already hold in the second call of a backward step (any non-zero number). */
const SENTINEL = 0.5;
/** Nodes of a re-run's graph searched for the re-made op (a method that makes a few helper nodes first). */
const MAX_SEARCH = 64;
/** Method names by op symbol, as learners' ports write them. */
const METHODS_OF_SYMBOL: Record<string, readonly string[]> = {
  "+": ["add", "plus"],
  "*": ["mul", "times", "multiply"],
  "-": ["sub", "minus", "subtract"],
  "/": ["div", "divide"],
  "**": ["pow", "power"],
  "^": ["pow", "power"],
};
/** Methods that are not ops, never called on fresh leaves. */
const NOT_OPS = /^(constructor|backward.*|_?backward.*|zero.*|toString|toJSON|valueOf|inspect|print|show|draw|topo.*|build.*|parameters|item)$/i;

type Call = (leaves: readonly UserValue[]) => unknown;
interface Way {
  method?: string;
  call: Call;
}

export interface LearnerGraphs {
  /** The user's value of each snapshot node, per graph. */
  nodesOf: (graph: OpGraph) => readonly UserValue[] | undefined;
  registered: ReadonlyMap<string, unknown>;
  functionOfSite: (site: number) => string | undefined;
}

export function learnerForward(graphs: LearnerGraphs): (graph: OpGraph, id: number) => UserForward | { reason: string } {
  // One search per op kind, site and class: the sampled instances reuse the way that worked.
  const found = new Map<string, Way | null>();
  return (graph, id) => {
    const nodes = graphs.nodesOf(graph);
    const node = nodes?.[id];
    if (!nodes || !node) return { reason: l10n.t("its node is not at hand to re-run") };
    const g = graph.graph;
    const edges: UserValue[] = [];
    const inputs: number[] = [];
    for (let e = g.childStart[id]; e < g.childStart[id + 1]; e++) {
      edges.push(nodes[g.child[e]]);
      inputs.push(g.data[g.child[e]]);
    }
    const raw = childrenOf(node) ?? [];
    const slots = slotsOf(raw, edges);
    if (!slots) return { reason: l10n.t("its inputs are not all values of the class") };
    const op = opOf(node, true);
    const output = g.data[id];
    const make = (at: readonly number[]): { leaves: UserValue[]; args: UserValue[] } | undefined => {
      const leaves: UserValue[] = [];
      for (let k = 0; k < edges.length; k++) {
        const leaf = leafLike(edges[k], at[k]);
        if (!leaf) return undefined;
        leaves.push(leaf);
      }
      return { leaves, args: slots.map((k) => leaves[k]) };
    };
    const rerun = (way: Way, at: readonly number[]): { node: UserValue; leaves: UserValue[]; args: UserValue[] } | undefined => {
      const fresh = make(at);
      if (!fresh) return undefined;
      try {
        const made = madeFrom(way.call(fresh.args), fresh.args, op);
        return made ? { node: made, ...fresh } : undefined;
      } catch {
        return undefined;
      }
    };
    const atRecorded = (way: Way) => {
      const again = rerun(way, inputs);
      return again && reproduces(numberOf(again.node.data), output) ? again : undefined;
    };
    const key = `${op}\u0000${g.site[id]}\u0000${protoName(node)}`;
    const known = found.get(key);
    let chosen: Way | undefined;
    let again: ReturnType<typeof rerun>;
    if (known === undefined) {
      for (const candidate of waysOf(node, raw, op, graphs.registered.get(graphs.functionOfSite(g.site[id]) ?? ""))) {
        again = atRecorded(candidate);
        if (again) {
          chosen = candidate;
          break;
        }
      }
      found.set(key, chosen ?? null);
    } else if (known) {
      again = atRecorded(known);
      if (again) chosen = known;
    }
    if (!chosen || !again) {
      return { reason: l10n.t("could not re-run {0}: no method of the class or function of its line made it again from its inputs with its recorded output", op) };
    }
    const way = chosen;
    const forward: OpForward = (at) => {
      const made = rerun(way, at);
      const x = made ? numberOf(made.node.data) : Number.NaN;
      return Number.isNaN(x) ? undefined : x;
    };
    return { forward, ...localGradients(again.node, again.leaves, again.args, slots), ...(way.method ? { method: way.method } : {}) };
  };
}

/**
 * For each raw input of the node, the edge of the snapshot it feeds: one edge per raw input where the
 * class stores local gradients, one per distinct input where they were recovered from `_backward`.
 */
function slotsOf(raw: readonly unknown[], edges: readonly UserValue[]): number[] | undefined {
  if (raw.length === edges.length && raw.every((c, j) => c === edges[j])) return raw.map((_, j) => j);
  const slots = raw.map((c) => edges.indexOf(c as UserValue));
  return slots.every((k) => k >= 0) ? slots : undefined;
}

/**
 * The ways to make the node again, the likeliest first: the methods named like the op, the function
 * of its line (an op written as a top-level function), the node's own class (one subclass per op:
 * `new Mul(a, b)`), then every other method.
 */
function* waysOf(node: UserValue, raw: readonly unknown[], op: string, siteFunction: unknown): Generator<Way> {
  const n = raw.length;
  const exponent = /^(?:\*\*|\^|pow)\s*(-?[\d.]+(?:e[-+]?\d+)?)$/i.exec(op)?.[1];
  const symbol = exponent !== undefined ? (op.startsWith("^") ? "^" : "**") : op;
  const named = new Set([op.toLowerCase(), ...(METHODS_OF_SYMBOL[symbol] ?? [])]);
  const names = methodNames(raw[0] as UserValue);
  const method = (name: string, receiver: number, args: (leaves: readonly UserValue[]) => unknown[]): Way => ({
    method: name,
    call: (leaves) => (leaves[receiver][name] as (...a: unknown[]) => unknown).apply(leaves[receiver], args(leaves)),
  });
  function* calls(name: string): Generator<Way> {
    yield method(name, 0, (leaves) => leaves.slice(1));
    if (n === 2) yield method(name, 1, (leaves) => [leaves[0]]);
    if (n === 1) {
      if (exponent !== undefined) yield method(name, 0, () => [Number(exponent)]);
      // `x.mul(x)` with inputs in a Set has the one input x: the op of x with itself.
      yield method(name, 0, (leaves) => [leaves[0]]);
    }
  }
  for (const name of names) if (named.has(name.toLowerCase())) yield* calls(name);
  if (typeof siteFunction === "function") yield { call: (leaves) => (siteFunction as (...a: unknown[]) => unknown)(...leaves) };
  const NodeClass = (node as { constructor?: unknown }).constructor;
  if (typeof NodeClass === "function" && NodeClass !== (raw[0] as { constructor?: unknown }).constructor) {
    yield { call: (leaves) => new (NodeClass as new (...a: unknown[]) => unknown)(...leaves) };
  }
  for (const name of names) if (!named.has(name.toLowerCase())) yield* calls(name);
}

/** The methods a value of the class has (its prototype chain and its own function fields), ops only. */
function methodNames(value: UserValue | undefined): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (let owner: object | null = value ?? null; owner && owner !== Object.prototype; owner = Object.getPrototypeOf(owner) as object | null) {
    for (const name of Object.getOwnPropertyNames(owner)) {
      if (seen.has(name)) continue;
      seen.add(name);
      const descriptor = Object.getOwnPropertyDescriptor(owner, name);
      // A getter is not called: it might be anything.
      if (descriptor && typeof descriptor.value === "function" && !NOT_OPS.test(name) && !(STEP_KEYS as readonly string[]).includes(name)) names.push(name);
    }
  }
  return names;
}

/** The node of `out`'s graph made from exactly `args` (in their order), with op `op`. */
function madeFrom(out: unknown, args: readonly UserValue[], op: string): UserValue | undefined {
  const stack: unknown[] = [out];
  const seen = new Set<unknown>();
  while (stack.length > 0 && seen.size < MAX_SEARCH) {
    const v = stack.pop();
    if (typeof v !== "object" || v === null || seen.has(v)) continue;
    seen.add(v);
    const children = childrenOf(v as UserValue);
    if (!children) continue;
    if (opOf(v as UserValue, true) === op && sameInputs(children, args)) return v as UserValue;
    stack.push(...children);
  }
  return undefined;
}

/** A Set keeps one of a repeated input (`x.mul(x)`): compare distinct inputs then. */
function sameInputs(children: readonly unknown[], args: readonly UserValue[]): boolean {
  if (children.length === args.length && children.every((c, j) => c === args[j])) return true;
  const distinct = [...new Set(args)];
  return children.length === distinct.length && children.every((c, j) => c === distinct[j]);
}

/** A fresh leaf of `like`'s class holding x (a subclass whose constructor wants more: its base class). */
function leafLike(like: UserValue, x: number): UserValue | undefined {
  for (let proto = Object.getPrototypeOf(like) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    const Kind = (proto as { constructor?: unknown }).constructor;
    if (typeof Kind !== "function") continue;
    try {
      const leaf = new (Kind as new (data: number) => UserValue)(x);
      if (numberOf(leaf.data) === x && (childrenOf(leaf) ?? []).length === 0) {
        if (typeof leaf.grad !== "number") leaf.grad = 0;
        return leaf;
      }
    } catch {
      // try the base class
    }
  }
  return undefined;
}

/**
 * What the re-made node says about its local gradients, one per edge (fresh leaf): its stored local
 * gradients, else its backward step, else the class's backward() on the node alone; and whether the
 * step overwrites its inputs' grads.
 */
function localGradients(node: UserValue, leaves: readonly UserValue[], args: readonly UserValue[], slots: readonly number[]): { analytic?: number[]; overwrites?: boolean } {
  const stored = field(node, LOCAL_GRAD_KEYS);
  if (Array.isArray(stored) && stored.length === args.length) {
    const sums = leaves.map(() => 0);
    stored.forEach((g, j) => (sums[slots[j]] += numberOf(g)));
    return { analytic: sums };
  }
  const run = (start: number, body: () => unknown): number[] => {
    for (const leaf of leaves) leaf.grad = start;
    node.grad = 1;
    body();
    return leaves.map((leaf) => numberOf(leaf.grad) - start);
  };
  try {
    const step = field(node, STEP_KEYS);
    if (typeof step === "function") {
      const local = run(0, () => (step as () => unknown).call(node));
      const added = run(SENTINEL, () => (step as () => unknown).call(node));
      const overwrites = local.some((g, k) => !(Math.abs(added[k] - g) <= 1e-9 * Math.max(1, Math.abs(g))));
      return { analytic: local, overwrites };
    }
    const backward = node.backward;
    if (typeof backward === "function") return { analytic: run(0, () => (backward as () => unknown).call(node)) };
  } catch {
    // A step that throws on its own: the recorded local gradients stand.
  }
  return {};
}

function protoName(v: UserValue): string {
  const proto = Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null;
  return proto?.constructor?.name ?? "";
}
