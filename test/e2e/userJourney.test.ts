/**
 * End to end, as a user: GradLens installed from its VSIX into VS Code, used through the UI only.
 * One workbench for the whole journey (the steps build on each other, like a person's session);
 * a screenshot after each step goes to test-results/e2e/ (and, with --docs, to docs/images/).
 */
import * as assert from "node:assert/strict";
import type { Frame } from "playwright-core";
import { serverUrl, vscodeVersion, Workbench } from "./workbench";

describe(`GradLens from its VSIX in VS Code ${vscodeVersion} (trusted workspace)`, function () {
  let wb: Workbench;
  let graph: Frame;

  before(async function () {
    wb = await Workbench.open(serverUrl("trusted"), "trusted", { trusted: true });
  });

  after(async function () {
    await wb?.close();
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") await wb?.shot(`failed-${this.currentTest.title.replace(/\W+/g, "-").slice(0, 40)}`);
  });

  it("runs Show Computation Graph from the command palette and paints the graph of ch04.grad.ts", async function () {
    await wb.openFile("ch04.grad.ts");
    await wb.runCommand("GradLens: Show Computation Graph");
    graph = await wb.graphFrame();
    const labels = (await wb.graphNodes(graph)).map((n) => n.label);
    // The tutorial's z = x*y + w: three leaves, the product, and z = 7 with grad 1.
    for (const expected of ["x\ndata 2.0000\ngrad 3.0000", "y\ndata 3.0000\ngrad 2.0000", "w\ndata 1.0000\ngrad 1.0000", "z\ndata 7.0000\ngrad 1.0000"]) {
      assert.ok(labels.includes(expected), `${expected} not among ${labels.join(" / ")}`);
    }
    // Five values (x, y, w, x·y, z) and two operation nodes; the status bar says the same.
    assert.equal(labels.filter((l) => l.includes("data ")).length, 5, labels.join(" / "));
    assert.equal(labels.length, 7, labels.join(" / "));
    await wb.page.locator(".statusbar-item", { hasText: "GradLens: 5 nodes" }).waitFor({ state: "visible" });
    const canvases = await graph.locator("canvas").count();
    assert.ok(canvases > 0, "cytoscape drew no canvas");
    // The first view, as the command opens it in the default split: every label readable (≥ 11 px).
    const smallest = await graph.evaluate(() => {
      const cy = (window as unknown as { gradlensView: { cy: import("cytoscape").Core } }).gradlensView.cy;
      return Math.min(...cy.nodes().map((n) => parseFloat(n.style("font-size") as string) * cy.zoom()));
    });
    assert.ok(smallest >= 11, `labels of ${smallest.toFixed(1)} px`);
    assert.equal(await wb.page.locator(".tabs-container .tab", { hasText: "Graph: ch04.grad.ts — z" }).count(), 1, "the tab names the file and the root");
    await wb.shot("graph", { docsName: "graph.png" });
  });

  it("shows a node's data and grad when the mouse is over it", async function () {
    const x = (await wb.graphNodes(graph)).find((n) => n.label.startsWith("x\n"));
    assert.ok(x, "no node x");
    const at = await wb.nodeOnPage(graph, x.id);
    await wb.page.mouse.move(at.x, at.y);
    const tooltip = graph.locator(".tooltip:not([hidden])");
    await tooltip.waitFor({ state: "visible" });
    const text = await tooltip.innerText();
    assert.match(text, /data\s*2\.0000/);
    assert.match(text, /grad\s*3\.0000/);
    assert.ok(text.includes("ch04.grad.ts:14"), `no source line in ${text}`);
    await wb.shot("node-tooltip", { docsName: "node-tooltip.png" });
  });

  it("jumps to the source line of a clicked node", async function () {
    const w = (await wb.graphNodes(graph)).find((n) => n.label.startsWith("w\n"));
    assert.ok(w, "no node w");
    const at = await wb.nodeOnPage(graph, w.id);
    await wb.page.mouse.click(at.x, at.y);
    // `const w = new Value(1.0);` is line 16 of examples/ch04.grad.ts.
    await wb.page.waitForFunction(() => /Ln 16,/.test(document.querySelector("#status\\.editor\\.selection")?.textContent ?? ""));
    assert.match(await wb.cursorStatus(), /^Ln 16, Col \d+/);
    await wb.shot("click-to-source");
  });

  it("checks the gradient from the CodeLens and shows the verdict", async function () {
    await wb.openFile("ch04.grad.ts");
    const lens = wb.page.locator(".contentWidgets .codelens-decoration a", { hasText: "Check gradient" }).first();
    await lens.waitFor({ state: "visible" });
    await lens.click();
    const verdict = wb.page.locator(".contentWidgets .codelens-decoration a", { hasText: "gradient OK" }).first();
    await verdict.waitFor({ state: "visible" });
    assert.match(await verdict.innerText(), /^✓ gradient OK · max rel err /);
    await wb.shot("codelens-verdict", { docsName: "codelens.png" });
  });

  it("shows a variable's value and gradient when hovering it in the editor", async function () {
    const at = await wb.tokenOnPage("const y = new Value(3.0)", "y");
    await wb.page.mouse.move(at.x, at.y);
    const hover = wb.page.locator(".monaco-hover", { hasText: "grad" }).first();
    await hover.waitFor({ state: "visible" });
    const text = await hover.innerText();
    assert.match(text, /data\s*3\b/);
    assert.match(text, /grad\s*2\b/);
    await wb.shot("editor-hover", { docsName: "hover.png" });
    await wb.page.mouse.move(5, 5);
  });

  it("steps the backprop animation with the real numbers", async function () {
    // Give the graph the whole window: double-click its tab (maximises the editor group), then Fit.
    const tab = wb.page.locator(".tabs-container .tab", { hasText: "Graph:" });
    const before = (await wb.frameBox(graph)).width;
    await tab.dblclick();
    await graph.waitForFunction((w) => window.innerWidth > w + 200, before);
    await graph.locator("#fit").click();
    const view = await wb.frameBox(graph);
    await graph.locator("#reset").click();
    const trace = graph.locator("#trace");
    const xLabel = async () => (await wb.graphNodes(graph)).find((n) => n.label.startsWith("x\n"))?.label ?? "";
    await graph.waitForFunction(() => (document.querySelector("#step-label")?.textContent ?? "").startsWith("0/"));
    const seen: string[] = [];
    const steps = Number((await graph.locator("#step-label").innerText()).split("/")[1]);
    assert.ok(steps >= 4, `only ${steps} animation steps`);
    for (let step = 1; step <= steps; step++) {
      await graph.locator("#step").click();
      await graph.waitForFunction((n) => (document.querySelector("#step-label")?.textContent ?? "").startsWith(`${n}/`), step);
      seen.push(await trace.innerText());
      // Grads start from zero: after the first step only the output's is known.
      if (step === 1) await wb.waitForNodeLabel(graph, /^x\n.*grad 0\.0000$/s);
      await wb.shot(`backprop-step-${step}`, { docsName: `backprop-${step}.png`, clip: view });
    }
    // Backprop starts at the output: z.grad = 1, then flows to z's inputs.
    assert.match(seen[0], /z\.grad = 1/);
    await wb.waitForNodeLabel(graph, /^x\n.*grad 3\.0000$/s); // x.grad after the last step
    assert.match(await xLabel(), /grad 3\.0000$/);
    await tab.dblclick(); // back to editor and graph side by side
  });

  it("draws the graph of a Python file that uses the tutorial's Value", async function () {
    // Close the graph's tab with its × (shown on hover), so the next graph opens in a new panel.
    const tab = wb.page.locator(".tabs-container .tab", { hasText: "Graph:" });
    await tab.hover();
    await tab.locator(".tab-actions .action-label").click();
    await wb.page.locator(".tabs-container .tab", { hasText: "Graph:" }).waitFor({ state: "detached" });
    await wb.openFile("ch04.py");
    await wb.runCommand("GradLens: Show Computation Graph");
    const python = await wb.graphFrame();
    const nodes = await wb.graphNodes(python);
    const x = nodes.find((n) => n.label.startsWith("x\n"));
    assert.equal(x?.label, "x\ndata 2.0000\ngrad 3.0000");
    const at = await wb.nodeOnPage(python, x.id);
    await wb.page.mouse.move(at.x, at.y);
    const tooltip = python.locator(".tooltip:not([hidden])");
    await tooltip.waitFor({ state: "visible" });
    assert.ok((await tooltip.innerText()).includes("ch04.py:3"), await tooltip.innerText());
    await wb.shot("python-graph", { docsName: "python.png" });
  });

  it("stops a Python training loop at the time limit and still shows its last step's graph", async function () {
    this.timeout(120_000);
    const tab = wb.page.locator(".tabs-container .tab", { hasText: "Graph:" });
    if ((await tab.count()) > 0) {
      await tab.hover();
      await tab.locator(".tab-actions .action-label").click();
      await tab.waitFor({ state: "detached" });
    }
    // The loop would run for minutes: the editor's 10 s limit stops it.
    await wb.openFile("train_forever.py");
    await wb.runCommand("GradLens: Show Computation Graph");
    const message = await wb.notification("stopped after 10 s");
    assert.match(message, /stopped after 10 s: the code was still running — at line \d+/);
    assert.doesNotMatch(message, /endless loop/, "it printed and called backward() all along");
    const stopped = await wb.graphFrame(30_000);
    const labels = (await wb.graphNodes(stopped)).map((n) => n.label);
    assert.ok(labels.some((l) => /(^|· )loss\ndata \d/.test(l)), `the loss of the last saved step: ${labels.slice(-4).join(" / ")}`);
    await wb.shot("python-stopped");
  });

  it("opens a microgpt training step (~56k nodes) on the top level of its calls, readable, and opens a call", async function () {
    this.timeout(240_000);
    const tab = wb.page.locator(".tabs-container .tab", { hasText: "Graph:" });
    if ((await tab.count()) > 0) {
      await tab.hover();
      await tab.locator(".tab-actions .action-label").click();
      await tab.waitFor({ state: "detached" });
    }
    await wb.openFile("microgpt.grad.ts");
    const started = Date.now();
    await wb.runCommand("GradLens: Show Computation Graph");
    const gpt = await wb.graphFrame(180_000);
    const commandToPaint = Date.now() - started;
    const view = await gpt.evaluate(() => {
      const v = (window as unknown as { gradlensView: { cy: import("cytoscape").Core; timings: Record<string, number> } }).gradlensView;
      return { nodes: v.cy.nodes().length, labels: v.cy.nodes().map((n) => String(n.data("label"))), px: Math.min(...v.cy.nodes().map((n) => parseFloat(n.style("font-size") as string) * v.cy.zoom())), paint: v.timings.firstPaint };
    });
    console.log(`      microgpt: command → first paint ${commandToPaint} ms (run and transfer included); the view's own first paint ${view.paint?.toFixed(0)} ms`);
    assert.ok(view.nodes <= 200 && view.px >= 11, `${view.nodes} nodes at ${view.px} px`);
    assert.ok(view.labels.some((l) => /trainStep|documentLoss/.test(l)), view.labels.join(" / "));
    await wb.shot("microgpt-graph", { docsName: "graph-microgpt.png" });
    // Open the biggest call: its contents and a breadcrumb back.
    const biggest = await gpt.evaluate(() => {
      const cy = (window as unknown as { gradlensView: { cy: import("cytoscape").Core } }).gradlensView.cy;
      return cy.nodes(".group").sort((a, b) => (b.data("count") as number) - (a.data("count") as number)).first().id();
    });
    const at = await wb.nodeOnPage(gpt, biggest);
    await wb.page.mouse.dblclick(at.x, at.y);
    await gpt.waitForFunction(() => document.querySelectorAll(".crumb").length >= 2);
    await wb.page.waitForTimeout(500);
    await wb.shot("microgpt-opened", { docsName: "graph-microgpt-opened.png" });
  });
});
