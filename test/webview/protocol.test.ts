/** The wire format, message checks, the stored copy, and the view's logic that needs no browser. */
import { strict as assert } from "assert";
import { Value, snapshotGraph } from "../../src/engine";
import { fromWireGraph, isWireGraph, readHostMessage, readViewMessage, toWireGraph, toWireResult } from "../../src/protocol/messages";
import { parseHostMessage, parseViewMessage } from "../../src/protocol/trainingMessages";
import { decodeGraphs, encodeGraphs } from "../../src/extension/graphStore";
import type { SourceSite } from "../../src/protocol/result";
import { hostileGraph, runnerGraph } from "./fixtures";
import { layeredLayout } from "../../src/webview/layout";
import { buildModel, nameOf } from "../../src/webview/graphModel";
import { Hierarchy, levelLimit, type Group } from "../../src/webview/hierarchy";
import { groupLevel } from "../../src/webview/level";
import { findNodes } from "../../src/webview/search";
import { escapeRecord } from "../../src/webview/dot";
import { groupTitle } from "../../src/webview/captions";
import { testStrings } from "./harness";

describe("graph protocol wire format", () => {
  it("passes the columns as typed arrays (no copy), NaN and ±Infinity intact, labels packed", () => {
    const zero = new Value(0).named("zero");
    const out = zero.log().mul(new Value(0).log().neg()).add(zero.pow(-1).mul(0));
    out.backward();
    const snapshot = snapshotGraph(out);
    const wire = toWireGraph(snapshot);
    assert.equal(wire.data, snapshot.data, "the same array, not a copy");
    assert.ok(wire.labels.ids instanceof Uint32Array);
    assert.ok(isWireGraph(wire));
    // What structured clone (VS Code's postMessage since 1.57) does to it.
    const back = fromWireGraph(structuredClone(wire));
    assert.deepEqual(Array.from(back.grad).map(String), Array.from(snapshot.grad).map(String));
    assert.ok(Array.from(back.data).includes(-Infinity));
    assert.deepEqual(back.labels, snapshot.labels);
  });

  it("rejects graphs with missing or mismatched columns, and unknown messages from either side", () => {
    const wire = toWireGraph(snapshotGraph(new Value(1).add(2)));
    assert.equal(isWireGraph({ ...wire, data: Array.from(wire.data) }), false);
    assert.equal(isWireGraph({ ...wire, child: new Uint32Array(0) }), false);
    assert.equal(readHostMessage({ type: "showGraph", result: { roots: [{ name: "x", graph: { ...wire, nodeCount: 7 } }], sites: [] }, rootIndex: 0, strings: {}, settings: {} }), undefined);
    assert.equal(readViewMessage({ type: "revealSource", file: 3, line: 1, column: 1 }), undefined);
    assert.equal(readViewMessage({ type: "rm -rf" }), undefined);
    assert.equal(readViewMessage(null), undefined);
    assert.deepEqual(readViewMessage({ type: "revealSource", file: "/a.ts", line: 2, column: 3, extra: 1 }), { type: "revealSource", file: "/a.ts", line: 2, column: 3 });
  });

  it("refuses an array where the other side must send an object with fields", () => {
    const wire = toWireGraph(snapshotGraph(new Value(1).add(2)));
    const show = { type: "showGraph", result: { roots: [{ name: "x", graph: wire }], sites: [] }, rootIndex: 0, strings: {}, settings: {} };
    assert.ok(readHostMessage(show), "the well-formed message is read");
    assert.equal(readHostMessage({ ...show, strings: [] }), undefined);
    assert.equal(readHostMessage({ ...show, settings: [] }), undefined);
    assert.equal(readHostMessage([]), undefined);
    assert.equal(readHostMessage({ ...show, result: { ...show.result, roots: [[]] } }), undefined);
    assert.equal(readHostMessage({ ...show, result: { ...show.result, roots: [{ name: "x", graph: { ...wire, labels: [] } }] } }), undefined);
    assert.ok(readViewMessage({ type: "state", state: { rootIndex: 0 } }));
    assert.equal(readViewMessage({ type: "state", state: [] }), undefined);
    assert.equal(readViewMessage([]), undefined);

    // The training view's messages, both ways.
    const step = { step: 1, loss: 2.5, gradNorm: 0.5, groups: { wte: { gradNorm: 0.5, updateRatio: 0.001 } }, deadReluFraction: null, nonFinite: false, timeMs: 10 };
    const init = { type: "init", strings: {}, file: "/a.ts", groups: ["wte"], steps: [step], graphSteps: [1], status: "running", elapsedMs: 10 };
    assert.ok(parseHostMessage(init), "the well-formed init is read");
    assert.equal(parseHostMessage({ ...init, strings: [] }), undefined);
    assert.equal(parseHostMessage({ ...init, steps: [{ ...step, groups: [] }] }), undefined);
    assert.equal(parseHostMessage({ ...init, groups: ["wte", 3] }), undefined);
    assert.equal(parseHostMessage({ ...init, graphSteps: ["1"] }), undefined);
    assert.equal(parseHostMessage([]), undefined);
    assert.deepEqual(parseViewMessage({ type: "openStep", step: 2 }), { type: "openStep", step: 2 });
    assert.equal(parseViewMessage([]), undefined);
  });

  it("stores the last graph as binary and reads it back", () => {
    const wire = toWireResult(hostileGraph());
    const bytes = encodeGraphs(wire);
    const back = decodeGraphs(bytes);
    assert.ok(back);
    const g = back.roots[0].graph;
    assert.ok(g.data instanceof Float64Array && isWireGraph(g));
    assert.deepEqual(Array.from(g.data).map(String), Array.from(wire.roots[0].graph.data).map(String));
    assert.equal(fromWireGraph(g).labels[0], "<img src=x onerror=alert(1)>");
    assert.equal(back.sites[2].text, "zero.log()");
    assert.equal(decodeGraphs(new TextEncoder().encode('{"roots":[]}')), undefined);
  });
});

describe("graph view logic (no browser)", () => {
  it("layers nodes by longest path: inputs in column 0, the output last", () => {
    const a = new Value(1), b = new Value(2);
    const c = a.mul(b).tanh().add(b);
    const model = buildModel(snapshotGraph(c), []);
    assert.deepEqual(Array.from(model.layer), [0, 0, 1, 2, 3]);
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
  });

  it("names nodes as the program does: a statement's variable only for its final value, expressions, constants", () => {
    // A Python-style site per statement: `z = x * y + w` makes x*y and the sum at one site.
    const sites: SourceSite[] = [
      { id: 0, file: "", line: 0, column: 0, endLine: 0, endColumn: 0, text: "" },
      { id: 1, file: "/ch.md", line: 3, column: 1, endLine: 3, endColumn: 14, text: "z = x * y + w", binding: "z" },
      { id: 2, file: "/ch.md", line: 4, column: 1, endLine: 4, endColumn: 10, text: "q = z * 2", binding: "q" },
    ];
    const x = new Value(2).named("x"), y = new Value(3).named("y"), w = new Value(1).named("w");
    const snap = snapshotGraph(x.mul(y).add(w));
    for (let i = 0; i < snap.nodeCount; i++) if (snap.childStart[i + 1] > snap.childStart[i]) snap.site[i] = 1;
    const model = buildModel(snap, sites);
    const byOp = (op: string): number => Array.from(snap.op).findIndex((k) => snap.opNames[k] === op);
    assert.equal(nameOf(model, byOp("*")), "z = x * y + w", "x*y is not z");
    assert.equal(nameOf(model, byOp("+")), "z");
    const q = snapshotGraph(new Value(7).mul(2));
    q.site.fill(2);
    const qm = buildModel(q, sites);
    assert.equal(nameOf(qm, 1), "2", "a constant is its value");
    for (let i = 0; i < snap.nodeCount; i++) assert.doesNotMatch(nameOf(model, i), /#\d/);
  });

  describe("hierarchy of a microgpt step (the runner's call stacks)", function () {
    this.timeout(60_000);
    let model: ReturnType<typeof buildModel>;
    let h: Hierarchy;
    before(async () => {
      const result = await runnerGraph("microgptStep");
      model = buildModel(result.roots[0].graph, result.sites);
      h = new Hierarchy(model, result.roots[0].frames);
    });

    it("groups by call: parameters in createModel(), the loss in documentLoss() → gpt() [t] → linear() …", () => {
      const title = (g: Group): string => groupTitle(testStrings, g);
      const top = h.contents(h.top).map((item) => (item.kind === "group" ? title(item.group) : "node"));
      // The call's title says what the program calls its result: `const loss = documentLoss(…)`.
      assert.ok(top.includes("model = createModel()") && top.includes("loss = documentLoss()"), top.join(", "));
      const doc = h.contents(h.top).find((item) => item.kind === "group" && title(item.group).endsWith("documentLoss()"));
      assert.ok(doc?.kind === "group");
      const inside = h.contents(doc.group).map((item) => (item.kind === "group" ? title(item.group) : "node"));
      // Which call of gpt, in the extension's words ("{0} · call {1}").
      assert.ok(inside.some((t) => /gpt\(\) · call 1$/.test(t)) && inside.some((t) => /gpt\(\) · call 7$/.test(t)), inside.join(", "));
    });

    it("opens every group step by step, never more than the level limit at once, down to single values", () => {
      let count = 0;
      const walk = (g: Group, depth: number): void => {
        const items = h.contents(g);
        assert.ok(items.length <= levelLimit, `${groupTitle(testStrings, g)}: ${items.length} items`);
        let inside = 0;
        for (const item of items) inside += item.kind === "node" ? 1 : item.group.count;
        assert.equal(inside, g.count, `${groupTitle(testStrings, g)} holds what its items hold`);
        if (depth > 12) return;
        for (const item of items) {
          if (item.kind === "node") count++;
          else walk(item.group, depth + 1);
        }
      };
      walk(h.top, 0);
      assert.equal(count, model.snapshot.nodeCount, "every value is reachable");
    });

    it("merges edges between the items of a level", () => {
      const level = groupLevel(model, h, h.top);
      assert.ok(level.edges.length > 0);
      for (const e of level.edges) assert.ok(e.from !== e.to && e.count > 0);
    });

    it("finds values in closed groups by op, function, expression and name, and the path that opens them", () => {
      for (const q of ["relu", "softmax", "wte", "linear", "logits"]) {
        const hits = findNodes(model, h, q);
        assert.ok(hits.length > 0, `${q}: no hit`);
        const path = h.pathTo(hits[0]);
        assert.ok(h.contents(path[path.length - 1]).some((item) => item.kind === "node" && item.node === hits[0]), `${q}: the path ends at the value`);
      }
    });
  });

  it("escapes DOT record syntax in labels", () => {
    assert.equal(escapeRecord('a{b}|<c>"d'), 'a\\{b\\}\\|\\<c\\>\\"d');
  });
});
