import { strict as assert } from "assert";
import {
  Value,
  add,
  creationSite,
  div,
  exp,
  log,
  mul,
  neg,
  pow,
  relu,
  sigmoid,
  sub,
  sum,
  tanh,
  topologicalOrder,
  zeroGrad,
} from "../../src/engine";
import { inLastBackward } from "../../src/engine/value";

/** (f(x+h) − f(x−h)) / 2h on the forward values only. */
function centralDifference(f: (x: number) => number, x: number, h = 1e-6): number {
  return (f(x + h) - f(x - h)) / (2 * h);
}

function assertClose(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)),
    `${what}: got ${actual}, expected ${expected}`,
  );
}

describe("engine: the tutorial's worked example z = x*y + w", () => {
  it("computes z = 7 and the grads 3, 2, 1", () => {
    const x = new Value(2.0);
    const y = new Value(3.0);
    const w = new Value(1.0);
    const z = x.mul(y).add(w);
    assert.equal(z.data, 7);
    z.backward();
    assert.equal(z.grad, 1);
    assert.deepEqual([x.grad, y.grad, w.grad], [3, 2, 1]);
  });

  it("agrees with the tutorial's numerical check (h = 1e-5 gives 3.000000)", () => {
    const zOf = (xv: number) => new Value(xv).mul(new Value(3)).add(new Value(1)).data;
    const h = 1e-5;
    const numeric = (zOf(2 + h) - zOf(2 - h)) / (2 * h);
    assert.equal(numeric.toFixed(6), "3.000000");
  });

  it("records the children and local gradients the tutorial stores", () => {
    const x = new Value(2);
    const y = new Value(3);
    const w = new Value(1);
    const xy = x.mul(y);
    const z = xy.add(w);
    assert.deepEqual(xy.children, [x, y]);
    assert.deepEqual(xy.localGrads, [3, 2]);
    assert.deepEqual(z.children, [xy, w]);
    assert.deepEqual(z.localGrads, [1, 1]);
    assert.equal(xy.op, "*");
    assert.equal(z.op, "+");
    assert.deepEqual(x.children, []);
    assert.equal(x.op, "");
  });
});

describe("engine: every op's local gradient matches central differences", () => {
  type UnaryCase = { name: string; op: (x: Value) => Value; f: (x: number) => number; points: number[] };
  const unary: UnaryCase[] = [
    { name: "neg", op: (x) => x.neg(), f: (x) => -x, points: [-2, 0.3, 5] },
    { name: "exp", op: (x) => x.exp(), f: Math.exp, points: [-3, -0.5, 0, 1.7] },
    { name: "log", op: (x) => x.log(), f: Math.log, points: [0.1, 1, 2.5, 40] },
    { name: "relu", op: (x) => x.relu(), f: (x) => Math.max(0, x), points: [-2, -0.1, 0.1, 3] },
    { name: "tanh", op: (x) => x.tanh(), f: Math.tanh, points: [-2, -0.3, 0, 0.8, 3] },
    { name: "sigmoid", op: (x) => x.sigmoid(), f: (x) => 1 / (1 + Math.exp(-x)), points: [-4, -0.5, 0, 1.2, 5] },
    { name: "pow 2", op: (x) => x.pow(2), f: (x) => x ** 2, points: [-3, -0.5, 0, 1.5] },
    { name: "pow 3", op: (x) => x.pow(3), f: (x) => x ** 3, points: [-2, 0.7, 2] },
    { name: "pow -1", op: (x) => x.pow(-1), f: (x) => x ** -1, points: [-2, 0.4, 3] },
    { name: "pow 0.5", op: (x) => x.pow(0.5), f: (x) => x ** 0.5, points: [0.2, 1, 9] },
    { name: "pow -0.5", op: (x) => x.pow(-0.5), f: (x) => x ** -0.5, points: [0.2, 1, 9] },
    { name: "sub(1, x)", op: (x) => sub(1, x), f: (x) => 1 - x, points: [-2, 0.5, 4] },
    { name: "div(1, x)", op: (x) => div(1, x), f: (x) => 1 / x, points: [-2, 0.5, 4] },
    { name: "add(3, x)", op: (x) => add(3, x), f: (x) => 3 + x, points: [-1, 2] },
    { name: "mul(2.5, x)", op: (x) => mul(2.5, x), f: (x) => 2.5 * x, points: [-1, 2] },
    { name: "x - 4", op: (x) => x.sub(4), f: (x) => x - 4, points: [-1, 2] },
    { name: "x / 4", op: (x) => x.div(4), f: (x) => x / 4, points: [-1, 2] },
    { name: "function forms", op: (x) => sigmoid(tanh(relu(exp(log(pow(neg(x), 2)))))), f: (x) => 1 / (1 + Math.exp(-Math.tanh(Math.max(0, x * x)))), points: [-1.5, 0.5, 2] },
  ];
  for (const c of unary) {
    it(`${c.name} at ${c.points.join(", ")}`, () => {
      for (const point of c.points) {
        const x = new Value(point);
        const out = c.op(x);
        assertClose(out.data, c.f(point), 1e-12, `${c.name}(${point}) value`);
        out.backward();
        assertClose(x.grad, centralDifference(c.f, point), 1e-6, `d ${c.name}/dx at ${point}`);
      }
    });
  }

  type BinaryCase = { name: string; op: (a: Value, b: Value) => Value; f: (a: number, b: number) => number };
  const binary: BinaryCase[] = [
    { name: "add", op: (a, b) => a.add(b), f: (a, b) => a + b },
    { name: "sub", op: (a, b) => a.sub(b), f: (a, b) => a - b },
    { name: "mul", op: (a, b) => a.mul(b), f: (a, b) => a * b },
    { name: "div", op: (a, b) => a.div(b), f: (a, b) => a / b },
  ];
  const pairs = [
    [2, 3],
    [-1.5, 0.25],
    [0.7, -4],
    [10, 0.1],
  ];
  for (const c of binary) {
    it(`${c.name} at ${pairs.map((p) => `(${p})`).join(", ")}, for both operands`, () => {
      for (const [av, bv] of pairs) {
        const a = new Value(av);
        const b = new Value(bv);
        const out = c.op(a, b);
        assertClose(out.data, c.f(av, bv), 1e-12, `${c.name}(${av}, ${bv})`);
        out.backward();
        assertClose(a.grad, centralDifference((x) => c.f(x, bv), av), 1e-6, `d${c.name}/da at (${av}, ${bv})`);
        assertClose(b.grad, centralDifference((x) => c.f(av, x), bv), 1e-6, `d${c.name}/db at (${av}, ${bv})`);
      }
    });
  }

  it("sum builds Python's chain of + nodes from 0", () => {
    const xs = [1, 2, 3].map((x) => new Value(x));
    const total = sum(xs);
    assert.equal(total.data, 6);
    total.backward();
    assert.deepEqual(
      xs.map((x) => x.grad),
      [1, 1, 1],
    );
    assert.equal(topologicalOrder(total).filter((v) => v.op === "+").length, 3);
  });
});

describe("engine: micrograd's reference expressions (values from PyTorch)", () => {
  it("sanity check: y = -20, dy/dx = 46", () => {
    const x = new Value(-4.0);
    const z = mul(2, x).add(2).add(x);
    const q = z.relu().add(z.mul(x));
    const h = z.mul(z).relu();
    const y = h.add(q).add(q.mul(x));
    y.backward();
    assert.equal(y.data, -20);
    assert.equal(x.grad, 46);
  });

  it("more ops: g = 24.70408163265306, dg/da = 138.83381924198252, dg/db = 645.5772594752186", () => {
    const a = new Value(-4.0);
    const b = new Value(2.0);
    let c = a.add(b);
    let d = a.mul(b).add(b.pow(3));
    c = c.add(c.add(1));
    c = c.add(add(1, c).add(a.neg()));
    d = d.add(d.mul(2).add(b.add(a).relu()));
    d = d.add(mul(3, d).add(b.sub(a).relu()));
    const e = c.sub(d);
    const f = e.pow(2);
    let g = f.div(2.0);
    g = g.add(div(10.0, f));
    g.backward();
    assertClose(g.data, 24.70408163265306, 1e-6, "g");
    assertClose(a.grad, 138.83381924198252, 1e-6, "dg/da");
    assertClose(b.grad, 645.5772594752186, 1e-6, "dg/db");
  });
});

describe("engine: backward", () => {
  it("a node used twice gets both contributions", () => {
    const x = new Value(3);
    const square = x.mul(x);
    square.backward();
    assert.equal(x.grad, 6);

    const y = new Value(5);
    const double = y.add(y);
    double.backward();
    assert.equal(y.grad, 2);

    // Diamond: a feeds b and c, both feed d.
    const a = new Value(2);
    const b = a.mul(3);
    const c = a.exp();
    const d = b.add(c);
    d.backward();
    assertClose(a.grad, 3 + Math.exp(2), 1e-15, "diamond");
  });

  it("calling backward twice doubles the grads; zeroGrad fixes it", () => {
    const x = new Value(2);
    const y = new Value(3);
    const z = x.mul(y);
    z.backward();
    z.backward();
    assert.deepEqual([x.grad, y.grad], [6, 4]);
    zeroGrad(z);
    assert.deepEqual([x.grad, y.grad, z.grad], [0, 0, 0]);
    z.backward();
    assert.deepEqual([x.grad, y.grad], [3, 2]);
  });

  it("a second backward also re-pushes stale intermediate grads, as the tutorial's Value does", () => {
    const x = new Value(2);
    const y = new Value(3);
    const xy = x.mul(y);
    const z = xy.add(new Value(1));
    z.backward();
    z.backward();
    // xy.grad is 1 + 1 = 2 on the second pass, so x gets 3 + 2·3 = 9, not 6.
    assert.deepEqual([xy.grad, x.grad, y.grad], [2, 9, 6]);
    zeroGrad(z);
    z.backward();
    assert.deepEqual([x.grad, y.grad], [3, 2]);
  });

  it("leaves values outside the root's graph alone", () => {
    const x = new Value(2);
    const used = x.mul(3);
    const unused = x.mul(100);
    used.backward();
    assert.equal(x.grad, 3);
    assert.equal(unused.grad, 0);
  });

  it("says which values the last backward() reached, until another walk of a graph", () => {
    const w = new Value(2);
    const other = new Value(5);
    const loss = w.mul(w).add(1);
    const elsewhere = other.mul(3);
    loss.backward();
    assert.deepEqual([inLastBackward(loss), inLastBackward(w), inLastBackward(other), inLastBackward(elsewhere)], [true, true, false, false]);
    topologicalOrder(elsewhere); // its stamps are newer: "reached" is no longer known
    assert.equal(inLastBackward(w), undefined);
    elsewhere.backward();
    assert.deepEqual([inLastBackward(other), inLastBackward(w)], [true, false]);
  });

  it("handles a chain of 1,000,000 nodes (the sort is iterative)", function () {
    this.timeout(120000);
    const first = new Value(0.5);
    let v = first;
    for (let i = 1; i < 1_000_000; i++) v = i % 2 === 0 ? v.tanh() : v.pow(1);
    const order = topologicalOrder(v);
    assert.equal(order.length, 1_000_000);
    assert.equal(order[0], first);
    assert.equal(order[order.length - 1], v);
    v.backward();
    // d/dx of tanh applied 500,000 times: finite, positive, and the same as the product of local grads.
    let expected = 1;
    for (let node = v; node.childCount > 0; node = node.child(0)) expected *= node.localGrad(0);
    assert.ok(first.grad > 0 && Number.isFinite(first.grad));
    assertClose(first.grad, expected, 1e-9, "grad through the chain");
    zeroGrad(v);
    assert.equal(first.grad, 0);
  });

  it("sums grads in topological order: every parent before its child", () => {
    const x = new Value(1.5);
    let h = x;
    const outs: Value[] = [];
    for (let i = 0; i < 50; i++) {
      h = h.mul(x).tanh();
      outs.push(h);
    }
    const root = sum(outs);
    const order = topologicalOrder(root);
    const position = new Map(order.map((v, i) => [v, i]));
    for (const v of order) for (const c of v.children) assert.ok((position.get(c) as number) < (position.get(v) as number));
    // Same gradient as differentiating numerically.
    root.backward();
    const f = (xv: number) => {
      let hv = xv;
      let total = 0;
      for (let i = 0; i < 50; i++) {
        hv = Math.tanh(hv * xv);
        total += hv;
      }
      return total;
    };
    assertClose(x.grad, centralDifference(f, 1.5), 1e-6, "d(sum of tanh chain)/dx");
  });
});

describe("engine: user-defined ops (the tutorial's constructor)", () => {
  it("uses the local gradients the user gives", () => {
    const x = new Value(3);
    const square = new Value(x.data ** 2, [x], [2 * x.data], "square");
    square.backward();
    assert.equal(square.data, 9);
    assert.equal(x.grad, 6);
    assert.equal(square.op, "square");
  });

  it("supports more than two inputs", () => {
    const a = new Value(1);
    const b = new Value(2);
    const c = new Value(3);
    const product = new Value(a.data * b.data * c.data, [a, b, c], [b.data * c.data, a.data * c.data, a.data * b.data], "prod3");
    const out = product.mul(2);
    out.backward();
    assert.deepEqual([a.grad, b.grad, c.grad], [12, 6, 4]);
    assert.deepEqual(product.children, [a, b, c]);
    assert.deepEqual(product.localGrads, [6, 3, 2]);
    assert.equal(product.childCount, 3);
    assert.equal(product.child(2), c);
    assert.equal(product.localGrad(1), 3);
  });

  it("a missing local gradient shows as NaN instead of a silent 0", () => {
    const a = new Value(1);
    const b = new Value(2);
    const bad = new Value(a.data + b.data, [a, b], [1], "forgot one");
    bad.backward();
    assert.equal(a.grad, 1);
    assert.ok(Number.isNaN(b.grad));
  });

  it("labels and toString", () => {
    const x = new Value(2).named("x");
    assert.equal(x.label, "x");
    assert.equal(String(x), "Value(data=2, grad=0)");
  });

  it("records the creation site the runner sets, and ids that grow along every edge", () => {
    const saved = creationSite.site;
    try {
      creationSite.site = 42;
      const x = new Value(1);
      const y = x.exp();
      creationSite.site = 7;
      const z = y.add(x);
      assert.deepEqual([x.site, y.site, z.site], [42, 42, 7]);
      assert.ok(x.id < y.id && y.id < z.id);
    } finally {
      creationSite.site = saved;
    }
    assert.equal(new Value(0).site, saved);
  });
});

describe("engine: IEEE-754 semantics, never a throw", () => {
  it("log 0 = -Infinity with local grad Infinity", () => {
    const x = new Value(0);
    const y = x.log();
    assert.equal(y.data, -Infinity);
    assert.equal(y.localGrads[0], Infinity);
    assert.doesNotThrow(() => y.backward());
    assert.equal(x.grad, Infinity);
  });

  it("log of a negative number is NaN", () => {
    const y = log(-2);
    assert.ok(Number.isNaN(y.data));
    assert.doesNotThrow(() => y.backward());
  });

  it("0 ** -1 = Infinity", () => {
    const x = new Value(0);
    const y = x.pow(-1);
    assert.equal(y.data, Infinity);
    assert.doesNotThrow(() => y.backward());
    assert.equal(x.grad, -Infinity);
    assert.equal(div(1, 0).data, Infinity);
  });

  it("(-8) ** (1/3) = NaN", () => {
    const y = new Value(-8).pow(1 / 3);
    assert.ok(Number.isNaN(y.data));
    assert.doesNotThrow(() => y.backward());
  });

  it("relu'(0) = 0 and relu(0) = 0", () => {
    const x = new Value(0);
    const y = x.relu();
    y.backward();
    assert.equal(y.data, 0);
    assert.equal(x.grad, 0);
  });

  it("exp overflows to Infinity and NaN spreads without throwing", () => {
    const x = new Value(1000);
    const y = x.exp().sub(x.exp());
    assert.ok(Number.isNaN(y.data));
    assert.doesNotThrow(() => y.backward());
  });

  it("keeps large and small sigmoid/tanh finite", () => {
    for (const v of [-800, 800]) {
      const x = new Value(v);
      const s = x.sigmoid();
      const t = x.tanh();
      assert.ok(Number.isFinite(s.data) && Number.isFinite(t.data));
      s.add(t).backward();
      assert.equal(x.grad, 0);
    }
  });
});
