// Writing a Python graph out (python/gradlens_graph.py, gradlens_frames.py) takes shortcuts for the
// common engines: inputs looked up in {value: node id} when values hash by identity, inputs' tuples taken
// as they are, call frames found per segment when the nodes are in creation order. Each shortcut must
// give exactly what the general way gives.
import { strict as assert } from "assert";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { resolvePythonPath, runPython } from "../../src/runner/python";
import type { RootGraph } from "../../src/protocol/result";

const FIXTURES = path.resolve(__dirname, "../fixtures/python");
const TRACER = path.resolve(__dirname, "../../python");

/** A small microgpt-shaped engine (tuple `_children`, `_local_grads`) and a few ops on it; `extra`: more of the class body. */
function program(extra = ""): string {
  return [
    "class Value:",
    "    __slots__ = ('data', 'grad', '_children', '_local_grads')",
    "    def __init__(self, data, children=(), local_grads=()):",
    "        self.data, self.grad, self._children, self._local_grads = data, 0, children, local_grads",
    "    def __add__(self, other):",
    "        other = other if isinstance(other, Value) else Value(other)",
    "        return Value(self.data + other.data, (self, other), (1, 1))",
    "    def __mul__(self, other):",
    "        other = other if isinstance(other, Value) else Value(other)",
    "        return Value(self.data * other.data, (self, other), (other.data, self.data))",
    "    def twice(self):",
    "        return Value(self.data * 2, (self, 2.0), (2.0, self.data))  # a number among the inputs",
    ...extra.split("\n").filter(Boolean),
    "    def backward(self):",
    "        order, seen = [], set()",
    "        def visit(v):",
    "            if v not in seen:",
    "                seen.add(v)",
    "                for c in v._children:",
    "                    if isinstance(c, Value):",
    "                        visit(c)",
    "                order.append(v)",
    "        visit(self)",
    "        self.grad = 1",
    "        for v in reversed(order):",
    "            for c, g in zip(v._children, v._local_grads):",
    "                if isinstance(c, Value):",
    "                    c.grad += g * v.grad",
    "def layer(xs, w):",
    "    return [x * w + x for x in xs]",
    "a, b = Value(2.0), Value(-3.0)",
    "h = layer([a, b, a * b], b)",
    "loss = h[0] * h[1] + h[2] * h[2] + a.twice()",
    "loss.backward()",
    "a.data -= 0.1 * a.grad",
    "a.grad = 0",
  ].join("\n");
}

function columns(root: RootGraph) {
  const g = root.graph;
  return {
    nodeCount: g.nodeCount,
    opNames: g.opNames,
    op: Array.from(g.op),
    data: Array.from(g.data),
    grad: Array.from(g.grad),
    site: Array.from(g.site),
    childStart: Array.from(g.childStart),
    child: Array.from(g.child),
    localGrad: Array.from(g.localGrad),
    frames: root.frames && { ...root.frames, node: Array.from(root.frames.node), parent: Array.from(root.frames.parent), fn: Array.from(root.frames.fn), callSite: Array.from(root.frames.callSite) },
  };
}

describe("Python graph write-out: the shortcuts give what the general way gives", function () {
  this.timeout(60_000);
  before(async function () {
    if (!(await resolvePythonPath(undefined))) this.skip();
  });

  async function graphOf(code: string) {
    const file = path.join(FIXTURES, "shapes", "write_out.py");
    const result = await runPython({ file, code, origin: { file, line: 1, column: 1 } });
    assert.equal(result.error, undefined, result.error?.message);
    return result;
  }

  it("values that hash by identity and values that define __eq__ get the very same columns", async () => {
    const plain = await graphOf(program("    kind = 'plain'  # (as many lines as below)\n    eq = None"));
    // __eq__ of its own (by identity all the same): the general way, by the bisection of creation records.
    const withEq = await graphOf(program("    def __eq__(self, other): return self is other\n    __hash__ = object.__hash__"));
    assert.deepEqual(columns(withEq.roots[0]), columns(plain.roots[0]));
    assert.ok(plain.roots[0].frames, "the graph has call frames (layer)");
  });

  it("a number among a node's inputs is no node, and the local gradients stay lined up with the values", async () => {
    const result = await graphOf(program());
    const g = result.roots[0].graph;
    // twice(a): one input edge, from a, with its own local gradient 2 (the 2.0 beside it is no node).
    const twice = Array.from({ length: g.nodeCount }, (_, i) => i).find((i) => g.data[i] === 4 && g.childStart[i + 1] - g.childStart[i] === 1);
    assert.ok(twice !== undefined, "the node of a.twice()");
    const edge = g.childStart[twice];
    assert.equal(g.data[g.child[edge]], 2, "its input is a, as it was at backward()");
    assert.equal(g.localGrad[edge], 2);
    // Every input is before its node, and the root is last.
    for (let i = 0; i < g.nodeCount; i++) for (let e = g.childStart[i]; e < g.childStart[i + 1]; e++) assert.ok(g.child[e] < i);
    assert.equal(g.grad[g.nodeCount - 1], 1);
  });

  it("call frames of nodes in creation order, found per segment, equal the frames found per node", () => {
    const script = [
      "import random, sys",
      `sys.path.insert(0, ${JSON.stringify(TRACER)})`,
      "from gradlens_frames import CallRecorder",
      "STEP = 1 << 32",
      "rng = random.Random(7)",
      "def trial(number):",
      "    counter = [0]",
      "    def next_number():",
      "        return counter[0] * STEP",
      "    calls = CallRecorder(next_number, lambda frame: 0)",
      "    def enter():  # as the rewritten user function calls it (it reads its caller's frame)",
      "        return calls.enter(0)",
      "    calls.define('f', {'file': 'x.py', 'line': 1})",
      "    records, depth = [], []",
      "    for _ in range(rng.randint(0, 60)):",
      "        r = rng.random()",
      "        if r < 0.25:",
      "            depth.append(enter())",
      "        elif r < 0.45 and depth:",
      "            calls.leave(depth.pop())",
      "        else:",
      "            counter[0] += rng.randint(1, 2)  # values made now (some numbers skipped: values not in the graph)",
      "            if rng.random() < 0.7:",
      "                records.append(counter[0] * STEP + rng.randint(0, STEP - 1))  # number | tag",
      "    numbers = [r - r % STEP for r in records]",
      "    a = calls.frames_for(records, ascending=True)",
      "    b = calls.frames_for(iter(numbers))",
      "    return a == b or (number, a, b)",
      "different = [t for t in map(trial, range(200)) if t is not True]",
      "print(different[0] if different else 'same')",
    ].join("\n");
    const run = spawnSync("python3", ["-c", script], { encoding: "utf8" });
    assert.equal(run.stderr, "");
    assert.equal(run.stdout.trim(), "same");
  });
});
