/**
 * The graph view's speed, in headless Chromium at the default split's panel size (600 px wide):
 * time to the first view drawn (what the user reads first: the view draws what it shows before
 * the rest of a big level, which follows in slices) and to the last element drawn, for a 1k-node graph, a 10k-node graph (grouped by default, and once
 * drawn node by node), and one microgpt training step as the runner records it (~60k nodes, grouped
 * by call); for the microgpt step also the time to open groups (the biggest on screen, level by level down
 * to single values) and to search, and the
 * frame time while zooming and panning. Timed inside the page from the moment the message arrives
 * (structured-cloned, as VS Code's postMessage hands it over) to the "rendered" report (first frame drawn).
 *
 * Then the extension host's side for a 136k-node graph: the old JSON wire conversion (baseline) against
 * the typed-array message and the lazy binary copy for window reload.
 *
 *   npm run bench:webview      (or `npm run bench -- webview`)
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { WebviewHarness, testStrings } from "../test/webview/harness";
import { mlpGraph, runnerGraph } from "../test/webview/fixtures";
import { toWireResult, type HostMessage } from "../src/protocol/messages";
import { encodeGraphs } from "../src/extension/graphStore";
import { snapshotToJson } from "../src/engine";
import type { RunResult } from "../src/protocol/result";

const repeats = 5;
const panel = { width: 600, height: 900 };
/** A learner's pause before opening a group: reading the level, finding the group, double-clicking. */
const readingMs = 1000;

function showMessage(result: RunResult, groupThreshold: number): HostMessage {
  return { type: "showGraph", result: toWireResult(result), rootIndex: 0, strings: testStrings, settings: { groupThreshold, nodeLimit: 200_000 } };
}

// In-page code as source text: tsx would wrap named inner functions in a helper the page lacks.
const renderTimer = `new Promise((done) => {
  const before = window.__posted.length;
  const started = performance.now();
  const poll = () => {
    const rendered = window.__posted.slice(before).find((m) => m.type === "rendered");
    if (rendered) done({ ms: performance.now() - started, firstPaint: rendered.firstPaintMs ?? rendered.ms, elements: rendered.elementCount, grouped: rendered.grouped, timings: window.gradlensView?.timings ?? {} });
    else setTimeout(poll, 5);
  };
  window.postMessage(window.__message, "*");
  poll();
})`;

interface RenderTime {
  ms: number;
  firstPaint: number;
  elements: number;
  grouped: boolean;
  timings: Record<string, number>;
}

async function timeRender(h: WebviewHarness, message: HostMessage): Promise<RenderTime> {
  await h.open(undefined, panel);
  await h.page.evaluate((m) => ((window as unknown as { __message: unknown }).__message = m), message as unknown as Record<string, unknown>);
  return h.page.evaluate(renderTimer) as Promise<RenderTime>;
}

/**
 * Opening groups as a learner does, from the first view down to single values: each time the
 * biggest group on screen, in a fresh page (so the first open is the cold one a user meets).
 * Each open is timed until the view reports its level drawn — `openGroup` resolves at the frame
 * after the one that drew it, the same rule as the first view's time — then a search. Before each
 * open the bench waits as a learner does (`readingMs`: finding the group and double-clicking it
 * takes at least that long); the open itself is never one the bench forced earlier.
 */
async function timeOpensAndSearch(h: WebviewHarness): Promise<{ opens: { ms: number; elements: number }[]; search: number; hits: number }> {
  return h.page.evaluate(`(async () => {
    const v = window.gradlensView;
    const opens = [];
    for (let depth = 0; depth < 8; depth++) {
      await new Promise((done) => setTimeout(done, ${readingMs}));
      const groups = v.cy.nodes(".group").sort((a, b) => b.data("count") - a.data("count"));
      if (groups.empty()) break;
      const started = performance.now();
      await v.openGroup(groups.first().data("group"));
      opens.push({ ms: performance.now() - started, elements: v.cy.elements().length });
    }
    const s = performance.now();
    const hits = v.search("relu", false);
    const search = performance.now() - s;
    return { opens, search, hits };
  })()`) as Promise<{ opens: { ms: number; elements: number }[]; search: number; hits: number }>;
}

/** Mean and worst frame time over `frames` animation frames, zooming and panning every frame. */
async function panZoomFrames(h: WebviewHarness, frames: number): Promise<{ mean: number; worst: number }> {
  return h.page.evaluate(`new Promise((done) => {
    const cy = window.gradlensView.cy;
    const times = [];
    let last = performance.now();
    let k = 0;
    const frame = () => {
      const now = performance.now();
      times.push(now - last);
      last = now;
      cy.zoom({ level: cy.zoom() * (k % 40 < 20 ? 1.03 : 1 / 1.03), renderedPosition: { x: 300, y: 400 } });
      cy.panBy({ x: k % 20 < 10 ? 7 : -7, y: 3 });
      if (++k < ${frames}) requestAnimationFrame(frame);
      else {
        const steady = times.slice(2);
        done({ mean: steady.reduce((a, b) => a + b, 0) / steady.length, worst: Math.max(...steady) });
      }
    };
    requestAnimationFrame(frame);
  })`) as Promise<{ mean: number; worst: number }>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeHost(label: string, runs: number, fn: () => unknown): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, [resolve(__dirname, "../scripts/build.mjs"), "--only=webview", "--production"], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("webview build failed");
  const only = process.argv[2];
  const all: { name: string; result: () => Promise<RunResult> | RunResult; groupThreshold: number }[] = [
    { name: "1k nodes (mlp)", result: () => mlpGraph(1000), groupThreshold: 1500 },
    { name: "10k nodes (mlp, grouped)", result: () => mlpGraph(10_000), groupThreshold: 1500 },
    { name: "10k nodes (mlp, node by node)", result: () => mlpGraph(10_000), groupThreshold: 1e9 },
    { name: "microgpt step (grouped by call)", result: () => runnerGraph("microgptStep"), groupThreshold: 1500 },
  ];
  const cases = only ? all.filter((c) => c.name.includes(only)) : all;
  const h = new WebviewHarness();
  await h.start();
  try {
    for (const c of cases) {
      const result = await c.result();
      const message = showMessage(result, c.groupThreshold);
      const runs: RenderTime[] = [];
      for (let r = 0; r < repeats; r++) runs.push(await timeRender(h, message));
      const nodes = result.roots[0].graph.nodeCount;
      const m = median(runs.map((x) => x.ms));
      const first = median(runs.map((x) => x.firstPaint));
      const ratio = median(runs.map((x) => x.firstPaint / x.ms));
      console.log(`${c.name.padEnd(34)} ${String(nodes).padStart(6)} nodes ${String(runs[0].elements).padStart(6)} elements  first view ${first.toFixed(0).padStart(5)} ms, all drawn ${m.toFixed(0).padStart(5)} ms (first/all ${ratio.toFixed(2)}×; medians of ${repeats}: ${runs.map((x) => x.ms.toFixed(0)).join(", ")})`);
      console.log(`${"".padEnd(34)} phases (ms): ${Object.entries(runs[runs.length - 1].timings).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ")}`);
      if (c.name.startsWith("microgpt")) {
        const walks: Awaited<ReturnType<typeof timeOpensAndSearch>>[] = [];
        for (let r = 0; r < repeats; r++) {
          await timeRender(h, message);
          walks.push(await timeOpensAndSearch(h));
        }
        const depth = Math.min(...walks.map((w) => w.opens.length));
        const perLevel = Array.from({ length: depth }, (_, d) => median(walks.map((w) => w.opens[d].ms)));
        const sizes = walks[0].opens.slice(0, depth).map((o) => o.elements);
        console.log(`${"".padEnd(34)} open the biggest group, level by level down to values (elements): ${perLevel.map((ms, d) => `${ms.toFixed(0)} ms (${sizes[d]})`).join(", ")}; median ${median(perLevel).toFixed(0)} ms, worst ${Math.max(...perLevel).toFixed(0)} ms (first open, fresh page: ${walks.map((w) => w.opens[0].ms.toFixed(0)).join(", ")})`);
        console.log(`${"".padEnd(34)} search "relu" ${median(walks.map((w) => w.search)).toFixed(0)} ms (${walks[0].hits} hits) (medians of ${repeats})`);
      }
      if (c.name.startsWith("microgpt") || c.name.includes("node by node")) {
        const frames = await panZoomFrames(h, 120);
        console.log(`${"".padEnd(34)} pan+zoom: mean frame ${frames.mean.toFixed(1)} ms (${(1000 / frames.mean).toFixed(0)} fps), worst ${frames.worst.toFixed(1)} ms`);
      }
    }
  } finally {
    await h.stop();
  }
  if (!only || "host".includes(only)) {
    const big = mlpGraph(136_000);
    const n = big.roots[0].graph.nodeCount;
    // Baseline: the old wire format (every column as a JSON array) and its JSON text.
    const baseline = timeHost("json", 5, () => JSON.stringify(snapshotToJson(big.roots[0].graph)));
    const wire = timeHost("wire", 5, () => toWireResult(big));
    const store = timeHost("store", 5, () => encodeGraphs(toWireResult(big)));
    console.log(`host, ${n} nodes: old JSON wire ${baseline.toFixed(0)} ms (baseline); typed-array message ${wire.toFixed(1)} ms (${(wire / baseline).toFixed(3)}×); ` +
      `lazy binary copy for reload ${store.toFixed(0)} ms (${(store / baseline).toFixed(2)}×, written 3 s after the last run) (medians of 5)`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
