// Gradient checks in Python with the user's own class: which functions are checkable (static), the
// verdicts (the same numbers as GradLens's TypeScript checker on the same function), a wrong op caught
// in the right input, kinks, and Markdown blocks that build on earlier blocks.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { checkPython, findCheckablePythonFunctions, resolvePythonPath } from "../../src/runner/python";
import { Value, gradcheck } from "../../src/engine";
import { repoRoot } from "./runnerSupport";
import type { InputCheckResult } from "../../src/protocol/result";

const fixture = (name: string) => path.join(repoRoot, "test", "fixtures", "userClasses", "python", name);

describe("user classes: Python gradient checks", function () {
  this.timeout(60_000);

  describe("finding checkable functions (no Python needed)", () => {
    it("takes hinted Value / list[Value] parameters and @gradcheck lines in docstrings or comments above", () => {
      const found = findCheckablePythonFunctions(readFileSync(fixture("closures.py"), "utf8"), "closures.py");
      assert.deepEqual(
        found.map((f) => [f.name, f.range.line, f.params.map((p) => `${p.name}:${p.kind}`).join(","), JSON.stringify(f.point ?? null)]),
        [
          ["neuron", 74, "x:scalar,w:scalar,b:scalar", '{"x":0.5,"w":-1.5,"b":2}'],
          ["total", 79, "xs:array", "null"],
          ["hinge", 84, "a:scalar,k:scalar", '{"a":0,"k":3}'],
        ],
      );
    });

    it("reads multi-line headers, string hints, decorators and indented Markdown blocks; skips methods, *args and defaults", () => {
      const source = [
        "    @trace",
        "    def f(",
        "        x: 'Value',",
        "        ys: List[Value],",
        "    ) -> Value:",
        "        return x",
        "    class A:",
        "        def m(self, x: Value): ...",
        "    def g(x: Value, *rest): ...",
        "    def h(x: Value, y: Value = None): ...",
        "    def k(x: float): ...",
      ].join("\n");
      const found = findCheckablePythonFunctions(source, "doc.md", 10);
      assert.deepEqual(found.map((f) => [f.name, f.range.line, f.range.column, f.params.map((p) => p.kind).join(",")]), [["f", 10, 5, "scalar,array"]]);
    });
  });

  describe("running checks (python3)", () => {
    before(async function () {
      if (!(await resolvePythonPath(undefined))) this.skip();
    });

    it("checks closure-based functions with the user's class: the same numbers as the TypeScript checker", async () => {
      const result = await checkPython({ file: fixture("closures.py") });
      assert.equal(result.error, undefined, result.error?.message);
      const checks = result.checks ?? [];
      assert.deepEqual(checks.map((c) => [c.name, c.ok, c.pointSource]), [["neuron", true, "@gradcheck"], ["total", true, "random"], ["hinge", true, "@gradcheck"]]);
      const neuron = checks[0];
      assert.equal(neuron.range.line, 74);
      const ts = gradcheck((x: Value, w: Value, b: Value) => x.mul(w).add(b).tanh(), [0.5, -1.5, 2], { names: ["x", "w", "b"] });
      neuron.inputs.forEach((input, i) => {
        assert.equal(input.analytic, ts.inputs[i].analytic, `${input.name} analytic`);
        assert.ok(Math.abs(input.numeric - ts.inputs[i].numeric) < 1e-9, `${input.name} numeric`);
        assert.equal(input.verdict, "ok");
      });
      assert.match(checks[1].note ?? "", /xs: random lists of length 3/);
    });

    it("gives the very verdicts, numbers and notes of the TypeScript checker on the same functions", async () => {
      const strip = ({ name, analytic, numeric, absError, relError, ok, verdict, note }: InputCheckResult) => ({ name, analytic, numeric, absError, relError, ok, verdict, note });
      const wrong = (await checkPython({ file: fixture("wrong_op.py") })).checks![0];
      // The fixture's buggy mul, as a GradLens op with the same (wrong) local gradients.
      const tsWrong = gradcheck((x: Value, y: Value) => new Value(x.data * y.data, [x, y], [y.data, y.data], "*").add(x), [2, 3], { names: ["x", "y"] });
      assert.deepEqual(wrong.inputs.map(strip), tsWrong.inputs.map(strip));
      assert.equal(wrong.maxRelError, tsWrong.maxRelError);
      const hinge = (await checkPython({ file: fixture("closures.py") }, { functionName: "hinge" })).checks![0];
      const tsHinge = gradcheck((a: Value, k: Value) => a.mul(k).relu(), [0, 3], { names: ["a", "k"] });
      assert.deepEqual(hinge.inputs.map(strip), tsHinge.inputs.map(strip));
    });

    it("keeps the program's own bindings and last-value graph through the check's calls of the function", async () => {
      const result = await checkPython({ file: fixture("check_bindings.py") }, { functionName: "cube" });
      assert.equal(result.checks?.[0]?.ok, true);
      const square = result.bindings.find((b) => b.name === "square");
      // The program's second call: 0.5 · 0.5, bound twice; the check evaluated cube near a random point many times.
      assert.equal(square?.data, 0.25);
      assert.equal(square?.count, 2);
      assert.equal(result.roots[0]?.name, "y");
      assert.equal(result.roots[0]?.graph.data[result.roots[0].graph.root], 0.125);
    });

    it("calls a ReLU corner a kink, as TypeScript does", async () => {
      const result = await checkPython({ file: fixture("closures.py") }, { functionName: "hinge" });
      const [hinge] = result.checks ?? [];
      assert.equal(result.checks?.length, 1);
      assert.deepEqual(hinge.inputs.map((i) => [i.name, i.verdict, i.ok]), [["a", "kink", true], ["k", "ok", true]]);
      assert.equal(hinge.inputs[0].numeric, 1.5);
    });

    it("catches a deliberately wrong op and names the input it is wrong for", async () => {
      const result = await checkPython({ file: fixture("wrong_op.py") });
      const [f] = result.checks ?? [];
      assert.equal(f.ok, false);
      assert.deepEqual(f.inputs.map((i) => [i.name, i.verdict]), [["x", "ok"], ["y", "mismatch"]]);
      assert.equal(f.inputs[1].analytic, 3);
      assert.ok(Math.abs(f.inputs[1].numeric - 2) < 1e-6);
      assert.match(f.inputs[1].note ?? "", /backprop says 3, numerical differentiation says 2\.0/);
      // The checks do not add roots: the graph is the file's own backward().
      assert.equal(result.roots.length, 1);
      assert.equal(result.roots[0].calls, undefined);
    });

    it("checks a function of a Markdown block with the class from an earlier block", async () => {
      const file = fixture("chapter.md");
      const document = readFileSync(file, "utf8");
      const lines = document.split("\n");
      const start = lines.indexOf("def f(x: Value, y: Value) -> Value:") + 1;
      const code = lines.slice(start - 1, lines.indexOf("```", start)).join("\n");
      const result = await checkPython({ file, code, origin: { file, line: start, column: 1 }, document });
      assert.equal(result.error, undefined, result.error?.message);
      const [f] = result.checks ?? [];
      assert.equal(f.range.line, start);
      assert.equal(f.ok, true);
      assert.ok(Math.abs(f.inputs[0].analytic - 2 * Math.exp(1)) < 1e-12);
      assert.ok(result.console.some((c) => /ran the code block at line 6 first/.test(c.text)));
      // The chapter's class, not the tutorial's that GradLens supplies when none is defined: it has no __slots__.
      assert.equal(result.roots[0].graph.nodeCount, 6);
    });

    it("reports a function that raises at the user's line, not as a crash", async () => {
      const file = fixture("closures.py");
      const code = "def broken(x: Value) -> Value:\n    return x.nope()\n";
      const result = await checkPython({ file, code, origin: { file, line: 200, column: 1 } });
      const [broken] = result.checks ?? [];
      assert.equal(broken.ok, false);
      assert.match(broken.error?.message ?? "", /AttributeError/);
      assert.equal(broken.error?.position?.line, 201);
    });
  });
});
