/**
 * What recording training steps costs (`npm run bench -- training`), as ratios against a plain run
 * measured in the same bench run (interleaved rounds, medians):
 *  1. examples/microgpt.grad.ts (50 steps; then a copy trained for 1,000) as the Train command runs it (the child, source tracking,
 *     per-step records streamed, kept graphs for the steps that keep one) against plain `node` running
 *     the same program bundled with the engine and nothing of GradLens; both timed from the program's
 *     first line to its end inside their process (start-up and bundling are the runner bench's), the
 *     training run's time including its final capture of kept graphs and results. Secondary: the same
 *     training run against the runner's own run without training records;
 *  2. a microgpt-shaped Python program (test/fixtures/training/microgpt_shaped.py at microgpt's shapes:
 *     16 wide, 4 heads, block 16, the example's names): plain `python3 FILE` (the baseline), the tracer,
 *     the tracer with training records (`gradlens train`'s path), each timed start to result (after the
 *     first run the tracer replays its cached rewrite of the unchanged program, as a re-run does; code
 *     edited since the last run pays the rewrite, ~40 ms, once: see the Python bench's 1-step case);
 *  3. the training view at 1,000 steps × 20 groups: time per redraw in headless Chromium, so the
 *     redraws a second it can keep up with.
 */
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import { buildSync } from "esbuild";
import { runFile } from "../src/runner";
import { bundleWithEngine } from "./plainBundle";
import { TrainingControl } from "../src/runner/training/control";
import { resolvePythonPath, runPython } from "../src/runner/python";
import type { StepRecord } from "../src/protocol/training";

const root = path.resolve(__dirname, "..");
const workerFile = path.join(root, "out", "bench-training", "runnerWorker.js");
buildSync({ entryPoints: [path.join(root, "src", "runner", "worker.ts")], outfile: workerFile, bundle: true, platform: "node", format: "cjs", target: "es2022", external: ["esbuild"], logLevel: "error" });
process.env.GRADLENS_RUNNER_WORKER = workerFile;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number) => `${x.toFixed(0)} ms`;

/**
 * examples/microgpt.grad.ts bundled with the engine and no runner, timing itself (wall and CPU) from
 * its first line to its end, and printing when each backward() returned (ms from its first line).
 */
function plainScript(file: string): string {
  const outfile = path.join(root, "out", "bench-training", "microgptPlain.js");
  return bundleWithEngine(readFileSync(file, "utf8"), file, outfile, {
    engine: path.join(__dirname, "engineWithStepTimes.ts"),
    banner: "const __benchStarted = performance.now(), __benchCpu = process.cpuUsage();",
    footer:
      'const __benchUsed = process.cpuUsage(__benchCpu); console.log("__bench_steps " + globalThis.__benchBackwardTimes.map((t) => t - __benchStarted).join(" ")); console.log("__bench_ms " + (performance.now() - __benchStarted) + " " + (__benchUsed.user + __benchUsed.system) / 1000);',
  });
}

/** Milliseconds per step from the first backward() to the last (start-up, model building and the final capture left out). */
function msPerStep(times: readonly number[]): number {
  return times.length > 1 ? (times[times.length - 1] - times[0]) / (times.length - 1) : NaN;
}

/**
 * `file` trained (the Train command's path) against plain node, interleaved rounds. `label` names
 * the program in the report; `goal` marks the ratio #14 sets for it (the 50-step example).
 */
async function typescript(rounds: number, file: string, label: string, goal: boolean): Promise<void> {
  const script = plainScript(file);
  const node: number[] = [];
  const runner: number[] = [];
  const training: number[] = [];
  // CPU time of each process over the same span: on a loaded machine, wall time also counts waiting for a core.
  const nodeCpu: number[] = [];
  const runnerCpu: number[] = [];
  const trainingCpu: number[] = [];
  // The steady state: a step's time once the loop runs (the training run's from its StepRecords' times).
  const nodeStep: number[] = [];
  const trainingStep: number[] = [];
  let losses: string | undefined;
  for (let r = 0; r < rounds; r++) {
    const plain = spawnSync(process.execPath, [script], { encoding: "utf8" });
    if (plain.status !== 0) throw new Error(plain.stderr);
    const lines = plain.stdout.trim().split("\n");
    const [wall, cpu] = (lines.pop() ?? "").replace("__bench_ms ", "").split(" ").map(Number);
    nodeStep.push(msPerStep((lines.pop() ?? "").replace("__bench_steps ", "").split(" ").map(Number)));
    node.push(wall);
    nodeCpu.push(cpu);
    // The Train command's run: a TrainingControl streams the records and kept graphs, as in the editor.
    const control = new TrainingControl(() => undefined);
    const b = await runFile(file, control.runOptions(300_000));
    const a = await runFile(file, { timeLimitMs: 300_000 });
    if (a.error || b.error) throw new Error(a.error?.message ?? b.error?.message);
    // The numbers are the plain run's: the same loss lines in both.
    losses = lines.filter((l) => l.startsWith("step ")).join("\n");
    const printed = b.console.map((c) => c.text).filter((t) => t.startsWith("step ")).join("\n");
    if (printed !== losses) throw new Error(`the training run printed other losses than plain node:\n${printed}\n---\n${losses}`);
    runner.push(a.stats.executeMs ?? NaN);
    training.push(b.stats.executeMs ?? NaN);
    const steps = b.training?.steps ?? [];
    if (steps.length < 2) throw new Error("the training run recorded no steps");
    trainingStep.push(msPerStep(steps.map((s) => s.timeMs)));
    runnerCpu.push(a.stats.executeCpuMs ?? NaN);
    trainingCpu.push(b.stats.executeCpuMs ?? NaN);
  }
  const ratio = median(training) / median(node);
  console.log(`\n${label}, ${rounds} interleaved rounds, the program's own time in its process (median):`);
  console.log(`  plain node (bundled with the engine, no GradLens) ${ms(median(node))}`);
  console.log(`  training run (Train command's path)              ${ms(median(training))}   ${ratio.toFixed(2)}× plain node${goal ? ` (goal ≤ 1.3×) ${ratio <= 1.3 ? "ok" : "OVER"}` : ""}`);
  console.log(`    each round: ${training.map((t, i) => (t / node[i]).toFixed(2)).join(", ")}`);
  console.log(`  runner without training records                  ${ms(median(runner))}   ${(median(runner) / median(node)).toFixed(2)}× plain node; training ${(median(training) / median(runner)).toFixed(2)}× this run`);
  const cpuRatio = median(trainingCpu) / median(nodeCpu);
  console.log(`  CPU time (the same spans, median): plain node ${ms(median(nodeCpu))}, training run ${ms(median(trainingCpu))} = ${cpuRatio.toFixed(2)}×${goal ? ` ${cpuRatio <= 1.3 ? "ok" : "OVER"}` : ""}, runner ${ms(median(runnerCpu))} = ${(median(runnerCpu) / median(nodeCpu)).toFixed(2)}×`);
  console.log(`    each round: ${trainingCpu.map((t, i) => (t / nodeCpu[i]).toFixed(2)).join(", ")}`);
  const stepRatio = median(trainingStep) / median(nodeStep);
  console.log(`  steady state, first backward() to last (start-up, model building, final capture left out; step 1's kept graph in):`);
  console.log(`    plain node ${median(nodeStep).toFixed(2)} ms/step, training run ${median(trainingStep).toFixed(2)} ms/step = ${stepRatio.toFixed(2)}×; each round: ${trainingStep.map((t, i) => (t / nodeStep[i]).toFixed(2)).join(", ")}`);
}

async function python(rounds: number): Promise<void> {
  const interpreter = await resolvePythonPath(undefined);
  if (!interpreter) {
    console.log("python: no python3 here, skipped");
    return;
  }
  // One interpreter binary for every run: `python3` may be a launcher script (pyenv's shim costs 0.2–0.3 s a
  // start), which would slow only the baseline (the tracer's runs start the real binary, src/runner/python).
  const binary = spawnSync(interpreter.path, ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).stdout.trim() || interpreter.path;
  const file = path.join(root, "test", "fixtures", "training", "microgpt_shaped.py");
  const env = { GL_EMBD: "16", GL_STEPS: "8", GL_NAMES: path.join(root, "examples", "names.txt") };
  Object.assign(process.env, env);
  // The baseline is plain `python FILE`: the same program, the same binary, nothing of GradLens.
  // Wall: the whole run as the caller waits for it (start to result). CPU: the Python process alone: the
  // timed training run's tracer reports its own; plain python's is read by a parent process in a run of its own.
  const wall = async <R extends { error?: { message: string } }>(run: () => Promise<R>, got?: (result: R) => void): Promise<number> => {
    const t0 = performance.now();
    const result = await run();
    if (result.error) throw new Error(result.error.message);
    got?.(result);
    return performance.now() - t0;
  };
  /** CPU time (user + system, ms) of one Python process, read by a parent Python that waits for it. */
  const cpuOf = (args: string[]): number => {
    const code = "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); u = resource.getrusage(resource.RUSAGE_CHILDREN); print(u.ru_utime + u.ru_stime)";
    const run = spawnSync(binary, ["-c", code, binary, "-B", ...args], { cwd: path.dirname(file), encoding: "utf8", env: process.env });
    if (run.status !== 0) throw new Error(`cpu probe failed: ${run.stderr}`);
    return Number(run.stdout.trim()) * 1000;
  };
  const plain: number[] = [];
  const traced: number[] = [];
  const training: number[] = [];
  const plainCpu: number[] = [];
  const trainingCpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    plain.push(
      await wall(async () => {
        const run = spawnSync(binary, [file], { encoding: "utf8", env: process.env });
        return run.status === 0 ? {} : { error: { message: run.stderr } };
      }),
    );
    traced.push(await wall(() => runPython({ file }, { timeLimitMs: 600_000, pythonPath: binary })));
    // The tracer's CPU time is the timed run's own (it reports it with its result).
    training.push(await wall(() => runPython({ file }, { timeLimitMs: 600_000, pythonPath: binary, training: {} }), (result) => trainingCpu.push(result.stats.executeCpuMs ?? NaN)));
    if (process.platform !== "win32") plainCpu.push(cpuOf([file]));
  }
  console.log(`\nmicrogpt-shaped Python (8 steps at microgpt's shapes), ${rounds} interleaved rounds, whole run as the caller waits (median), ${binary}:`);
  console.log(`  plain python          ${ms(median(plain))}`);
  console.log(`  GradLens tracer       ${ms(median(traced))}   ${(median(traced) / median(plain)).toFixed(2)}× plain`);
  console.log(`  tracer + training     ${ms(median(training))}   ${(median(training) / median(plain)).toFixed(2)}× plain python (goal ≤ 1.3×)`);
  if (plainCpu.length) {
    const cpuRatio = median(trainingCpu) / median(plainCpu);
    console.log(`  CPU time of the Python process (median): plain ${ms(median(plainCpu))}, tracer + training ${ms(median(trainingCpu))} = ${cpuRatio.toFixed(2)}×`);
    console.log(`    each round: ${trainingCpu.map((t, i) => (t / plainCpu[i]).toFixed(2)).join(", ")}`);
  }
}

async function view(): Promise<void> {
  if (!existsSync(process.env.GRADLENS_CHROMIUM ?? "/usr/bin/chromium")) {
    console.log("\ntraining view: no Chromium here, skipped");
    return;
  }
  buildSync({ entryPoints: [path.join(root, "src", "webview", "training", "main.ts")], outfile: path.join(root, "dist", "webviewTraining.js"), bundle: true, platform: "browser", format: "iife", target: "es2022", minify: true, logLevel: "error" });
  const { TrainingHarness, trainingTestStrings } = await import("../test/webview/trainingHarness");
  const harness = new TrainingHarness();
  await harness.start();
  try {
    const page = await harness.open({ width: 900, height: 1200 });
    const groups = Array.from({ length: 20 }, (_, i) => `layer${i}.w`);
    const record = (i: number): StepRecord => ({
      step: i + 1, loss: 3 * Math.exp(-i / 300), gradNorm: 1 + Math.cos(i / 10), deadReluFraction: 0.4, nonFinite: false, timeMs: i,
      groups: Object.fromEntries(groups.map((g, k) => [g, { gradNorm: (k + 1) * 0.01 * (1 + Math.sin(i / 20)), updateRatio: 1e-3 * (1 + k / 10) }])),
    });
    // Lines up to 12 groups; the bench's 20 draw the heatmap plus the 20 update-ratio lines.
    await harness.send({ type: "init", strings: trainingTestStrings, file: "bench", groups, steps: Array.from({ length: 990 }, (_, i) => record(i)), graphSteps: [], status: "running", elapsedMs: 1000 });
    await page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === "rendered"));
    const times: number[] = [];
    for (let k = 0; k < 10; k++) {
      const before = (await harness.posted()).length;
      await harness.send({ type: "progress", steps: [record(990 + k)], newGroups: [], elapsedMs: 1000 });
      await page.waitForFunction((n) => (window as unknown as { __posted: { type: string }[] }).__posted.slice(n).some((m) => m.type === "rendered"), before);
      const last = (await harness.posted()).filter((m) => m.type === "rendered").pop() as { drawMs: number };
      times.push(last.drawMs);
    }
    const per = median(times);
    console.log(`\ntraining view, 1,000 steps × 20 groups (grad-norm and update-ratio heatmaps, loss, overall grad norm, dead ReLUs):`);
    console.log(`  one redraw (message to painted frame, median of 10): ${per.toFixed(1)} ms → up to ${(1000 / per).toFixed(0)} redraws/s (goal ≥ 5; the host sends at most ~7/s)`);
  } finally {
    await harness.stop();
  }
}

async function main(): Promise<void> {
  // GRADLENS_BENCH_PARTS=ts (or python, view; comma-separated) runs only those parts: each part's owner can rerun theirs.
  const parts = new Set((process.env.GRADLENS_BENCH_PARTS ?? "ts,python,view").split(",").map((p) => p.trim()));
  if (parts.has("ts")) {
    await typescript(5, path.join(root, "examples", "microgpt.grad.ts"), "examples/microgpt.grad.ts (50 steps)", true);
    // The same program for 1,000 steps, as microgpt.py trains: the per-step costs, with the one-off ones spread thin.
    const copy = mkdtempSync(path.join(os.tmpdir(), "gradlens-bench-1000-"));
    try {
      cpSync(path.join(root, "examples"), copy, { recursive: true });
      const long = path.join(copy, "microgpt.grad.ts");
      const source = readFileSync(long, "utf8");
      if (!source.includes("const numSteps = 50;")) throw new Error("examples/microgpt.grad.ts no longer says `const numSteps = 50;`");
      writeFileSync(long, source.replace("const numSteps = 50;", "const numSteps = 1000;"));
      await typescript(3, long, "the same program for 1,000 steps (a copy with numSteps = 1000)", false);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
  if (parts.has("python")) await python(5);
  if (parts.has("view")) await view();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
