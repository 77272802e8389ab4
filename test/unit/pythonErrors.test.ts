// Python's errors as GradLens's errors: an op that raises is reported like a non-finite value (the op,
// its inputs, the user's line, what JavaScript gives); NaN leaves get a sentence; cycles are an error
// at the line that closed them; runs that stop (time limit, memory, sys.exit, KeyboardInterrupt) keep
// the graph of the last completed backward(); and the odd classes and files of real learners.
import { strict as assert } from "assert";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { resolvePythonPath, runPython, type PythonRunOptions } from "../../src/runner/python";
import { snapshotNodes } from "../../src/engine/snapshot";

const FIXTURES = path.resolve(__dirname, "../fixtures/python");
const fixture = (name: string) => path.join(FIXTURES, name);
const runCode = (code: string, file = fixture("errors/inline.py"), options: PythonRunOptions = {}) => runPython({ file, code, origin: { file, line: 1, column: 1 } }, options);
const JS = "JavaScript, and GradLens's TypeScript engine, would give";

describe("Python errors as GradLens errors", function () {
  this.timeout(120_000);

  before(async function () {
    if (!(await resolvePythonPath(undefined))) this.skip();
  });

  describe("an op that raises", () => {
    it("log(0) in the tutorial's Value: the op, its input, the user's line, -Infinity", async () => {
      const result = await runPython({ file: fixture("errors/log_zero.py") });
      assert.equal(result.error?.kind, "runtime");
      assert.equal(result.error?.message, `log(0.0) raised ValueError in Python (math domain error); ${JS} -Infinity`);
      assert.deepEqual([result.error?.position?.line, result.error?.position?.column], [3, 9]);
      assert.equal(result.roots[0]?.name, "p", "what was made before is still drawn");
    });

    it("exp(1000): OverflowError, Infinity in JavaScript", async () => {
      const result = await runPython({ file: fixture("errors/exp_overflow.py") });
      assert.equal(result.error?.message, `exp(1000.0) raised OverflowError in Python (math range error); ${JS} Infinity`);
      assert.equal(result.error?.position?.line, 2);
    });

    it("division by zero in micrograd's engine (a / b is a * b**-1): the power that raised, at the user's line", async () => {
      const result = await runCode("from engine import Value\nnum = Value(2.0)\nden = Value(0.0)\nq = num / den\n", fixture("micrograd_style/divide.py"));
      assert.equal(result.error?.message, `0.0 ** -1 raised ZeroDivisionError in Python (0.0 cannot be raised to a negative power); ${JS} Infinity`);
      assert.deepEqual([result.error?.position?.file, result.error?.position?.line], [fixture("micrograd_style/divide.py"), 4]);
      assert.match(result.error?.stack ?? "", /engine\.py|divide\.py:4/);
    });

    it("a division of the user's own class: both inputs and the sign JavaScript gives", async () => {
      const code = [
        "class Value:",
        "    def __init__(self, data, children=(), local_grads=()):",
        "        self.data, self.grad, self._children, self._local_grads = data, 0, children, local_grads",
        "    def __truediv__(self, other):",
        "        return Value(self.data / other.data, (self, other), (1 / other.data, -self.data / other.data**2))",
        "a = Value(-2.0)",
        "b = Value(0.0)",
        "c = a / b",
      ].join("\n");
      const result = await runCode(code);
      assert.equal(result.error?.message, `-2.0 / 0.0 raised ZeroDivisionError in Python (float division by zero); ${JS} -Infinity`);
      assert.equal(result.error?.position?.line, 8, "the user's line that divided, not the class's");
    });

    it("a math error outside any op keeps the learner's message", async () => {
      const result = await runPython({ file: fixture("raises.py") });
      assert.match(result.error?.message ?? "", /^math domain error: a math function got a number outside its domain/);
    });
  });

  it("a NaN leaf gets a sentence that says it was made so", async () => {
    const result = await runPython({ file: fixture("errors/nan_leaf.py") });
    assert.equal(result.error, undefined, result.error?.message);
    assert.equal(result.nonFinite?.message, "this value was NaN from the start: it was made from NaN, not computed from other values (a leaf)");
    assert.equal(result.nonFinite?.position?.line, 1);
  });

  it("a cycle is an error at the line that closed it", async () => {
    const result = await runPython({ file: fixture("errors/cycle.py") });
    assert.equal(result.error?.kind, "runtime");
    assert.match(result.error?.message ?? "", /^the graph of b has a cycle: a value is among its own inputs \(through 2 values\)/);
    assert.equal(result.error?.position?.line, 4);
    assert.equal(result.roots.length, 0);
  });

  describe("a run that stops keeps the last completed backward()'s graph", () => {
    const training = (after: string) =>
      ["w = Value(0.8)", "for step in range(3):", "    loss = (w * 2.0 + -1.0) ** 2", "    loss.backward()", "    w.data -= 0.1 * w.grad", "    w.grad = 0", after].join("\n");
    const lastLoss = () => {
      let w = 0.8;
      let loss = 0;
      for (let step = 0; step < 3; step++) {
        loss = (w * 2 - 1) ** 2;
        w -= 0.1 * 2 * 2 * (w * 2 - 1);
      }
      return loss;
    };
    for (const [name, after, kind, options] of [
      ["the time limit", "while True:\n    pass", "timeout", { timeLimitMs: 1500 }],
      ["the memory limit", "hoard = []\nwhile True:\n    hoard.append(bytearray(8 * 1024 * 1024))", "memory", { heapLimitMb: 200 }],
      ["sys.exit(3)", "import sys\nsys.exit(3)", "runtime", {}],
      ["KeyboardInterrupt", "raise KeyboardInterrupt", "runtime", {}],
    ] as const) {
      it(name, async () => {
        const result = await runCode(training(after), undefined, options);
        assert.equal(result.error?.kind, kind, result.error?.message);
        const [root] = result.roots;
        assert.ok(root, "a graph");
        assert.deepEqual([root.reason, root.calls], ["backward", 3]);
        assert.ok(Math.abs(root.graph.data[root.graph.root] - lastLoss()) < 1e-12);
        const w = snapshotNodes(root.graph).find((n) => n.label === "w")!;
        assert.notEqual(w.grad, 0, "w's grad as backward() left it, not the 0 after the update");
      });
    }
  });

  describe("a run stopped before it can write its result keeps its last checkpoint", () => {
    const shaped = path.resolve(FIXTURES, "..", "training", "microgpt_shaped.py");
    // microgpt's own shapes (16 wide, 4 heads: 40,000–60,000 nodes a step), far more steps than the limit allows.
    const env = { GL_STEPS: "100000", GL_EMBD: "16" };
    const saved: Record<string, string | undefined> = {};
    beforeEach(() => {
      for (const [k, v] of Object.entries(env)) [saved[k], process.env[k]] = [process.env[k], v];
    });
    afterEach(() => {
      for (const k of Object.keys(env)) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    });
    /**
     * The loss the program printed right after its `calls`-th backward() ("check <step> <loss> <grad norm>").
     * The stop may fall between that backward() (its graph kept) and the print: then the run printed every
     * step before it, and `file` is run plainly (the program is deterministic) up to that step's line.
     */
    const printedLoss = async (console: { text: string }[], calls: number, file?: string) => {
      const lines = console.map((c) => c.text).filter((t) => t.startsWith("check "));
      let line = lines.find((t) => t.startsWith(`check ${calls} `));
      if (!line && file) {
        assert.equal(lines.length, calls - 1, `the program printed step ${calls}, or was stopped right before printing it`);
        line = await plainLine(file, `check ${calls} `);
      }
      assert.ok(line, `the program printed step ${calls}`);
      return Number(line.split(" ")[2]);
    };
    /** The first line starting with `prefix` that `file` prints when python3 runs it (then it is ended). */
    const plainLine = async (file: string, prefix: string): Promise<string | undefined> => {
      const python = await resolvePythonPath(undefined);
      assert.ok(python, "python3");
      const child = spawn(python.path, [file], { cwd: path.dirname(file), stdio: ["ignore", "pipe", "ignore"] });
      let text = "";
      return new Promise((resolve) => {
        child.stdout.on("data", (chunk: Buffer) => {
          text += chunk.toString("utf8");
          const found = text.split("\n").find((t, i, all) => i < all.length - 1 && t.startsWith(prefix));
          if (found !== undefined) {
            child.kill("SIGKILL");
            resolve(found);
          }
        });
        child.on("close", () => resolve(undefined));
      });
    };

    it("microgpt-shaped training stopped by the time limit: a graph with the numbers of its backward()", async () => {
      // A step's graph takes longer to write than the stop's grace: before checkpoints no graph came back.
      const result = await runPython({ file: shaped }, { timeLimitMs: 6000 });
      assert.equal(result.error?.kind, "timeout", result.error?.message);
      assert.doesNotMatch(result.error?.message ?? "", /endless loop/, "it printed and completed backward() all along");
      const [root] = result.roots;
      assert.ok(root, "a graph is kept");
      const calls = root.calls ?? 1;
      assert.ok(calls >= 2, `backward() call ${calls}`);
      assert.equal(root.graph.data[root.graph.root], await printedLoss(result.console, calls, shaped));
      const g = root.graph;
      const leafGrads = Array.from({ length: g.nodeCount }, (_, i) => i).filter((i) => g.childStart[i] === g.childStart[i + 1]).map((i) => g.grad[i]);
      assert.ok(leafGrads.filter((x) => x !== 0).length > leafGrads.length / 2, "the grads as backward() left them, not the zeros after Adam");
    });

    it("a program stuck in a C call after its training steps is killed, and shows the checkpoint's graph", async () => {
      const code = [
        "import time",
        "w = Value(0.8)",
        "for step in range(8):",
        "    loss = (w * 2.0 + -1.0) ** 2",
        "    loss.backward()",
        "    print('check %d %r' % (step + 1, loss.data))",
        "    w.data -= 0.1 * w.grad",
        "    w.grad = 0",
        "    time.sleep(0.4)",
        "n = sum(range(10**13))  # no signal handler runs inside it: only the kill ends it",
      ].join("\n");
      const result = await runCode(code, undefined, { timeLimitMs: 5000 });
      assert.equal(result.error?.kind, "timeout", result.error?.message);
      assert.equal(result.error?.position?.line, 10);
      assert.match(result.error?.message ?? "", /^stopped after 5 s: the code was still running/);
      const [root] = result.roots;
      assert.ok(root, "the checkpoint's graph is kept");
      const calls = root.calls ?? 1;
      assert.equal(root.graph.data[root.graph.root], await printedLoss(result.console, calls));
      const w = snapshotNodes(root.graph).find((n) => n.label === "w");
      assert.notEqual(w?.grad, 0, "w's grad as that backward() left it");
      assert.ok(result.bindings.some((b) => b.name === "w"), "and the bindings of then");
    });

    it("says \"an endless loop?\" only of a run that showed no progress for a while", async () => {
      const busy = await runCode("import time\nw = Value(0.5)\nwhile True:\n    loss = w * w\n    loss.backward()\n    print(loss.data)\n    time.sleep(0.1)\n", undefined, { timeLimitMs: 1500 });
      assert.equal(busy.error?.message, "stopped after 1.5 s: the code was still running — at line 7");
      const quiet = await runCode("def spin():\n    while True:\n        pass\nw = Value(0.5)\nloss = w * w\nloss.backward()\nspin()\n", undefined, { timeLimitMs: 3000 });
      assert.match(quiet.error?.message ?? "", /^stopped after 3 s: the code was still running \(an endless loop\?\) — at line [23], in spin$/);
    });
  });

  describe("odd classes and files", () => {
    it("one early Value(None) does not hide the class", async () => {
      const result = await runPython({ file: fixture("errors/none_first.py") });
      assert.equal(result.error, undefined, result.error?.message);
      assert.deepEqual([result.roots[0]?.name, result.roots[0]?.graph.nodeCount], ["b", 2]);
      assert.equal(result.bindings.find((b) => b.name === "a")?.grad, 4);
    });

    it("a class whose __getattr__ raises KeyError is still drawn", async () => {
      const result = await runPython({ file: fixture("errors/getattr_raises.py") });
      assert.equal(result.error, undefined, result.error?.message);
      assert.deepEqual(snapshotNodes(result.roots[0].graph).map((n) => [n.op, n.data]), [["", 3], ["", 4], ["*", 12]]);
      assert.deepEqual(result.roots[0].unknownLocalGrad, [0, 1], "it keeps no local gradients: unknown");
    });

    it("a value given its inputs after they were made, by a module GradLens does not rewrite, is drawn in topological order, its name and hover on it", async () => {
      const result = await runPython({ file: fixture("lazy/rewired.py") });
      assert.equal(result.error, undefined, result.error?.message);
      assert.deepEqual(result.console.filter((c) => c.stream === "stdout").map((c) => c.text), ["8.0 4.0 2.0"]);
      const graph = result.roots[0].graph;
      const inputs = (i: number) => [...graph.child.subarray(graph.childStart[i], graph.childStart[i + 1])];
      assert.deepEqual(snapshotNodes(graph).map((n) => [n.data, n.grad]), [[2, 4], [3, 2], [6, 1], [8, 1]], "a, b, product, total");
      assert.deepEqual([0, 1, 2, 3].map(inputs), [[], [], [0, 1], [2, 0]]);
      assert.deepEqual([...graph.localGrad.subarray(graph.childStart[2], graph.childStart[3])], [3, 2]);
      assert.equal(graph.labels[2], "product");
      assert.deepEqual(result.bindings.find((b) => b.name === "product")?.node, { root: 0, id: 2 });
    });

    it("a class GradLens cannot read is reported, not silently skipped", async () => {
      const result = await runPython({ file: fixture("errors/unreadable.py") });
      assert.deepEqual(result.notes, [{ kind: "unreadable-class", message: "the values of the class Value cannot be read, so they are not drawn: reading an attribute raised RuntimeError: data is not ready" }]);
    });

    it("a file that declares # -*- coding: latin-1 -*- is read in Latin-1", async () => {
      const result = await runPython({ file: fixture("errors/latin1.py") });
      assert.equal(result.error, undefined, result.error?.message);
      assert.deepEqual(result.console.filter((c) => c.stream === "stdout").map((c) => c.text), ["café 4.0"]);
    });

    it("a file that never defines or imports Value runs with the tutorial's class, and says so", async () => {
      const result = await runPython({ file: fixture("tutorial_script.py") });
      assert.deepEqual(result.notes?.map((n) => n.kind), ["tutorial-value"]);
      assert.match(result.notes?.[0].message ?? "", /plain Python would stop with NameError/);
    });
  });
});
