// Every engine shape users write, recognised by its shape, each from a fixture written for these tests:
// the graph's numbers are those of plain execution at the moment backward() returned (each fixture
// prints them right then; updates afterwards must not leak in), and the local gradients are exact —
// stored ones as stored, closure engines' recovered from each node's own _backward — so that
// backpropagating with them reproduces every grad.
import { strict as assert } from "assert";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { resolvePythonPath, runPython } from "../../src/runner/python";
import { snapshotEdges, snapshotNodes, type GraphSnapshot } from "../../src/engine/snapshot";
import type { RootGraph, RunResult } from "../../src/protocol/result";

const FIXTURES = path.resolve(__dirname, "../fixtures/python");
const fixture = (name: string) => path.join(FIXTURES, name);

/** Grads from the graph's own local gradients: grad(root) = 1, child += local × parent. */
function backpropagated(g: GraphSnapshot): Float64Array {
  const grad = new Float64Array(g.nodeCount);
  grad[g.root] = 1;
  for (let i = g.nodeCount - 1; i >= 0; i--) {
    for (let e = g.childStart[i]; e < g.childStart[i + 1]; e++) grad[g.child[e]] += g.localGrad[e] * grad[i];
  }
  return grad;
}

function assertLocalGradsReproduceGrads(root: RootGraph, tolerance = 1e-9): void {
  assert.equal(root.unknownLocalGrad, undefined, "every local gradient is known");
  const again = backpropagated(root.graph);
  for (let i = 0; i < root.graph.nodeCount; i++) {
    const want = root.graph.grad[i];
    assert.ok(Math.abs(again[i] - want) <= tolerance * Math.max(1, Math.abs(want)), `node ${i}: ${again[i]} from local gradients vs grad ${want}`);
  }
}

/** `name value` pairs of a line the fixture printed: "at backward: o 0.7 w1 -3.0" → {o: 0.7, w1: -3}. */
function numbersIn(text: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const [, name, value] of text.matchAll(/(\S+) (-?[\d.]+(?:e[-+]?\d+)?)/g)) found[name] = Number(value);
  return found;
}

const stdout = (result: RunResult) => result.console.filter((c) => c.stream === "stdout").map((c) => c.text);
const nodeLabelled = (root: RootGraph, label: string) => {
  const node = snapshotNodes(root.graph).find((n) => n.label === label);
  assert.ok(node, `a node labelled ${label}`);
  return node;
};

describe("Python engine shapes: the graph as backward() left it", function () {
  this.timeout(120_000);

  before(async function () {
    if (!(await resolvePythonPath(undefined))) this.skip();
  });

  it("micrograd-style engine.py + nn.py (MLP, zero_grad, SGD): numbers of the last backward(), not of the update after it", async () => {
    const result = await runPython({ file: fixture("micrograd_style/train_mlp.py") });
    assert.equal(result.error, undefined, result.error?.message);
    const lines = stdout(result);
    const last = numbersIn(lines[2]);
    const after = numbersIn(lines[3]);
    const [root] = result.roots;
    assert.deepEqual([root.name, root.reason, root.calls], ["loss", "backward", 3]);
    const nodes = snapshotNodes(root.graph);
    assert.equal(nodes[root.graph.root].data, last.loss);
    // The first weight as it was when backward() returned: its data before the update, its grad.
    assert.ok(nodes.some((n) => n.data === last.w0 && n.grad === last.dw0), `a node with data ${last.w0} and grad ${last.dw0}`);
    assert.ok(!nodes.some((n) => n.data === after.w0), "the updated weight is not in the graph");
    assertLocalGradsReproduceGrads(root);
    assert.ok(new Set(nodes.map((n) => n.op)).has("ReLU"));
  });

  it("microgpt-shaped (__slots__, tuple _children with x*x twice, _local_grads, Adam, p.grad = 0): the parameters' grads of the backward", async () => {
    const file = fixture("microgpt_style/train.py");
    const code = readFileSync(file, "utf8").replace('os.environ.get("MICROGPT_STEPS", "1")', '"2"');
    const result = await runPython({ file, code, origin: { file, line: 1, column: 1 } }, { timeLimitMs: 60_000 });
    assert.equal(result.error, undefined, result.error?.message);
    const said = stdout(result).find((l) => l.startsWith("backward 2:"));
    assert.ok(said);
    const [, count, gradSum, dataSum] = /: (\d+) parameters with a grad, grads sum (\S+), their data sum (\S+)$/.exec(said)!.map(Number);
    const [root] = result.roots;
    assert.equal(root.calls, 2);
    const parameterLine = code.split("\n").findIndex((l) => l.includes("Value(rng.gauss(0, std))")) + 1;
    const g = root.graph;
    const parameters = snapshotNodes(g).filter((n) => result.sites[n.site].line === parameterLine);
    const withGrad = parameters.filter((n) => n.grad !== 0);
    assert.equal(withGrad.length, count, "the parameters that got a grad in backward() have it in the graph");
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum(withGrad.map((n) => n.grad)) - gradSum) < 1e-12, "their grads, not the zeros the update left");
    assert.ok(Math.abs(sum(withGrad.map((n) => n.data)) - dataSum) < 1e-12, "their data before the Adam update");
    // x*x keeps both edges to x, each with local gradient x.
    const squares = snapshotEdges(g).filter((e, i, all) => i > 0 && all[i - 1].to === e.to && all[i - 1].from === e.from);
    assert.ok(squares.length > 100, `${squares.length} self-products`);
    assertLocalGradsReproduceGrads(root, 1e-8);
    assert.ok(g.nodeCount > 20_000, `${g.nodeCount} nodes`);
  });

  it("the lecture style (_prev set, _op, closures, label, tanh, exp): labels, values at backward(), local gradients from the closures", async () => {
    const result = await runPython({ file: fixture("shapes/lecture_style.py") });
    assert.equal(result.error, undefined, result.error?.message);
    const at = numbersIn(stdout(result)[0]);
    const [root] = result.roots;
    assert.equal(root.name, "o");
    assert.equal(nodeLabelled(root, "o").data, at.o);
    assert.deepEqual([nodeLabelled(root, "w1").data, nodeLabelled(root, "w1").grad], [at.w1, at.dw1], "w1 before the update, with its grad");
    assert.equal(nodeLabelled(root, "x1").grad, at.dx1);
    assert.equal(nodeLabelled(root, "n").grad, at.dn);
    const nodes = snapshotNodes(root.graph);
    const edge = (from: string, op: string) => snapshotEdges(root.graph).find((e) => nodes[e.from].label === from && nodes[e.to].op === op);
    assert.ok(Math.abs((edge("n", "tanh")?.localGrad ?? NaN) - (1 - at.o ** 2)) < 1e-12, "tanh's local gradient 1 - t²");
    // n*n: one input in the set, the combined local gradient 2n.
    const square = nodes.find((n) => n.label === "n*n")!;
    const squareInputs = snapshotEdges(root.graph).filter((e) => e.to === square.id);
    assert.deepEqual(squareInputs.map((e) => [nodes[e.from].label, e.localGrad]), [["n", 2 * nodeLabelled(root, "n").data]]);
    assertLocalGradsReproduceGrads(root);
  });

  it("plain attribute classes and a subclass with its own __init__", async () => {
    const result = await runPython({ file: fixture("shapes/plain_subclass.py") });
    assert.equal(result.error, undefined, result.error?.message);
    const at = numbersIn(stdout(result)[0]);
    const [root] = result.roots;
    const nodes = snapshotNodes(root.graph);
    assert.equal(nodes[root.graph.root].data, at.h);
    const a = result.bindings.find((b) => b.name === "a")!;
    assert.equal(result.sites[nodes[a.node!.id].site].line, 42, "the subclass's value is made at the user's line");
    assert.deepEqual([nodes[a.node!.id].data, nodes[a.node!.id].grad], [at.a, at.da]);
    assert.deepEqual([a.data, a.grad], [at.a - 0.5 * at.da, 0], "a hover shows the variable as it is now");
    assertLocalGradsReproduceGrads(root);
  });

  it("a dataclass engine with closures and a tuple that lists an input twice (a * a)", async () => {
    const result = await runPython({ file: fixture("shapes/dataclass_engine.py") });
    assert.equal(result.error, undefined, result.error?.message);
    const at = numbersIn(stdout(result)[0]);
    const [root] = result.roots;
    assert.equal(root.name, "r", "the class's own `out` does not name values");
    const nodes = snapshotNodes(root.graph);
    const a = nodes.find((n) => n.data === 3)!;
    assert.equal(a.grad, at.da);
    const square = snapshotEdges(root.graph).filter((e) => e.from === a.id && nodes[e.to].op === "*" && nodes[e.to].data === 9);
    assert.deepEqual(square.map((e) => e.localGrad), [3, 3], "each listing of a gets half of d(a*a)/da = 6");
    assertLocalGradsReproduceGrads(root);
  });

  it("a closure that cannot be called alone gives an unknown local gradient, never a guess", async () => {
    const code = [
      "class V:",
      "    def __init__(self, data, prev=()):",
      "        self.data, self.grad, self._prev, self._op = data, 0.0, set(prev), ''",
      "        self._backward = lambda: None",
      "    def __mul__(self, other):",
      "        out = V(self.data * other.data, (self, other))",
      "        def _backward():",
      "            if out.grad == 1: raise RuntimeError('only inside backward')",
      "            self.grad += other.data * out.grad",
      "            other.grad += self.data * out.grad",
      "        out._backward = _backward",
      "        return out",
      "p = V(2.0) * V(5.0)",
    ].join("\n");
    const file = fixture("shapes/inline.py");
    const result = await runPython({ file, code, origin: { file, line: 1, column: 1 } });
    assert.equal(result.error, undefined, result.error?.message);
    const [root] = result.roots;
    assert.deepEqual(root.unknownLocalGrad, [0, 1]);
    assert.ok(Array.from(root.graph.localGrad).every(Number.isNaN));
  });

  it("more (op, line) pairs than a record holds is an error that says so, not a silent wrap", () => {
    const script = [
      "import sys",
      `sys.path.insert(0, ${JSON.stringify(path.resolve(__dirname, "../../python"))})`,
      "import gradlens_values as values",
      "values.TAG_BITS = 2",
      "recorder = values.Recorder({'<test>'}, lambda frame: frame.f_lineno if frame else 0)",
      "class Value:",
      "    def __init__(self, data): self.data, self.grad, self._children = data, 0, ()",
      "recorder.patch_class(Value)",
      "code = compile('\\n'.join('Value(%d)' % i for i in range(6)), '<test>', 'exec')",
      "try:",
      "    exec(code, {'Value': Value})",
      "except values.RecordingLimit as error:",
      "    print(error.args[0])",
    ].join("\n");
    const run = spawnSync("python3", ["-c", script], { encoding: "utf8" });
    assert.equal(run.stderr, "");
    assert.equal(run.stdout.trim(), "GradLens can record at most 3 different (operation, line) pairs in one run");
  });
});
