// The training view in headless Chromium: records of a real training run reach it while the run
// goes (≥ 5 redraws a second), Stop and "open this step" go back to the host, many groups become a
// heatmap, the page fits 600 px, and the CSP blocks nothing (uPlot styles through the CSSOM).
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { runFile } from "../../src/runner";
import type { StepRecord } from "../../src/protocol/training";
import { TrainingHarness, trainingTestStrings } from "./trainingHarness";

const root = path.resolve(__dirname, "../..");
const fixture = (name: string) => path.join(root, "test", "fixtures", "training", name);

function useBuiltWorker(): void {
  const outfile = path.join(root, "out", "test-webview-runner", "runnerWorker.js");
  buildSync({ entryPoints: [path.join(root, "src", "runner", "worker.ts")], outfile, bundle: true, platform: "node", format: "cjs", target: "es2022", external: ["esbuild"], logLevel: "error" });
  process.env.GRADLENS_RUNNER_WORKER = outfile;
}

function syntheticSteps(n: number, groups: string[]): StepRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    step: i + 1,
    loss: 3 * Math.exp(-i / 300) + 0.1 * Math.sin(i),
    gradNorm: 1 + Math.cos(i / 10),
    groups: Object.fromEntries(groups.map((g, k) => [g, { gradNorm: (k + 1) * 0.01 * (1 + Math.sin(i / 20)), updateRatio: 1e-3 * (1 + k / 10) }])),
    deadReluFraction: 0.4 + 0.1 * Math.sin(i / 50),
    nonFinite: false,
    timeMs: i * 10,
  }));
}

describe("training view (headless Chromium)", function () {
  this.timeout(180_000);
  const harness = new TrainingHarness();
  before(async () => {
    useBuiltWorker();
    await harness.start();
  });
  after(() => harness.stop());

  it("draws a real run's steps live, while the run goes", async () => {
    await harness.open();
    await harness.send({ type: "init", strings: trainingTestStrings, file: "mlp.grad.ts", groups: [], steps: [], graphSteps: [], status: "running", elapsedMs: 1000 });
    const started = Date.now();
    const seenDuringRun: { at: number; steps: number; updates: number }[] = [];
    let sending = Promise.resolve();
    let pending: StepRecord[] = [];
    let groups: string[] = [];
    // As the extension does: forward what streams in, in batches of at most one per 150 ms.
    const timer = setInterval(() => {
      const steps = pending;
      const newGroups = groups;
      pending = [];
      groups = [];
      if (steps.length === 0 && newGroups.length === 0) return;
      sending = sending.then(async () => {
        await harness.send({ type: "progress", steps, newGroups, elapsedMs: Date.now() - started });
        const r = await harness.rendered();
        if (r) seenDuringRun.push({ at: Date.now(), ...r });
      });
    }, 150);
    // microgpt-shaped steps take 5–30 ms each (by the machine): 200 make a run of one to a few seconds,
    // long enough for several batches of 150 ms however fast the machine (60 steps once took 754 ms).
    const STEPS = 200;
    process.env.GL_STEPS = String(STEPS);
    const result = await runFile(fixture("microgptAdam.grad.ts"), {
      timeLimitMs: 120_000,
      training: {
        onProgress: (p) => {
          pending.push(...p.steps);
          groups.push(...p.newGroups);
        },
      },
    });
    delete process.env.GL_STEPS;
    clearInterval(timer);
    await sending;
    if (pending.length > 0) await harness.send({ type: "progress", steps: pending, newGroups: groups, elapsedMs: Date.now() - started });
    const runMs = Date.now() - started;
    console.log(`      run ${runMs} ms, ${seenDuringRun.length} redraws seen during it`);
    assert.equal(result.error, undefined);
    assert.ok(seenDuringRun.length >= 3, `the view drew ${seenDuringRun.length} times during the run`);
    // Drawn steps grow while the run goes; every streamed step ends up drawn. (How many redraws a
    // second the view manages is measured in bench/training.bench.ts, not asserted here.)
    for (let i = 1; i < seenDuringRun.length; i++) assert.ok(seenDuringRun[i].steps >= seenDuringRun[i - 1].steps);
    assert.ok(seenDuringRun[0].steps < STEPS, "the first steps were drawn before the run ended");
    await harness.page.waitForFunction(
      (steps) => (window as unknown as { __posted: { type: string; steps?: number }[] }).__posted.some((m) => m.type === "rendered" && m.steps === steps),
      STEPS,
    );
    await harness.send({ type: "status", status: "finished", graphSteps: result.training!.graphs.map((g) => g.step) });
    assert.deepEqual(await harness.cspViolations(), []);
    assert.deepEqual(harness.errors, []);
  });

  it("Stop and the kept steps' buttons post to the host; a click on a chart opens the nearest kept step", async () => {
    const page = await harness.open();
    const steps = syntheticSteps(200, ["wte", "lm_head"]);
    await harness.send({ type: "init", strings: trainingTestStrings, file: "f.py", groups: ["wte", "lm_head"], steps, graphSteps: [], status: "running", elapsedMs: 1000 });
    await page.click("button.stop");
    assert.ok((await harness.posted()).some((m) => m.type === "stop"));
    await harness.send({ type: "status", status: "stopped", graphSteps: [1, 199, 200] });
    await page.waitForSelector("button.graphstep");
    assert.deepEqual(await page.$$eval("button.graphstep", (bs) => bs.map((b) => b.textContent)), ["1", "199", "200"]);
    await page.click('button.graphstep[data-step="199"]');
    // A click on the loss chart at about step 20 opens step 1, the nearest kept one, and says so.
    const over = await page.$(".chart.loss .u-over");
    const box = (await over!.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2);
    await page.mouse.click(box.x + box.width * 0.1, box.y + box.height / 2);
    const opened = (await harness.posted()).filter((m) => m.type === "openStep").map((m) => (m as { step: number }).step);
    assert.deepEqual(opened, [199, 1]);
    assert.match((await page.textContent(".note")) ?? "", /No graph was kept for step \d+; showing step 1\./);
    assert.equal(await page.isHidden("button.stop"), true);
    // Readable at 600 px: nothing wider than the panel.
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 600));
    await page.screenshot({ path: path.join(root, "out", "training-view-600.png"), fullPage: true });
  });

  it("while running: the ETA from the loop bound, kept graphs to open, and a thinned run says so and stays thinned", async () => {
    const page = await harness.open();
    await harness.send({ type: "init", strings: trainingTestStrings, file: "long.grad.ts", groups: ["w"], steps: [], graphSteps: [], status: "running", elapsedMs: 1000 });
    // The child kept every 2nd step (stride 2) and streams on: the view applies the same rule.
    const steps = syntheticSteps(40, ["w"]).filter((s) => (s.step - 1) % 2 === 0);
    await harness.send({ type: "progress", steps: steps.slice(0, 10), newGroups: [], elapsedMs: 2000, totalSteps: 1000, graphSteps: [1] });
    await harness.send({ type: "progress", steps: steps.slice(10), newGroups: [], elapsedMs: 4000, stride: 4, totalSteps: 1000, graphSteps: [1, 37] });
    await page.waitForFunction(() => (window as unknown as { __posted: { type: string; steps?: number }[] }).__posted.some((m) => m.type === "rendered" && m.steps === 10));
    const status = (await page.textContent(".status")) ?? "";
    // Step 37 (the last kept; 39 was thinned away) after 4 s: about 104 s left for the 963 to go.
    assert.match(status, /37 steps · 9\.3 steps\/s · about 1 min 4\d s left · one step in 4 shown \(of 37\)/);
    assert.deepEqual(await page.$$eval("button.graphstep", (bs) => bs.map((b) => b.textContent)), ["1", "37"]);
    await page.click('button.graphstep[data-step="37"]');
    assert.ok((await harness.posted()).some((m) => m.type === "openStep" && (m as { step: number }).step === 37));
    const drawn = await page.evaluate(() => (window as unknown as { gradlensTraining: { steps: { step: number }[] } }).gradlensTraining.steps.map((s) => s.step));
    assert.deepEqual(drawn, [1, 5, 9, 13, 17, 21, 25, 29, 33, 37]);
    assert.deepEqual(harness.errors, []);
  });

  it("a view (re)opened while a run goes draws the real rate from its first frame, not 0 steps/s", async () => {
    const page = await harness.open();
    // What the host sends a view that says "ready" mid-run: every step so far and the run's time, in one message.
    await harness.send({ type: "init", strings: trainingTestStrings, file: "long.grad.ts", groups: ["w"], steps: syntheticSteps(5, ["w"]), graphSteps: [1], status: "running", elapsedMs: 2000, totalSteps: 50 });
    await page.waitForFunction(() => (window as unknown as { __posted: { type: string; steps?: number }[] }).__posted.some((m) => m.type === "rendered" && m.steps === 5));
    assert.match((await page.textContent(".status")) ?? "", /5 steps · 2\.5 steps\/s · about 18 s left/);
  });

  it("one bias near zero (ratio 1e16) neither flattens the heatmaps' colours nor squeezes the ratio axis", async () => {
    // micrograd's demo: a bias that starts at 0 sits at 1e-17 after a step, so the next step's |Δb| / |b| is ~1e16.
    const groups = Array.from({ length: 20 }, (_, i) => `layers[${i}].neurons[0].b`);
    const steps = syntheticSteps(50, groups);
    steps[1].groups[groups[3]] = { gradNorm: 1e-17, updateRatio: 1.1e16 };
    const page = await harness.open({ width: 600, height: 1400 });
    await harness.send({ type: "init", strings: trainingTestStrings, file: "demo.py", groups, steps, graphSteps: [1, 50], status: "finished", elapsedMs: 1000 });
    await page.waitForFunction(() => (window as unknown as { __posted: { type: string; steps?: number }[] }).__posted.some((m) => m.type === "rendered" && m.steps === 50));
    // The keys' ends are those of the other cells (0.01–0.4; 0.001–0.0029 widened a decade round 0.001), not 1e-17 or 1e16.
    const key = (field: string) => page.$$eval(`.heatmap.${field} .keyend`, (ends) => ends.map((e) => Number((e.textContent ?? "").replace(/[≤≥ ]/g, ""))));
    const [gradLo, gradHi] = await key("gradNorm");
    assert.ok(gradLo > 1e-4 && gradHi < 1, `grad norm key ${gradLo}…${gradHi}`);
    assert.deepEqual(await key("updateRatio"), [1e-4, 0.01]);
    // The outlier's cell still says its number on hover.
    // Each row is named left of its cells (20 rows of 13 px: one name a row); the cells start after the names.
    const cell = await page.$eval(".heatmap.updateRatio > canvas", (c: HTMLCanvasElement) => {
      c.scrollIntoView();
      const r = c.getBoundingClientRect();
      const gutter = (Number(c.dataset.gutter) / c.width) * r.width;
      return { gutter, x: r.left + gutter + (1.5 / 50) * (r.width - gutter), y: r.top + (3.5 / 20) * r.height };
    });
    assert.ok(cell.gutter > 100, `room for "layers[19].neurons[0].b": ${cell.gutter} px`);
    await page.mouse.move(cell.x - cell.gutter + 2, cell.y);
    assert.equal(await page.textContent(".heatmap.updateRatio .heatinfo"), " ", "a name is not a cell");
    await page.mouse.move(cell.x, cell.y);
    assert.match((await page.textContent(".heatmap.updateRatio .heatinfo")) ?? "", /step 2 · layers\[3\]\.neurons\[0\]\.b · Update ratio \|Δp\| \/ \|p\| 1\.100e\+16/);

    // With few groups the ratio stays a line chart, on an axis of the usual ratios: the outlier's line leaves its top.
    const few = syntheticSteps(50, ["w", "b"]);
    few[1].groups.b = { gradNorm: 1e-17, updateRatio: 1.1e16 };
    await harness.open({ width: 600, height: 1000 });
    await harness.send({ type: "init", strings: trainingTestStrings, file: "demo.py", groups: ["w", "b"], steps: few, graphSteps: [1, 50], status: "finished", elapsedMs: 1000 });
    await harness.page.waitForFunction(() => (window as unknown as { __posted: { type: string; steps?: number }[] }).__posted.some((m) => m.type === "rendered" && m.steps === 50));
    const axis = await harness.page.evaluate(() => {
      const view = (window as unknown as { gradlensTraining: { charts: { root: HTMLElement; scales: { y: { min?: number; max?: number } } }[] } }).gradlensTraining;
      const ratio = view.charts.find((c) => c.root.parentElement?.classList.contains("ratio"));
      return ratio ? [ratio.scales.y.min, ratio.scales.y.max] : undefined;
    });
    assert.deepEqual(axis, [1e-4, 0.01]);
    assert.deepEqual(harness.errors, []);
  });

  it("many groups become a heatmap with numbers on hover; 1,000 steps × 20 groups draw quickly", async () => {
    const page = await harness.open({ width: 900, height: 1000 });
    const groups = Array.from({ length: 20 }, (_, i) => `layer${i}.w`);
    const steps = syntheticSteps(1000, groups);
    const t0 = Date.now();
    await harness.send({ type: "init", strings: trainingTestStrings, file: "big.py", groups, steps, graphSteps: [1, 1000], status: "finished", elapsedMs: 1000 });
    await page.waitForFunction(() => (window as unknown as { __posted: { type: string; steps?: number }[] }).__posted.some((m) => m.type === "rendered" && m.steps === 1000));
    const drawMs = Date.now() - t0;
    const inPage = (await harness.posted()).filter((m) => m.type === "rendered").map((m) => (m as { drawMs?: number }).drawMs ?? 0);
    const canvas = await page.$(".heatmap canvas");
    assert.ok(canvas, "a heatmap");
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 3);
    assert.match((await page.textContent(".heatmap.gradNorm .heatinfo")) ?? "", /step \d+ · layer0\.w · Gradient norm/);
    // The update ratios are a heatmap too (no chart whose legend lists 20 lines), its key marking 0.001.
    assert.equal(await page.$(".chart.ratio .u-legend"), null);
    const ratioCanvas = (await page.$(".heatmap.updateRatio > canvas"))!;
    await ratioCanvas.scrollIntoViewIfNeeded();
    const ratios = (await ratioCanvas.boundingBox())!;
    await page.mouse.move(ratios.x + ratios.width / 2, ratios.y + ratios.height - 2);
    assert.match((await page.textContent(".heatmap.updateRatio .heatinfo")) ?? "", /step \d+ · layer19\.w · Update ratio \|Δp\| \/ \|p\| 0\.0029000/);
    assert.match((await page.textContent(".heatmap.updateRatio .heatkey")) ?? "", /marked: 0\.001/);
    // 60 groups: rows too short for a name each, so each block of rows (`layer3`) is named once.
    const sixty = Array.from({ length: 60 }, (_, i) => `layer${Math.floor(i / 12)}.w${i % 12}`);
    await harness.send({ type: "init", strings: trainingTestStrings, file: "big.py", groups: sixty, steps: syntheticSteps(20, sixty), graphSteps: [1, 20], status: "finished", elapsedMs: 1000 });
    await page.waitForFunction(() => (window as unknown as { __posted: { type: string; steps?: number }[] }).__posted.some((m) => m.type === "rendered" && m.steps === 20));
    const gutters = await page.$$eval(".heatmap > canvas", (cs) => cs.map((c) => Number((c as HTMLCanvasElement).dataset.gutter)));
    assert.ok(gutters.every((g) => g > 20 && g < 80), `gutters for "layer4": ${gutters}`);
    console.log(`      1,000 steps × 20 groups: ${drawMs} ms from message to "rendered", ${Math.max(...inPage).toFixed(0)} ms drawing in the page`);
    assert.deepEqual(await harness.cspViolations(), []);
    assert.deepEqual(harness.errors, []);
  });
});
