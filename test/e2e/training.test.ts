/**
 * End to end, as a learner: train examples/microgpt.grad.ts from the command palette, watch the
 * loss curve fall in the training view with an ETA, open step 1's graph while the run goes, click a
 * kept step at the end, and see that step's graph. Then a Python program on micrograd's engine.py and
 * nn.py: the view's numbers are those the program prints, and its heatmaps name their rows.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import type { Frame } from "playwright-core";
import { serverUrl, vscodeVersion, Workbench } from "./workbench";

interface TrainingHook {
  gradlensTraining?: { steps: { step: number; loss: number }[] };
}

describe(`GradLens training view in VS Code ${vscodeVersion}`, function () {
  let wb: Workbench;

  before(async function () {
    wb = await Workbench.open(serverUrl("trusted"), "training", { trusted: true });
  });
  after(async function () {
    await wb?.close();
  });
  afterEach(async function () {
    if (this.currentTest?.state === "failed") await wb?.shot(`failed-${this.currentTest.title.replace(/\W+/g, "-").slice(0, 40)}`);
  });

  /** The training view of `file` (any training view when not given). */
  async function trainingFrame(timeout = 120_000, file?: string): Promise<Frame> {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      for (const frame of wb.page.frames()) {
        const header = await frame
          .evaluate(() => ((window as unknown as TrainingHook).gradlensTraining !== undefined ? (document.querySelector(".header")?.textContent ?? "") : undefined))
          .catch(() => undefined);
        if (header !== undefined && (file === undefined || header.includes(file))) return frame;
      }
      await wb.page.waitForTimeout(250);
    }
    throw new Error("no training view");
  }

  it("trains microgpt.grad.ts from the palette: the loss falls, a kept step opens its graph", async function () {
    this.timeout(300_000);
    await wb.openFile("microgpt.grad.ts");
    await wb.toggleSideBar();
    await wb.runCommand("GradLens: Train (Run with Training View)");
    let view = await trainingFrame();
    // Steps arrive while the program runs, with an estimate of the time left (the loop bound is read from the source).
    await view.waitForFunction(() => ((window as unknown as TrainingHook).gradlensTraining?.steps.length ?? 0) > 0, undefined, { timeout: 120_000 });
    const seen: string[] = [];
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await wb.page.waitForTimeout(200)) {
      const text = (await view.locator(".status").textContent()) ?? "";
      if (seen.at(-1) !== text) seen.push(text);
      if (/about .* left|Finished/.test(text)) break;
    }
    // The status is live while the run goes. A busy window may show the panel only when every step is in
    // (it then gets them all at once, with nothing left to estimate): every status seen with steps still
    // to go gives the time left (the webview test checks the estimate itself).
    assert.ok(seen.some((t) => /^Training · \d+ steps · [\d.]+ steps\/s/.test(t)), `status while running: ${seen.slice(-4).join(" | ")}`);
    const toGo = seen.filter((t) => Number(/^Training · (\d+) steps/.exec(t)?.[1] ?? 50) < 50);
    assert.ok(toGo.every((t) => /about .* left/.test(t)), `status with steps to go: ${toGo.join(" | ")}`);
    // Step 1 keeps its graph: it opens while the run still goes.
    const before = (await view.locator(".status").textContent()) ?? "";
    await view.locator("button.graphstep", { hasText: "1" }).first().click();
    await wb.page.locator(".tab", { hasText: "step 1" }).first().waitFor({ state: "visible", timeout: 60_000 });
    // (When the panel saw the run with steps to go; trainingLong.test.ts checks kept graphs arrive mid-run.)
    if (toGo.length > 0) assert.match(before, /^Training · /, "the graph of step 1 opened while the run was going");
    // Back to the training panel (the graph took its place in the editor group).
    await wb.page.locator(".tab", { hasText: "Training:" }).first().click();
    view = await trainingFrame();
    await view.locator(".status", { hasText: "Finished" }).waitFor({ state: "visible", timeout: 240_000 });
    // The run's end leaves the graph panel on the step the learner opened (it is not swapped for the
    // run's last graph), behind the training view: it does not cover the view being watched.
    await wb.page.locator(".tab", { hasText: /Graph: .*— loss · step 1/ }).first().waitFor({ state: "visible", timeout: 60_000 });
    await wb.page.waitForTimeout(500);
    assert.equal(await wb.page.locator(".tab.active", { hasText: "Training:" }).count(), 1, "the training view stays in front when the run ends");
    const steps = await view.evaluate(() => (window as unknown as TrainingHook).gradlensTraining?.steps ?? []);
    assert.equal(steps.length, 50);
    const mean = (xs: { loss: number }[]) => xs.reduce((s, x) => s + x.loss, 0) / xs.length;
    assert.ok(mean(steps.slice(-10)) < mean(steps.slice(0, 10)) - 0.3, `loss ${mean(steps.slice(0, 10))} → ${mean(steps.slice(-10))}`);
    assert.ok((await view.locator(".chart.loss canvas").count()) > 0);
    await wb.shot("training-view");
    // The kept steps are buttons: the last one opens its graph in the graph panel.
    const kept = view.locator("button.graphstep");
    assert.deepEqual(await kept.allInnerTexts(), ["1", "50"]);
    await kept.last().click();
    await wb.page.locator(".tab", { hasText: "step 50" }).first().waitFor({ state: "visible" });
    const graph = await wb.graphFrame(120_000);
    // The view itself has drawn step 50 (the tab's title changes at once; the step-1 graph stays drawn
    // until the new one is in): its first crumb names the step.
    await graph.locator("#breadcrumb .crumb", { hasText: "step 50" }).first().waitFor({ state: "visible", timeout: 120_000 });
    assert.ok((await wb.graphNodes(graph)).length > 0);
    // No error toast from the view (a learner would see it).
    assert.equal(await wb.page.locator(".notifications-toasts", { hasText: "Training view" }).count(), 0);
    await wb.shot("training-graph", { docsName: "training.png" });
  });

  it("trains a micrograd-style Python MLP (engine.py, nn.py): the program's own losses, heatmaps that name their rows", async function () {
    this.timeout(300_000);
    const file = "micrograd_moons.py";
    // What the program prints in a plain run: "step k loss X", right after each backward().
    const micrograd = path.join(__dirname, "..", "fixtures", "python", "micrograd_style");
    const plain = spawnSync("python3", [path.join(__dirname, "fixtures", file)], { encoding: "utf8", env: { ...process.env, PYTHONPATH: micrograd } });
    assert.equal(plain.status, 0, plain.stderr);
    const printed = [...plain.stdout.matchAll(/^step (\d+) loss (\S+)$/gm)].map((m) => Number(m[2]));
    assert.equal(printed.length, 12);
    await wb.openFile(file);
    await wb.runCommand("GradLens: Train (Run with Training View)");
    const view = await trainingFrame(120_000, file);
    await view.locator(".status", { hasText: "Finished" }).waitFor({ state: "visible", timeout: 240_000 });
    const steps = await view.evaluate(() => (window as unknown as TrainingHook).gradlensTraining?.steps ?? []);
    // micrograd's `_prev` is a set: its order follows object addresses, so two plain runs already differ
    // in a sum's last digits (the unit tests compare a run with its own prints, exactly).
    assert.equal(steps.length, printed.length);
    steps.forEach((s, i) => assert.ok(Math.abs(s.loss - printed[i]) <= 1e-12 * Math.abs(printed[i]), `step ${i + 1}: ${s.loss} vs ${printed[i]} printed`));
    // 18 groups (each neuron's w and b): a heatmap each for grad norms and update ratios, every row named.
    const heat = view.locator(".heatmap.gradNorm > canvas");
    await heat.scrollIntoViewIfNeeded();
    const gutter = Number(await heat.getAttribute("data-gutter"));
    assert.ok(gutter > 60, `names beside the rows: ${gutter} px`);
    const box = (await heat.boundingBox())!;
    await heat.hover({ position: { x: gutter + (box.width - gutter) * 0.75, y: 20 } });
    assert.match((await view.locator(".heatmap.gradNorm .heatinfo").textContent()) ?? "", /^step \d+ · layers\[0\]\.neurons\[\d\]\.[wb] · Gradient norm \S+$/);
    // A bias at ~1e-17 moved by ~0.1 has an update ratio of ~1e16 at one step: the colour key spans the other cells.
    const ratioHigh = Number(((await view.locator(".heatmap.updateRatio .keyend").last().textContent()) ?? "").replace(/[≥ ]/g, ""));
    assert.ok(ratioHigh < 1000, `update-ratio key up to ${ratioHigh}`);
    await view.locator(".heatmap.updateRatio").scrollIntoViewIfNeeded();
    await wb.shot("training-python-heatmaps");
  });
});
