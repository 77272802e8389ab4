/**
 * The runner's costs (`npm run bench -- runner`):
 *  1. one microgpt training step with source tracking, timed inside the worker, against the same
 *     step run directly on the engine in this process (goal: ≤ 1.5×), and against the worker
 *     without tracking; worker startup and bundling are reported on their own;
 *  2. a 1,000,001-node graph captured in the worker and transferred to the caller: time and peak memory.
 */
import * as path from "node:path";
import { existsSync, readFileSync } from "node:fs";
import { buildSync } from "esbuild";
import { mulberry32 } from "../src/engine";
import { runFile } from "../src/runner";
import { createModel, shuffle, trainStep } from "../examples/microgpt/model";

const root = path.resolve(__dirname, "..");
const fixture = (name: string) => path.join(root, "test", "fixtures", "runner", name);
const STEPS = 30;
const WARMUP = 10;

// The worker must be a real bundle, built the way scripts/build.mjs builds it.
const workerFile = path.join(root, "out", "bench-runner", "runnerWorker.js");
buildSync({ entryPoints: [path.join(root, "src", "runner", "worker.ts")], outfile: workerFile, bundle: true, platform: "node", format: "cjs", target: "es2022", external: ["esbuild"], logLevel: "error" });
process.env.GRADLENS_RUNNER_WORKER = workerFile;
const sharedNames = path.resolve(root, "..", "shared", "data", "names.txt");
process.env.GRADLENS_BENCH_NAMES = existsSync(sharedNames) ? sharedNames : "";
process.env.GRADLENS_BENCH_STEPS = String(STEPS);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** The same steps as the fixture, directly on the engine in this process. */
function directSteps(): number[] {
  const namesFile = process.env.GRADLENS_BENCH_NAMES || path.join(root, "examples", "names.txt");
  const docs = readFileSync(namesFile, "utf8").split("\n").map((l) => l.trim()).filter((l) => l.length > 0);
  shuffle(docs, mulberry32(42));
  const model = createModel({ docs, seed: 42 });
  const stepMs: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const started = performance.now();
    trainStep(model, docs[step % docs.length], step, STEPS);
    stepMs.push(performance.now() - started);
  }
  return stepMs;
}

async function workerSteps(sourceTracking: boolean) {
  const result = await runFile(fixture("microgptSteps.grad.ts"), { sourceTracking, timeLimitMs: 300_000 });
  if (result.error) throw new Error(`${result.error.message} at ${result.error.position?.file}:${result.error.position?.line}`);
  const line = result.console.find((c) => c.text.startsWith("{"));
  const { stepMs } = JSON.parse(line!.text) as { stepMs: number[] };
  return { stepMs, stats: result.stats, nodes: result.stats.nodeCount, sites: result.sites.length };
}

async function main() {
  console.log(`microgpt: ${STEPS} training steps per variant and round, steps ${WARMUP + 1}–${STEPS} timed (after JIT warm-up)`);
  const rounds = 3;
  const direct: number[][] = [];
  const tracked: number[][] = [];
  const untracked: number[][] = [];
  let trackedRun: Awaited<ReturnType<typeof workerSteps>> | undefined;
  // Interleaved rounds, so machine noise hits every variant alike; step i trains on the same name in
  // every variant, so each step's best time over the rounds is compared, then summed.
  for (let r = 0; r < rounds; r++) {
    direct.push(directSteps());
    trackedRun = await workerSteps(true);
    tracked.push(trackedRun.stepMs);
    untracked.push((await workerSteps(false)).stepMs);
  }
  const perStep = (runs: number[][]) => {
    let total = 0;
    for (let i = WARMUP; i < STEPS; i++) total += Math.min(...runs.map((run) => run[i]));
    return total / (STEPS - WARMUP);
  };
  const rows = [
    ["direct on the engine (this process)", perStep(direct)],
    ["runner, worker, no source tracking", perStep(untracked)],
    ["runner, worker, source tracking", perStep(tracked)],
  ] as const;
  for (const [name, t] of rows) console.log(`  ${name.padEnd(40)} ${ms(t)} per step`);
  const ratio = perStep(tracked) / perStep(direct);
  console.log(`  ratio tracked / direct: ${ratio.toFixed(2)}× (goal ≤ 1.5×) ${ratio <= 1.5 ? "ok" : "OVER"}`);
  console.log(`  ratio tracked / worker without tracking: ${(perStep(tracked) / perStep(untracked)).toFixed(2)}×`);
  console.log(`  (median per step, for reference: direct ${ms(median(direct.flatMap((r) => r.slice(WARMUP))))}, tracked ${ms(median(tracked.flatMap((r) => r.slice(WARMUP))))})`);
  const s = trackedRun!.stats;
  console.log(`  bundling + instrumenting: ${ms(s.bundleMs ?? 0)}; worker startup: ${ms(s.startupMs ?? 0)}; last step's graph: ${trackedRun!.nodes.toLocaleString("en-US")} nodes, ${trackedRun!.sites} sites`);

  // --- a million nodes ------------------------------------------------------------------
  let peakRss = process.memoryUsage().rss;
  const rssBefore = peakRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 10);
  const started = performance.now();
  const big = await runFile(fixture("million.grad.ts"), { timeLimitMs: 300_000 });
  const total = performance.now() - started;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  if (big.error) throw new Error(big.error.message);
  const g = big.roots[0].graph;
  const bytes = [g.op, g.data, g.grad, g.site, g.childStart, g.child, g.localGrad].reduce((n, a) => n + a.byteLength, 0);
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
  console.log(`\n1,000,001-node graph (runner, source tracking on): ${g.nodeCount.toLocaleString("en-US")} nodes captured`);
  console.log(`  total ${ms(total)} = bundling ${ms(big.stats.bundleMs ?? 0)} + worker startup ${ms(big.stats.startupMs ?? 0)} + build, backward and snapshot in the worker ${ms(big.stats.executeMs ?? 0)} + transfer and mapping ${ms(total - (big.stats.bundleMs ?? 0) - (big.stats.startupMs ?? 0) - (big.stats.executeMs ?? 0))}`);
  console.log(`  snapshot arrays ${mb(bytes)} (transferred, not copied); worker heap after capture ${big.stats.workerHeapMb?.toFixed(0)} MB; process RSS ${mb(rssBefore)} → peak ${mb(peakRss)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
