/**
 * The graph view in headless Chromium: the real bundle, the production CSP, a stand-in
 * `acquireVsCodeApi`. Graphs come from the engine (test/webview/fixtures.ts).
 */
import { strict as assert } from "assert";
import type { Core } from "cytoscape";
import type { ViewMessage } from "../../src/protocol/messages";
import type { RunResult } from "../../src/protocol/result";
import { WebviewHarness } from "./harness";
import { fixtureFile, hostileGraph, microgradGraph, mlpGraph, tutorialGraph } from "./fixtures";

type ViewHandle = {
  cy: Core;
  step: number;
  animationGrads: Float64Array;
  seek(k: number): void;
  current: { path: string[] };
};

/** Backprop's grads after k steps, written out independently of the view (same rules as the tutorial's trace). */
function referenceGrads(result: RunResult, k: number): number[] {
  const g = result.roots[0].graph;
  const grad = new Array<number>(g.nodeCount).fill(0);
  if (k >= 1) grad[g.root] = 1;
  // Step 2 processes the root, step 3 the node before it, …
  for (let step = 2; step <= k; step++) {
    const v = g.root - (step - 2);
    for (let e = g.childStart[v]; e < g.childStart[v + 1]; e++) grad[g.child[e]] += g.localGrad[e] * grad[v];
  }
  return grad;
}

describe("graph view (Chromium)", function () {
  this.timeout(120_000);
  const h = new WebviewHarness();

  before(async () => {
    await h.start();
  });
  after(async () => {
    await h.stop();
  });

  const view = <T>(fn: (v: ViewHandle) => T): Promise<T> =>
    h.page.evaluate(`(${fn.toString()})(window.gradlensView)`) as Promise<T>;

  describe("a small graph (the tutorial's z = x*y + w)", () => {
    before(async () => {
      await h.open();
      await h.show(tutorialGraph());
    });

    it("renders every value node with its data and grad, and an op node per operation", async () => {
      const rendered = (await h.posted()).find((m) => m.type === "rendered") as Extract<ViewMessage, { type: "rendered" }>;
      assert.equal(rendered.nodeCount, 5);
      assert.equal(rendered.grouped, false);
      const labels = await view((v) => v.cy.nodes(".value").map((n) => n.data("label") as string));
      assert.equal(labels.length, 5);
      assert.ok(labels.includes("z\ndata 7.0000\ngrad 1.0000"), labels.join("\n"));
      assert.ok(labels.includes("x\ndata 2.0000\ngrad 3.0000"));
      const ops = await view((v) => v.cy.nodes(".op").map((n) => n.data("label") as string).sort());
      assert.deepEqual(ops, ["*", "+"]);
      assert.equal(await view((v) => v.cy.edges().length), 6);
    });

    it("titles the play button from the extension's strings once a graph is shown", async () => {
      assert.equal(await h.page.$eval("#play", (e) => e.getAttribute("title")), "Play (Space)");
    });

    it("lays out inputs left of the output, every edge pointing right", async () => {
      const bad = await view((v) => v.cy.edges().filter((e) => e.source().position("x") >= e.target().position("x")).length);
      assert.equal(bad, 0);
    });

    it("tells leaves, intermediates and the output apart by shape and border", async () => {
      const styles = await view((v) => ["n0", "n2", "n4"].map((id) => {
        const n = v.cy.getElementById(id);
        return `${n.style("shape")} ${n.style("border-width")} ${n.style("border-style")}`;
      }));
      assert.equal(new Set(styles).size, 3, styles.join(" / "));
    });

    it("shows label, op, data, grad, local grads and source on hover", async () => {
      const at = await h.pagePosition("n2");
      await h.page.mouse.move(at.x, at.y);
      await h.page.waitForSelector(".tooltip:not([hidden])");
      const text = await h.page.$eval(".tooltip", (e) => (e as HTMLElement).innerText);
      for (const expected of ["xy", "*", "6.0000", "1.0000", "∂/∂x", "3.0000", "∂/∂y", "2.0000", "fixture.grad.ts:4:3", "x.mul(y)"]) {
        assert.ok(text.includes(expected), `${expected} missing in ${text}`);
      }
      await h.page.mouse.move(2, 400);
    });

    it("posts revealSource with the node's file and line when clicked", async () => {
      const at = await h.pagePosition("n0");
      await h.page.mouse.click(at.x, at.y);
      const reveal = (await h.posted()).filter((m) => m.type === "revealSource").pop();
      assert.deepEqual(reveal, { type: "revealSource", file: fixtureFile, line: 1, column: 3 });
    });

    it("lights up the nodes made on the editor's line", async () => {
      await h.send({ type: "highlightLine", file: fixtureFile, line: 4 });
      assert.deepEqual(await view((v) => v.cy.nodes(".line-hit").map((n) => n.id())), ["n2"]);
      await h.send({ type: "highlightLine", file: "/elsewhere.ts", line: 4 });
      assert.deepEqual(await view((v) => v.cy.nodes(".line-hit").map((n) => n.id())), []);
    });

    it("steps backprop as in the tutorial's trace, with the real numbers", async () => {
      await h.page.click("#reset");
      await h.page.click("#step");
      assert.match(await h.page.$eval("#trace", (e) => e.textContent ?? ""), /z\.grad = 1/);
      // Grads start from zero: only the output is known after step 1.
      assert.ok((await view((v) => v.cy.getElementById("n2").data("label") as string)).endsWith("grad 0.0000"));
      // Nodes are named as on screen, never by an internal id.
      assert.doesNotMatch(await h.page.$eval("#trace", (e) => e.textContent ?? ""), /#\d/);
      await h.page.click("#step");
      const step2 = await h.page.$eval("#trace", (e) => e.textContent ?? "");
      assert.ok(step2.includes("xy.grad += 1.0000 × 1.0000 = 1.0000") && step2.includes("w.grad += 1.0000 × 1.0000 = 1.0000"), step2);
      await h.page.keyboard.press("ArrowRight"); // w: a leaf, nothing to push
      await h.page.keyboard.press("ArrowRight");
      const step4 = await h.page.$eval("#trace", (e) => e.textContent ?? "");
      assert.ok(step4.includes("x.grad += 3.0000 × 1.0000 = 3.0000") && step4.includes("y.grad += 2.0000 × 1.0000 = 2.0000"), step4);
      assert.deepEqual(await view((v) => v.cy.nodes(".anim-active").map((n) => n.id())), ["n2"]);
      assert.equal(await h.page.$eval("#step-label", (e) => e.textContent), "4/6");
      await h.page.keyboard.press("ArrowLeft");
      assert.equal(await h.page.$eval("#step-label", (e) => e.textContent), "3/6");
      await h.page.click("#reset");
    });

    it("steps forward through the values in topological order", async () => {
      await h.page.click("#more");
      await h.page.selectOption("#mode", "forward");
      await h.page.click("#step");
      await h.page.click("#step");
      const labels = await view((v) => v.cy.nodes(".value").map((n) => ({ id: n.id(), label: n.data("label") as string, hidden: n.hasClass("anim-hidden") })));
      const byId = new Map(labels.map((l) => [l.id, l]));
      assert.ok(byId.get("n1")?.label.includes("data 3.0000") && !byId.get("n1")?.hidden);
      assert.ok(byId.get("n4")?.label.includes("data ?") && byId.get("n4")?.hidden);
      assert.match(await h.page.$eval("#trace", (e) => e.textContent ?? ""), /y\.data = 3\.0000/);
      await h.page.selectOption("#mode", "backward");
      await h.page.click("#more");
    });

    it("plays and pauses from the toolbar", async () => {
      await h.page.click("#reset");
      await h.page.$eval("#speed", (e) => ((e as HTMLInputElement).value = "6"));
      await h.page.click("#play");
      await h.page.waitForFunction(() => document.getElementById("step-label")?.textContent === "6/6");
      assert.equal(await h.page.$eval("#trace", (e) => e.textContent ?? "").then((t) => t.includes("backward pass done")), true);
      await h.page.click("#reset");
    });

    it("exports PNG, SVG and DOT", async () => {
      await h.page.click("#more");
      await h.page.click("#export-png");
      await h.page.click("#export-svg");
      await h.page.click("#export-dot");
      const exports = (await h.posted()).filter((m): m is Extract<ViewMessage, { type: "exportFile" }> => m.type === "exportFile");
      const png = exports.find((e) => e.format === "png");
      assert.ok(png && png.data.startsWith("data:image/png;base64,"));
      const bytes = Buffer.from(png.data.slice(png.data.indexOf(",") + 1), "base64");
      assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
      assert.ok(bytes.readUInt32BE(16) > 100 && bytes.readUInt32BE(20) > 20, "IHDR width and height");
      const svg = exports.find((e) => e.format === "svg");
      assert.ok(svg);
      const parsed = await h.page.evaluate((text) => {
        const doc = new DOMParser().parseFromString(text, "image/svg+xml");
        return { root: doc.documentElement.nodeName, errors: doc.getElementsByTagName("parsererror").length, texts: doc.getElementsByTagName("text").length };
      }, svg.data);
      assert.deepEqual([parsed.root, parsed.errors], ["svg", 0]);
      assert.ok(parsed.texts >= 5);
      const dot = exports.find((e) => e.format === "dot");
      assert.ok(dot && dot.data.startsWith('digraph "z" {'));
      assert.ok(dot.data.includes('n4 [shape=record, label="{ z | data 7.0000 | grad 1.0000 }"]'));
      await h.page.click("#more");
      assert.equal(dot.data.split("->").length - 1, 6);
    });

    it("re-reads theme colours when the theme changes (light, dark, high contrast)", async () => {
      const colours: string[] = [];
      for (const theme of ["vscode-light", "vscode-dark", "vscode-high-contrast"]) {
        await h.page.evaluate((cls) => (document.body.className = cls), theme);
        await h.page.waitForTimeout(50);
        colours.push(await view((v) => `${v.cy.getElementById("n4").style("color")} ${v.cy.getElementById("n0").style("background-color")}`));
      }
      assert.equal(new Set(colours).size, 3, colours.join(" / "));
      assert.ok(colours[0].startsWith("rgb(0,0,0)"), `light text is dark: ${colours[0]}`);
      assert.ok(colours[2].includes("rgb(0,0,0)", 5), `high contrast keeps a black fill: ${colours[2]}`);
    });

    it("breaks no content-security rule except cytoscape's inline <style>, which the stylesheet replaces", async () => {
      const violations = await h.page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
      assert.deepEqual([...new Set(violations)], ["style-src-elem inline"]);
      assert.equal(await h.page.$eval("#graph", (e) => getComputedStyle(e).position), "relative");
      assert.deepEqual(h.errors, []);
    });
  });

  it("renders a 1k-node graph node by node, the op as a badge, inputs left of the output", async () => {
    const result = mlpGraph(1000);
    await h.open();
    const rendered = await h.show(result);
    const n = result.roots[0].graph.nodeCount;
    assert.deepEqual([rendered.grouped, rendered.visibleNodes, rendered.nodeCount], [false, n, n]);
    const edges = result.roots[0].graph.childStart[n];
    assert.equal(rendered.elementCount, n + edges);
    assert.equal(await view((v) => v.cy.edges().filter((e) => e.source().position("x") >= e.target().position("x")).length), 0);
    const h00 = await view((v) => v.cy.nodes(".value").filter((node) => (node.data("label") as string).includes("h0_0\n")).data("label") as string);
    assert.match(h00, /^tanh · h0_0\ndata -?\d\.\d{4}\ngrad /);
    assert.equal(await h.page.evaluate("window.gradlensView.layoutRanInWorker"), true, "the layout ran in a blob: worker (the CSP allows it)");
    assert.deepEqual(h.errors, []);
  });

  describe("animation on a graph with shared nodes (micrograd's 'more ops')", () => {
    let result: RunResult;
    before(async () => {
      result = microgradGraph();
      await h.open();
      await h.show(result);
    });

    it("has the grads of a reference backprop after k steps, and the engine's grads at the end", async () => {
      const total = result.roots[0].graph.nodeCount + 1;
      for (const k of [0, 1, 2, 3, 7, 15, total - 5, total]) {
        const grads = await view((v) => {
          v.seek(0);
          return v.step;
        }).then(() => h.page.evaluate(`(window.gradlensView.seek(${k}), Array.from(window.gradlensView.animationGrads))`) as Promise<number[]>);
        const expected = referenceGrads(result, k);
        grads.forEach((g, i) => assert.ok(Math.abs(g - expected[i]) <= 1e-9 * Math.max(1, Math.abs(expected[i])), `step ${k}, node ${i}: ${g} vs ${expected[i]}`));
      }
      const final = await view((v) => Array.from(v.animationGrads));
      const engine = result.roots[0].graph.grad;
      final.forEach((g, i) => assert.ok(Math.abs(g - engine[i]) < 1e-9 * Math.max(1, Math.abs(engine[i]))));
      const a = 0;
      assert.ok(Math.abs(final[a] - 138.83381924198252) < 1e-6, `dg/da = ${final[a]}`);
    });
  });

  it("shows labels as text, never HTML, and lists NaN/Infinity nodes", async () => {
    await h.open();
    let dialogs = 0;
    h.page.on("dialog", (d) => {
      dialogs++;
      void d.dismiss();
    });
    await h.show(hostileGraph());
    const at = await h.pagePosition("n0");
    await h.page.mouse.move(at.x, at.y);
    await h.page.waitForSelector(".tooltip:not([hidden])");
    assert.ok((await h.page.$eval(".tooltip-title", (e) => e.textContent ?? "")).startsWith("<img src=x onerror=alert(1)>"));
    assert.equal(await h.page.$$eval("img", (imgs) => imgs.length), 0);
    assert.equal(await h.page.$$eval(".tooltip b, .side b", (bs) => bs.length), 0);
    const listed = await h.page.$$eval(".nonfinite-item", (items) => items.map((i) => i.textContent ?? ""));
    assert.equal(listed.length, 4, listed.join("\n"));
    assert.ok(listed.some((l) => l.startsWith("<img src=x onerror=alert(1)>") && l.includes("Infinity")));
    assert.ok(await view((v) => v.cy.getElementById("n1").hasClass("nonfinite")));
    await h.page.click(".nonfinite-item[data-node='1']");
    const reveal = (await h.posted()).filter((m) => m.type === "revealSource").pop();
    assert.deepEqual(reveal, { type: "revealSource", file: fixtureFile, line: 2, column: 3 });
    await h.page.waitForTimeout(100);
    assert.equal(dialogs, 0);
  });

  it("shows a message instead of freezing on a graph over the node limit", async () => {
    await h.open();
    const rendered = await h.show(mlpGraph(500), { nodeLimit: 100 });
    assert.equal(rendered.tooLarge, true);
    assert.match(await h.page.$eval(".notice", (e) => e.textContent ?? ""), /more than the view's limit of 100/);
    assert.equal(await h.page.evaluate(() => (window as unknown as { gradlensView: { cy?: unknown } }).gradlensView?.cy ?? null), null);
  });

  it("shows the runner's message when a run produced no graph because it was too large", async () => {
    await h.open();
    const empty: RunResult = {
      ...tutorialGraph(),
      ok: false,
      roots: [],
      error: { kind: "too-large", message: "The graph has 2,000,000 nodes, more than the limit of 1,000,000." },
    };
    const rendered = await h.show(empty);
    assert.equal(rendered.tooLarge, true);
    assert.equal(await h.page.$eval(".notice", (e) => e.textContent), "The graph has 2,000,000 nodes, more than the limit of 1,000,000.");
  });
});
