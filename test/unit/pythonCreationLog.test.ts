// The Python tracer's creation log (python/gradlens_values.py, gradlens_sources.py): where each value
// was made and by which op, kept without a Python call per value; the list a user's backward() walked
// taken as the graph only when it is exactly the graph; the records of gone values dropped in long loops.
import { strict as assert } from "assert";
import * as path from "node:path";
import { resolvePythonPath, runPython } from "../../src/runner/python";
import { snapshotEdges, snapshotNodes } from "../../src/engine/snapshot";
import type { RunResult } from "../../src/protocol/result";

const file = path.resolve(__dirname, "../fixtures/python/creation_log.py");

const VALUE_CLASS = [
  "class Value:",
  "    __slots__ = ('data', 'grad', '_children', '_local_grads')",
  "    def __init__(self, data, children=(), local_grads=()):",
  "        self.data = data",
  "        self.grad = 0",
  "        self._children = children",
  "        self._local_grads = local_grads",
  "    def __add__(self, other):",
  "        other = other if isinstance(other, Value) else Value(other)",
  "        return Value(self.data + other.data, (self, other), (1, 1))",
  "    def __mul__(self, other):",
  "        other = other if isinstance(other, Value) else Value(other)",
  "        return Value(self.data * other.data, (self, other), (other.data, self.data))",
  "    def __pow__(self, k):",
  "        return Value(self.data ** k, (self,), (k * self.data ** (k - 1),))",
  "    def __sub__(self, other):",
  "        return self + other * -1",
];

const TOPOLOGICAL_BACKWARD = [
  "    def backward(self):",
  "        topo, seen = [], set()",
  "        def build(v):",
  "            if v not in seen:",
  "                seen.add(v)",
  "                for c in v._children:",
  "                    build(c)",
  "                topo.append(v)",
  "        build(self)",
  "        self.grad = 1",
  "        for v in reversed(topo):",
  "            for c, g in zip(v._children, v._local_grads):",
  "                c.grad += g * v.grad",
];

/** Three steps on two parameters: `body` builds `loss` and prints what backward() left; then SGD and zeroed grads. */
function threeSteps(...body: string[]): string[] {
  return ["w = [Value(0.5), Value(-1.5)]", "for step in range(3):", ...body, "    for p in w:", "        p.data -= 0.1 * p.grad", "        p.grad = 0"];
}

async function run(lines: string[]): Promise<RunResult> {
  const code = lines.join("\n") + "\n";
  const result = await runPython({ file, code, origin: { file, line: 1, column: 1 } });
  assert.equal(result.error, undefined, result.error?.message);
  return result;
}

/** The numbers of the last line the program printed that starts with "then". */
const lastThen = (result: RunResult): number[] =>
  result.console.map((c) => c.text).join("\n").split("\n").filter((l) => l.startsWith("then ")).pop()!.split(" ").slice(1).map(Number);

const lineOf = (lines: string[], text: string) => lines.findIndex((l) => l.includes(text)) + 1;

describe("Python tracer: the creation log", function () {
  this.timeout(60_000);

  before(async function () {
    if (!(await resolvePythonPath(undefined))) this.skip();
  });

  it("gives a callee's values the callee's line and op, and the values after the call in the same statement the caller's", async () => {
    const lines = [
      ...VALUE_CLASS,
      ...TOPOLOGICAL_BACKWARD,
      "def square(v):",
      "    return v ** 2",
      "x = Value(3.0)",
      "y = square(x) + x - x * 0.5",
      "y.backward()",
    ];
    const result = await run(lines);
    const [root] = result.roots;
    const nodes = snapshotNodes(root.graph);
    const made = nodes.filter((n) => n.op !== "").map((n) => [n.op, result.sites[n.site].line]);
    const callLine = lineOf(lines, "y = square(x)");
    assert.deepEqual(made.sort(), [["*", callLine], ["*", callLine], ["**2", lineOf(lines, "return v ** 2")], ["+", callLine], ["+", callLine]].sort());
    assert.equal(nodes[nodes.length - 1].data, 3 ** 2 + 3 - 1.5);
    const x = nodes.find((n) => n.label === "x");
    assert.equal(x?.grad, 2 * 3 + 1 - 0.5);
    assert.equal(result.sites[x!.site].line, lineOf(lines, "x = Value(3.0)"));
  });

  it("says a value made by a helper nested in a method was made by that method, and names values only when they are values", async () => {
    // The tracer stores no op in functions nested in a method (backward()'s walk runs one per node):
    // the value `make` returns is the `tanh` method's. Bindings test the class before calling the tracer.
    const lines = [
      "import math",
      ...VALUE_CLASS,
      "    def tanh(self):",
      "        def make(t):",
      "            return Value(t, (self,), (1 - t * t,))",
      "        return make(math.tanh(self.data))",
      ...TOPOLOGICAL_BACKWARD,
      "x = Value(0.5)",
      "k = 2",
      "for i, v in enumerate([x]):",
      "    w = v * k",
      "y = w.tanh()",
      "y.backward()",
    ];
    const result = await run(lines);
    const nodes = snapshotNodes(result.roots[0].graph);
    const y = nodes[nodes.length - 1];
    assert.equal(y.op, "tanh");
    assert.equal(result.sites[y.site].line, lineOf(lines, "y = w.tanh()"));
    assert.ok(Math.abs(y.data - Math.tanh(1)) < 1e-15, String(y.data));
    assert.deepEqual(nodes.map((n) => n.label ?? "").sort(), ["", "w", "x", "y"]);
    assert.ok(Math.abs(nodes.find((n) => n.label === "x")!.grad - (1 - y.data ** 2) * 2) < 1e-15);
  });

  it("says which statement a while loop's test made its values at, each time it is evaluated", async () => {
    const lines = [
      ...VALUE_CLASS,
      ...TOPOLOGICAL_BACKWARD,
      "x = Value(1.0)",
      "total = x * 1",
      "while (t := total * 1).data < 4:",
      "    total = t + x",
      "total.backward()",
    ];
    const result = await run(lines);
    const nodes = snapshotNodes(result.roots[0].graph);
    const at = (op: string) => nodes.filter((n) => n.op === op).map((n) => result.sites[n.site].line);
    const loop = lineOf(lines, "while (t :=");
    assert.deepEqual(at("*").sort(), [lineOf(lines, "total = x * 1"), loop, loop, loop].sort());
    assert.deepEqual(at("+"), Array(3).fill(lineOf(lines, "total = t + x")));
    assert.equal(nodes[nodes.length - 1].data, 4);
  });

  it("takes the graph from the values themselves when the list backward() walked is not all of it", async () => {
    // A learner's backward() that only looks at the root: its own list ends with the root, but the
    // graph has more; the graph drawn is the whole graph, with the numbers backward() left.
    const lines = [
      ...VALUE_CLASS,
      "    def backward(self):",
      "        topo = [self]",
      "        self.grad = 1",
      "        for v in reversed(topo):",
      "            for c, g in zip(v._children, v._local_grads):",
      "                c.grad += g * v.grad",
      "a = Value(2.0)",
      "b = Value(5.0)",
      "c = a * b",
      "d = c + a",
      "d.backward()",
    ];
    const result = await run(lines);
    const nodes = snapshotNodes(result.roots[0].graph);
    assert.deepEqual(nodes.map((n) => [n.label ?? "", n.data, n.grad]), [["a", 2, 1], ["b", 5, 0], ["c", 10, 1], ["d", 12, 1]]);
    assert.deepEqual(snapshotEdges(result.roots[0].graph).map((e) => e.localGrad).sort(), [1, 1, 2, 5]);
  });

  it("shows the last of many backward() calls as it was then, though the program changes its values after", async () => {
    // From the second call at a site on, the walked list's numbers are copied at backward() and its check
    // waits until the graph is read: the intermediate values changed afterwards must still show the numbers of then.
    const lines = [
      ...VALUE_CLASS,
      ...TOPOLOGICAL_BACKWARD,
      ...threeSteps(
        "    h = w[0] * w[1]",
        "    loss = h * h + w[0]",
        "    loss.backward()",
        "    print('then', repr(h.data), repr(h.grad), repr(loss.data), repr(w[0].data), repr(w[0].grad), repr(w[1].data), repr(w[1].grad))",
        "    h.data, h.grad, loss.grad = 100.0, -7.0, 0",
      ),
    ];
    const result = await run(lines);
    const [root] = result.roots;
    assert.equal(root.calls, 3);
    const then = lastThen(result);
    const byLabel = new Map(snapshotNodes(root.graph).map((n) => [n.label ?? n.op, n]));
    const [hData, hGrad, lossData, w0Data, w0Grad, w1Data, w1Grad] = then;
    assert.deepEqual([byLabel.get("h")?.data, byLabel.get("h")?.grad], [hData, hGrad]);
    assert.deepEqual([byLabel.get("loss")?.data, byLabel.get("loss")?.grad], [lossData, 1]);
    const leaves = snapshotNodes(root.graph).filter((n) => n.op === "").map((n) => [n.data, n.grad]);
    assert.deepEqual(leaves.sort(), [[w0Data, w0Grad], [w1Data, w1Grad]].sort());
  });

  it("takes every value's numbers at backward() when a later call's walked list misses some (a visited set kept between calls)", async () => {
    // A learner's bug: the visited set lives on the class, so from the second call on the parameters are
    // not walked again. The graph drawn is the whole graph with the numbers backward() left, though the
    // update changes the parameters right after.
    const lines = [
      ...VALUE_CLASS,
      "    seen = set()",
      "    def backward(self):",
      "        topo = []",
      "        def build(v):",
      "            if v not in Value.seen:",
      "                Value.seen.add(v)",
      "                for c in v._children:",
      "                    build(c)",
      "                topo.append(v)",
      "        build(self)",
      "        self.grad = 1",
      "        for v in reversed(topo):",
      "            for c, g in zip(v._children, v._local_grads):",
      "                c.grad += g * v.grad",
      ...threeSteps("    loss = w[0] * w[1] + w[0]", "    loss.backward()", "    print('then', repr(w[0].data), repr(w[0].grad), repr(w[1].data), repr(w[1].grad))"),
    ];
    const result = await run(lines);
    const [root] = result.roots;
    assert.equal(root.calls, 3);
    const [w0Data, w0Grad, w1Data, w1Grad] = lastThen(result);
    const nodes = snapshotNodes(root.graph);
    assert.equal(nodes.length, 4);
    const leaves = nodes.filter((n) => n.op === "").map((n) => [n.data, n.grad]);
    assert.deepEqual(leaves.sort(), [[w0Data, w0Grad], [w1Data, w1Grad]].sort());
  });

  it("draws only the root's graph when a later call's walked list also holds values of another graph", async () => {
    // The list is kept on the class and grows from call to call: from the second call on it ends with the
    // root but holds the earlier graphs too. Only the last root's graph is drawn, with its numbers of then.
    const lines = [
      ...VALUE_CLASS,
      "    topo = []",
      "    def backward(self):",
      "        topo = Value.topo",
      "        def build(v):",
      "            if v not in topo:",
      "                for c in v._children:",
      "                    build(c)",
      "                topo.append(v)",
      "        build(self)",
      "        self.grad = 1",
      "        for v in reversed(topo):",
      "            for c, g in zip(v._children, v._local_grads):",
      "                c.grad += g * v.grad",
      ...threeSteps("    loss = w[0] * w[1] + w[0]", "    loss.backward()", "    print('then', repr(loss.data), repr(w[0].data), repr(w[0].grad), repr(w[1].data), repr(w[1].grad))"),
    ];
    const result = await run(lines);
    const [root] = result.roots;
    assert.equal(root.calls, 3);
    const [lossData, w0Data, w0Grad, w1Data, w1Grad] = lastThen(result);
    const nodes = snapshotNodes(root.graph);
    assert.deepEqual(nodes.map((n) => n.op).sort(), ["", "", "*", "+"]);
    assert.equal(nodes.find((n) => n.op === "+")?.data, lossData);
    const leaves = nodes.filter((n) => n.op === "").map((n) => [n.data, n.grad]);
    assert.deepEqual(leaves.sort(), [[w0Data, w0Grad], [w1Data, w1Grad]].sort());
  });

  it("names a value by the first name it was bound to, not by a gone value's that had its id", async () => {
    // Names are settled when the log is folded, after the program bound them: `t`'s first value is gone
    // (`t` holds another) when `a` is made at its address (CPython reuses it), so `a` is not called `t`.
    const lines = [
      ...VALUE_CLASS,
      ...TOPOLOGICAL_BACKWARD,
      "t = Value(1.0)",
      "gone = id(t)",
      "t = Value(9.0)",
      "a = Value(2.0)",
      "b = a",
      "print('then', int(id(a) == gone))",
      "c = a * Value(3.0)",
      "c.backward()",
    ];
    const result = await run(lines);
    assert.deepEqual(lastThen(result), [1], "the test needs `a` at `t`'s address");
    const labels = snapshotNodes(result.roots[0].graph).map((n) => n.label ?? "").sort();
    assert.deepEqual(labels, ["", "a", "c"]);
  });

  it("keeps the model's lines through a long training loop whose gone values are forgotten", async () => {
    // The log is folded, dropping the records of gone values, once it passes 100 entries here (GRADLENS_PRUNE_AT;
    // 300,000 by default): many times in this run.
    const lines = [
      ...VALUE_CLASS,
      ...TOPOLOGICAL_BACKWARD,
      "w = [Value(0.01 * i) for i in range(40)]",
      "for step in range(300):",
      "    half = w[:20] if step % 2 else w[20:]",
      "    loss = sum((wi * wi for wi in half), Value(0.0))",
      "    loss.backward()",
      "    for wi in w:",
      "        wi.data -= 0.1 * wi.grad",
      "        wi.grad = 0",
    ];
    process.env.GRADLENS_PRUNE_AT = "100";
    const result = await run(lines).finally(() => delete process.env.GRADLENS_PRUNE_AT);
    const [root] = result.roots;
    assert.equal(root.calls, 300);
    const nodes = snapshotNodes(root.graph);
    const leaves = nodes.filter((n) => n.op === "" && n.data !== 0);
    assert.equal(leaves.length, 19); // w[1..19]: the half the last step used (the other half was the step before's; w[0] is 0)
    for (const n of leaves) assert.equal(result.sites[n.site].line, lineOf(lines, "w = [Value("));
    for (const n of nodes.filter((n) => n.op === "*")) assert.equal(result.sites[n.site].line, lineOf(lines, "loss = sum("));
    // The grads are those of the last backward(), before the update zeroed them: d(sum w²)/dw = 2w.
    for (const n of leaves) assert.ok(Math.abs(n.grad - 2 * n.data) < 1e-12, `${n.grad} vs ${2 * n.data}`);
  });
});
