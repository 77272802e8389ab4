// Training records: per-step loss and grad norms equal a plain run's own numbers (TypeScript and
// Python, an MLP and a microgpt-shaped model with Adam that zeroes grads after the update), the
// first non-finite step is flagged with its graph, Stop and --steps keep every step, and the
// parts (parameter paths, record validation) do what they say.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { runFile } from "../../src/runner";
import { resolvePythonPath, runPython } from "../../src/runner/python";
import { TrainingControl } from "../../src/runner/training/control";
import { findParameterPaths, groupOfPath, shortGroupNames } from "../../src/runner/paramPaths";
import { parseStepRecord, parseTrainingProgress } from "../../src/runner/training/validate";
import { Value } from "../../src/engine";
import type { RunResult } from "../../src/protocol/result";
import { repoRoot, useBuiltWorker } from "./runnerSupport";

const fixture = (name: string) => path.join(repoRoot, "test", "fixtures", "training", name);

/** The fixture's own "check <step> <loss> <grad norm>" lines. */
function ownNumbers(result: RunResult): { step: number; loss: number; gradNorm: number }[] {
  return result.console
    .flatMap((line) => line.text.split("\n"))
    .filter((text) => text.startsWith("check "))
    .map((text) => {
      const [, step, loss, gradNorm] = text.split(" ");
      return { step: Number(step), loss: Number(loss), gradNorm: Number(gradNorm) };
    });
}

/** Same number up to the order of a sum (GradLens adds the squares group by group). */
function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)), `${what}: ${actual} ≠ ${expected}`);
}

function assertMatchesOwnNumbers(result: RunResult, expectedSteps: number): void {
  assert.equal(result.error, undefined, result.error?.message);
  const own = ownNumbers(result);
  const steps = result.training?.steps ?? [];
  assert.equal(own.length, expectedSteps);
  assert.deepEqual(steps.map((s) => s.step), own.map((o) => o.step));
  for (const [i, o] of own.entries()) {
    assert.equal(steps[i].loss, o.loss, `loss of step ${o.step}`);
    close(steps[i].gradNorm, o.gradNorm, `grad norm of step ${o.step}`);
    const groupNorm = Math.sqrt(Object.values(steps[i].groups).reduce((s, g) => s + g.gradNorm ** 2, 0));
    close(groupNorm, o.gradNorm, `groups' grad norms of step ${o.step}`);
    assert.equal(steps[i].nonFinite, false);
  }
}

describe("training records (TypeScript)", function () {
  this.timeout(120_000);
  before(useBuiltWorker);

  it("microgpt-shaped model with Adam and p.grad = 0: loss and grad norm of every step equal the program's own", async () => {
    const result = await runFile(fixture("microgptAdam.grad.ts"), { timeLimitMs: 100_000, training: {} });
    assertMatchesOwnNumbers(result, 6);
    const training = result.training!;
    assert.deepEqual(training.groups, ["wte", "wpe", "lm_head", "layer0.attn_wq", "layer0.attn_wk", "layer0.attn_wv", "layer0.attn_wo", "layer0.mlp_fc1", "layer0.mlp_fc2"]);
    for (const s of training.steps) {
      assert.ok(s.deadReluFraction !== null && s.deadReluFraction > 0 && s.deadReluFraction < 1, `dead ReLUs at step ${s.step}: ${s.deadReluFraction}`);
      for (const [name, g] of Object.entries(s.groups)) assert.ok(g.updateRatio > 0 && g.updateRatio < 1, `update ratio of ${name}: ${g.updateRatio}`);
    }
    // Graphs: the first step, and the last; their parameter nodes carry paths.
    assert.deepEqual(training.graphs.map((g) => g.step), [1, 6]);
    const first = training.graphs[0];
    assert.ok(Object.values(first.paths ?? {}).some((p) => /^model\.stateDict\.wte\[\d+\]\[\d+\]$/.test(p)));
    assert.equal(first.root.graph.data[first.root.graph.root], training.steps[0].loss);
    // The last step's graph is the result's root graph (one snapshot for both), with the numbers of
    // its backward(): the loss of that step, and the grads Adam zeroed afterwards.
    const last = training.graphs[1].root.graph;
    const shown = result.roots[0].graph;
    assert.equal(last.data[last.root], training.steps[5].loss);
    assert.deepEqual([...last.data], [...shown.data]);
    assert.deepEqual([...last.grad], [...shown.grad]);
    assert.deepEqual(last.labels, shown.labels);
    assert.ok(Object.keys(last.labels).length > 0, "labels kept");
    const parameters = Object.keys(training.graphs[1].paths ?? {}).map(Number);
    assert.ok(parameters.length > 100 && parameters.some((i) => last.grad[i] !== 0), "parameter grads as backward() left them");
  });

  it("an MLP trained with SGD and zeroGrad: same numbers, groups from the object paths, ReLUs counted", async () => {
    const result = await runFile(fixture("mlp.grad.ts"), { timeLimitMs: 60_000, training: {} });
    assertMatchesOwnNumbers(result, 8);
    const groups = result.training!.groups;
    assert.equal(groups.length, 18);
    assert.ok(groups.includes("layers[0][0].w") && groups.includes("layers[2][0].b"), groups.join(", "));
    assert.ok(result.training!.steps.every((s) => s.deadReluFraction !== null));
  });

  it("the update ratio is |Δp| / |p| from one backward() to the next", async () => {
    // One parameter w: 2 → 2 − 0.1·grad; loss = w·w so grad = 2w: Δ = 0.2·w, ratio 0.2 exactly.
    const result = await runFile(fixture("nanAtStep.grad.ts"), { timeLimitMs: 30_000, training: {} });
    const step1 = result.training!.steps[0];
    // loss = w·log(w) at w = 2: grad = log 2 + 1; the update is 0.1·grad.
    close(step1.groups.w.gradNorm, Math.log(2) + 1, "grad of w");
    close(step1.groups.w.updateRatio, (0.1 * (Math.log(2) + 1)) / 2, "update ratio of w");
  });

  it("a loss that turns NaN at step 4 is flagged at step 4, with that step's graph", async () => {
    const result = await runFile(fixture("nanAtStep.grad.ts"), { timeLimitMs: 30_000, training: {} });
    const steps = result.training!.steps;
    assert.deepEqual(steps.map((s) => s.nonFinite), [false, false, false, true, true, true]);
    assert.ok(Number.isNaN(steps[3].loss));
    const graph = result.training!.graphs.find((g) => g.step === 4);
    assert.ok(graph, `graphs of steps ${result.training!.graphs.map((g) => g.step).join(", ")}`);
    assert.ok(Number.isNaN(graph.root.graph.data[graph.root.graph.root]));
    assert.ok(graph.root.position && graph.root.position.line > 0);
  });

  it("Stop ends an endless loop cleanly and keeps every step recorded so far", async () => {
    let control: TrainingControl | undefined;
    const streamed: number[] = [];
    control = new TrainingControl((progress, c) => {
      streamed.push(...progress.steps.map((s) => s.step));
      if (streamed.length >= 50) c.stop();
    });
    const result = await runFile(fixture("endless.grad.ts"), control.runOptions(60_000));
    const training = control.finish(result);
    assert.equal(result.error, undefined, result.error?.message);
    assert.ok(training.steps.length >= 50);
    assert.equal(training.stoppedAfter, training.steps.length);
    assert.deepEqual(training.steps.map((s) => s.step), training.steps.map((_, i) => i + 1));
    assert.deepEqual(streamed, training.steps.slice(0, streamed.length).map((s) => s.step));
    assert.ok(training.graphs.some((g) => g.step === training.steps.length), "the last completed step keeps its graph");
    control = undefined;
  });

  it("maxSteps (--steps N) stops after exactly N backward() calls", async () => {
    const result = await runFile(fixture("endless.grad.ts"), { timeLimitMs: 30_000, training: { maxSteps: 7 } });
    assert.equal(result.error, undefined);
    assert.deepEqual(result.training!.steps.map((s) => s.step), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(result.training!.stoppedAfter, 7);
    assert.deepEqual(result.training!.groups, ["w"]);
  });

  it("streams records in batches while the program runs", async () => {
    const batches: number[] = [];
    const result = await runFile(fixture("endless.grad.ts"), { timeLimitMs: 30_000, training: { maxSteps: 20_000, maxKeptSteps: 20_000, onProgress: (p) => batches.push(p.steps.length) } });
    assert.equal(result.training!.steps.length, 20_000);
    assert.ok(batches.length >= 2, `${batches.length} batch(es)`);
    assert.ok(batches.length < 2000, "batched, not one message per step");
    assert.equal(batches.reduce((a, b) => a + b, 0), 20_000);
  });

  it("a learner's own Value class (closures, a `prev` Set): loss and grad norms of every step equal the program's own, grouped by its structure", async () => {
    const result = await runFile(fixture("learnerMlp.grad.ts"), { timeLimitMs: 60_000, training: {} });
    assertMatchesOwnNumbers(result, 5);
    const training = result.training!;
    assert.deepEqual(training.groups, ["hidden[0].w", "hidden[0].b", "hidden[1].w", "hidden[1].b", "hidden[2].w", "hidden[2].b", "out.w", "out.b"]);
    assert.equal(training.totalSteps, 5);
    for (const s of training.steps.slice(0, -1)) {
      assert.ok(s.deadReluFraction !== null && s.deadReluFraction >= 0 && s.deadReluFraction <= 1, `dead ReLUs at step ${s.step}`);
      assert.ok(Object.values(s.groups).some((g) => g.updateRatio > 0), `an update at step ${s.step}`);
    }
    // The first and last steps keep their graphs, with the numbers of their backward().
    assert.deepEqual(training.graphs.map((g) => g.step), [1, 5]);
    const first = training.graphs[0].root.graph;
    assert.equal(first.data[first.root], training.steps[0].loss);
    assert.ok(Object.values(training.graphs[0].paths ?? {}).some((p) => /^model\.hidden\[0\]\.w\[\d\]$/.test(p)));
  });

  it("parameters no binding reaches are found from the graphs, and one made at step 10 from step 16 on", async () => {
    const result = await runFile(fixture("lateParameter.grad.ts"), { timeLimitMs: 30_000, training: {} });
    assert.equal(result.error, undefined, result.error?.message);
    const own = ownNumbers(result);
    const steps = result.training!.steps;
    assert.equal(steps.length, 20);
    // Steps 10–15 miss the new weight: parameters made late are looked for at steps 16 and 17 (shouldScan).
    for (const o of own.filter((o) => o.step < 10 || o.step >= 16)) {
      assert.equal(steps[o.step - 1].loss, o.loss, `loss of step ${o.step}`);
      close(steps[o.step - 1].gradNorm, o.gradNorm, `grad norm of step ${o.step}`);
    }
    assert.ok(steps[11].gradNorm < own[11].gradNorm, "the late weight is not counted before it is found");
    // Four weights made on two lines of the closure: two groups, named by those lines.
    assert.equal(result.training!.groups.length, 2, result.training!.groups.join(", "));
  });

  it("a plain run records nothing", async () => {
    const result = await runFile(fixture("nanAtStep.grad.ts"), { timeLimitMs: 30_000 });
    assert.equal(result.training, undefined);
  });
});

describe("training records (Python)", function () {
  this.timeout(180_000);
  before(async function () {
    if (!(await resolvePythonPath(undefined))) this.skip();
  });

  it("microgpt-shaped model (__slots__, tuple children, Adam, p.grad = 0): numbers equal the program's own", async () => {
    const result = await runPython({ file: fixture("microgpt_shaped.py") }, { timeLimitMs: 150_000, training: {} });
    assertMatchesOwnNumbers(result, 6);
    const training = result.training!;
    assert.deepEqual(training.groups, ["wte", "wpe", "lm_head", "layer0.attn_wq", "layer0.attn_wk", "layer0.attn_wv", "layer0.attn_wo", "layer0.mlp_fc1", "layer0.mlp_fc2"]);
    assert.ok(training.steps.every((s) => s.deadReluFraction !== null && s.deadReluFraction > 0 && s.deadReluFraction < 1));
    assert.deepEqual(training.graphs.map((g) => g.step), [1, 6]);
    assert.ok(Object.values(training.graphs[0].paths ?? {}).some((p) => /^state_dict\['wte'\]\[\d+\]\[\d+\]$/.test(p)));
  });

  it("a backward() whose walked list holds a value outside the graph: that value is no parameter (the lazy capture's leaves are checked)", async () => {
    const result = await runPython({ file: fixture("walked_extra.py") }, { timeLimitMs: 60_000, training: {} });
    assertMatchesOwnNumbers(result, 4);
    assert.deepEqual(result.training!.groups, ["w"]);
  });

  it("a loss that turns NaN at step 3 (micrograd-shaped class) is flagged at step 3, with its graph", async () => {
    const result = await runPython({ file: fixture("nan_at_step.py") }, { timeLimitMs: 60_000, training: {} });
    assert.equal(result.error, undefined, result.error?.message);
    const steps = result.training!.steps;
    assert.deepEqual(steps.map((s) => s.nonFinite), [false, false, true, true, true]);
    assert.equal(steps[0].deadReluFraction, 0);
    const graph = result.training!.graphs.find((g) => g.step === 3);
    assert.ok(graph);
    assert.ok(Number.isNaN(graph.root.graph.data[graph.root.graph.root]));
  });

  it("Stop ends the loop cleanly and keeps the steps; --steps N stops after N", async () => {
    const control = new TrainingControl((_p, c) => {
      if (c.steps.length >= 5) c.stop();
    });
    const result = await runPython({ file: fixture("endless.py") }, control.runOptions(60_000));
    const training = control.finish(result);
    assert.equal(result.error, undefined, result.error?.message);
    assert.ok(training.steps.length >= 5);
    assert.equal(training.stoppedAfter, training.steps.length);
    assert.deepEqual(training.groups, ["w"]);
    const limited = await runPython({ file: fixture("endless.py") }, { timeLimitMs: 60_000, training: { maxSteps: 4 } });
    assert.deepEqual(limited.training!.steps.map((s) => s.step), [1, 2, 3, 4]);
  });
});

describe("parameter paths", () => {
  it("walks objects, arrays and Maps to values; the first path wins; getters are not run", () => {
    const a = new Value(1);
    const b = new Value(2);
    const c = new Value(3);
    const model = { stateDict: { wte: [[a, b]], "layer0.attn": [[c]] }, params: [a, b, c], byName: new Map([["c", c]]) };
    let ran = false;
    const tricky = { get boom() { ran = true; return a; } };
    const paths = findParameterPaths([{ name: "model", value: model }, { name: "tricky", value: tricky }], (x): x is Value => x instanceof Value);
    assert.deepEqual(paths.get(a), { path: "model.stateDict.wte[0][0]", group: "model.stateDict.wte" });
    assert.deepEqual(paths.get(b), { path: "model.stateDict.wte[0][1]", group: "model.stateDict.wte" });
    assert.deepEqual(paths.get(c), { path: 'model.stateDict["layer0.attn"][0][0]', group: 'model.stateDict["layer0.attn"]' });
    assert.equal(ran, false);
    const onlyMap = findParameterPaths([{ name: "m", value: new Map([["c", c]]) }], (x): x is Value => x instanceof Value);
    assert.deepEqual(onlyMap.get(c), { path: 'm.get("c")', group: 'm.get("c")' });
  });

  it("carries each path's group along the walk: the group groupOfPath reads from the path", () => {
    const v = () => new Value(0);
    const layers = [0, 1].map(() => ({ w: [[v(), v()], [v()]], b: [v()] }));
    const model = { layers, head: new Map([[3, [v(), v()]]]), "odd key": [[v()]], flat: v(), nested: [[[{ deep: [v()] }]]] };
    const paths = findParameterPaths([{ name: "mlp", value: model }, { name: "bias", value: [v(), v()] }], (x): x is Value => x instanceof Value);
    assert.equal(paths.size, 15);
    for (const { path, group } of paths.values()) assert.equal(group, groupOfPath(path), path);
    const groups = new Set([...paths.values()].map((p) => p.group));
    assert.deepEqual([...groups], ["mlp.layers[0].w", "mlp.layers[0].b", "mlp.layers[1].w", "mlp.layers[1].b", "mlp.head.get(3)", 'mlp["odd key"]', "mlp.flat", "mlp.nested[0][0][0].deep", "bias"]);
  });

  it("groups drop trailing indices and the prefix every group shares", () => {
    assert.equal(groupOfPath("model.layers[0].w[3][5]"), "model.layers[0].w");
    assert.equal(groupOfPath("w"), "w");
    assert.equal(groupOfPath("params[3]"), "params");
    assert.equal(groupOfPath("m.get(3)[4]"), "m.get(3)");
    assert.equal(groupOfPath('x[0]["k"][2]'), 'x[0]["k"]');
    // Not trailing indices: kept as they are.
    for (const path of ["[3]", "a[]", "a[x]", "w[1a]", "a[12]["]) assert.equal(groupOfPath(path), path);
    const short = shortGroupNames(["model.stateDict.wte", 'model.stateDict["layer0.attn_wq"]']);
    assert.deepEqual([...short.values()], ["wte", "layer0.attn_wq"]);
    assert.deepEqual([...shortGroupNames(["model.w"]).values()], ["w"]);
    assert.deepEqual([...shortGroupNames(["mlp.layers[0].w", "mlp.layers[1].w"]).values()], ["layers[0].w", "layers[1].w"]);
  });
});

describe("step record validation", () => {
  const good = { step: 1, loss: 2.5, gradNorm: 1, groups: { w: { gradNorm: 1, updateRatio: 0.01 } }, deadReluFraction: null, nonFinite: false, timeMs: 3 };
  it("keeps well-formed records and turns NaN strings back into numbers", () => {
    assert.deepEqual(parseStepRecord(good), good);
    assert.ok(Number.isNaN(parseStepRecord({ ...good, loss: "NaN" })!.loss));
    assert.equal(parseTrainingProgress({ steps: [good], newGroups: ["w"] })?.steps.length, 1);
  });
  it("drops records that do not have the shape", () => {
    assert.equal(parseStepRecord({ ...good, step: 0 }), undefined);
    assert.equal(parseStepRecord({ ...good, loss: "lots" }), undefined);
    assert.equal(parseStepRecord({ ...good, groups: { w: { gradNorm: 1 } } }), undefined);
    assert.equal(parseTrainingProgress({ steps: [{ ...good, step: "1" }], newGroups: [] }), undefined);
    assert.equal(parseTrainingProgress("x"), undefined);
  });
});

describe("training control", () => {
  it("does not keep its caller's process alive for the time limit when the caller never calls finish()", () => {
    const control = path.join(repoRoot, "src", "runner", "training", "control.ts");
    const script = `const { TrainingControl } = require(${JSON.stringify(control)}); const c = new TrainingControl(); c.runOptions(600000); c.runOptions(600000); c.stop();`;
    const started = Date.now();
    const run = spawnSync(process.execPath, ["--require", "tsx/cjs", "-e", script], { cwd: repoRoot, encoding: "utf8", timeout: 30_000 });
    assert.equal(run.status, 0, run.stderr);
    // Without unref'd timers the process waits out the 5 s stop grace, then the 600 s limit (and is killed at 30 s).
    assert.ok(Date.now() - started < 4_000, `exited after ${Date.now() - started} ms`);
  });
});
