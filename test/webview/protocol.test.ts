/** The wire format between extension and webview: plain JSON, non-finite numbers as strings. */
import { strict as assert } from "assert";
import { Value, snapshotGraph } from "../../src/engine";
import { fromWireGraph, toWireGraph, toWireResult } from "../../src/protocol/messages";
import { hostileGraph } from "./fixtures";
import { layeredLayout } from "../../src/webview/layout";
import { buildModel } from "../../src/webview/graphModel";
import { groupsOf, visibleGraph } from "../../src/webview/grouping";
import { escapeRecord } from "../../src/webview/dot";

describe("graph protocol wire format", () => {
  it("survives JSON (what VS Code's messaging does) with NaN and ±Infinity intact", () => {
    const zero = new Value(0);
    const out = zero.log().mul(new Value(0).log().neg()).add(zero.pow(-1).mul(0));
    out.backward();
    const snapshot = snapshotGraph(out);
    const wire = JSON.parse(JSON.stringify(toWireGraph(snapshot)));
    assert.ok(wire.data.includes("-Infinity") && wire.data.includes("Infinity") && wire.grad.includes("NaN"));
    const back = fromWireGraph(wire);
    assert.ok(back.data instanceof Float64Array && back.child instanceof Uint32Array && back.op instanceof Uint16Array);
    assert.deepEqual(Array.from(back.data), Array.from(snapshot.data));
    assert.deepEqual(Array.from(back.grad).map(String), Array.from(snapshot.grad).map(String));
    assert.deepEqual(Array.from(back.localGrad).map(String), Array.from(snapshot.localGrad).map(String));
    assert.deepEqual(Array.from(back.childStart), Array.from(snapshot.childStart));
    assert.deepEqual(back.opNames, snapshot.opNames);
    assert.equal(back.root, snapshot.root);
  });

  it("keeps labels and sites of a run result", () => {
    const wire = JSON.parse(JSON.stringify(toWireResult(hostileGraph())));
    assert.equal(wire.roots[0].graph.labels[0], "<img src=x onerror=alert(1)>");
    assert.equal(wire.sites[2].text, "zero.log()");
  });
});

describe("graph view logic (no browser)", () => {
  it("layers nodes by longest path: inputs in column 0, the output last", () => {
    const a = new Value(1), b = new Value(2);
    const c = a.mul(b).tanh().add(b);
    const model = buildModel(snapshotGraph(c), []);
    assert.deepEqual(Array.from(model.layer), [0, 0, 1, 2, 3]);
  });

  it("puts a leaf one column before its first consumer", () => {
    const a = new Value(1);
    const late = a.exp().exp().exp().mul(new Value(5));
    const model = buildModel(snapshotGraph(late), []);
    const five = model.snapshot.nodeCount - 2;
    assert.equal(model.layer[five], model.layer[model.snapshot.root] - 1);
  });

  it("orders rows so a chain stays straight and columns never overlap", () => {
    const out = layeredLayout({
      count: 4,
      column: Int32Array.from([0, 0, 1, 2]),
      edgeFrom: Int32Array.from([0, 1, 2]),
      edgeTo: Int32Array.from([2, 2, 3]),
      width: Float32Array.from([50, 50, 30, 80]),
      height: Float32Array.from([20, 20, 20, 20]),
      gapX: 10,
      gapY: 5,
      sweeps: 4,
    });
    assert.ok(out.x[0] < out.x[2] && out.x[2] < out.x[3]);
    assert.equal(out.x[0], out.x[1]);
    assert.notEqual(out.y[0], out.y[1]);
    assert.ok(out.x[2] - 15 >= out.x[0] + 25 + 10 - 1e-9, "the gap between columns holds");
  });

  it("merges edges between groups and counts members", () => {
    const result = hostileGraph();
    const model = buildModel(result.roots[0].graph, result.sites);
    const groups = groupsOf(model);
    assert.equal(groups.size, 3);
    const visible = visibleGraph(model, true, groups, new Set(), new Set());
    assert.equal(visible.groups.length, 3);
    assert.deepEqual(visible.edges.map((e) => `${e.from}>${e.to}:${e.count}`).sort(), ["gs1>gs2:1", "gs2>gs3:1"]);
    const expanded = visibleGraph(model, true, groups, new Set(["s2"]), new Set());
    assert.deepEqual(expanded.nodes, [1]);
    assert.equal(expanded.representative(1), "n1");
  });

  it("escapes DOT record syntax in labels", () => {
    assert.equal(escapeRecord('a{b}|<c>"d'), 'a\\{b\\}\\|\\<c\\>\\"d');
  });
});
