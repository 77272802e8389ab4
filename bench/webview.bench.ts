/**
 * The graph view's time to first full render, in headless Chromium, for a 1k-node graph,
 * a 10k-node graph (grouped by default, and once drawn node by node), and one microgpt
 * training step (~60k nodes, grouped). Timed inside the page from the moment the message's
 * JSON is parsed (what VS Code hands the webview) to the "rendered" report (first frame drawn).
 * Then the frame time while zooming and panning the microgpt view.
 *
 *   npm run bench:webview      (or `npm run bench -- webview`)
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { WebviewHarness, testStrings } from "../test/webview/harness";
import { microgptGraph, mlpGraph } from "../test/webview/fixtures";
import { toWireResult, type HostMessage } from "../src/protocol/messages";
import type { RunResult } from "../src/protocol/result";

const repeats = 3;

function showMessage(result: RunResult, groupThreshold: number): string {
  const message: HostMessage = {
    type: "showGraph",
    result: toWireResult(result),
    rootIndex: 0,
    strings: testStrings,
    settings: { groupThreshold, nodeLimit: 200_000 },
  };
  return JSON.stringify(message);
}

// The in-page code is written as source text: tsx would wrap named inner functions in a
// helper (`__name`) that does not exist in the page.
const renderTimer = `new Promise((done) => {
  const before = window.__posted.length;
  const started = performance.now();
  const poll = () => {
    const rendered = window.__posted.slice(before).find((m) => m.type === "rendered");
    if (rendered) done({ ms: performance.now() - started, elements: rendered.elementCount, grouped: rendered.grouped, timings: window.gradlensView?.timings ?? {} });
    else setTimeout(poll, 5);
  };
  window.postMessage(JSON.parse(window.__message), "*");
  poll();
})`;

/** Milliseconds from JSON.parse of the message to the view's "rendered" report. */
interface RenderTime {
  ms: number;
  elements: number;
  grouped: boolean;
  timings: Record<string, number>;
}

async function timeRender(h: WebviewHarness, json: string): Promise<RenderTime> {
  await h.open();
  await h.page.evaluate((text) => ((window as unknown as { __message: string }).__message = text), json);
  return h.page.evaluate(renderTimer) as Promise<RenderTime>;
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
      cy.zoom({ level: cy.zoom() * (k % 40 < 20 ? 1.03 : 1 / 1.03), renderedPosition: { x: 400, y: 300 } });
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

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, [resolve(__dirname, "../scripts/build.mjs"), "--only=webview", "--production"], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("webview build failed");
  const only = process.argv[2];
  const all: { name: string; result: RunResult; groupThreshold: number }[] = [
    { name: "1k nodes (mlp)", result: mlpGraph(1000), groupThreshold: 1500 },
    { name: "10k nodes (mlp, grouped)", result: mlpGraph(10_000), groupThreshold: 1500 },
    { name: "10k nodes (mlp, node by node)", result: mlpGraph(10_000), groupThreshold: 1e9 },
    { name: "microgpt step (grouped)", result: await microgptGraph("sophia"), groupThreshold: 1500 },
  ];
  const cases = only ? all.filter((c) => c.name.includes(only)) : all;
  const h = new WebviewHarness();
  await h.start();
  const rows: string[] = [];
  try {
    for (const c of cases) {
      const json = showMessage(c.result, c.groupThreshold);
      const runs = [];
      for (let r = 0; r < repeats; r++) runs.push(await timeRender(h, json));
      const nodes = c.result.roots[0].graph.nodeCount;
      const m = median(runs.map((x) => x.ms));
      rows.push(
        `${c.name.padEnd(32)} ${String(nodes).padStart(6)} nodes  ${String(runs[0].elements).padStart(6)} elements  ` +
          `${(json.length / 1e6).toFixed(1).padStart(5)} MB  first render ${m.toFixed(0).padStart(5)} ms (median of ${repeats}: ${runs.map((x) => x.ms.toFixed(0)).join(", ")})`,
      );
      console.log(rows[rows.length - 1]);
      const phases = Object.entries(runs[runs.length - 1].timings).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ");
      rows.push(`${"".padEnd(32)} phases (ms): ${phases}`);
      console.log(rows[rows.length - 1]);
      if (c.name.startsWith("microgpt") || c.name.includes("node by node")) {
        const frames = await panZoomFrames(h, 120);
        rows.push(`${"".padEnd(32)} pan+zoom: mean frame ${frames.mean.toFixed(1)} ms, worst ${frames.worst.toFixed(1)} ms`);
        console.log(rows[rows.length - 1]);
      }
    }
  } finally {
    await h.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
