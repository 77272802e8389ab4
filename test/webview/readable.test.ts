/**
 * The first view is readable in the panel the command opens: the right half of a 1600×1000 window,
 * 600 CSS px wide. Measured on the rendered page: every label in view is at least 11 px.
 */
import { strict as assert } from "assert";
import type { RunResult } from "../../src/protocol/result";
import { WebviewHarness } from "./harness";
import { mlpGraph, runnerGraph, tutorialGraph } from "./fixtures";

const panel = { width: 600, height: 900 };

interface FirstView {
  zoom: number;
  /** Labels whose node is (at least partly) in view, and the smallest of their rendered sizes. */
  inView: number;
  smallestPx: number;
  nodes: number;
  toolbarHeight: number;
  sideWidth: number;
  minimap: boolean;
}

const measure = `(() => {
  const cy = window.gradlensView.cy;
  const w = cy.width(), h = cy.height();
  let inView = 0, smallest = Infinity;
  cy.nodes().forEach((n) => {
    const b = n.renderedBoundingBox({ includeLabels: false });
    if (b.x2 < 0 || b.y2 < 0 || b.x1 > w || b.y1 > h || !n.data("label")) return;
    inView++;
    smallest = Math.min(smallest, parseFloat(n.style("font-size")) * cy.zoom());
  });
  const side = document.querySelector(".side");
  return {
    zoom: cy.zoom(), inView, smallestPx: smallest, nodes: cy.nodes().length,
    toolbarHeight: document.querySelector(".toolbar").getBoundingClientRect().height,
    sideWidth: side.hidden ? 0 : side.getBoundingClientRect().width,
    minimap: !document.querySelector(".minimap").hidden,
  };
})()`;

describe("readable first view in a 600 px panel (Chromium)", function () {
  this.timeout(180_000);
  const h = new WebviewHarness();
  before(() => h.start());
  after(() => h.stop());

  async function firstView(result: RunResult): Promise<FirstView> {
    await h.open(undefined, panel);
    await h.show(result);
    return h.page.evaluate(measure) as Promise<FirstView>;
  }

  const cases: [string, () => Promise<RunResult> | RunResult, number][] = [
    ["5 nodes (the tutorial's z = x*y + w)", tutorialGraph, 5],
    ["about 60 nodes (an MLP, node by node with op nodes)", () => mlpGraph(60), 5],
    ["362 nodes (an MLP, node by node)", () => mlpGraph(362), 5],
    ["about 60k nodes (a microgpt training step, grouped by call)", () => runnerGraph("microgptStep"), 2],
  ];
  for (const [name, make, atLeast] of cases) {
    it(`${name}: labels ≥ 11 px, toolbar one row, side panel folded`, async () => {
      const view = await firstView(await make());
      assert.ok(view.inView >= atLeast, `only ${view.inView} labels in view`);
      assert.ok(view.smallestPx >= 11 - 1e-9, `smallest label ${view.smallestPx.toFixed(1)} px at zoom ${view.zoom.toFixed(2)}`);
      assert.ok(view.zoom <= 1 + 1e-9, `zoom ${view.zoom}`);
      assert.ok(view.toolbarHeight < 40, `toolbar ${view.toolbarHeight} px high`);
      assert.ok(view.sideWidth <= panel.width / 4, `side panel ${view.sideWidth} px`);
    });
  }

  it("fits a small graph and enlarges it up to 100 %, with no overview", async () => {
    const view = await firstView(tutorialGraph());
    assert.equal(view.inView, view.nodes, "every node in view");
    assert.ok(view.zoom > 0.9, `zoom ${view.zoom}`);
    assert.equal(view.minimap, false);
  });

  it("opens a bigger graph at 100 % on its output, with an overview to navigate", async () => {
    const view = await firstView(mlpGraph(362));
    assert.equal(view.zoom, 1);
    assert.equal(view.minimap, true);
    const output = await h.page.evaluate(`(() => { const cy = window.gradlensView.cy; const p = cy.nodes(".output").renderedPosition(); return p.x > 0 && p.x < cy.width() && p.y > 0 && p.y < cy.height(); })()`);
    assert.equal(output, true, "the output is in view");
  });

  it("keeps the toolbar on one row at 400 px, the rest in the ⋯ menu, and the side panel within a quarter", async () => {
    await h.open(undefined, { width: 400, height: 700 });
    await h.show(mlpGraph(362));
    const toolbar = await h.page.$eval(".toolbar", (e) => e.getBoundingClientRect().height);
    assert.ok(toolbar < 40, `toolbar ${toolbar} px`);
    await h.page.click("#more");
    const inMenu = await h.page.$$eval(".menu button", (bs) => bs.map((b) => b.id));
    assert.ok(inMenu.includes("export-png") && inMenu.includes("side-toggle"), inMenu.join(" "));
    await h.page.click("#side-toggle");
    const side = await h.page.$eval(".side", (e) => e.getBoundingClientRect().width);
    assert.ok(side > 0 && side <= 100, `side panel ${side} px`);
  });

  it("zooms with buttons, keys and the wheel at a sensible rate, and re-fits on resize until the user moves the view", async () => {
    await h.open(undefined, panel);
    await h.show(tutorialGraph());
    const zoom = (): Promise<number> => h.page.evaluate("window.gradlensView.cy.zoom()") as Promise<number>;
    const outputInView = (): Promise<boolean> =>
      h.page.evaluate(`(() => { const cy = window.gradlensView.cy; const b = cy.nodes(".output").renderedBoundingBox(); return b.x1 >= 0 && b.x2 <= cy.width(); })()`) as Promise<boolean>;
    assert.equal(await outputInView(), true);
    // Narrower than the graph: the view follows (the output stays in sight) since the user has not moved it.
    await h.page.setViewportSize({ width: 320, height: 900 });
    await h.page.waitForTimeout(200);
    assert.equal(await outputInView(), true, "re-fitted on resize");
    const refitted = await zoom();
    await h.page.click("#zoom-in");
    assert.ok(Math.abs((await zoom()) / refitted - 1.25) < 1e-6);
    await h.page.click("#graph");
    await h.page.keyboard.press("0");
    assert.equal(await zoom(), 1);
    await h.page.keyboard.press("-");
    assert.ok(Math.abs((await zoom()) - 0.8) < 1e-6);
    // One wheel notch (100 px) zooms by about 15 %: 40 % → 100 % in about six notches.
    const box = await h.page.$eval("#graph", (e) => e.getBoundingClientRect().toJSON() as { x: number; y: number; width: number; height: number });
    await h.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const before = await zoom();
    await h.page.mouse.wheel(0, -100);
    await h.page.waitForTimeout(50);
    const ratio = (await zoom()) / before;
    assert.ok(ratio > 1.1 && ratio < 1.25, `one notch: ×${ratio.toFixed(3)}`);
    // The user moved the view: a resize keeps it.
    const moved = await zoom();
    await h.page.setViewportSize(panel);
    await h.page.waitForTimeout(150);
    assert.equal(await zoom(), moved);
    await h.page.keyboard.press("f");
    assert.ok((await zoom()) < 1.01);
  });
});
