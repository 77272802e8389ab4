// Learners' own TypeScript Value classes: graphs, hovers and gradient checks of the user's class, with
// the numbers a plain run sees at backward() and local gradients recovered from closures.
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { checkFile, runFile } from "../../src/runner";
import { snapshotEdges, snapshotNodes } from "../../src/engine/snapshot";
import type { RootGraph } from "../../src/protocol/result";
import { repoRoot, useBuiltWorker } from "./runnerSupport";

const fixture = (name: string) => path.join(repoRoot, "test", "fixtures", "userClasses", name);

/** [op, data, grad] per node, in the order a recursive topological sort lists them (as the fixture prints). */
const numbersOf = (root: RootGraph) => snapshotNodes(root.graph).map((n) => [n.op, n.data, n.grad]);

describe("user classes: a learner's own TypeScript Value class", function () {
  this.timeout(60_000);
  before(() => useBuiltWorker());

  describe("a micrograd-style port (prev Set, op, _backward closures, label)", () => {
    it("graphs each backward() root with the data and grad a plain run printed at that moment", async () => {
      const result = await runFile(fixture("microgradPort.grad.ts"));
      assert.equal(result.error, undefined, result.error?.message);
      const printed = result.console.map((c) => JSON.parse(c.text) as [string, number, number][]);
      assert.equal(printed.length, 2);
      assert.equal(result.roots.length, 1);
      const [root] = result.roots;
      assert.equal(root.reason, "backward");
      assert.equal(root.calls, 2);
      assert.equal(root.name, "loss");
      assert.equal(root.position?.line, 31);
      // The graph of the last backward(), before SGD moved the weights and zeroed their grads.
      assert.deepEqual(numbersOf(root), printed[1]);
      const w1 = snapshotNodes(root.graph).find((n) => n.label === "w1");
      assert.ok(w1 && w1.grad !== 0, "w1 keeps its backward() grad");
    });

    it("recovers every edge's local gradient exactly from the closures (z*z: one edge, 2z)", async () => {
      const result = await runFile(fixture("microgradPort.grad.ts"));
      const g = result.roots[0].graph;
      const nodes = snapshotNodes(g);
      const edges = snapshotEdges(g);
      assert.ok(edges.every((e) => Number.isFinite(e.localGrad)), "no unknown local gradients");
      // The chain rule over the recovered local gradients gives back every grad backward() computed.
      const grad = new Array<number>(g.nodeCount).fill(0);
      grad[g.root] = 1;
      for (let i = g.nodeCount - 1; i >= 0; i--) for (const e of edges.filter((x) => x.to === i)) grad[e.from] += e.localGrad * grad[i];
      nodes.forEach((n) => assert.ok(Math.abs(grad[n.id] - n.grad) <= 1e-12 * Math.max(1, Math.abs(n.grad)), `grad of node ${n.id}`));
      // x1*x1 (a repeated input in a Set): one edge of 2·x1.
      const square = nodes.find((n) => n.op === "*" && edges.filter((e) => e.to === n.id).length === 1)!;
      const [edge] = edges.filter((e) => e.to === square.id);
      assert.equal(edge.localGrad, 2 * nodes[edge.from].data);
      const tanh = nodes.find((n) => n.op === "tanh")!;
      assert.equal(edges.find((e) => e.to === tanh.id)!.localGrad, 1 - tanh.data ** 2);
    });

    it("gives every node the line of the user's call that made it, not a line inside the class", async () => {
      const result = await runFile(fixture("microgradPort.grad.ts"));
      const g = result.roots[0].graph;
      const lines = new Set(snapshotNodes(g).filter((n) => n.op !== "").map((n) => result.sites[n.site]?.line));
      assert.deepEqual([...lines].sort(), [28, 29, 30]);
    });

    it("gives hovers the user's variables, and none to the class's own `out`", async () => {
      const result = await runFile(fixture("microgradPort.grad.ts"));
      const names = result.bindings.map((b) => b.name);
      for (const name of ["w1", "x1", "act", "loss"]) assert.ok(names.includes(name), name);
      assert.ok(!names.includes("out"));
      const loss = result.bindings.find((b) => b.name === "loss")!;
      assert.equal(loss.count, 2);
      assert.ok(loss.node, "the hover links to the graph's node");
    });
  });

  describe("a class with _children and _localGrads", () => {
    it("draws the stored local gradients, one edge per input (a*a has two)", async () => {
      const result = await runFile(fixture("localGrads.grad.ts"));
      assert.equal(result.error, undefined, result.error?.message);
      const printed = JSON.parse(result.console[0].text) as { a: number; b: number; c: number; d: number };
      const [root] = result.roots;
      const nodes = snapshotNodes(root.graph);
      const a = nodes.find((n) => n.label === "a")!;
      assert.equal(a.grad, printed.a);
      assert.equal(nodes.find((n) => n.label === "b")!.grad, printed.b);
      assert.equal(nodes[root.graph.root].data, printed.d);
      const edges = snapshotEdges(root.graph);
      const square = nodes.find((n) => edges.filter((e) => e.to === n.id && e.from === a.id).length === 2)!;
      assert.deepEqual(edges.filter((e) => e.to === square.id).map((e) => e.localGrad), [3, 3]);
      assert.equal(square.op, "op");
    });
  });

  describe("gradient checks with the user's class", () => {
    it("builds inputs with the user's constructor and passes correct functions", async () => {
      const result = await checkFile(fixture("checks.grad.ts"));
      assert.equal(result.error, undefined, result.error?.message);
      const checks = result.checks ?? [];
      assert.deepEqual(checks.map((c) => [c.name, c.ok, c.error?.message]), [["neuron", true, undefined], ["squares", true, undefined]]);
      assert.deepEqual(checks[1].inputs.map((i) => i.analytic), [1, -2, 4]);
    });

    it("catches a wrong op and names the input it is wrong for", async () => {
      const result = await checkFile(fixture("wrongMul.grad.ts"));
      const [check] = result.checks ?? [];
      assert.equal(check.name, "f");
      assert.equal(check.ok, false);
      assert.deepEqual(check.inputs.map((i) => [i.name, i.verdict]), [["x", "ok"], ["y", "mismatch"]]);
      assert.equal(check.inputs[1].analytic, 3);
      assert.ok(Math.abs(check.inputs[1].numeric - 2) < 1e-6);
    });
  });
});

describe("user classes: a class hierarchy with backwardStep() methods and repeated inputs", function () {
  this.timeout(60_000);
  before(() => useBuiltWorker());

  it("draws one edge per distinct input with the step's combined local gradient (x·x → 2x)", async () => {
    const result = await runFile(fixture("stepMethods.grad.ts"));
    assert.equal(result.error, undefined, result.error?.message);
    const printed = JSON.parse(result.console[0].text) as { x: number; square: number };
    const [root] = result.roots;
    const nodes = snapshotNodes(root.graph);
    assert.deepEqual(nodes.map((n) => [n.label, n.op, n.data, n.grad]), [["x", "", 3, printed.x], ["square", "*", 9, printed.square], ["cube", "*", 27, 1]]);
    assert.deepEqual(snapshotEdges(root.graph).map((e) => [e.from, e.to, e.localGrad]), [[0, 1, 6], [1, 2, 3], [0, 2, 9]]);
  });
});

describe("user classes: plain JavaScript", function () {
  this.timeout(60_000);
  before(() => useBuiltWorker());

  it("a .js file with its own class (_prev array, _op, closures) gets its graph and local gradients", async () => {
    const result = await runFile(fixture("plainScript.js"));
    assert.equal(result.error, undefined, result.error?.message);
    const [root] = result.roots;
    assert.equal(root.name, "s");
    assert.deepEqual(snapshotNodes(root.graph).map((n) => [n.label ?? "", n.op, n.data, n.grad]), [["u", "", 1, 1], ["v", "", -1, 1], ["", "+", 0, 1], ["s", "exp", 1, 1]]);
    assert.deepEqual(snapshotEdges(root.graph).map((e) => e.localGrad), [1, 1, 1]);
    assert.equal(result.sites[root.graph.site[2]]?.line, 42);
  });
});

describe("user classes: values never bound to a variable", function () {
  this.timeout(60_000);
  before(() => useBuiltWorker());

  it("records backward() of a class known only from its constructor", async () => {
    const result = await runFile(fixture("unbound.grad.ts"));
    assert.equal(result.error, undefined, result.error?.message);
    assert.deepEqual(result.roots.map((r) => [r.reason, r.position?.line, Array.from(r.graph.grad)]), [["backward", 4, [3, 2, 1, 1, 1]]]);
  });
});

describe("user classes: a run that is killed hard", function () {
  this.timeout(60_000);
  before(() => useBuiltWorker());

  it("still returns the latest checkpoint's graph of the learner's class", async () => {
    const file = path.join(repoRoot, "out", "test-user-classes", "checkpointThenBlock.grad.ts");
    mkdirSync(path.dirname(file), { recursive: true });
    copyFileSync(fixture("tinygrad.ts"), path.join(path.dirname(file), "tinygrad.ts"));
    // Backward calls for 2.3 s, then a call that blocks past the limit and its grace: the child is killed.
    writeFileSync(
      file,
      'import { Value } from "./tinygrad";\nimport { execSync } from "node:child_process";\nconst w = new Value(0.5);\nconst started = Date.now();\nwhile (Date.now() - started < 2300) {\n  const loss = w.mul(w);\n  loss.backward();\n}\nexecSync("sleep 30");\n',
    );
    const result = await runFile(file, { timeLimitMs: 3000 });
    assert.equal(result.error?.kind, "timeout");
    assert.equal(result.roots.length, 1, "the checkpoint's graph is kept");
    assert.ok((result.roots[0].calls ?? 0) > 1);
    assert.deepEqual(snapshotEdges(result.roots[0].graph).map((e) => e.localGrad), [1]);
  });
});

describe("user classes: a graph with a cycle", function () {
  this.timeout(60_000);
  before(() => useBuiltWorker());

  it("is an error naming the cycle, not a silent graph, when backward() finishes anyway (`_children = [a, c]`)", async () => {
    const result = await runFile(fixture("cycleAssigned.grad.ts"));
    assert.ok(result.error, "an error");
    assert.equal(result.error.kind, "runtime");
    assert.match(result.error.message, /^the graph of c has a cycle: a value is among its own inputs \(through 1 values\)/);
    assert.equal(result.error.position?.line, 33, "the line that made the value now among its own inputs");
    assert.equal(result.roots.length, 0, "the cyclic graph is not drawn");
  });

  it("is the error, not the stack overflow, when the learner's backward() recursed forever (`children.push`)", async () => {
    const result = await runFile(fixture("cyclePushed.grad.ts"));
    assert.ok(result.error, "an error");
    assert.equal(result.error.kind, "runtime");
    assert.match(result.error.message, /has a cycle: a value is among its own inputs \(through 2 values\)/);
    assert.doesNotMatch(result.error.message, /call stack/);
    assert.ok([30, 31].includes(result.error.position?.line ?? 0), `line ${result.error.position?.line}`);
  });
});
