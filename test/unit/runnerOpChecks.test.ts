import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as os from "node:os";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { checkFile, findCodeBlockAt, runFile, runnerFor } from "../../src/runner";
import { checkPython, runPython } from "../../src/runner/python";
import { checkJson, checkTable } from "../../src/cli/checkOutput";
import { verdictTitle } from "../../src/protocol/checkVerdict";
import { formatNumber } from "../../src/cli/graphOutput";
import { fixture, repoRoot, useBuiltWorker } from "./runnerSupport";
import { bigCheckSource } from "./bigCheckSource";

const opFixture = (name: string) => path.join(repoRoot, "test", "fixtures", "opcheck", name);
const words = { number: formatNumber };

describe("runner: op-level gradient checks", function () {
  this.timeout(60_000);
  before(useBuiltWorker);

  it("names a wrong user-defined op (softplus) at its line, inside a function check and the run", async () => {
    const result = await checkFile(fixture("wrongOp.grad.ts"));
    const neuron = result.checks!.find((c) => c.name === "neuron")!;
    assert.equal(neuron.ok, false);
    const culprit = neuron.ops!.find((op) => !op.ok)!;
    assert.equal(culprit.op, "softplus");
    assert.equal(culprit.kind, "user");
    assert.equal(culprit.position?.line, 6);
    // The worst instance: softplus at act = 0.8·1.5 − 0.4·2 + 1.2 = 1.6; it says e^x, the truth is σ(x).
    const { inputs, analytic, numeric } = culprit.worst!;
    assert.ok(Math.abs(inputs[0] - 1.6) < 1e-12);
    assert.ok(Math.abs(analytic[0] - Math.exp(1.6)) < 1e-9);
    assert.ok(Math.abs(numeric[0] - 1 / (1 + Math.exp(-1.6))) < 1e-6);
    // Every built-in op of the graph agrees.
    assert.deepEqual(neuron.ops!.filter((op) => !op.ok).map((op) => op.op), ["softplus"]);
    assert.match(verdictTitle(neuron, words), /`softplus` at wrongOp\.grad\.ts:6 gives 4\.95\d* for d\/dx, central differences give 0\.832/);
    // The run's own graph: the op's node is marked for the graph view.
    const runOp = result.opChecks!.find((op) => op.op === "softplus")!;
    assert.equal(runOp.ok, false);
    assert.deepEqual(runOp.nodes?.map((n) => n.root), [0]);
    assert.equal(result.roots[0].graph.opNames[result.roots[0].graph.op[runOp.nodes![0].id]], "softplus");
  });

  it("reports no failing op for a correct model with user-defined and built-in ops", async () => {
    const result = await checkFile(fixture("rightOp.grad.ts"));
    const neuron = result.checks!.find((c) => c.name === "neuron")!;
    assert.equal(neuron.ok, true, verdictTitle(neuron, words));
    assert.ok(neuron.ops!.length >= 8);
    assert.ok(neuron.ops!.every((op) => op.ok && op.checked > 0), JSON.stringify(neuron.ops!.filter((op) => !op.ok || op.checked === 0)));
    assert.ok(result.opChecks!.every((op) => op.ok));
  });

  it("gives --json an ops entry per op kind and site, and prints the culprit under a failing function", async () => {
    const result = await checkFile(fixture("wrongOp.grad.ts"));
    const json = checkJson(result.checks!);
    const neuron = json.functions.find((f) => f.name === "neuron")!;
    assert.deepEqual(Object.keys(neuron.ops[0]).sort(), ["analytic", "inputs", "line", "numeric", "ok", "op"]);
    assert.deepEqual([neuron.ops[0].op, neuron.ops[0].line, neuron.ops[0].ok], ["softplus", 6, false]);
    assert.ok(neuron.inputs.every((i) => i.weak === false));
    const table = checkTable(result.checks!);
    assert.match(table, /op softplus \(line 6\)/);
  });

  it("infers the length of an untagged array from the elements the function reads, and shows the point", async () => {
    const result = await checkFile(fixture("checkSafety.grad.ts"), { functionName: "forward" });
    const forward = result.checks![0];
    assert.equal(forward.error, undefined);
    assert.equal((forward.point.x as number[]).length, 2);
    assert.deepEqual(forward.inferredLengths, { x: 2 });
    assert.equal(forward.ok, true);
    assert.match(checkTable(result.checks!), /note: forward: at x = \[/);
  });

  it("reports a function that changes its input: the check is of another point", async () => {
    const result = await checkFile(fixture("checkSafety.grad.ts"), { functionName: "sneaky" });
    const sneaky = result.checks![0];
    assert.equal(sneaky.ok, false);
    assert.deepEqual(sneaky.mutations, [{ input: "x", field: "data" }]);
    assert.equal(verdictTitle(sneaky, words), "✗ sneaky changed x.data: the check is of another point");
  });

  it("warns at the second backward() without zeroing, and at a training step whose grads were not reset", async () => {
    const result = await runFile(fixture("checkSafety.grad.ts"));
    const warnings = (result.warnings ?? []).map((w) => [w.kind, w.position?.line]);
    assert.deepEqual(warnings, [
      ["double-backward", 17],
      ["grads-not-reset", 23],
    ]);
  });

  it("checks 10,000 inputs in fast mode and names a wrong one", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "gradlens-big-"));
    const file = path.join(dir, "big.grad.ts");
    const point = Array.from({ length: 10_000 }, (_, i) => ((i * 37) % 200) / 100 - 1).join(", ");
    writeFileSync(file, bigCheckSource(point));
    // A generous limit: the machine is shared, and this test is of correctness, not of time (see npm run bench).
    const result = await checkFile(file, { timeLimitMs: 60_000 });
    rmSync(dir, { recursive: true, force: true });
    const wide = result.checks!.find((c) => c.name === "wide")!;
    assert.equal(wide.mode, "fast");
    assert.equal(wide.ok, true);
    const wrong = result.checks!.find((c) => c.name === "wideWrong")!;
    assert.equal(wrong.ok, false);
    assert.deepEqual(wrong.inputs.filter((i) => !i.ok).map((i) => i.name), ["w[1234]"]);
  });
});

describe("runner: op-level gradient checks on a learner's own TypeScript class", function () {
  this.timeout(60_000);
  before(useBuiltWorker);

  it("finds a sign error in sub and `=` instead of `+=` in mul (a `_prev` Set, `_op`, `_backward` closures), each at its method's line", async () => {
    const result = await checkFile(opFixture("learnerClosures.grad.ts"));
    assert.equal(result.error, undefined, result.error?.message);
    const wrong = result.opChecks!.filter((op) => !op.ok);
    assert.deepEqual(wrong.map((op) => [op.op, op.method, op.definition?.line, op.position?.line]).sort(), [
      ["*", "mul", 35, 70],
      ["*", "mul", 35, 78],
      ["-", "sub", 26, 77],
    ]);
    const sub = wrong.find((op) => op.op === "-")!;
    assert.equal(sub.kind, "user");
    assert.deepEqual(sub.worst!.analytic, [1, 1]);
    assert.ok(Math.abs(sub.worst!.numeric[1] + 1) < 1e-6, "d(a − b)/db = −1");
    assert.ok(wrong.filter((op) => op.op === "*").every((op) => op.overwrites === true));
    assert.match(verdictTitle({ ...result.checks!.find((c) => c.name === "neuron")! }, words), /`\*` at learnerClosures\.grad\.ts:70 overwrites its inputs' grads/);
    // The correct ops of the same class agree, and the failing nodes are marked in the run's graph.
    assert.deepEqual(result.opChecks!.filter((op) => op.ok).map((op) => op.op).sort(), ["+", "tanh"]);
    assert.ok(result.opChecks!.every((op) => op.checked > 0));
    const node = sub.nodes![0];
    assert.equal(result.roots[node.root].graph.opNames[result.roots[node.root].graph.op[node.id]], "-");
  });

  it("names the culprit op under a failing function check of the learner's class", async () => {
    const result = await checkFile(opFixture("learnerClosures.grad.ts"), { functionName: "neuron" });
    const neuron = result.checks![0];
    assert.equal(neuron.ok, false);
    assert.deepEqual(neuron.ops!.filter((op) => !op.ok).map((op) => [op.op, op.definition?.line]), [["*", 35]]);
    assert.match(checkTable(result.checks!), /op \* \(line 70\)/);
  });

  it("finds a wrong stored local gradient in a class without op names (`_children` array, `_localGrads`), named by its method", async () => {
    const result = await checkFile(opFixture("learnerLocalGrads.grad.ts"));
    assert.equal(result.error, undefined, result.error?.message);
    const wrong = result.opChecks!.filter((op) => !op.ok);
    assert.deepEqual(wrong.map((op) => [op.op, op.definition?.line, op.position?.line]), [["div", 18, 43]]);
    const { inputs, analytic, numeric } = wrong[0].worst!;
    const [a, b] = inputs;
    assert.ok(Math.abs(analytic[1] - 1 / (b * b)) < 1e-12, "what the class says");
    assert.ok(Math.abs(numeric[1] + a / (b * b)) < 1e-6, "d(a/b)/db = −a/b²");
    assert.deepEqual(result.opChecks!.filter((op) => op.ok).map((op) => op.op).sort(), ["add", "exp", "mul"]);
  });

  it("reports no wrong op for a correct class (sub through add and neg, pow, relu, x·x), with and without a function check", async () => {
    const result = await checkFile(opFixture("learnerRight.grad.ts"));
    assert.equal(result.error, undefined, result.error?.message);
    assert.ok(result.opChecks!.length >= 5);
    assert.ok(result.opChecks!.every((op) => op.ok && op.checked > 0 && op.kind === "user"), JSON.stringify(result.opChecks!.filter((op) => !op.ok || op.checked === 0)));
    const model = result.checks!.find((c) => c.name === "model")!;
    assert.equal(model.ok, true, verdictTitle(model, words));
    assert.ok(model.ops!.length >= 5 && model.ops!.every((op) => op.ok && op.checked > 0));
  });

  it("warns at the second backward() without zeroing, and at a loop that never resets the grads", async () => {
    const result = await runFile(opFixture("learnerRight.grad.ts"));
    assert.deepEqual(
      (result.warnings ?? []).map((w) => [w.kind, w.position?.line]),
      [
        ["double-backward", 75],
        ["grads-not-reset", 81],
      ],
    );
    assert.match(result.warnings![0].message, /x\.grad was already 2\.8/);
  });

  it("checks a learner's class whose ops are subclasses (`new Mul(x, x)`), a repeated input included", async () => {
    const result = await checkFile(path.join(repoRoot, "test", "fixtures", "userClasses", "stepMethods.grad.ts"), { opsOnly: true });
    assert.equal(result.error, undefined, result.error?.message);
    assert.deepEqual(result.opChecks!.map((op) => [op.op, op.position?.line, op.ok, op.checked]), [
      ["*", 36, true, 1],
      ["*", 37, true, 1],
    ]);
  });
});

describe("python: op-level gradient checks on a learner's own class", function () {
  this.timeout(60_000);

  it("finds a sign error in sub and `=` instead of `+=` in mul, each at its line", async () => {
    const result = await runPython({ file: opFixture("closures_wrong.py") }, { opChecks: true });
    assert.equal(result.error, undefined, result.error?.message);
    const wrong = new Map(result.opChecks!.filter((op) => !op.ok).map((op) => [op.op, op]));
    assert.deepEqual([...wrong.keys()].sort(), ["*", "-"]);
    const sub = wrong.get("-")!;
    assert.equal(sub.definition?.line, 25);
    assert.equal(sub.position?.line, 77);
    assert.deepEqual(sub.worst!.analytic, [1, 1]);
    assert.ok(Math.abs(sub.worst!.numeric[1] + 1) < 1e-6);
    const mul = wrong.get("*")!;
    assert.equal(mul.overwrites, true);
    assert.equal(mul.definition?.line, 36);
    assert.ok(result.opChecks!.filter((op) => op.ok).map((op) => op.op).includes("tanh"));
  });

  it("warns at the second backward() without zeroing, and when a loop never resets the grads", async () => {
    const result = await runPython({ file: opFixture("backward_twice.py") });
    assert.equal(result.error, undefined, result.error?.message);
    assert.deepEqual(
      (result.warnings ?? []).map((w) => [w.kind, w.position?.line]),
      [
        ["double-backward", 6],
        ["grads-not-reset", 12],
      ],
    );
    assert.match(result.warnings![0].message, /already 5/);
  });

  it("checks ops at the numbers they had at backward(), though the weights moved afterwards", async () => {
    const result = await runPython({ file: opFixture("closures_trained.py") }, { opChecks: true });
    assert.equal(result.error, undefined, result.error?.message);
    const ops = result.opChecks!;
    assert.deepEqual(ops.filter((op) => !op.ok).map((op) => [op.op, op.position?.line]), [["tanh", 82]]);
    const tanh = ops.find((op) => op.op === "tanh")!;
    assert.equal(tanh.checked, 3, "every instance of the last backward()'s graph");
    const [x] = tanh.worst!.inputs;
    assert.ok(Math.abs(tanh.worst!.output - Math.tanh(x)) < 1e-12, "the recorded output, at the recorded input");
    assert.ok(Math.abs(tanh.worst!.analytic[0] - (1 - Math.tanh(x))) < 1e-9);
    assert.ok(Math.abs(tanh.worst!.numeric[0] - (1 - Math.tanh(x) ** 2)) < 1e-6);
    assert.ok(tanh.nodes!.length > 0, "the failing nodes are marked in the graph");
    assert.ok(ops.filter((op) => op.ok).every((op) => op.checked > 0 && op.unchecked === undefined), JSON.stringify(ops));
  });

  it("checks every op of a set-children engine (micrograd's `_prev` set): order lost, x*x with one child, ops via other ops, a top-level op", async () => {
    const result = await runPython({ file: opFixture("micrograd_sets.py") }, { opChecks: true });
    assert.equal(result.error, undefined, result.error?.message);
    const ops = result.opChecks!;
    assert.deepEqual([...new Set(ops.map((op) => op.op))].sort(), ["*", "**-1", "+", "exp", "log", "minus", "softplus"]);
    assert.ok(ops.every((op) => op.ok && op.checked === op.total && op.unchecked === undefined), JSON.stringify(ops.filter((op) => !op.ok || op.checked < op.total)));
    // `minus(w1, x1)` and `minus(x1, w1)`: the set forgot which input came first; the recorded output tells.
    const minus = ops.find((op) => op.op === "minus")!;
    assert.equal(minus.checked, 2);
  });

  it("re-makes inputs of a subclass whose constructor wants more than a number with its base class", async () => {
    const result = await runPython({ file: path.join(repoRoot, "test", "fixtures", "python", "shapes", "plain_subclass.py") }, { opChecks: true });
    assert.deepEqual(result.opChecks!.map((op) => [op.op, op.ok, op.checked]).sort(), [["*", true, 2], ["+", true, 2], ["square", true, 1]]);
  });

  it("names the culprit op under a failing Python function check, at its line and its method's", async () => {
    const result = await checkPython({ file: path.join(repoRoot, "test", "fixtures", "userClasses", "python", "wrong_op.py") });
    assert.equal(result.error, undefined, result.error?.message);
    const f = result.checks![0];
    assert.equal(f.ok, false);
    assert.deepEqual(f.ops!.map((op) => [op.op, op.ok, op.position?.line, op.definition?.line]), [
      ["*", false, 41, 18],
      ["+", true, 41, 14],
    ]);
    assert.match(verdictTitle(f, words), /`\*` at wrong_op\.py:41 gives 3 for d\/db, central differences give 2/);
    assert.match(checkTable(result.checks!), /op \* \(line 41\)/);
  });

  it("reports no op for the same class without the bugs", async () => {
    const result = await runPython({ file: opFixture("closures_right.py") }, { opChecks: true });
    assert.ok(result.opChecks!.length >= 4);
    assert.ok(result.opChecks!.every((op) => op.ok && op.checked > 0), JSON.stringify(result.opChecks));
  });
});


describe("Check ops on a Markdown block (with the earlier blocks it needs)", function () {
  this.timeout(60_000);
  before(useBuiltWorker);
  const file = opFixture("chapter_wrong.md");
  const block = (line: number) => {
    const text = readFileSync(file, "utf8");
    const found = findCodeBlockAt(text, line)!;
    return { text, code: found.code, origin: { file, line: found.startLine, column: 1 } };
  };

  it("a ```python block: the class and function from an earlier block, the wrong op at its lines in the Markdown file", async () => {
    const { text, code, origin } = block(59);
    const result = await runnerFor("python").runSnippet(code, origin, { document: text, opChecks: true });
    assert.equal(result.error, undefined, result.error?.message);
    const wrong = result.opChecks!.filter((op) => !op.ok);
    assert.deepEqual(wrong.map((op) => [op.op, op.position?.file, op.position?.line, op.definition?.line]), [["-", file, 51, 24]]);
    assert.ok(result.opChecks!.some((op) => op.op === "*" && op.ok && op.checked === 1));
    // Without the option a block runs as before: no op checks.
    assert.equal((await runnerFor("python").runSnippet(code, origin, { document: text })).opChecks, undefined);
  });

  it("a ```ts block with a learner's class: the wrong op at its call and its method's line", async () => {
    const { code, origin } = block(84);
    const result = await runnerFor("typescript").runSnippet(code, origin, { opChecks: true });
    assert.equal(result.error, undefined, result.error?.message);
    assert.deepEqual(result.opChecks!.map((op) => [op.op, op.ok, op.position?.line, op.definition?.file, op.definition?.line]), [["-", false, 84, file, 71]]);
  });
});

describe("runner: a model's loss checked with respect to all its parameters", function () {
  this.timeout(120_000);
  before(useBuiltWorker);

  it("checks a loss over data at the program's values and names the leaves that disagree", async () => {
    const result = await checkFile(fixture("modelLoss.grad.ts"));
    const loss = result.checks!.find((c) => c.name === "loss")!;
    assert.equal(loss.pointSource, "program");
    assert.equal(loss.range.line, 12);
    assert.equal(loss.ok, false);
    assert.ok(loss.inputs.some((i) => i.name === "b" && !i.ok));
    assert.match(loss.note ?? "", /all \d+ leaves/);
    assert.match(verdictTitle(loss, words), /`softplus` at modelLoss\.grad\.ts:5 gives/);
    // Only that function, from its lens:
    const only = await checkFile(fixture("modelLoss.grad.ts"), { functionName: "loss" });
    assert.deepEqual(only.checks!.map((c) => c.name), ["loss"]);
  });

  it("checks microgpt's documentLoss with respect to its 4,192 parameters (and constants) in fast mode after an Adam step", async () => {
    const result = await checkFile(fixture("microgptCheck.grad.ts"), { timeLimitMs: 100_000 });
    assert.equal(result.error, undefined, result.error?.message);
    const check = result.checks!.find((c) => c.name === "documentLoss")!;
    assert.equal(check.mode, "fast");
    assert.equal(check.ok, true, JSON.stringify(check.inputs.slice(0, 3)));
    const leaves = Number(/all (\d+) leaves/.exec(check.note ?? "")?.[1]);
    assert.ok(leaves >= 4192, `${leaves} leaves`);
    assert.ok(result.opChecks!.every((op) => op.ok));
  });
});
