/**
 * Big graphs in the browser: a microgpt training step as the runner records it (call stacks),
 * opened level by level, searched, stepped; and the marks that keep the picture honest
 * (NaN origin, stale source), and the names a learner recognises.
 */
import { strict as assert } from "assert";
import type { Core } from "cytoscape";
import type { RunResult } from "../../src/protocol/result";
import { WebviewHarness, loadingText } from "./harness";
import { hostileGraph, mlpGraph, runnerGraph } from "./fixtures";

type ViewHandle = { cy: Core; step: number; current: { path: string[] }; timings: Record<string, number> };

describe("big graphs and honest marks (Chromium)", function () {
  this.timeout(180_000);
  const h = new WebviewHarness();
  let gpt: RunResult;
  before(async () => {
    await h.start();
    gpt = await runnerGraph("microgptStep");
  });
  after(() => h.stop());

  const view = <T>(fn: (v: ViewHandle) => T): Promise<T> => h.page.evaluate(`(${fn.toString()})(window.gradlensView)`) as Promise<T>;
  const groupLabels = (): Promise<string[]> => view((v) => v.cy.nodes(".group").map((n) => n.data("label") as string));
  const crumbs = (): Promise<string[]> => h.page.$$eval(".crumb", (cs) => cs.map((c) => c.textContent ?? ""));

  describe("a microgpt step (≈60k nodes)", () => {
    before(async () => {
      await h.open(undefined, { width: 600, height: 900 });
      const rendered = await h.show(gpt);
      assert.equal(rendered.grouped, true);
    });

    it("warms cytoscape off screen once after the first view, then leaves only the view's own canvas and elements", async () => {
      const before = await view((v) => v.cy.elements().map((e) => `${e.id()} ${e.data("label") as string}`).join("|"));
      const warming = await h.page.evaluate(() =>
        (window as unknown as { gradlensView: { stage: { warmed: Promise<void> } } }).gradlensView.stage.warmed.then(() => document.body.querySelectorAll(":scope > [aria-hidden=true]").length),
      );
      assert.equal(warming, 0, "the off-screen instance is removed");
      assert.equal(await h.page.$$eval("canvas", (cs) => cs.filter((c) => !c.closest("#graph") && !c.closest(".minimap")).length), 0, "no canvas outside the view");
      assert.equal(await view((v) => v.cy.elements().map((e) => `${e.id()} ${e.data("label") as string}`).join("|")), before, "the view's elements are untouched");
    });

    it("opens on the top level of its calls, and every level opens step by step (≤ 200 items) with a breadcrumb back", async () => {
      const top = await groupLabels();
      assert.ok(top.some((l) => l.startsWith("loss = documentLoss()")) && top.some((l) => l.startsWith("model = createModel()")), top.join(" / "));
      assert.deepEqual(await crumbs(), ["loss"]);
      // Double-click opens a group; its calls are inside.
      const doc = await view((v) => v.cy.nodes(".group").filter((n) => (n.data("label") as string).startsWith("loss = documentLoss()")).id());
      const at = await h.pagePosition(doc);
      await h.page.mouse.dblclick(at.x, at.y);
      await h.page.waitForFunction(() => document.querySelectorAll(".crumb").length === 2);
      const inside = await groupLabels();
      assert.ok(inside.some((l) => l.startsWith("logits = gpt() · call 1\n")), inside.join(" / "));
      let depth = 2;
      // Keep opening the biggest group: every level stays small, until single values.
      for (;;) {
        const elements = await view((v) => v.cy.nodes().length);
        assert.ok(elements <= 200, `${elements} nodes at depth ${depth}`);
        // A level wider than the panel shows its output end; the left edge cuts between columns, never through a node.
        const halfNodes = await view((v) => v.cy.nodes().filter((n) => n.renderedBoundingBox().x1 < 0 && n.renderedBoundingBox().x2 > 0).map((n) => (n.data("label") as string).split("\n")[0]));
        assert.deepEqual(halfNodes, [], `cut by the left edge at depth ${depth}`);
        const biggest = await view((v) => {
          const groups = v.cy.nodes(".group").sort((a, b) => (b.data("count") as number) - (a.data("count") as number));
          return groups.nonempty() ? (groups.first().data("group") as string) : undefined;
        });
        if (!biggest) break;
        await h.page.evaluate((key) => (window as unknown as { gradlensView: { openGroup(k: string): Promise<void> } }).gradlensView.openGroup(key), biggest);
        depth = (await crumbs()).length;
        assert.ok(depth < 15, "ends");
      }
      assert.ok(depth >= 4, `opened ${depth} levels`);
      assert.ok(await view((v) => v.cy.nodes(".value").length) > 0);
      // The breadcrumb goes back up to any level.
      await h.page.click(".crumb >> nth=0");
      await h.page.waitForFunction(() => document.querySelectorAll(".crumb").length === 1);
      assert.ok((await groupLabels()).some((l) => l.startsWith("loss = documentLoss()")));
    });

    it("finds values inside closed groups (relu, wte, logits, softmax) and opens the path to them", async () => {
      for (const q of ["relu", "wte", "logits", "softmax"]) {
        await h.page.click(".crumb >> nth=0");
        await h.page.fill("#search", q);
        await h.page.waitForFunction(() => /^1\/\d+$/.test(document.getElementById("search-count")?.textContent ?? ""));
        await h.page.focus("#search");
        await h.page.keyboard.press("Enter");
        await h.page.waitForFunction(() => (window as unknown as { gradlensView: ViewHandle }).gradlensView.cy.nodes(".value:selected").length === 1);
        const selected = await view((v) => v.cy.nodes(":selected").first().data("node") as number);
        assert.ok(typeof selected === "number", `${q}: a value is selected`);
        assert.ok((await crumbs()).length > 1, `${q}: its groups were opened`);
      }
      await h.page.fill("#search", "");
    });

    it("highlights the paths from a parameter to the loss", async () => {
      await h.page.click(".crumb >> nth=0");
      await view((v) => void v.cy.nodes(".group").filter((n) => (n.data("label") as string).startsWith("model = createModel()")).select());
      await h.page.click("#graph");
      await view((v) => void v.cy.nodes(".group").filter((n) => (n.data("label") as string).startsWith("model = createModel()")).select());
      await h.page.keyboard.press("p");
      const on = await view((v) => v.cy.nodes(".path").map((n) => n.data("label") as string));
      assert.ok(on.some((l) => l.startsWith("loss = documentLoss()")), on.join(" / "));
    });

    it("steps backprop group by group on a level, with the sum of what flowed", async () => {
      await h.page.click(".crumb >> nth=0");
      const count = await h.page.$eval("#step-label", (e) => Number((e.textContent ?? "").split("/")[1]));
      assert.ok(count > 0 && count < 10, `${count} steps at the top level, not one per node`);
      await h.page.click("#step");
      await h.page.click("#step");
      const trace = await h.page.$eval("#trace", (e) => e.textContent ?? "");
      assert.match(trace, /grads pushed, sum/);
      assert.doesNotMatch(trace, /#\d/);
      await h.page.click("#reset");
    });

    it("shows a level opened again (prepared ahead, then kept) as it showed it the first time, with the step's marks", async () => {
      await h.page.click(".crumb >> nth=0");
      // Down to a level of values, the biggest group each time.
      let key: string | undefined;
      for (let depth = 0; depth < 12; depth++) {
        const biggest = await view((v) => {
          const groups = v.cy.nodes(".group").sort((a, b) => (b.data("count") as number) - (a.data("count") as number));
          return groups.nonempty() ? (groups.first().data("group") as string) : undefined;
        });
        if (!biggest) break;
        key = biggest;
        await h.page.evaluate((k) => (window as unknown as { gradlensView: { openGroup(k: string): Promise<void> } }).gradlensView.openGroup(k), biggest);
      }
      assert.ok(key, "a level of values");
      // One forward step: every value after the first is not known yet (a mark on each label and class).
      const mode = (m: string) => h.page.evaluate(`window.gradlensView.playback.setMode("${m}", window.gradlensView.stage.level)`);
      await mode("forward");
      await h.page.click("#step");
      const look = () => view((v) => v.cy.nodes(".value").map((n) => `${n.id()} ${n.data("label") as string} ${n.hasClass("anim-hidden")}`).sort());
      const first = await look();
      assert.ok(first.some((l) => l.endsWith(" true")), "values marked as not known yet");
      await h.page.click(".crumb >> nth=-2");
      await h.page.evaluate((k) => (window as unknown as { gradlensView: { openGroup(k: string): Promise<void> } }).gradlensView.openGroup(k), key as string);
      assert.deepEqual(await look(), first);
      await mode("backward");
    });

    it("keeps the open path and the view across hide/show", async () => {
      const doc = await view((v) => v.cy.nodes(".group").filter((n) => (n.data("label") as string).startsWith("loss = documentLoss()")).data("group") as string);
      await h.page.evaluate((key) => (window as unknown as { gradlensView: { openGroup(k: string): Promise<void> } }).gradlensView.openGroup(key), doc);
      const path = await view((v) => v.current.path);
      await h.page.waitForTimeout(300);
      await h.reload();
      await h.show(gpt);
      assert.deepEqual(await view((v) => v.current.path), path);
    });
  });

  it("marks where a NaN started differently from the nodes it flowed into", async () => {
    await h.open();
    const result = hostileGraph();
    // zero.log() = -Infinity (node 1) is the origin; bad.mul(2) only carries it on.
    result.nonFinite = { field: "data", value: -Infinity, op: "log", root: 0, id: 1, message: "log(0)" };
    await h.show(result);
    const marks = await view((v) => v.cy.nodes(".value").map((n) => ({ id: n.id(), origin: n.hasClass("origin"), nonfinite: n.hasClass("nonfinite"), border: `${n.style("border-style")} ${n.style("border-width")}` })));
    const origin = marks.filter((m) => m.origin);
    assert.deepEqual(origin.map((m) => m.id), ["n1"]);
    const carried = marks.find((m) => m.id === "n2");
    assert.ok(carried?.nonfinite && !carried.origin);
    assert.notEqual(carried.border, origin[0].border);
    // The |grad| colours have no red: the NaN colour stays the NaN mark's.
    const ramp = await h.page.$$eval(".legend-ramp .swatch", (s) => s.map((e) => getComputedStyle(e).backgroundColor));
    const nan = await view((v) => v.cy.getElementById("n1").style("border-color") as string);
    assert.ok(!ramp.includes(nan), `${nan} in ${ramp.join(" ")}`);
    assert.match(await h.page.$eval(".nonfinite-item.origin", (e) => e.textContent ?? ""), /origin/);
  });

  it("shows that the graph is stale after the source changed, until the next run", async () => {
    await h.open();
    const result = hostileGraph();
    await h.show(result);
    assert.equal(await h.page.$eval(".stale-banner", (e) => (e as HTMLElement).hidden), true);
    await h.send({ type: "stale", stale: true });
    assert.equal(await h.page.$eval(".stale-banner", (e) => (e as HTMLElement).hidden), false);
    assert.equal(await h.page.$eval("#graph", (e) => e.classList.contains("stale")), true);
    await h.show(result);
    assert.equal(await h.page.$eval(".stale-banner", (e) => (e as HTMLElement).hidden), true);
  });

  it("says the graph is coming from the moment the page opens (not a blank panel), until a graph or a message is in", async () => {
    await h.open();
    assert.equal(await h.page.$eval(".drawing-banner", (e) => (e as HTMLElement).hidden), false);
    assert.equal(await h.page.$eval(".drawing-banner", (e) => e.textContent), loadingText);
    await h.show(hostileGraph());
    assert.equal(await h.page.$eval(".drawing-banner", (e) => (e as HTMLElement).hidden), true);
    // A run with no graph: its message replaces the mark.
    await h.open();
    await h.show(mlpGraph(500), { nodeLimit: 100 });
    assert.equal(await h.page.$eval(".drawing-banner", (e) => (e as HTMLElement).hidden), true);
  });

  it("says which graph it is drawing while a big one is built over the previous one, and drops the mark once it is drawn", async () => {
    await h.open();
    await h.show(hostileGraph());
    // What the mark said, and whether the old graph was dimmed, each time it changed before the new graph was drawn.
    await h.page.evaluate(() => {
      const seen: { text: string; dimmed: boolean }[] = [];
      (window as unknown as { __drawing: typeof seen }).__drawing = seen;
      const banner = document.querySelector(".drawing-banner") as HTMLElement;
      new MutationObserver(() => {
        if (!banner.hidden) seen.push({ text: banner.textContent ?? "", dimmed: document.getElementById("graph")?.classList.contains("drawing") ?? false });
      }).observe(banner, { attributes: true, childList: true, characterData: true, subtree: true });
    });
    const big = gpt;
    const nodes = big.roots[0].graph.nodeCount;
    assert.ok(nodes >= 3000, `${nodes} nodes`);
    await h.show(big);
    const seen = await h.page.evaluate(() => (window as unknown as { __drawing: { text: string; dimmed: boolean }[] }).__drawing);
    assert.ok(seen.length > 0, "no drawing mark was shown");
    assert.equal(seen[0].text, `Drawing ${big.roots[0].name}: ${nodes.toLocaleString("en-US")} nodes…`);
    assert.ok(seen[0].dimmed, "the previous graph was not dimmed under the mark");
    assert.equal(await h.page.$eval(".drawing-banner", (e) => (e as HTMLElement).hidden), true);
    assert.equal(await h.page.$eval("#graph", (e) => e.classList.contains("drawing")), false);
    // A small graph is drawn at once, with no mark.
    await h.page.evaluate(() => void ((window as unknown as { __drawing: unknown[] }).__drawing.length = 0));
    await h.show(hostileGraph());
    assert.deepEqual(await h.page.evaluate(() => (window as unknown as { __drawing: unknown[] }).__drawing), []);
  });

  it("names nodes as the program does: expressions, constants, variables — never an internal id", async () => {
    await h.open();
    const mlp = await runnerGraph("mlp");
    await h.show(mlp);
    const labels = await view((v) => v.cy.nodes(".value").map((n) => (n.data("label") as string).split("\n")[0]));
    for (const l of labels) assert.doesNotMatch(l, /#\d/);
    assert.ok(labels.includes("this.w[i].mul(x[i])"), labels.join(" / "));
    assert.ok(labels.includes("loss") && labels.includes("act"));
    // The bias leaves (0.5) held `act` only before act was reassigned: they are not called act.
    const biases = await view((v) => v.cy.nodes(".value.leaf").filter((n) => (n.data("label") as string).includes("data 0.5000")).map((n) => (n.data("label") as string).split("\n")[0]));
    assert.equal(biases.length, 4);
    for (const b of biases) assert.notEqual(b, "act");
    // Hover: the call stack that made it, named as the program names it.
    const tanh = await view((v) => v.cy.nodes(".value").filter((n) => n.incomers("node.op").some((o) => o.data("label") === "tanh")).first().id());
    await h.page.evaluate((id) => void (window as unknown as { gradlensView: ViewHandle }).gradlensView.cy.center((window as unknown as { gradlensView: ViewHandle }).gradlensView.cy.getElementById(id)), tanh);
    const at = await h.pagePosition(tanh);
    await h.page.mouse.move(at.x, at.y);
    await h.page.waitForSelector(".tooltip:not([hidden])");
    const tip = await h.page.$eval(".tooltip", (e) => (e as HTMLElement).innerText);
    assert.match(tip, /Layer\.call\(\).*Neuron\.call\(\)/s);
    assert.doesNotMatch(tip, /#\d/);
  });
});
