// The Python runner with the machine's python3: any Value class found by its shape, where each value
// was made, bindings for hovers, output, errors at the right line, limits, cancellation, no Python.
import { strict as assert } from "assert";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolvePythonPath, runPython } from "../../src/runner/python";
import { snapshotEdges, snapshotNodes } from "../../src/engine/snapshot";
import { Value, div, mul, topologicalOrder } from "../../src/engine";
import type { RunResult } from "../../src/protocol/result";

const FIXTURES = path.resolve(__dirname, "../fixtures/python");
const fixture = (name: string) => path.join(FIXTURES, name);
const runFixture = (name: string, options = {}) => runPython({ file: fixture(name) }, options);

const binding = (result: RunResult, name: string) => {
  const found = result.bindings.find((b) => b.name === name);
  assert.ok(found, `a binding named ${name}`);
  return found;
};

describe("Python runner", function () {
  this.timeout(60_000);

  before(async function () {
    if (!(await resolvePythonPath(undefined))) this.skip();
  });

  describe("a micrograd-style engine.py in the workspace (_prev / _op)", () => {
    it("draws the sanity-check graph with the engine's op labels and micrograd's reference values", async () => {
      const result = await runFixture("micrograd_style/sanity.py");
      assert.equal(result.error, undefined, result.error?.message);
      assert.equal(result.language, "python");
      assert.deepEqual(result.console.map((c) => c.text), ["y = -20.0, dy/dx = 46.0"]);
      const [root] = result.roots;
      assert.equal(root.name, "y");
      assert.equal(root.reason, "backward");
      assert.equal(root.position?.line, 8);
      const nodes = snapshotNodes(root.graph);
      assert.equal(nodes[root.graph.root].data, -20);
      assert.deepEqual([...new Set(nodes.map((n) => n.op))].sort(), ["", "*", "+", "ReLU"]);
      assert.equal(binding(result, "x").grad, 46);
      // micrograd keeps no local gradients: each is read from the node's own _backward closure.
      assert.equal(root.unknownLocalGrad, undefined);
      const label = (id: number) => nodes[id].op || String(nodes[id].data);
      const reluEdges = snapshotEdges(root.graph).filter((e) => nodes[e.to].op === "ReLU").map((e) => [label(e.from), e.localGrad]);
      assert.deepEqual(reluEdges.sort(), [["*", 1], ["+", 0]], "relu(z) with z = -10 passes 0, relu(z*z) passes 1");
      // Values made inside engine.py belong to the script line that called into it.
      const relu = nodes.filter((n) => n.op === "ReLU").map((n) => result.sites[n.site].line).sort();
      assert.deepEqual(relu, [5, 6]);
    });

    it("matches micrograd's 'more ops' reference values (division, powers, +=)", async () => {
      const result = await runFixture("micrograd_style/more_ops.py");
      assert.equal(result.error, undefined, result.error?.message);
      const g = binding(result, "g");
      assert.ok(Math.abs(g.data - 24.70408163265306) < 1e-6);
      assert.ok(Math.abs(binding(result, "a").grad - 138.83381924198252) < 1e-6);
      assert.ok(Math.abs(binding(result, "b").grad - 645.5772594752186) < 1e-6);
      assert.equal(binding(result, "c").count, 3, "c = …, c += …, c += …");
      assert.equal(binding(result, "c").range.line, 5, "a binding's range is its first assignment");
      const ops = new Set(snapshotNodes(result.roots[0].graph).map((n) => n.op));
      for (const op of ["**3", "**2", "**-1", "ReLU"]) assert.ok(ops.has(op), `${op} in ${[...ops]}`);
    });
  });

  describe("where each value was made", () => {
    it("records the line, binding, enclosing function and loop counts of a script using the tutorial's Value", async () => {
      const result = await runFixture("tutorial_script.py");
      assert.equal(result.error, undefined, result.error?.message);
      const z = binding(result, "z");
      assert.deepEqual(z.range, { file: fixture("tutorial_script.py"), line: 5, column: 1, endLine: 5, endColumn: 2 });
      assert.deepEqual([z.data, z.grad, z.op, z.count], [7, 1, "+", 1]);
      assert.deepEqual(z.node, { root: 0, id: result.roots[0].graph.root });
      const total = binding(result, "total");
      assert.deepEqual([total.count, total.data, total.range.line, total.range.column], [4, 8, 9, 5]);
      const loopSite = result.sites.find((s) => s.line === 11);
      assert.ok(loopSite);
      assert.deepEqual([loopSite.text, loopSite.binding, loopSite.functionName, loopSite.column, loopSite.endColumn], ["total = total * 2", "total", "scaled", 9, 26]);
      assert.deepEqual(result.sites[0].text, "(library code)");
    });

    it("maps an indented selection of a .py file back to its lines and columns", async () => {
      const code = "    a = Value(1.5)\n    b = a * a + 1\n    b.backward()\n";
      const result = await runPython({ file: fixture("tutorial_script.py"), code, origin: { file: fixture("tutorial_script.py"), line: 10, column: 1 } }, {});
      assert.equal(result.error, undefined, result.error?.message);
      const b = binding(result, "b");
      assert.deepEqual([b.range.line, b.range.column, b.data], [11, 5, 3.25]);
      assert.equal(binding(result, "a").grad, 3);
      assert.equal(result.roots[0].position?.line, 12);
      const site = result.sites[result.roots[0].graph.site[result.roots[0].graph.root]];
      assert.deepEqual([site.line, site.column, site.text], [11, 5, "b = a * a + 1"]);
    });

    it("maps a selection that starts mid-line, and its errors, to the right column", async () => {
      const result = await runPython({ file: fixture("tutorial_script.py"), code: "Value(2.0) + missing", origin: { file: fixture("tutorial_script.py"), line: 5, column: 5 } }, {});
      assert.equal(result.error?.kind, "runtime");
      assert.deepEqual([result.error?.position?.line, result.error?.position?.column], [5, 18]);
      assert.match(result.error?.message ?? "", /'missing' is not defined/);
    });

    it("groups backward() calls in a training loop into one root with its call count", async () => {
      const result = await runFixture("training_loop.py");
      assert.equal(result.error, undefined, result.error?.message);
      assert.equal(result.roots.length, 1);
      assert.equal(result.roots[0].calls, 5);
      assert.equal(result.roots[0].position?.line, 9);
      assert.equal(binding(result, "loss").count, 5);
      assert.equal(binding(result, "x").count, 5);
      assert.match(result.console.find((c) => c.stream === "stdout")?.text ?? "", /^trained -?\d/);
    });
  });

  describe("the tutorial's Value, provided when the code has none", () => {
    it("computes every op and its gradients as GradLens's TypeScript engine does", async () => {
      const code = "a = Value(1.5)\nb = Value(-0.5)\nc = a * b + a ** 2 - b / a + 2 / a - 3 + a.exp() + b.relu() + a.log() + (-b) + 1 - a + 2 * b\nc.backward()\n";
      const file = fixture("tutorial_script.py");
      const result = await runPython({ file, code, origin: { file, line: 1, column: 1 } }, {});
      assert.equal(result.error, undefined, result.error?.message);
      const a = new Value(1.5);
      const b = new Value(-0.5);
      const c = a.mul(b).add(a.pow(2)).sub(b.div(a)).add(div(2, a)).sub(3).add(a.exp()).add(b.relu()).add(a.log()).add(b.neg()).add(1).sub(a).add(mul(2, b));
      c.backward();
      const close = (x: number, y: number) => Math.abs(x - y) <= 1e-12 * Math.max(1, Math.abs(y));
      assert.ok(close(binding(result, "c").data, c.data), `c: ${binding(result, "c").data} vs ${c.data}`);
      assert.ok(close(binding(result, "a").grad, a.grad), `da: ${binding(result, "a").grad} vs ${a.grad}`);
      assert.ok(close(binding(result, "b").grad, b.grad), `db: ${binding(result, "b").grad} vs ${b.grad}`);
      assert.equal(result.roots[0].graph.nodeCount, topologicalOrder(c).length);
      const ops = new Set(snapshotNodes(result.roots[0].graph).map((n) => n.op));
      for (const op of ["+", "*", "**2", "**-1", "exp", "log", "relu"]) assert.ok(ops.has(op), `${op} in ${[...ops]}`);
    });

    it("is not used when the code defines its own Value", async () => {
      const code = "class Value:\n    def __init__(self, data):\n        self.data = data\n        self.grad = 0\n        self._children = ()\n\nv = Value(3.0)\nprint(hasattr(v, '_local_grads'))\n";
      const file = fixture("tutorial_script.py");
      const result = await runPython({ file, code, origin: { file, line: 1, column: 1 } }, {});
      assert.deepEqual(result.console.map((c) => c.text), ["False"]);
      assert.equal(binding(result, "v").data, 3);
    });
  });

  describe("Markdown code blocks", () => {
    const notes = ["# Notes", "", "```python", "import math", "scale = Value(2.0)", "```", "", "```python", "y = scale * math.e", "y.backward(", "```", "", "```python", "t = scale * oops", "```", "", "```python", "u = t + 1", "```"].join("\n");
    const file = fixture("notes.md");
    const runBlock = (startLine: number, code: string) => runPython({ file, code, origin: { file, line: startLine, column: 1 }, document: notes }, {});

    it("a syntax error is at the Markdown line, and nothing runs", async () => {
      const result = await runBlock(9, "y = scale * math.e\ny.backward(");
      assert.equal(result.error?.kind, "syntax");
      assert.equal(result.error?.position?.file, file);
      assert.equal(result.error?.position?.line, 10);
      assert.equal(result.console.length, 0, "the earlier block did not run either");
    });

    it("an error in an earlier block the selected block builds on is shown at that block's line", async () => {
      const result = await runBlock(18, "u = t + 1");
      assert.equal(result.error?.kind, "runtime");
      assert.match(result.error?.message ?? "", /'oops' is not defined/);
      assert.equal(result.error?.position?.line, 14);
      assert.deepEqual(result.console.map((c) => c.text), [
        "GradLens: ran the code block at line 4 first (it defines scale)",
        "GradLens: ran the code block at line 14 first (it defines t)",
        "GradLens: this code uses Value without defining or importing it: GradLens supplied the tutorial's Value class (plain Python would stop with NameError: name 'Value' is not defined)",
      ]);
      assert.deepEqual(result.notes?.map((n) => n.kind), ["context", "context", "tutorial-value"]);
    });

    it("a learner's own whole class in an earlier block is the Value a later block uses, not the tutorial's", async () => {
      // Their class has a bug to find (d(a*b)/da given as a.data): GradLens must show theirs, as plain Python would.
      const own = [
        "```python",
        "class Value:",
        "    def __init__(self, data, _children=(), _op=''):",
        "        self.data, self.grad, self._prev, self._op = data, 0.0, set(_children), _op",
        "        self._backward = lambda: None",
        "    def __mul__(self, other):",
        "        out = Value(self.data * other.data, (self, other), 'times')",
        "        def _backward():",
        "            self.grad += self.data * out.grad",
        "            other.grad += self.data * out.grad",
        "        out._backward = _backward",
        "        return out",
        "    def backward(self):",
        "        self.grad = 1.0",
        "        self._backward()",
        "```",
        "",
        "The constructor again, on its own:",
        "",
        "```python",
        "class Value:",
        "    def __init__(self, data):",
        "        self.data = data",
        "```",
        "",
        "```python",
        "a = Value(2.0)",
        "b = Value(3.0)",
        "c = a * b",
        "c.backward()",
        "print(a.grad, b.grad)",
        "```",
      ].join("\n");
      const ownFile = fixture("own-notes.md");
      const result = await runPython({ file: ownFile, code: "a = Value(2.0)\nb = Value(3.0)\nc = a * b\nc.backward()\nprint(a.grad, b.grad)", origin: { file: ownFile, line: 27, column: 1 }, document: own }, {});
      assert.equal(result.error, undefined, result.error?.message);
      assert.deepEqual(result.notes, [{ kind: "context", message: "ran the code block at line 2 first (it defines Value)" }], "the whole class, not the fragment nearer to it");
      assert.deepEqual(result.console.filter((c) => c.stream === "stdout").map((c) => c.text), ["2.0 2.0"]);
      const [root] = result.roots;
      assert.deepEqual(root.graph.opNames.filter((op) => op !== ""), ["times"]);
      assert.deepEqual([binding(result, "a").grad, binding(result, "b").grad], [2, 2], "their class's grads, bug included");
    });

    it("runs even when the Markdown file is not on disk", async () => {
      const unsaved = path.join(os.tmpdir(), "gradlens-no-such-folder", "draft.md");
      const result = await runPython({ file: unsaved, code: "p = Value(1.5)\nq = p * p", origin: { file: unsaved, line: 3, column: 1 }, document: "" }, {});
      assert.equal(result.error, undefined, result.error?.message);
      assert.equal(binding(result, "q").range.line, 4);
    });
  });

  describe("any Value class, by its shape", () => {
    it("finds a class with another name and list inputs, with its local gradients and method-name ops", async () => {
      const result = await runFixture("any_shape.py");
      assert.equal(result.error, undefined, result.error?.message);
      const [root] = result.roots;
      assert.equal(root.name, "r");
      assert.equal(root.reason, "last-value");
      assert.deepEqual(snapshotNodes(root.graph).map((n) => [n.op, n.data]), [["", 3], ["", 4], ["times", 12]]);
      assert.deepEqual(snapshotEdges(root.graph).map((e) => e.localGrad), [4, 3]);
    });

    it("patches a dataclass Value once it is found, so the values made after that have their lines", async () => {
      const result = await runFixture("dataclass_value.py");
      assert.equal(result.error, undefined, result.error?.message);
      const [root] = result.roots;
      assert.equal(root.name, "d");
      const nodes = snapshotNodes(root.graph);
      assert.deepEqual(nodes.map((n) => [n.label, n.op, n.data]), [["a", "", 2], ["b", "", 5], ["c", "*", 10], ["d", "+", 12]]);
      // a is found at its binding on line 19; from then on, values record where they were made.
      const lineOf = (label: string) => result.sites[nodes.find((n) => n.label === label)!.site].line;
      assert.deepEqual([lineOf("b"), lineOf("c"), lineOf("d")], [20, 21, 22]);
    });

    it("finds values of a class built without a class statement on the heap", async () => {
      const result = await runFixture("heap_only.py");
      assert.equal(result.error, undefined, result.error?.message);
      const [root] = result.roots;
      assert.ok(root, "a root found on the heap");
      assert.deepEqual(snapshotNodes(root.graph).map((n) => [n.op, n.data]), [["", 1], ["", 2], ["+", 3]]);
    });

    it("reports the first value that went infinite, at its line", async () => {
      const result = await runFixture("overflow.py");
      assert.equal(result.error, undefined, result.error?.message);
      assert.equal(result.nonFinite?.field, "data");
      assert.equal(result.nonFinite?.value, Infinity);
      assert.equal(result.nonFinite?.op, "*");
      assert.equal(result.nonFinite?.position?.line, 2);
      assert.deepEqual(result.console.filter((c) => c.stream === "stdout").map((c) => c.text), ["y = inf"]);
    });

    it("refuses a graph over the node limit with a too-large error, as for TypeScript", async () => {
      const code = "x = Value(1.0)\nfor _ in range(50):\n    x = x * 1.0\nx.backward()\n";
      const result = await runPython({ file: fixture("tutorial_script.py"), code, origin: { file: fixture("tutorial_script.py"), line: 1, column: 1 } }, { nodeLimit: 20 });
      assert.equal(result.error?.kind, "too-large");
      assert.match(result.error?.message ?? "", /more than 20 nodes/);
      assert.equal(result.roots.length, 0);
      assert.equal(result.error?.position?.line, 4);
    });
  });

  describe("output", () => {
    it("captures print() and stderr with the line that printed, joining partial writes", async () => {
      const result = await runFixture("output.py");
      assert.equal(result.error, undefined, result.error?.message);
      assert.deepEqual(
        result.console.map((c) => [c.stream, c.text, c.position?.line]),
        [
          ["stdout", "to stdout 1 2", 3],
          ["stderr", "to stderr", 4],
          ["stdout", "partial line", 5],
          ["stdout", "no newline at the end", 7],
        ],
      );
      assert.equal(result.roots.length, 0);
    });
  });

  describe("what the run cost", () => {
    it("reports the tracer process's own CPU time with its result (the training bench's CPU ratio)", async () => {
      // About 0.3 s of CPU in a busy loop: the figure must cover it, and cannot exceed the time the caller waited.
      const code = "import time\nwhile time.process_time() < 0.3:\n    pass\nprint('done')\n";
      const t0 = performance.now();
      const result = await runPython({ file: fixture("cost.py"), code }, {});
      const waited = performance.now() - t0;
      assert.equal(result.error, undefined, result.error?.message);
      const cpu = result.stats.executeCpuMs;
      assert.ok(cpu !== undefined && cpu >= 300 && cpu <= waited, `executeCpuMs ${cpu}, the caller waited ${waited.toFixed(0)} ms`);
    });
  });

  describe("errors at the right line", () => {
    it("a syntax error, before anything runs", async () => {
      const result = await runFixture("syntax_error.py");
      assert.equal(result.ok, false);
      assert.equal(result.error?.kind, "syntax");
      assert.deepEqual([result.error?.position?.line, result.error?.position?.column], [2, 9]);
      assert.equal(result.console.length, 0);
    });

    it("an exception inside a function: the innermost line of the user's code, a learner's message and the stack", async () => {
      const result = await runFixture("raises.py");
      assert.equal(result.error?.kind, "runtime");
      assert.match(result.error?.message ?? "", /math domain error.*log\(0\)/);
      assert.equal(result.error?.position?.line, 5);
      assert.match(result.error?.stack ?? "", /raises\.py:10 in <module>[\s\S]*raises\.py:5 in loss/);
      assert.deepEqual(result.console.filter((c) => c.stream === "stdout").map((c) => c.text), ["before"]);
      // What was made before the error is still shown.
      assert.equal(binding(result, "a").data, 0);
    });

    it("an endless loop stops at the time limit with the line it was on", async () => {
      const result = await runFixture("endless.py", { timeLimitMs: 1000 });
      assert.equal(result.error?.kind, "timeout");
      assert.match(result.error?.message ?? "", /^stopped after 1 s/);
      const line = result.error?.position?.line ?? 0;
      assert.ok(line >= 3 && line <= 6, `line ${line} is in the loop`);
      assert.equal(result.error?.position?.file, fixture("endless.py"));
    });

    it("a loop stuck inside one long C call is killed, and the faulthandler dump gives its line", async () => {
      const code = "x = Value(1.0)\nn = sum(range(10**12))\n";
      const result = await runPython({ file: fixture("tutorial_script.py"), code, origin: { file: fixture("tutorial_script.py"), line: 20, column: 1 } }, { timeLimitMs: 500 });
      assert.equal(result.error?.kind, "timeout");
      assert.match(result.error?.message ?? "", /^stopped after 0\.5 s: the code was still running \(an endless loop\?\) — at line 21$/);
      assert.equal(result.error?.position?.line, 21);
    });

    it("the memory limit stops the run with a memory error at the allocating line", async () => {
      const result = await runFixture("memory.py", { heapLimitMb: 200 });
      assert.equal(result.error?.kind, "memory");
      assert.match(result.error?.message ?? "", /200 MB/);
      assert.equal(result.error?.position?.line, 4);
    });

    it("ends processes the user's code started, and does not wait for them", async function () {
      if (!existsSync("/proc/self/stat")) this.skip(); // reads process states from /proc (Linux)
      const code = "import subprocess\nchild = subprocess.Popen(['sleep', '120'])\nprint(child.pid)\nx = Value(1.0)\n";
      const file = fixture("tutorial_script.py");
      const result = await runPython({ file, code, origin: { file, line: 1, column: 1 } }, {});
      assert.equal(result.error, undefined, result.error?.message);
      const pid = Number(result.console.find((c) => c.stream === "stdout")?.text);
      assert.ok(pid > 0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Gone, or a zombie waiting for init to reap it: either way no longer running.
      const state = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] : "gone";
      assert.ok(state === "gone" || state === "Z", `the sleep was killed with the run (state ${state})`);
    });

    it("cancelling kills the run", async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 500);
      const result = await runFixture("endless.py", { timeLimitMs: 30_000, signal: controller.signal });
      assert.equal(result.error?.kind, "cancelled");
      const already = await runFixture("endless.py", { signal: AbortSignal.abort() });
      assert.equal(already.error?.kind, "cancelled");
    });

    it("a missing interpreter says how to set gradlens.pythonPath", async () => {
      const result = await runFixture("tutorial_script.py", { pythonPath: "/nonexistent/bin/python3" });
      assert.equal(result.error?.kind, "interpreter");
      assert.match(result.error?.message ?? "", /gradlens\.pythonPath/);
      assert.match(result.error?.message ?? "", /\/nonexistent\/bin\/python3/);
      assert.equal(result.ok, false);
    });

    it("an interpreter older than Python 3.8 gets a clear message from the tracer's launcher", async () => {
      // A stand-in for an old Python: python3 that reports version 2.7.18 to the launcher.
      const directory = mkdtempSync(path.join(os.tmpdir(), "gradlens-old-python-"));
      const fake = path.join(directory, "python");
      const reportOld = "import sys, runpy; sys.version_info = (2, 7, 18); sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')";
      writeFileSync(fake, `#!/bin/sh\nshift\nexec python3 -c "${reportOld}" "$@"\n`, { mode: 0o755 });
      try {
        const result = await runFixture("tutorial_script.py", { pythonPath: fake });
        assert.equal(result.error?.kind, "interpreter");
        assert.match(result.error?.message ?? "", /needs Python 3\.8 or newer, but .* is Python 2\.7\.18/);
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    });

    it("no Python on PATH and no setting: says so, and how to set gradlens.pythonPath", async () => {
      const saved = process.env.PATH;
      process.env.PATH = "";
      try {
        const result = await runFixture("tutorial_script.py");
        assert.equal(result.error?.kind, "interpreter");
        assert.match(result.error?.message ?? "", /neither python3 nor python is on PATH.*gradlens\.pythonPath/);
      } finally {
        process.env.PATH = saved;
      }
    });

    it("a file that does not exist", async () => {
      const result = await runFixture("no_such_file.py");
      assert.equal(result.error?.kind, "runtime");
      assert.match(result.error?.message ?? "", /cannot read/);
    });
  });
});
