/**
 * The runner's costs (`npm run bench -- runner`):
 *  1. one microgpt training step with source tracking, timed inside the worker, against the same
 *     step run directly on the engine in this process (goal: ≤ 1.5×), and against the worker
 *     without tracking; worker startup and bundling are reported on their own;
 *  2. a 1,000,001-node graph captured in the worker and transferred to the caller: time and peak memory.
 */
import * as path from "node:path";
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { buildSync } from "esbuild";
import { runFile } from "../src/runner";

const root = path.resolve(__dirname, "..");
const fixture = (name: string) => path.join(root, "test", "fixtures", "runner", name);
const STEPS = 40;
const WARMUP = 15;

// The worker must be a real bundle, built the way scripts/build.mjs builds it.
const workerFile = path.join(root, "out", "bench-runner", "runnerWorker.js");
buildSync({ entryPoints: [path.join(root, "src", "runner", "worker.ts")], outfile: workerFile, bundle: true, platform: "node", format: "cjs", target: "es2022", external: ["esbuild"], logLevel: "error" });
process.env.GRADLENS_RUNNER_WORKER = workerFile;
const sharedNames = path.resolve(root, "..", "shared", "data", "names.txt");
process.env.GRADLENS_BENCH_NAMES = existsSync(sharedNames) ? sharedNames : "";
process.env.GRADLENS_BENCH_STEPS = String(STEPS);

const ms = (x: number) => `${x.toFixed(1)} ms`;

/**
 * The same steps as the fixture, directly on the engine: the fixture's code bundled without the
 * runner (no worker, no instrumentation) and run by plain `node` in a fresh process, so its JIT
 * starts as cold as the worker's does.
 */
const directScript = path.join(root, "out", "bench-runner", "microgptDirect.js");
buildSync({
  stdin: { contents: readFileSync(fixture("microgptSteps.grad.ts"), "utf8"), resolveDir: path.dirname(fixture("microgptSteps.grad.ts")), sourcefile: "microgptSteps.grad.ts", loader: "ts" },
  alias: { gradlens: path.join(root, "src", "engine", "index.ts") },
  define: { __dirname: JSON.stringify(path.dirname(fixture("microgptSteps.grad.ts"))) },
  outfile: directScript,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "es2022",
  logLevel: "error",
});
interface StepTimes {
  stepMs: number[];
  cpuMs: number[];
}

function directSteps(): StepTimes {
  const run = spawnSync(process.execPath, [directScript], { encoding: "utf8", env: process.env });
  if (run.status !== 0) throw new Error(`direct run failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split("\n").pop()!) as StepTimes;
}

async function workerSteps(sourceTracking: boolean) {
  const result = await runFile(fixture("microgptSteps.grad.ts"), { sourceTracking, timeLimitMs: 300_000 });
  if (result.error) throw new Error(`${result.error.message} at ${result.error.position?.file}:${result.error.position?.line}`);
  const line = result.console.find((c) => c.text.startsWith("{"));
  return { times: JSON.parse(line!.text) as StepTimes, stats: result.stats, nodes: result.stats.nodeCount, sites: result.sites.length };
}

async function main() {
  console.log(`microgpt: ${STEPS} training steps per variant and round, steps ${WARMUP + 1}–${STEPS} timed (after JIT warm-up)`);
  const rounds = 5;
  const direct: StepTimes[] = [];
  const tracked: StepTimes[] = [];
  const untracked: StepTimes[] = [];
  let trackedRun: Awaited<ReturnType<typeof workerSteps>> | undefined;
  // Interleaved rounds, so machine noise hits every variant alike; each variant's best round counts.
  for (let r = 0; r < rounds; r++) {
    direct.push(directSteps());
    trackedRun = await workerSteps(true);
    tracked.push(trackedRun.times);
    untracked.push((await workerSteps(false)).times);
  }
  /** Mean time of the timed steps in a variant's best round. */
  const perStep = (runs: StepTimes[], field: keyof StepTimes) =>
    Math.min(...runs.map((run) => run[field].slice(WARMUP).reduce((a, b) => a + b, 0))) / (STEPS - WARMUP);
  console.log(`  ${"".padEnd(40)} ${"wall".padStart(9)} ${"CPU".padStart(9)}  (per step, best of ${rounds} rounds)`);
  const rows = [
    ["direct on the engine (plain node)", direct],
    ["runner, worker, no source tracking", untracked],
    ["runner, worker, source tracking", tracked],
  ] as const;
  for (const [name, runs] of rows) console.log(`  ${name.padEnd(40)} ${ms(perStep(runs, "stepMs")).padStart(9)} ${ms(perStep(runs, "cpuMs")).padStart(9)}`);
  for (const field of ["stepMs", "cpuMs"] as const) {
    const ratio = perStep(tracked, field) / perStep(direct, field);
    const what = field === "stepMs" ? "wall" : "CPU";
    console.log(`  ${what} ratio tracked / direct: ${ratio.toFixed(2)}× (goal ≤ 1.5×) ${ratio <= 1.5 ? "ok" : "OVER"}; tracked / worker without tracking: ${(perStep(tracked, field) / perStep(untracked, field)).toFixed(2)}×`);
  }
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
