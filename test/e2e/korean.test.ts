/**
 * The graph view in a VS Code window whose display language is Korean (scripts/e2e.mjs starts it
 * with the language pack stand-in of korean-display.mjs): the command from its Korean title, the
 * view's toolbar, legend and captions in Korean, and the pictures for README.ko.md.
 */
import * as assert from "node:assert/strict";
import type { Frame } from "playwright-core";
import { serverUrl, vscodeVersion, Workbench } from "./workbench";

const hangul = /[\uac00-\ud7a3]/;

describe(`the graph view in Korean, VS Code ${vscodeVersion}`, function () {
  let wb: Workbench;

  before(async function () {
    wb = await Workbench.open(serverUrl("korean"), "korean", { trusted: true });
  });

  after(async function () {
    await wb?.close();
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") await wb?.shot(`failed-ko-${this.currentTest.title.replace(/\W+/g, "-").slice(0, 40)}`);
  });

  /** The view's own words as drawn: toolbar titles, the side panel, the breadcrumb, the node labels. */
  const viewText = (frame: Frame): Promise<{ titles: string[]; text: string; labels: string[] }> =>
    frame.evaluate(() => {
      const cy = (window as unknown as { gradlensView: { cy: import("cytoscape").Core } }).gradlensView.cy;
      return {
        titles: Array.from(document.querySelectorAll("button[title]"), (b) => b.getAttribute("title") ?? ""),
        text: document.body.innerText,
        labels: cy.nodes().map((n) => String(n.data("label"))),
      };
    });

  it("shows ch04.grad.ts's graph with Korean controls and labels, readable", async function () {
    await wb.openFile("ch04.grad.ts");
    // runCommand asks again when a fresh window's first palette does not list the Korean titles yet.
    await wb.runCommand("GradLens: 계산 그래프 보기");
    const graph = await wb.graphFrame();
    const { titles, labels } = await viewText(graph);
    assert.ok(titles.filter((t) => hangul.test(t)).length >= 5, titles.join(" / "));
    // The record's words (data, grad) come from the Korean bundle; names stay the program's own.
    assert.ok(labels.some((l) => l.startsWith("z\n") && hangul.test(l)), labels.join(" / "));
    assert.ok(!labels.some((l) => /#\d/.test(l)), "no internal ids");
    const smallest = await graph.evaluate(() => {
      const cy = (window as unknown as { gradlensView: { cy: import("cytoscape").Core } }).gradlensView.cy;
      return Math.min(...cy.nodes().map((n) => parseFloat(n.style("font-size") as string) * cy.zoom()));
    });
    assert.ok(smallest >= 11, `labels of ${smallest.toFixed(1)} px`);
    await wb.shot("graph-ko", { docsName: "graph-ko.png" });
  });

  it("opens a microgpt step on its calls, with Korean group captions, and opens the biggest call", async function () {
    this.timeout(240_000);
    // The Korean tab title of the graph before ("그래프: ch04.grad.ts — z"): closed, so the next graph is the microgpt one.
    const tab = wb.page.locator(".tabs-container .tab", { hasText: "그래프:" });
    if ((await tab.count()) > 0) {
      await tab.first().hover();
      await tab.first().locator(".tab-actions .action-label").click();
      await tab.first().waitFor({ state: "detached" });
    }
    await wb.openFile("microgpt.grad.ts");
    const started = Date.now();
    await wb.runCommand("GradLens: 계산 그래프 보기");
    const gpt = await wb.graphFrame(180_000);
    console.log(`      microgpt (Korean window): command → first paint ${Date.now() - started} ms`);
    const { labels, text } = await viewText(gpt);
    assert.ok(labels.some((l) => /documentLoss|trainStep/.test(l) && hangul.test(l)), labels.join(" / "));
    assert.ok(hangul.test(text), "the notice and panel are in Korean");
    assert.ok(!labels.some((l) => /#\d/.test(l)), "no internal ids");
    await wb.shot("microgpt-graph-ko", { docsName: "graph-microgpt-ko.png" });
    const biggest = await gpt.evaluate(() => {
      const cy = (window as unknown as { gradlensView: { cy: import("cytoscape").Core } }).gradlensView.cy;
      return cy.nodes(".group").sort((a, b) => (b.data("count") as number) - (a.data("count") as number)).first().id();
    });
    const at = await wb.nodeOnPage(gpt, biggest);
    await wb.page.mouse.dblclick(at.x, at.y);
    await gpt.waitForFunction(() => document.querySelectorAll(".crumb").length >= 2);
    await wb.page.waitForTimeout(500);
    const opened = await viewText(gpt);
    assert.ok(!opened.labels.some((l) => /#\d/.test(l)), "no internal ids");
    await wb.shot("microgpt-opened-ko", { docsName: "graph-microgpt-opened-ko.png" });
  });
});
