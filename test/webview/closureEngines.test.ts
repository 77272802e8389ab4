/**
 * Graphs from the engines learners write themselves, as the Python tracer reports them: local
 * gradients a closure-based `_backward` keeps to itself (unknown, never a made-up NaN), and
 * micrograd's MLP → Layer → Neuron call stacks grouping a graph the way the program is built.
 */
import { strict as assert } from "assert";
import type { Core } from "cytoscape";
import type { RunResult } from "../../src/protocol/result";
import { WebviewHarness } from "./harness";
import { pythonMlpGraph, tutorialGraph } from "./fixtures";

type ViewHandle = { cy: Core; seek(step: number): void };

/** The tutorial's graph as a closure engine reports it: the two edges into `x*y` have no known local gradient. */
function closureGraph(): RunResult {
  const result = tutorialGraph();
  const root = result.roots[0];
  const g = root.graph;
  const product = Array.from(g.op).findIndex((op) => g.opNames[op] === "*");
  const unknown: number[] = [];
  for (let e = g.childStart[product]; e < g.childStart[product + 1]; e++) {
    g.localGrad[e] = NaN;
    unknown.push(e);
  }
  root.unknownLocalGrad = unknown;
  return { ...result, language: "python" };
}

describe("graphs of closure-based engines and Python call stacks (Chromium)", function () {
  this.timeout(180_000);
  const h = new WebviewHarness();
  before(() => h.start());
  after(() => h.stop());
  const view = <T>(fn: (v: ViewHandle) => T): Promise<T> => h.page.evaluate(`(${fn.toString()})(window.gradlensView)`) as Promise<T>;
  const label = (id: string): Promise<string> => h.page.evaluate((i) => (window as unknown as { gradlensView: ViewHandle }).gradlensView.cy.getElementById(i).data("label") as string, id);

  describe("unknown local gradients", () => {
    let x: string;
    let y: string;
    before(async () => {
      await h.open();
      await h.show(closureGraph());
      x = await view((v) => v.cy.nodes(".value").filter((n) => (n.data("label") as string).startsWith("x\n")).id());
      y = await view((v) => v.cy.nodes(".value").filter((n) => (n.data("label") as string).startsWith("y\n")).id());
    });

    it("says 'unknown' on the edges and in the hover, not NaN", async () => {
      const edgeLabels = await view((v) => v.cy.edges("[label]").map((e) => e.data("label") as string).sort());
      assert.deepEqual(edgeLabels, ["1.0000", "1.0000", "unknown", "unknown"]);
      const product = await view((v) => v.cy.nodes(".value").filter((n) => (n.data("label") as string).startsWith("xy\n")).id());
      await h.page.evaluate((id) => void (window as unknown as { gradlensView: ViewHandle }).gradlensView.cy.center((window as unknown as { gradlensView: ViewHandle }).gradlensView.cy.getElementById(id)), product);
      const at = await h.pagePosition(product);
      await h.page.mouse.move(at.x, at.y);
      await h.page.waitForSelector(".tooltip:not([hidden])");
      const local = await h.page.$$eval(".tooltip [data-field=local] .tooltip-value", (rows) => rows.map((r) => r.textContent ?? ""));
      assert.deepEqual(local, ["unknown: the engine computes it inside its backward function", "unknown: the engine computes it inside its backward function"]);
      assert.doesNotMatch(await h.page.$eval(".tooltip", (e) => e.textContent ?? ""), /NaN/);
    });

    it("steps backprop without inventing NaN: the grads behind an unknown edge are 'unknown', not red, until the run's own at the end", async () => {
      await h.page.mouse.move(1, 1);
      await h.page.click("#reset");
      for (let k = 0; k < 4; k++) await h.page.click("#step");
      const trace = await h.page.$eval("#trace", (e) => e.textContent ?? "");
      assert.match(trace, /x\.grad \+= unknown × 1\.0000 = unknown/);
      assert.doesNotMatch(trace, /NaN/);
      assert.match(await label(x), /grad unknown$/);
      assert.equal(await view((v) => v.cy.nodes(".nonfinite").length), 0, "no node is marked NaN");
      assert.equal(await h.page.$eval("section.nonfinite", (e) => (e as HTMLElement).hidden), true, "no NaN list");
      // w's edge is known: its running grad is a number.
      assert.ok((await view((v) => v.cy.nodes(".value").filter((n) => (n.data("label") as string).startsWith("w\n")).data("label") as string)).endsWith("grad 1.0000"));
      await h.page.keyboard.press("End");
      assert.match(await label(x), /grad 3\.0000$/, "after the last step: the run's own grad");
      assert.match(await label(y), /grad 2\.0000$/);
      await h.page.click("#reset");
    });
  });

  describe("a micrograd MLP with the tracer's call frames", () => {
    let mlp: RunResult;
    before(async () => {
      mlp = pythonMlpGraph();
      await h.open(undefined, { width: 600, height: 900 });
      // Grouped (as a bigger model would be by default): the hierarchy comes from the frames.
      const rendered = await h.show(mlp, { groupThreshold: 100 });
      assert.equal(rendered.grouped, true);
    });

    const groupLabels = (): Promise<string[]> => view((v) => v.cy.nodes(".group").map((n) => (n.data("label") as string).split("\n")[0]));
    const openGroup = async (title: string): Promise<void> => {
      const key = await h.page.evaluate((t) => (window as unknown as { gradlensView: ViewHandle }).gradlensView.cy.nodes(".group").filter((n) => (n.data("label") as string).startsWith(t)).data("group") as string, title);
      assert.ok(key, `no group ${title}`);
      await h.page.evaluate((k) => (window as unknown as { gradlensView: { openGroup(k: string): Promise<void> } }).gradlensView.openGroup(k), key);
    };

    it("opens MLP() → Layer() → Neuron() calls level by level, named as the program calls them", async () => {
      const top = await groupLabels();
      assert.ok(top.includes("out = MLP()"), top.join(" / "));
      await openGroup("out = MLP()");
      const layers = await groupLabels();
      assert.deepEqual(layers.filter((l) => l.startsWith("x = Layer()")).sort(), ["x = Layer() · call 1", "x = Layer() · call 2", "x = Layer() · call 3"]);
      await openGroup("x = Layer() · call 2");
      // Its 16 Neuron calls fold into one group, the only one on the level, so it opens by itself.
      const neurons = await groupLabels();
      assert.equal(neurons.filter((l) => /^Neuron\(\) · call \d+$/.test(l)).length, 16, neurons.join(" / "));
      assert.deepEqual(await h.page.$$eval(".crumb", (cs) => cs.map((c) => c.textContent ?? "")), ["loss", "out = MLP()", "x = Layer() · call 2", "Neuron() × 16 calls"]);
      await openGroup("Neuron() · call 1");
      const values = await view((v) => v.cy.nodes(".value").map((n) => (n.data("label") as string).split("\n")[0]));
      assert.ok(values.length > 0 && values.length <= 200);
      for (const l of values) assert.doesNotMatch(l, /#\d/);
    });

    it("names the call stack in the hover of a value deep inside", async () => {
      const tanh = await view((v) => v.cy.nodes(".value").filter((n) => (n.data("label") as string).startsWith("tanh")).first().id());
      const at = await h.pagePosition(tanh);
      await h.page.mouse.move(at.x, at.y);
      await h.page.waitForSelector(".tooltip:not([hidden])");
      assert.match(await h.page.$eval("[data-field=stack]", (e) => e.textContent ?? ""), /^out = MLP\(\) › x = Layer\(\) › Neuron\(\)$/);
      assert.match(await h.page.$eval(".tooltip", (e) => e.textContent ?? ""), /demo\.py:53/);
    });
  });
});
