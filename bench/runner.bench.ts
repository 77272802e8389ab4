/**
 * The runner's costs (`npm run bench -- runner`), as ratios against plain `node` measured in the
 * same run, medians of repeats:
 *  1. start-up: a one-line program through runFile (bundle + child start + first value + result)
 *     against `node` starting and running the same line; and the child's own start-up (spawn until
 *     the user's code runs). Goal: the child costs ≤ 80 ms.
 *  2. one microgpt training step with source tracking, timed inside the run, against the same step
 *     run directly on the engine by plain `node` (goal ≤ 1.25×);
 *  3. a 1,000,001-node graph captured in the child and sent to the caller: time and caller memory.
 */
import * as path from "node:path";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import { spawnSync } from "node:child_process";
import { buildSync } from "esbuild";
import { runFile } from "../src/runner";

const root = path.resolve(__dirname, "..");
const fixture = (name: string) => path.join(root, "test", "fixtures", "runner", name);
const STEPS = 30;
const WARMUP = 10;
const ROUNDS = 5;
const STARTS = 9;

// The child's script must be a real bundle, built the way scripts/build.mjs builds it.
const workerFile = path.join(root, "out", "bench-runner", "runnerWorker.js");
buildSync({ entryPoints: [path.join(root, "src", "runner", "worker.ts")], outfile: workerFile, bundle: true, platform: "node", format: "cjs", target: "es2022", external: ["esbuild"], logLevel: "error" });
process.env.GRADLENS_RUNNER_WORKER = workerFile;
const sharedNames = path.resolve(root, "..", "shared", "data", "names.txt");
process.env.GRADLENS_BENCH_NAMES = existsSync(sharedNames) ? sharedNames : "";
process.env.GRADLENS_BENCH_STEPS = String(STEPS);

const ms = (x: number) => `${x.toFixed(1)} ms`;
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** A file bundled with the engine and no runner, for plain `node` (its JIT as cold as the child's). */
function directScript(source: string, sourcefile: string, outfile: string): string {
  buildSync({
    stdin: { contents: source, resolveDir: path.dirname(sourcefile), sourcefile: path.basename(sourcefile), loader: "ts" },
    alias: { gradlens: path.join(root, "src", "engine", "index.ts") },
    define: { __dirname: JSON.stringify(path.dirname(sourcefile)) },
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "es2022",
    logLevel: "error",
  });
  return outfile;
}

// --- 1. start-up ------------------------------------------------------------------------------
async function startup(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gradlens-bench-"));
  const source = 'import { Value } from "gradlens";\nconst x = new Value(2);\nconsole.log(x.data);\n';
  const file = path.join(dir, "first.grad.ts");
  writeFileSync(file, source);
  const plain = directScript(source, file, path.join(root, "out", "bench-runner", "first.js"));
  const node: number[] = [];
  const runner: number[] = [];
  const child: number[] = [];
  const bundle: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    let started = performance.now();
    const run = spawnSync(process.execPath, [plain], { encoding: "utf8" });
    if (run.stdout.trim() !== "2") throw new Error(`plain node printed ${run.stdout}`);
    node.push(performance.now() - started);
    started = performance.now();
    const result = await runFile(file);
    if (result.console[0]?.text !== "2") throw new Error(`the runner printed ${JSON.stringify(result.console)}: ${result.error?.message}`);
    runner.push(performance.now() - started);
    child.push(result.stats.startupMs ?? NaN);
    bundle.push(result.stats.bundleMs ?? NaN);
  }
  console.log(`start-up of a one-line program (median of ${STARTS}):`);
  console.log(`  plain node (spawn, run, exit)                  ${ms(median(node)).padStart(9)}`);
  console.log(`  runner: runFile until the result is back       ${ms(median(runner)).padStart(9)}  (${(median(runner) / median(node)).toFixed(2)}× plain node)`);
  console.log(`    of which bundling + instrumenting            ${ms(median(bundle)).padStart(9)}`);
  const childMs = median(child);
  console.log(`    of which the child's start-up and hand-back  ${ms(childMs).padStart(9)}  (${(childMs / median(node)).toFixed(2)}× plain node's whole run; goal ≤ 80 ms) ${childMs <= 80 ? "ok" : "OVER"}`);
  console.log(`  the child's cost over plain node                ${ms(childMs - median(node)).padStart(9)}`);
}

// --- 2. a microgpt step -----------------------------------------------------------------------
interface StepTimes {
  stepMs: number[];
  cpuMs: number[];
}

async function steps(): Promise<void> {
  const stepsFixture = fixture("microgptSteps.grad.ts");
  const direct = directScript(readFileSync(stepsFixture, "utf8"), stepsFixture, path.join(root, "out", "bench-runner", "microgptDirect.js"));
  const directRun = (): StepTimes => {
    const run = spawnSync(process.execPath, [direct], { encoding: "utf8", env: process.env });
    if (run.status !== 0) throw new Error(`direct run failed: ${run.stderr}`);
    return JSON.parse(run.stdout.trim().split("\n").pop()!) as StepTimes;
  };
  const runnerRun = async (): Promise<StepTimes> => {
    const result = await runFile(stepsFixture, { timeLimitMs: 300_000 });
    if (result.error) throw new Error(`${result.error.message} at ${result.error.position?.file}:${result.error.position?.line}`);
    return JSON.parse(result.console.find((c) => c.text.startsWith("{"))!.text) as StepTimes;
  };
  /** Median time of the timed steps (after the JIT warmed up) of one round. */
  const perStep = (round: StepTimes, field: keyof StepTimes) => median(round[field].slice(WARMUP));
  const plain: StepTimes[] = [];
  const runner: StepTimes[] = [];
  // Interleaved rounds, so machine noise hits both alike.
  for (let r = 0; r < ROUNDS; r++) {
    plain.push(directRun());
    runner.push(await runnerRun());
  }
  console.log(`\nmicrogpt: ${STEPS} training steps per round, steps ${WARMUP + 1}–${STEPS} timed; medians over ${ROUNDS} rounds`);
  for (const field of ["stepMs", "cpuMs"] as const) {
    const p = median(plain.map((round) => perStep(round, field)));
    const t = median(runner.map((round) => perStep(round, field)));
    const ratio = t / p;
    console.log(`  ${field === "stepMs" ? "wall" : "CPU "} per step: plain node ${ms(p)}, runner (child, source tracking) ${ms(t)}: ${ratio.toFixed(2)}× (goal ≤ 1.25×) ${ratio <= 1.25 ? "ok" : "OVER"}`);
  }
}

// --- 3. a million nodes -----------------------------------------------------------------------
async function million(): Promise<void> {
  let peakRss = process.memoryUsage().rss;
  const rssBefore = peakRss;
  let longestGap = 0;
  let last = performance.now();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 10);
  const started = performance.now();
  const big = await runFile(fixture("million.grad.ts"), { timeLimitMs: 300_000, memoryLimitMb: 4096 });
  const total = performance.now() - started;
  clearInterval(sampler);
  if (big.error) throw new Error(big.error.message);
  const g = big.roots[0].graph;
  const bytes = [g.op, g.data, g.grad, g.site, g.childStart, g.child, g.localGrad].reduce((n, a) => n + a.byteLength, 0);
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
  const s = big.stats;
  console.log(`\n1,000,001-node graph (runner, source tracking on): ${g.nodeCount.toLocaleString("en-US")} nodes captured`);
  console.log(`  total ${ms(total)} = bundling ${ms(s.bundleMs ?? 0)} + child start-up ${ms(s.startupMs ?? 0)} + build, backward and snapshot in the child ${ms(s.executeMs ?? 0)} + sending and mapping ${ms(total - (s.bundleMs ?? 0) - (s.startupMs ?? 0) - (s.executeMs ?? 0))}`);
  console.log(`  snapshot arrays ${mb(bytes)}; child heap after capture ${s.workerHeapMb?.toFixed(0)} MB; caller RSS ${mb(rssBefore)} → peak ${mb(peakRss)}; the caller's longest event-loop gap ${ms(longestGap)}`);
}

async function main() {
  await startup();
  await steps();
  await million();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
