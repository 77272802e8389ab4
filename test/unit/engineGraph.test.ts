import { strict as assert } from "assert";
import {
  Value,
  creationSite,
  findNonFiniteData,
  findNonFiniteGrad,
  findNonFiniteOrigin,
  fromJsonNumber,
  snapshotEdges,
  snapshotGraph,
  snapshotGraphPacked,
  snapshotNodes,
  snapshotFromJson,
  snapshotToJson,
  toJsonNumber,
  topologicalOrder,
  type SnapshotJson,
} from "../../src/engine";
import { anyLeaf, staleLeafOfLastBackward } from "../../src/engine/value";
import { packLabels, unpackLabels } from "../../src/runner/labelTransfer";

describe("engine: graph snapshot", () => {
  /** z = x*y + w with every node named. */
  function example() {
    const x = new Value(2).named("x");
    const y = new Value(3).named("y");
    const w = new Value(1).named("w");
    const xy = x.mul(y).named("xy");
    const z = xy.add(w).named("z");
    z.backward();
    return { x, y, w, xy, z };
  }

  it("lists nodes in topological order with op, label, data and grad; the root last", () => {
    const { z } = example();
    const s = snapshotGraph(z);
    assert.equal(s.nodeCount, 5);
    assert.equal(s.root, 4);
    assert.deepEqual(
      snapshotNodes(s).map(({ id, op, label, data, grad }) => ({ id, op, label, data, grad })),
      [
        { id: 0, op: "", label: "x", data: 2, grad: 3 },
        { id: 1, op: "", label: "y", data: 3, grad: 2 },
        { id: 2, op: "*", label: "xy", data: 6, grad: 1 },
        { id: 3, op: "", label: "w", data: 1, grad: 1 },
        { id: 4, op: "+", label: "z", data: 7, grad: 1 },
      ],
    );
  });

  it("lists every edge with its local gradient", () => {
    const { z } = example();
    assert.deepEqual(snapshotEdges(snapshotGraph(z)), [
      { from: 0, to: 2, localGrad: 3 },
      { from: 1, to: 2, localGrad: 2 },
      { from: 2, to: 4, localGrad: 1 },
      { from: 3, to: 4, localGrad: 1 },
    ]);
  });

  it("includes each shared node once and keeps every edge pointing forward", () => {
    const a = new Value(1.5);
    const b = a.mul(a);
    const c = a.exp();
    const d = new Value(b.data + c.data + a.data, [b, c, a], [1, 1, 1], "sum3");
    const s = snapshotGraph(d);
    assert.equal(s.nodeCount, 4);
    assert.equal(snapshotEdges(s).length, 6);
    for (const e of snapshotEdges(s)) assert.ok(e.from < e.to, `edge ${e.from} → ${e.to}`);
    assert.deepEqual(s.opNames.sort(), ["", "*", "exp", "sum3"].sort());
    assert.equal(snapshotNodes(s)[s.root].op, "sum3");
  });

  it("numbers nodes without disturbing a later backward(), and a child outside a partial order reads as node 0", () => {
    // The snapshot keeps each node's position in its slab, where backward() counts parents.
    const a = new Value(1.5);
    const b = a.mul(a);
    const s = b.add(a);
    const c = s.exp();
    c.backward();
    const first = snapshotGraph(c);
    assert.deepEqual(snapshotEdges(first).map((e) => [e.from, e.to]), [[0, 1], [0, 1], [1, 2], [0, 2], [2, 3]]);
    for (const v of [a, b, s, c]) v.grad = 0;
    const d = c.mul(b);
    snapshotGraph(d);
    d.backward();
    // d = exp(a² + a)·a²: dd/da = exp(a² + a)(2a + 1)·a² + exp(a² + a)·2a.
    const e = Math.exp(1.5 * 1.5 + 1.5);
    assert.ok(Math.abs(a.grad - (e * 4 * 1.5 * 1.5 + e * 3)) < 1e-9 * Math.abs(a.grad), `a.grad ${a.grad}`);
    const partial = snapshotGraph(c, [b, c]);
    assert.deepEqual(Array.from(partial.child), [0, 0, 0], "a and s are not in the order");
    assert.deepEqual(Array.from(snapshotGraph(s, [a, b, s]).child), [0, 0, 1, 0]);
  });

  it("asks about the leaves with one walk that visits a shared node once, and does not disturb a later backward()", () => {
    const a = new Value(1.5);
    const b = new Value(-2);
    const shared = a.mul(b);
    const root = shared.add(shared).mul(a).add(new Value(3, [], [], "").mul(2));
    const seen: Value[] = [];
    assert.equal(anyLeaf(root, (leaf) => (seen.push(leaf), false)), false);
    const leaves = topologicalOrder(root).filter((v) => v.childCount === 0);
    assert.equal(seen.length, leaves.length, "each leaf once");
    assert.deepEqual(new Set(seen), new Set(leaves));
    assert.equal(anyLeaf(root, (leaf) => leaf === b), true);
    assert.equal(anyLeaf(root, (leaf) => leaf.grad !== 0), false);
    root.backward();
    assert.equal(a.grad, 2 * b.data * a.data + 2 * a.data * b.data);
    assert.equal(anyLeaf(root, (leaf) => leaf.grad !== 0), true);
    assert.equal(anyLeaf(shared, (leaf) => leaf.grad === a.grad), true);
  });

  it("notes, as backward() walks, the first-made leaf that already held a grad, and the grad it held", () => {
    const w = new Value(0.5);
    const b = new Value(-1);
    const loss = () => w.mul(new Value(3)).add(b).tanh();
    loss().backward();
    assert.equal(staleLeafOfLastBackward(), undefined, "every leaf started from 0");
    const wGrad = w.grad;
    const bGrad = b.grad;
    assert.ok(wGrad !== 0 && bGrad !== 0);
    // A second step without zeroing: both parameters still hold last step's grads; w was made first.
    loss().backward();
    assert.deepEqual(staleLeafOfLastBackward(), { leaf: w, grad: wGrad });
    w.grad = 0;
    loss().backward();
    assert.equal(staleLeafOfLastBackward()?.leaf, b);
    assert.equal(staleLeafOfLastBackward()?.grad, 2 * bGrad, "b's grad after two steps");
    w.grad = 0;
    b.grad = 0;
    loss().backward();
    assert.equal(staleLeafOfLastBackward(), undefined);
  });

  it("keeps the creation site of every node", () => {
    // As the runner does: point creationSite at the expression that is running.
    const at = <T>(site: number, make: () => T): T => {
      creationSite.site = site;
      return make();
    };
    try {
      const x = at(11, () => new Value(2));
      const y = at(12, () => new Value(3));
      const xy = at(13, () => x.mul(y));
      const z = at(14, () => xy.add(1)); // the constant 1 is made at site 14 too
      const s = snapshotGraph(z);
      assert.deepEqual(Array.from(s.site), [11, 12, 13, 14, 14]);
      assert.deepEqual(snapshotNodes(s).map((n) => n.site), [11, 12, 13, 14, 14]);
    } finally {
      creationSite.site = 0;
    }
  });

  it("matches topologicalOrder and the nodes' own fields on a larger graph", () => {
    let h = new Value(0.1);
    const xs = [0.5, -1, 2].map((v) => new Value(v));
    for (let i = 0; i < 20; i++) h = h.mul(xs[i % 3]).add(xs[(i + 1) % 3]).tanh();
    h.backward();
    const order = topologicalOrder(h);
    const s = snapshotGraph(h, order);
    assert.equal(s.nodeCount, order.length);
    order.forEach((v, i) => {
      assert.equal(s.data[i], v.data);
      assert.equal(s.grad[i], v.grad);
      assert.equal(s.opNames[s.op[i]], v.op);
      assert.deepEqual(
        Array.from(s.child.subarray(s.childStart[i], s.childStart[i + 1])).map((k) => order[k]),
        v.children,
      );
      assert.deepEqual(Array.from(s.localGrad.subarray(s.childStart[i], s.childStart[i + 1])), v.localGrads);
    });
  });

  it("packs the labels as it reads them: the very arrays packLabels makes of the snapshot's record, runs of a name and names that come back included", () => {
    const a = new Value(1).named("a");
    let h = a;
    const names = ["h", "h", "t", "h", "t", "t", "u"];
    for (let i = 0; i < 40; i++) {
      h = h.mul(new Value(0.5 + i)).add(a).tanh();
      if (i % 3 !== 1) h.named(names[i % names.length]);
    }
    h.named("loss");
    h.backward();
    const order = topologicalOrder(h);
    const plain = snapshotGraph(h, order);
    const packed = snapshotGraphPacked(h, order);
    assert.deepEqual(packed.labels, packLabels(plain.labels));
    assert.deepEqual(unpackLabels(packed.labels), plain.labels);
    assert.deepEqual(packed.graph.labels, {});
    assert.deepEqual({ ...packed.graph, labels: plain.labels }, plain);
    assert.ok(packed.labels.names.length >= 4 && packed.labels.ids.length > 20);
  });

  it("serialises as JSON with NaN and ±Infinity written as strings, and reads it back", () => {
    const x = new Value(0).named("x");
    const y = x.log().named("y");
    const z = y.mul(new Value(0)).named("z");
    z.backward();
    const s = snapshotGraph(z);
    // Through real JSON text, as webview messages and the Python tracer's output travel.
    const text = JSON.stringify(snapshotToJson(s));
    const json = JSON.parse(text) as SnapshotJson;
    const index = (label: string) => Number(Object.entries(json.labels).find(([, l]) => l === label)?.[0]);
    assert.equal(json.data[index("y")], "-Infinity");
    assert.equal(json.data[index("z")], "NaN");
    assert.equal(json.grad[index("x")], "NaN"); // 0 · (1/0) = NaN
    assert.ok(json.localGrad.includes("Infinity")); // d(log x)/dx at 0
    const back = snapshotFromJson(json);
    // Every field survives the round trip: typed arrays, non-finite numbers, labels keyed by number.
    // (Element by element: a NaN's bits may differ, and typed arrays compare as bytes.)
    const plain = (g: typeof s) => Object.fromEntries(Object.entries(g).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v]));
    assert.deepEqual(plain(back), plain(s));
    assert.equal(back.data.constructor, Float64Array);
    assert.equal(back.child.constructor, Uint32Array);
    assert.ok(Number.isNaN(back.grad[index("x")]));
    assert.equal(back.labels[index("z")], "z");
    assert.ok(Number.isNaN(fromJsonNumber("NaN")));
    assert.equal(fromJsonNumber(toJsonNumber(2.5)), 2.5);
  });
});

describe("engine: where a non-finite value came from", () => {
  it("names the first node whose data went non-finite from finite inputs", () => {
    const x = new Value(0).named("x");
    const l = x.log().named("l"); // -Infinity: the origin
    const m = l.mul(2).named("m"); // -Infinity, inherited
    const out = m.add(new Value(1)).mul(new Value(0)).named("out"); // NaN, inherited
    const origin = findNonFiniteOrigin(out);
    assert.ok(origin);
    assert.equal(origin.node, l);
    assert.equal(origin.field, "data");
    assert.equal(origin.value, -Infinity);
    assert.equal(findNonFiniteData(out)?.node.label, "l");
  });

  it("names NaN from log of a negative number", () => {
    const a = new Value(3).named("a");
    const b = a.sub(5).named("b"); // -2
    const c = b.log().named("c"); // NaN
    const d = c.add(a).named("d");
    assert.equal(findNonFiniteOrigin(d)?.node, c);
  });

  it("names the node whose grad went non-finite while its parents' grads were finite", () => {
    const x = new Value(0).named("x");
    const s = x.pow(0.5).named("s"); // 0, finite; local grad 0.5·0^-0.5 = Infinity
    const out = s.mul(3).add(new Value(1)).named("out");
    assert.equal(findNonFiniteData(out), undefined);
    out.backward();
    const origin = findNonFiniteOrigin(out);
    assert.ok(origin);
    assert.equal(origin.field, "grad");
    assert.equal(origin.node, x);
    assert.equal(origin.value, Infinity);
    assert.equal(findNonFiniteGrad(out)?.node.label, "x");
  });

  it("reports nothing for a finite graph", () => {
    const x = new Value(2);
    const y = x.mul(x).exp();
    y.backward();
    assert.equal(findNonFiniteOrigin(y), undefined);
  });
});
