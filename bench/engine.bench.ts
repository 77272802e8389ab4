/**
 * How fast is the engine on a real model? One microgpt training step (forward over one
 * name, backward, Adam update) on GradLens's `Value`, and — in the same run, on the same
 * names — on a baseline `Value` written the way the tutorial writes it. The ratio is the figure.
 *
 * Goal: at most 16 ms per step (the tutorial's C++17 port, g++ -O2, on these machines); aim 8.
 * Also: peak memory of a 16-position step (~136k nodes) under 200 MB, measured in a fresh process.
 *
 * Run with `npm run bench` (or `node --expose-gc --import tsx bench/engine.bench.ts`).
 * Names come from examples/names.txt (shipped with the examples), so a fresh clone benches.
 */
import { spawnSync } from "child_process";
import { readFileSync } from "fs";
import { cpus, loadavg } from "os";
import { join } from "path";
import { Value, mulberry32 } from "../src/engine";
import { createModel, documentLoss, shuffle, trainStep, type Model } from "../examples/microgpt/model";
import { TutorialValue } from "./tutorialValue";

const RUNS = 7; // timed runs per engine; the median is reported
const STEPS_PER_RUN = 15;
const WARMUP_STEPS = 30;
const NUM_STEPS = 1000; // microgpt's schedule: the learning rate decays over 1,000 steps
const GOAL_MS = 16;
const MEMORY_GOAL_MB = 200;

const namesFile = join(__dirname, "..", "examples", "names.txt");

interface EngineUnderTest {
  name: string;
  makeParameter: (x: number) => Value;
}

const engines: EngineUnderTest[] = [
  { name: "GradLens Value", makeParameter: (x) => new Value(x) },
  // The baseline has the same methods; the model only calls methods on its parameters,
  // so every node it builds is a TutorialValue.
  { name: "tutorial-style Value", makeParameter: (x) => new TutorialValue(x) as unknown as Value },
];

function loadNames(): string[] {
  const names = readFileSync(namesFile, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const needed = WARMUP_STEPS + RUNS * STEPS_PER_RUN;
  if (names.length < needed) throw new Error(`${namesFile} has ${names.length} names; the benchmark needs ${needed}`);
  return shuffle(names, mulberry32(42));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Nodes one step's forward pass creates for each name (counted once, with the engine's creation ids). */
function nodesCreated(docs: readonly string[]): number {
  const model = createModel({ docs: [...docs, "abcdefghijklmnopqrstuvwxyz"] });
  let total = 0;
  for (const doc of docs) {
    const before = new Value(0).id;
    documentLoss(model, doc);
    total += new Value(0).id - before - 1;
  }
  return total;
}

/** Wall-clock and CPU time (all of this process's threads, so GC helpers count) of training on `docs`. */
function timeSteps(model: Model, docs: readonly string[], firstStep: number): { ms: number; cpuMs: number; losses: number[] } {
  const losses: number[] = [];
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < docs.length; i++) losses.push(trainStep(model, docs[i], firstStep + i, NUM_STEPS));
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000, losses };
}

interface Speed {
  msPerStep: number[];
  cpuMsPerStep: number[];
  nodesPerStep: number;
}

function speed(engineIndexes = [0, 1]): Speed[] {
  const names = loadNames();
  const vocabulary = [...names, "abcdefghijklmnopqrstuvwxyz"];
  const models = engines.map((e) => createModel({ docs: vocabulary, seed: 42, makeParameter: e.makeParameter }));
  const warmup = names.slice(0, WARMUP_STEPS);
  for (const k of engineIndexes) timeSteps(models[k], warmup, 0);

  const results = engines.map(() => ({ msPerStep: [] as number[], cpuMsPerStep: [] as number[], nodes: 0, steps: 0 }));
  let maxLossDifference = 0;
  for (let run = 0; run < RUNS; run++) {
    const first = WARMUP_STEPS + run * STEPS_PER_RUN;
    const docs = names.slice(first, first + STEPS_PER_RUN);
    const nodes = nodesCreated(docs);
    // Alternate which engine goes first, so neither always runs right after a collection.
    const order = run % 2 === 0 ? engineIndexes : [...engineIndexes].reverse();
    const losses: number[][] = [];
    for (const k of order) {
      (globalThis as { gc?: () => void }).gc?.();
      const { ms, cpuMs, losses: l } = timeSteps(models[k], docs, first);
      results[k].msPerStep.push(ms / docs.length);
      results[k].cpuMsPerStep.push(cpuMs / docs.length);
      results[k].nodes += nodes;
      results[k].steps += docs.length;
      losses[k] = l;
    }
    // Same model, same names, same seed: both engines must compute the same losses.
    if (losses[0] && losses[1]) losses[0].forEach((l, i) => (maxLossDifference = Math.max(maxLossDifference, Math.abs(l - losses[1][i]))));
  }
  if (maxLossDifference > 1e-9) throw new Error(`the engines disagree: losses differ by ${maxLossDifference}`);
  if (engineIndexes.length === 2) console.log(`cross-check: both engines computed the same losses (max difference ${maxLossDifference.toExponential(1)})`);
  return results.map((r) => ({ msPerStep: r.msPerStep, cpuMsPerStep: r.cpuMsPerStep, nodesPerStep: r.nodes / Math.max(1, r.steps) }));
}

/** The engine alone in a fresh process started with extra Node flags (e.g. a bigger young generation). */
function speedWithFlags(flags: string[]): Speed {
  const run = spawnSync(process.execPath, [...flags, ...process.execArgv, __filename, "--speed-probe"], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`speed probe failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split("\n").pop() as string);
}

/** In a fresh process: one 16-position step (~136k nodes); heap with the graph alive, and peak RSS. */
function memoryProbe(engineIndex: number): void {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  const doc = "abcdefghijklmno"; // 15 letters + BOS = 16 positions
  const model = createModel({ docs: [doc, "abcdefghijklmnopqrstuvwxyz"], makeParameter: engines[engineIndex].makeParameter });
  trainStep(model, "emma", 0, NUM_STEPS); // compile the code paths first
  gc();
  const before = process.memoryUsage();
  const loss = documentLoss(model, doc);
  loss.backward();
  const alive = process.memoryUsage();
  const peakRss = process.resourceUsage().maxRSS * 1024;
  console.log(
    JSON.stringify({
      heapDelta: alive.heapUsed - before.heapUsed,
      // maxRSS is the process's lifetime peak, so this is an upper bound on the step's own peak.
      rssDelta: Math.max(alive.rss, peakRss) - before.rss,
      peakRss,
      loss: loss.data,
    }),
  );
}

function memory(engineIndex: number): { heapDelta: number; rssDelta: number; peakRss: number } {
  const run = spawnSync(process.execPath, [...process.execArgv, __filename, "--memory-probe", String(engineIndex)], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`memory probe failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split("\n").pop() as string);
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") + " |";
  return [line(headers), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...rows.map(line)].join("\n");
}

function main(): void {
  const probe = process.argv.indexOf("--memory-probe");
  if (probe >= 0) return memoryProbe(Number(process.argv[probe + 1]));
  if (process.argv.includes("--speed-probe")) return console.log(JSON.stringify(speed([0])[0]));

  console.log(`microgpt training step (4,192 parameters; forward over one name, backward, Adam), ${RUNS} runs × ${STEPS_PER_RUN} steps per engine`);
  const results = speed();
  const youngGenerationFlag = "--max-semi-space-size=64";
  const bigYoung = speedWithFlags([youngGenerationFlag]);
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
  const memories = engines.map((_, i) => memory(i));
  const row = (name: string, r: Speed, memoryCells: string[]) => [
    name,
    median(r.msPerStep).toFixed(2),
    Math.min(...r.msPerStep).toFixed(2),
    median(r.cpuMsPerStep).toFixed(2),
    r.nodesPerStep.toFixed(0),
    ((r.nodesPerStep / median(r.msPerStep)) * 1000).toExponential(2),
    ...memoryCells,
  ];
  console.log(
    "\n" +
      table(
        ["engine", "ms/step (median)", "min", "CPU ms/step", "nodes/step", "nodes/s", "16-pos step: heap Δ", "peak RSS Δ"],
        [
          ...results.map((r, i) => row(engines[i].name, r, [`${mb(memories[i].heapDelta)} MB`, `${mb(memories[i].rssDelta)} MB`])),
          row(`${engines[0].name}, node ${youngGenerationFlag}`, bigYoung, ["", ""]),
        ],
      ),
  );
  const load = loadavg()[0];
  if (load > cpus().length) {
    console.log(
      `\nnote: load average ${load.toFixed(1)} on ${cpus().length} cores — other processes share the CPU, so wall-clock times are inflated;` +
        " CPU ms/step (this process's own CPU time) is the steadier figure.",
    );
  }
  const engineMs = median(results[0].msPerStep);
  const ratio = median(results[1].msPerStep) / engineMs;
  const cpuRatio = median(results[1].cpuMsPerStep) / median(results[0].cpuMsPerStep);
  console.log(`\nratio: GradLens is ${ratio.toFixed(1)}× faster than the tutorial-style Value (${cpuRatio.toFixed(1)}× in CPU time)`);
  const engineCpuMs = median(results[0].cpuMsPerStep);
  console.log(
    `goal ≤ ${GOAL_MS} ms/step (aim 8): ${engineMs <= GOAL_MS ? "met" : "NOT met"} (${engineMs.toFixed(2)} ms wall, ${engineCpuMs.toFixed(2)} ms CPU, ` +
      `${median(bigYoung.msPerStep).toFixed(2)} ms wall with ${youngGenerationFlag})`,
  );
  const peak = memories[0].rssDelta;
  console.log(`goal: a 16-position step under ${MEMORY_GOAL_MB} MB: ${peak < MEMORY_GOAL_MB * 1024 * 1024 ? "met" : "NOT met"} (peak RSS +${mb(peak)} MB, peak RSS ${mb(memories[0].peakRss)} MB)`);
}

main();
