/**
 * Gradient checks of a 10,000-input function (`npm run bench -- gradcheck`), against a baseline
 * measured in the same run: one plain forward + backward of the same function on the engine.
 *  1. the runner's check (a .grad.ts file through checkFile: worker, fast mode, op checks), end to end;
 *  2. the engine's fast mode on a correct function, and on one wrong input (bisection names it);
 *  3. the full check's cost, extrapolated from 2 evaluations per input (what it took before: 41.6 s).
 * Medians of repeats.
 */
import * as os from "node:os";
import * as path from "node:path";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { buildSync } from "esbuild";
import { Value, gradcheck, sum } from "../src/engine";
import { checkFile } from "../src/runner";
import { bigCheckSource } from "../test/unit/bigCheckSource";

const root = path.resolve(__dirname, "..");
const workerFile = path.join(root, "out", "bench-gradcheck", "runnerWorker.js");
buildSync({ entryPoints: [path.join(root, "src", "runner", "worker.ts")], outfile: workerFile, bundle: true, platform: "node", format: "cjs", target: "es2022", external: ["esbuild"], logLevel: "error" });
process.env.GRADLENS_RUNNER_WORKER = workerFile;

const N = 10_000;
const REPEATS = 5;
const point = Array.from({ length: N }, (_, i) => ((i * 37) % 200) / 100 - 1);
const f = (w: Value | Value[]) => sum((w as Value[]).map((wi, i) => wi.mul((i % 5) - 2).tanh()));
const wrong = (w: Value | Value[]) => sum((w as Value[]).map((wi, i) => (i === 1234 ? new Value(wi.data ** 2, [wi], [wi.data]) : wi.mul((i % 5) - 2).tanh())));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function time(body: () => void): number {
  const times: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const started = performance.now();
    body();
    times.push(performance.now() - started);
  }
  return median(times);
}

async function main(): Promise<void> {
  const baseline = time(() => {
    const leaves = point.map((x) => new Value(x));
    f(leaves).backward();
  });
  const fast = time(() => {
    if (!gradcheck(f, [point], { fast: true }).ok) throw new Error("the correct function failed");
  });
  const located = time(() => {
    const r = gradcheck(wrong, [point], { fast: true, names: ["w"] });
    if (r.inputs.filter((c) => !c.ok).map((c) => c.name).join() !== "w[1234]") throw new Error("the wrong input was not named");
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), "gradlens-bench-"));
  const file = path.join(dir, "big.grad.ts");
  writeFileSync(file, bigCheckSource(point.join(", ")));
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const started = performance.now();
    const result = await checkFile(file, { timeLimitMs: 60_000 });
    runs.push(performance.now() - started);
    if (result.error || result.checks?.length !== 3) throw new Error(result.error?.message ?? "missing checks");
  }
  rmSync(dir, { recursive: true, force: true });
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const rows: [string, string, string][] = [
    ["one forward + backward (baseline)", ms(baseline), "1.0×"],
    ["engine fast mode, correct", ms(fast), `${(fast / baseline).toFixed(1)}×`],
    ["engine fast mode, one wrong input named", ms(located), `${(located / baseline).toFixed(1)}×`],
    ["full check (2 per input), extrapolated", ms(baseline * 2 * N), `${(2 * N).toFixed(0)}×`],
    ["checkFile: 3 functions of 10,000 inputs, ops, end to end", ms(median(runs)), `${(median(runs) / baseline).toFixed(1)}×`],
  ];
  for (const [name, t, ratio] of rows) console.log(`${name.padEnd(60)} ${t.padStart(12)} ${ratio.padStart(8)}`);
  console.log(`goal: a 10,000-input check in ≤ 3 s — ${median(runs) <= 3000 ? "met" : "NOT met"} (median of 3, checkFile)`);
}

void main();
