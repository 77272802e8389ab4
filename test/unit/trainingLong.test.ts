// Long training runs: records stay bounded (thinned by one rule in the child, the caller and the
// view), the loop bound is read for an ETA, and kept graphs arrive while the run still goes.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { runFile } from "../../src/runner";
import { resolvePythonPath, runPython } from "../../src/runner/python";
import { TrainingControl } from "../../src/runner/training/control";
import { loopBoundOfTypeScript } from "../../src/runner/training/loopBound";
import { StepLog } from "../../src/protocol/stepLog";
import type { StepRecord, TrainingProgress, TrainingResult } from "../../src/protocol/training";
import { repoRoot, useBuiltWorker } from "./runnerSupport";

const fixture = (name: string) => path.join(repoRoot, "test", "fixtures", "training", name);
const record = (step: number, nonFinite = false): StepRecord => ({ step, loss: 1, gradNorm: 1, groups: {}, deadReluFraction: null, nonFinite, timeMs: step });

/** What a thinned run must hold: ≤ cap (+ the pinned last step) records, step 1, every stride-th step, the last one. */
function assertThinned(training: TrainingResult, cap: number, steps: number): void {
  const every = training.thinned?.every ?? 1;
  assert.ok(training.thinned, "the result says the steps were thinned");
  assert.equal(training.thinned.steps, steps);
  assert.ok(training.steps.length <= cap + 1 && training.steps.length > cap / 2, `${training.steps.length} records for a cap of ${cap}`);
  const numbers = training.steps.map((s) => s.step);
  assert.equal(numbers[0], 1);
  assert.equal(numbers.at(-1), steps, "the last step is kept");
  assert.deepEqual(numbers.slice(0, -1), numbers.slice(0, -1).map((_, i) => 1 + i * every), `every ${every}th step`);
}

describe("step log (one thinning rule)", () => {
  it("keeps every step up to the cap, then every 2nd, 4th … step, the first non-finite one and the last one", () => {
    const log = new StepLog(8);
    for (let step = 1; step <= 100; step++) {
      const r = record(step, step >= 37);
      if (log.keeps(r)) log.add(r);
    }
    log.addLast(record(101, true));
    assert.ok(log.length <= 8, `${log.length} records`);
    const k = log.stride;
    assert.ok(k >= 16, `stride ${k}`);
    const steps = log.records.map((r) => r.step);
    assert.deepEqual(steps.filter((s) => s !== 37 && s !== 101), steps.filter((s) => (s - 1) % k === 0));
    assert.ok(steps.includes(37) && steps.includes(101), `first non-finite and last kept: ${steps.join(", ")}`);
    assert.equal(steps[0], 1);
  });

  it("a holder downstream (caller, extension, view) that adds what it is sent ends with the child's records", () => {
    const child = new StepLog(10);
    const sent: StepRecord[] = [];
    const caller = new StepLog(10);
    for (let step = 1; step <= 1000; step++) {
      const r = record(step, step === 500);
      if (!child.keeps(r)) continue;
      child.add(r);
      sent.push(r);
      if (sent.length % 7 === 0) caller.addBatch(sent.splice(0), child.stride);
    }
    caller.addBatch(sent.splice(0), child.stride);
    assert.deepEqual(caller.records.map((r) => r.step), child.records.map((r) => r.step));
    assert.ok(caller.records.some((r) => r.step === 500), "the first non-finite step stays");
  });
});

describe("long training runs (TypeScript)", function () {
  this.timeout(180_000);
  before(useBuiltWorker);

  it("a 3-node step run 200,000 times keeps a bounded, evenly thinned record in the child, the caller and the result", async () => {
    const cap = 1000;
    const control = new TrainingControl(undefined, cap);
    // A small memory limit: unbounded records (≈ 200 bytes a step) would not fit beside the run.
    const result = await runFile(fixture("tinyLoop.grad.ts"), { ...control.runOptions(120_000, 200_000), memoryLimitMb: 128 });
    const training = control.finish(result);
    assert.equal(result.error, undefined, result.error?.message);
    assertThinned(training, cap, 200_000);
    // What streamed to the caller, thinned by the same rule, is the child's own list.
    assert.deepEqual(control.steps.map((s) => s.step), training.steps.map((s) => s.step));
  });

  it("the loop bound is read for an ETA (a literal or a top-level const; backward() in the loop or in a function it calls)", async () => {
    assert.equal(loopBoundOfTypeScript("const numSteps = 50;\nfor (let step = 0; step < numSteps; step++) { trainStep(model); }"), 50);
    assert.equal(loopBoundOfTypeScript("for (let i = 1; i <= 6; i++) { const l = f(); l.backward(); }"), 6);
    // A data loop before the training loop does not count; a loop without a bound gives none.
    assert.equal(loopBoundOfTypeScript("const xs = [];\nfor (let i = 0; i < 27; i++) xs.push(i);\nconst n = 200;\nfor (let s = 0; s < n; s += 1) { loss = step(xs); }"), 200);
    assert.equal(loopBoundOfTypeScript("for (let s = 0; ; s++) { loss.backward(); }"), undefined);
    assert.equal(loopBoundOfTypeScript("for (let i = 0; i < 27; i++) xs.push(i);"), undefined);
    assert.equal(loopBoundOfTypeScript("this does not parse ("), undefined);
    assert.equal(loopBoundOfTypeScript(readFileSync(path.join(repoRoot, "examples", "microgpt.grad.ts"), "utf8")), 50);
    const totals: number[] = [];
    const result = await runFile(fixture("nanAtStep.grad.ts"), { timeLimitMs: 30_000, training: { onProgress: (p) => p.totalSteps !== undefined && totals.push(p.totalSteps) } });
    assert.ok(totals.length > 0 && totals.every((t) => t === 6), `streamed bounds ${totals.join(", ")}`);
    assert.equal(result.training?.totalSteps, 6);
    // --steps N caps it.
    const capped = await runFile(fixture("nanAtStep.grad.ts"), { timeLimitMs: 30_000, training: { maxSteps: 4 } });
    assert.equal(capped.training?.totalSteps, 4);
  });

  it("kept graphs arrive while the run goes: step 1 at once, then a recent step's (one at a time)", async () => {
    const seen: { at: number; steps: number[] }[] = [];
    const control = new TrainingControl((progress: TrainingProgress, c) => {
      if (progress.graphs) seen.push({ at: c.log.lastStepNumber, steps: c.graphs.map((g) => g.step) });
      if (seen.length >= 2) c.stop();
    });
    const result = await runFile(fixture("endless.grad.ts"), control.runOptions(60_000));
    assert.equal(result.error, undefined, result.error?.message);
    assert.ok(seen.length >= 2, `graphs streamed ${seen.length} time(s): ${JSON.stringify(seen)}, stopped after ${result.training?.stoppedAfter}, ${result.stats.executeMs} ms`);
    assert.deepEqual(seen[0].steps, [1]);
    // Step 1 stays; one recent graph at a time beside it, for a step the run had reached.
    for (const s of seen.slice(1)) {
      assert.equal(s.steps.length, 2, `kept ${s.steps.join(", ")}`);
      assert.equal(s.steps[0], 1);
      assert.ok(s.steps[1] > 1 && s.steps[1] <= s.at + 1);
    }
    // Each streamed graph is the step's own, with the sites its nodes point at.
    assert.ok(control.sites.length > 0);
    for (const g of control.graphs) assert.ok(g.root.graph.nodeCount > 500 && g.root.position !== undefined);
  });
});

describe("kept graphs of a big model while it trains (TypeScript)", function () {
  this.timeout(180_000);
  before(useBuiltWorker);

  it("step 1's graph (tens of thousands of nodes) reaches the caller while the busy loop still runs", async () => {
    const arrived: { steps: number; nodes: number }[] = [];
    let last = 0;
    process.env.GL_STEPS = "20";
    const result = await runFile(fixture("microgptAdam.grad.ts"), {
      timeLimitMs: 150_000,
      training: {
        onProgress: (p) => {
          last = p.steps.at(-1)?.step ?? last;
          for (const g of p.graphs ?? []) arrived.push({ steps: last, nodes: g.root.graph.nodeCount });
        },
      },
    });
    delete process.env.GL_STEPS;
    assert.equal(result.error, undefined, result.error?.message);
    assert.ok(arrived.length > 0, "a graph streamed");
    assert.ok(arrived[0].nodes > 10_000, `${arrived[0].nodes} nodes`);
    // A big message in the channel would wait there until the synchronous program ends: this one came at once.
    assert.ok(arrived[0].steps < 10, `step 1's graph came after ${arrived[0].steps} steps`);
  });
});

describe("long training runs (Python)", function () {
  this.timeout(180_000);
  let python: string | undefined;
  before(async function () {
    python = (await resolvePythonPath(undefined))?.path;
    if (!python) this.skip();
  });

  it("a 3-node step run 20,000 times keeps a bounded, evenly thinned record (the tracer's twin of the rule)", async () => {
    const cap = 500;
    const control = new TrainingControl(undefined, cap);
    const result = await runPython({ file: fixture("tiny_loop.py") }, control.runOptions(120_000, 20_000));
    const training = control.finish(result);
    assert.equal(result.error, undefined, result.error?.message);
    assertThinned(training, cap, 20_000);
    assert.deepEqual(control.steps.map((s) => s.step), training.steps.map((s) => s.step));
  });

  it("the loop bound is read from range(...) (the tracer's twin of loopBound.ts)", () => {
    const bound = (source: string): string => {
      const run = spawnSync(python as string, ["-c", "import sys; from gradlens_training import loop_bound; print(loop_bound(sys.stdin.read()))"], {
        input: source,
        encoding: "utf8",
        cwd: path.join(repoRoot, "python"),
      });
      return (run.stdout || run.stderr).trim();
    };
    assert.equal(bound("num_steps = 1000\nfor step in range(num_steps):\n    loss = step_of(step)\n    loss.backward()\n"), "1000");
    assert.equal(bound("data = []\nfor i in range(27):\n    data.append(i)\nfor step in range(1, 6):\n    train(step)\n"), "5");
    assert.equal(bound("while True:\n    loss.backward()\n"), "None");
    assert.equal(bound("for i in range(27):\n    data.append(i)\n"), "None");
  });

  it("kept graphs arrive while a Python run goes", async () => {
    const seen: number[][] = [];
    const control = new TrainingControl((progress, c) => {
      if (progress.graphs) seen.push(c.graphs.map((g) => g.step));
      if (seen.length >= 2) c.stop();
    });
    const result = await runPython({ file: fixture("endless.py") }, control.runOptions(60_000));
    assert.equal(result.error, undefined, result.error?.message);
    assert.deepEqual(seen[0], [1]);
    assert.equal(seen[1].length, 2);
    assert.ok(seen[1][1] > 1);
    assert.ok(control.graphs.every((g) => g.root.graph.nodeCount > 0));
  });
});
