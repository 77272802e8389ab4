import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { checkFile, findCheckableFunctions, findCodeBlockAt } from "../../src/runner";
import { fixture, useBuiltWorker } from "./runnerSupport";

describe("runner: finding checkable functions (static)", () => {
  const file = fixture("checks.grad.ts");
  const functions = findCheckableFunctions(readFileSync(file, "utf8"), file);

  it("lists top-level functions whose parameters are all Value or Value[]", () => {
    assert.deepEqual(
      functions.map((f) => f.name),
      ["product", "neuron", "smooth", "badSquare", "arrays"],
    );
    assert.deepEqual(functions[1].params, [
      { name: "w", kind: "array" },
      { name: "b", kind: "scalar" },
    ]);
  });

  it("reads @gradcheck points, arrays included, and gives the declaration's range", () => {
    assert.deepEqual(functions[0].point, { x: 2, y: 3 });
    assert.deepEqual(functions[1].point, { w: [0.5, -1.2], b: 0.1 });
    assert.equal(functions[2].point, undefined);
    assert.deepEqual(
      [functions[0].range.line, functions[0].range.column, functions[0].range.endLine],
      [4, 1, 6],
    );
    assert.equal(functions[2].range.line, 16);
  });

  it("returns nothing for a file that does not parse", () => {
    assert.deepEqual(findCheckableFunctions("function f(x: Value { return x }", "bad.ts"), []);
  });
});

describe("runner: findCodeBlockAt", () => {
  const md = ["text", "```ts", "const a = 1;", "const b = 2;", "```", "", "~~~~js", "x()", "~~~~", "```"].join("\n");

  it("finds the block around a line, fences included", () => {
    assert.deepEqual(findCodeBlockAt(md, 3), { language: "ts", code: "const a = 1;\nconst b = 2;", startLine: 3 });
    assert.deepEqual(findCodeBlockAt(md, 2)?.startLine, 3);
    assert.deepEqual(findCodeBlockAt(md, 8), { language: "js", code: "x()", startLine: 8 });
  });

  it("returns undefined outside blocks, and runs an unclosed block to the end", () => {
    assert.equal(findCodeBlockAt(md, 1), undefined);
    assert.equal(findCodeBlockAt(md, 6), undefined);
    assert.deepEqual(findCodeBlockAt(md, 10), { language: "", code: "", startLine: 11 });
  });
});

describe("runner: gradient checks", function () {
  this.timeout(60_000);
  before(useBuiltWorker);

  for (const [kind, file] of [
    ["GradLens's Value", fixture("checkBindings.grad.ts")],
    ["a learner's own class", fixture("..", "userClasses", "checkBindings.grad.ts")],
  ] as const) {
    it(`keeps the program's own bindings and root through the checks' calls (${kind})`, async () => {
      const result = await checkFile(file, { functionName: "cube" });
      assert.equal(result.checks?.find((c) => c.name === "cube")?.ok, true);
      const square = result.bindings.find((b) => b.name === "square");
      // The program's second call: square = 0.5 · 0.5, bound twice; the check evaluated cube at 3 many times.
      assert.equal(square?.data, 0.25);
      assert.equal(square?.count, 2);
      assert.equal(result.bindings.find((b) => b.name === "y")?.data, 0.125);
      assert.equal(result.roots[0]?.name, "y");
    });
  }

  it("checks every function at its @gradcheck point or a seeded random point", async () => {
    const result = await checkFile(fixture("checks.grad.ts"));
    assert.ok(result.ok, result.error?.message);
    const checks = new Map(result.checks!.map((c) => [c.name, c]));
    assert.deepEqual([...checks.keys()], ["product", "neuron", "smooth", "badSquare", "arrays"]);

    const product = checks.get("product")!;
    assert.equal(product.ok, true);
    assert.equal(product.pointSource, "@gradcheck");
    assert.deepEqual(product.point, { x: 2, y: 3 });
    assert.equal(product.output, 8);
    assert.deepEqual(product.inputs.map((i) => [i.name, i.analytic]), [["x", 4], ["y", 2]]);
    assert.ok(Math.abs(product.inputs[0].numeric - 4) < 1e-6);
    assert.equal(product.range.line, 4);

    const neuron = checks.get("neuron")!;
    assert.equal(neuron.ok, true);
    assert.deepEqual(neuron.inputs.map((i) => i.name), ["w[0]", "w[1]", "b"]);

    const smooth = checks.get("smooth")!;
    assert.equal(smooth.pointSource, "random");
    const a = smooth.point.a as number;
    assert.ok(a >= -2 && a <= 2);
    assert.equal(smooth.ok, true);
    assert.ok(Math.abs(smooth.inputs[0].analytic - 2 * a * Math.exp(a * a)) < 1e-9 * Math.exp(a * a));

    const bad = checks.get("badSquare")!;
    assert.equal(bad.ok, false);
    assert.equal(bad.inputs[0].verdict, "mismatch");
    const x = bad.point.x as number;
    assert.ok(Math.abs(bad.inputs[0].numeric - 2 * x) < 1e-5);

    const arrays = checks.get("arrays")!;
    assert.equal((arrays.point.v as number[]).length, 3);
    assert.match(arrays.note ?? "", /length 3/);
    assert.deepEqual(arrays.inputs.map((i) => i.analytic), [3, 3, 3]);
  });

  it("gives the same random points on every run, and other points for another seed", async () => {
    const first = await checkFile(fixture("checks.grad.ts"), { functionName: "smooth" });
    const again = await checkFile(fixture("checks.grad.ts"), { functionName: "smooth" });
    const seeded = await checkFile(fixture("checks.grad.ts"), { functionName: "smooth", gradcheck: { seed: 7 } });
    assert.equal(first.checks!.length, 1);
    assert.deepEqual(first.checks![0].point, again.checks![0].point);
    assert.notDeepEqual(first.checks![0].point, seeded.checks![0].point);
  });

  it("reports a function that does not return a Value as an error of that check", async () => {
    const result = await checkFile(fixture("checkErrors.grad.ts"));
    const checks = new Map(result.checks!.map((c) => [c.name, c]));
    assert.match(checks.get("returnsNumber")!.error!.message, /must return a Value/);
    assert.equal(checks.get("throwsInside")!.error!.position?.line, 8);
    assert.equal(checks.get("fine")!.ok, true);
    // The top-level code threw after the declarations: the run's error is reported, checks still ran.
    assert.equal(result.error?.kind, "runtime");
  });
});
