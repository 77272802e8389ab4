/**
 * The fast engine against its readable reference: bench/tutorialValue.ts is `Value` written the
 * tutorial's way (arrays of children and local gradients, a recursive topological sort). Random
 * expression graphs are built twice, op for op, on both; the fast engine's data, structure and
 * grads must equal the reference's.
 *
 * Exactness: the forward formulas and local gradients are the same expressions, so data and local
 * gradients must be bit-for-bit equal. Grads are sums of contributions from a node's parents, which
 * the two engines add in different orders (Kahn's algorithm vs. reverse depth-first order). With at
 * most two parents per node the sum is 0 + a + b either way, so grads are exact too; with more,
 * floating-point addition is not associative and the engines may differ in the last bits — bounded
 * by a few ulps of Σ|contribution|, which the test computes on the reference graph.
 */
import { strict as assert } from "assert";
import { Value, div as divOp, mulberry32, sub as subOp } from "../../src/engine";
import { TutorialValue } from "../../bench/tutorialValue";

/** One node built on both engines. */
interface Twin {
  fast: Value;
  reference: TutorialValue;
}

type Random = () => number;

/** Each op: whether it applies to these operands (keeps the maths finite), and how to build it on both engines. */
interface OpCase {
  name: string;
  arity: 1 | 2 | 3;
  applies?: (xs: number[]) => boolean;
  build: (xs: Twin[], random: Random) => Twin;
}

const twin = (fast: Value, reference: TutorialValue): Twin => ({ fast, reference });

const constant = (random: Random): number => Math.round((random() * 4 - 2) * 8) / 8;

const OPS: OpCase[] = [
  { name: "add", arity: 2, build: ([a, b]) => twin(a.fast.add(b.fast), a.reference.add(b.reference)) },
  { name: "mul", arity: 2, build: ([a, b]) => twin(a.fast.mul(b.fast), a.reference.mul(b.reference)) },
  { name: "sub", arity: 2, build: ([a, b]) => twin(a.fast.sub(b.fast), a.reference.sub(b.reference)) },
  { name: "div", arity: 2, applies: ([, b]) => Math.abs(b) > 0.2, build: ([a, b]) => twin(a.fast.div(b.fast), a.reference.div(b.reference)) },
  { name: "square by x*x", arity: 1, build: ([a]) => twin(a.fast.mul(a.fast), a.reference.mul(a.reference)) },
  { name: "double by x+x", arity: 1, build: ([a]) => twin(a.fast.add(a.fast), a.reference.add(a.reference)) },
  {
    name: "add a number",
    arity: 1,
    build: ([a], random) => {
      const c = constant(random);
      return twin(a.fast.add(c), a.reference.add(c));
    },
  },
  {
    name: "mul by a number",
    arity: 1,
    build: ([a], random) => {
      const c = constant(random);
      return twin(a.fast.mul(c), a.reference.mul(c));
    },
  },
  {
    name: "number minus x",
    arity: 1,
    build: ([a], random) => {
      const c = constant(random);
      return twin(subOp(c, a.fast), new TutorialValue(c).sub(a.reference));
    },
  },
  {
    name: "number over x",
    arity: 1,
    applies: ([a]) => Math.abs(a) > 0.2,
    build: ([a], random) => {
      const c = constant(random);
      return twin(divOp(c, a.fast), new TutorialValue(c).div(a.reference));
    },
  },
  { name: "pow 2", arity: 1, build: ([a]) => twin(a.fast.pow(2), a.reference.pow(2)) },
  { name: "pow 3", arity: 1, applies: ([a]) => Math.abs(a) < 10, build: ([a]) => twin(a.fast.pow(3), a.reference.pow(3)) },
  { name: "pow -1", arity: 1, applies: ([a]) => Math.abs(a) > 0.2, build: ([a]) => twin(a.fast.pow(-1), a.reference.pow(-1)) },
  { name: "pow 0.5", arity: 1, applies: ([a]) => a > 0.05, build: ([a]) => twin(a.fast.pow(0.5), a.reference.pow(0.5)) },
  { name: "neg", arity: 1, build: ([a]) => twin(a.fast.neg(), a.reference.neg()) },
  { name: "exp", arity: 1, applies: ([a]) => a < 4, build: ([a]) => twin(a.fast.exp(), a.reference.exp()) },
  { name: "log", arity: 1, applies: ([a]) => a > 0.05, build: ([a]) => twin(a.fast.log(), a.reference.log()) },
  { name: "relu", arity: 1, build: ([a]) => twin(a.fast.relu(), a.reference.relu()) },
  { name: "tanh", arity: 1, build: ([a]) => twin(a.fast.tanh(), a.reference.tanh()) },
  { name: "sigmoid", arity: 1, build: ([a]) => twin(a.fast.sigmoid(), a.reference.sigmoid()) },
  // User-defined ops: the Value constructor with children and their local gradients.
  {
    name: "user op, one input: cube",
    arity: 1,
    applies: ([a]) => Math.abs(a) < 10,
    build: ([a]) => {
      const x = a.fast.data;
      return twin(new Value(x * x * x, [a.fast], [3 * x * x], "cube"), new TutorialValue(x * x * x, [a.reference], [3 * x * x]));
    },
  },
  {
    name: "user op, two inputs: a·b + a",
    arity: 2,
    build: ([a, b]) => {
      const [x, y] = [a.fast.data, b.fast.data];
      return twin(new Value(x * y + x, [a.fast, b.fast], [y + 1, x], "mulAdd"), new TutorialValue(x * y + x, [a.reference, b.reference], [y + 1, x]));
    },
  },
  {
    name: "user op, three inputs with a repeated child: a² + a·c + b",
    arity: 3,
    build: ([a, b, c]) => {
      const [x, y, z] = [a.fast.data, b.fast.data, c.fast.data];
      // [a, a, b, c]: a appears twice, each with its own share of the local gradient.
      const data = x * x + x * z + y;
      return twin(
        new Value(data, [a.fast, a.fast, b.fast, c.fast], [x, x + z, 1, x], "quadratic"),
        new TutorialValue(data, [a.reference, a.reference, b.reference, c.reference], [x, x + z, 1, x]),
      );
    },
  },
  {
    name: "user op, five inputs: a weighted sum",
    arity: 3,
    build: ([a, b, c], random) => {
      const w = [constant(random), constant(random), constant(random), constant(random), constant(random)];
      const inputs = [a, b, c, b, a];
      const data = inputs.reduce((s, t, i) => s + w[i] * t.fast.data, 0);
      return twin(
        new Value(
          data,
          inputs.map((t) => t.fast),
          w,
          "weighted",
        ),
        new TutorialValue(
          data,
          inputs.map((t) => t.reference),
          w,
        ),
      );
    },
  },
];

interface Built {
  nodes: Twin[];
  root: Twin;
  opsUsed: Set<string>;
}

/**
 * A random expression graph: leaves, then `size` ops on operands picked from everything built so
 * far (recent nodes more often, for depth; any node, for shared sub-expressions). With
 * `maxUses = 2` no node feeds more than two parents, the case where grads must be exact.
 */
function randomGraph(seed: number, size: number, maxUses = Infinity): Built {
  const random = mulberry32(seed);
  const leaves = Array.from({ length: 3 + Math.floor(random() * 4) }, () => {
    const x = Math.round((random() * 4 - 2) * 1000) / 1000;
    return twin(new Value(x), new TutorialValue(x));
  });
  const nodes = [...leaves];
  const uses = new Map<Twin, number>();
  const available = (): Twin[] => nodes.filter((t) => (uses.get(t) ?? 0) < maxUses);
  const pick = (pool: Twin[]): Twin => (random() < 0.5 ? pool[pool.length - 1 - Math.floor(random() * Math.min(3, pool.length))] : pool[Math.floor(random() * pool.length)]);
  const opsUsed = new Set<string>();
  for (let tries = 0; opsUsed.size < OPS.length || nodes.length < leaves.length + size; tries++) {
    if (tries > size * 50) break;
    const op = OPS[Math.floor(random() * OPS.length)];
    const pool = available();
    if (pool.length === 0) break;
    // The operands of one op may repeat (a·a through the operands, too), but each counts as a use.
    const operands = Array.from({ length: op.arity }, () => pick(pool));
    const counts = new Map<Twin, number>();
    for (const t of operands) counts.set(t, (counts.get(t) ?? 0) + (op.name.includes("x*x") || op.name.includes("x+x") ? 2 : 1));
    if (op.name.includes("repeated")) counts.set(operands[0], (counts.get(operands[0]) ?? 0) + 1);
    if (op.name.includes("weighted")) for (const t of [operands[0], operands[1]]) counts.set(t, (counts.get(t) ?? 0) + 1);
    if ([...counts].some(([t, n]) => (uses.get(t) ?? 0) + n > maxUses)) continue;
    if (op.applies && !op.applies(operands.map((t) => t.fast.data))) continue;
    const result = op.build(operands, random);
    if (!Number.isFinite(result.fast.data) || Math.abs(result.fast.data) > 1e4) continue; // keep the numbers in range
    for (const [t, n] of counts) uses.set(t, (uses.get(t) ?? 0) + n);
    nodes.push(result);
    opsUsed.add(op.name);
  }
  // The root adds up the nodes nobody used yet, so most of the graph reaches it.
  let root = nodes[nodes.length - 1];
  uses.set(root, (uses.get(root) ?? 0) + 1);
  for (const t of nodes.slice(leaves.length, -1)) {
    if ((uses.get(t) ?? 0) === 0) {
      root = twin(root.fast.add(t.fast), root.reference.add(t.reference));
      uses.set(t, 1);
    }
  }
  return { nodes: [...nodes, root], root, opsUsed };
}

/** Reference order: children before parents (the tutorial's build_topo). */
function referenceOrder(root: TutorialValue): TutorialValue[] {
  const order: TutorialValue[] = [];
  const seen = new Set<TutorialValue>();
  const visit = (v: TutorialValue): void => {
    if (seen.has(v)) return;
    seen.add(v);
    v._children.forEach(visit);
    order.push(v);
  };
  visit(root);
  return order;
}

/** Σ over parents of |local gradient · parent's magnitude|: the scale of each grad's rounding error. */
function gradMagnitudes(root: TutorialValue): Map<TutorialValue, number> {
  const order = referenceOrder(root);
  const magnitude = new Map<TutorialValue, number>(order.map((v) => [v, 0]));
  magnitude.set(root, 1);
  for (let i = order.length - 1; i >= 0; i--) {
    const v = order[i];
    v._children.forEach((c, j) => magnitude.set(c, (magnitude.get(c) as number) + Math.abs(v._localGrads[j] * (magnitude.get(v) as number))));
  }
  return magnitude;
}

function parentsPerNode(root: TutorialValue): number {
  const parents = new Map<TutorialValue, number>();
  for (const v of referenceOrder(root)) for (const c of v._children) parents.set(c, (parents.get(c) ?? 0) + 1);
  return Math.max(0, ...parents.values());
}

/**
 * Walks both graphs from the root in step and checks they have the same shape, data and local
 * gradients node for node; returns every pair of twin nodes (including those the derived ops
 * `sub`/`div` make inside), so grads can be compared everywhere.
 */
function matchGraphs(root: Twin, where: string): Twin[] {
  const twins = new Map<Value, TutorialValue>();
  const stack = [root];
  while (stack.length > 0) {
    const { fast, reference } = stack.pop() as Twin;
    const seen = twins.get(fast);
    if (seen !== undefined) {
      assert.equal(seen, reference, `${where}: one fast node stands for two reference nodes`);
      continue;
    }
    twins.set(fast, reference);
    assert.ok(Object.is(fast.data, reference.data), `${where}: data ${fast.data} vs ${reference.data} (${fast.op})`);
    assert.equal(fast.childCount, reference._children.length, `${where}: ${fast.op} has ${fast.childCount} children`);
    assert.deepEqual(fast.localGrads, reference._localGrads, `${where}: local grads of ${fast.op}`);
    fast.children.forEach((c, j) => {
      assert.equal(fast.child(j), c, `${where}: child(${j}) of ${fast.op}`);
      assert.ok(Object.is(fast.localGrad(j), reference._localGrads[j]), `${where}: localGrad(${j}) of ${fast.op}`);
      stack.push(twin(c, reference._children[j]));
    });
  }
  assert.equal(twins.size, referenceOrder(root.reference).length, `${where}: both graphs have the same number of nodes`);
  return [...twins].map(([fast, reference]) => twin(fast, reference));
}

describe("engine: the fast Value equals the tutorial-style reference (bench/tutorialValue.ts)", () => {
  it("builds every op, with shared sub-expressions and user-defined ops, in the random graphs", () => {
    const used = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) for (const name of randomGraph(seed, 60).opsUsed) used.add(name);
    assert.deepEqual([...used].sort(), OPS.map((o) => o.name).sort());
  });

  it("gives bit-identical data, local gradients and grads when no node has more than two parents", () => {
    for (let seed = 1; seed <= 150; seed++) {
      const { root } = randomGraph(seed, 40, 2);
      assert.ok(parentsPerNode(root.reference) <= 2, `seed ${seed}: the graph keeps to two parents per node`);
      root.fast.backward();
      root.reference.backward();
      for (const { fast, reference } of matchGraphs(root, `seed ${seed}`)) assert.ok(Object.is(fast.grad, reference.grad), `seed ${seed}: grad ${fast.grad} vs ${reference.grad} (${fast.op})`);
    }
  });

  it("gives the same grads, to rounding, on graphs with heavily shared nodes", () => {
    let inexact = 0;
    let compared = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const { root } = randomGraph(1000 + seed, 80);
      root.fast.backward();
      root.reference.backward();
      const magnitude = gradMagnitudes(root.reference);
      for (const { fast, reference } of matchGraphs(root, `seed ${seed}`)) {
        const m = magnitude.get(reference) as number;
        compared++;
        if (!Object.is(fast.grad, reference.grad)) inexact++;
        // Each grad is a sum over ≤ 80 nodes' contributions: a rounding error of a few ε per addition.
        assert.ok(Math.abs(fast.grad - reference.grad) <= 1e-13 * m, `seed ${seed}: grad ${fast.grad} vs ${reference.grad}, scale ${m} (${fast.op})`);
      }
    }
    assert.ok(compared > 5000, `compared ${compared} grads`);
    // Most grads still agree exactly; the order of additions only shows in the last bits of a few.
    assert.ok(inexact < compared / 10, `${inexact} of ${compared} grads differ in the last bits`);
  });

  it("accumulates a second backward(), from an inner node, the same way", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const { nodes, root } = randomGraph(5000 + seed, 30, 2);
      const inner = nodes[Math.floor(nodes.length / 2)];
      root.fast.backward();
      root.reference.backward();
      inner.fast.backward();
      inner.reference.backward();
      const pairs = matchGraphs(root, `seed ${seed}`);
      // The second pass adds onto the first one's grads, so the order of additions can show in the last bits.
      const fromRoot = gradMagnitudes(root.reference);
      const fromInner = gradMagnitudes(inner.reference);
      for (const { fast, reference } of pairs) {
        const scale = (fromRoot.get(reference) ?? 0) + (fromInner.get(reference) ?? 0);
        assert.ok(Math.abs(fast.grad - reference.grad) <= 1e-13 * scale, `seed ${seed}: grad ${fast.grad} vs ${reference.grad}`);
      }
      assert.equal(inner.fast.grad, 1); // backward() starts from grad 1, as the tutorial's does
    }
  });
});
