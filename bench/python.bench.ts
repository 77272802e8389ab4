/**
 * The Python tracer's costs (`npm run bench -- python`): a microgpt-shaped training program
 * (test/fixtures/python/microgpt_style/train.py: 4,192 parameters, Adam, grads zeroed after each
 * update) run by plain `python3` and through GradLens (`runPython`, end to end: request, tracer,
 * reading the graph back on the thread the extension reads it on), 1 step and 20 steps, interleaved, medians of repeats; also the CPU time and peak memory of the tracer
 * process alone against plain `python3` (interleaved, medians). The traced runs replay the tracer's cached
 * rewrite of the unchanged program (as a re-run in the editor does); the 1-step case also times runs of
 * code edited since the last run (no cached rewrite). Goals: ≤ 1.5× on
 * one step, ≤ 1.3× on 20, peak memory of the Python process ≤ 2× plain.
 */
import { spawnSync } from "node:child_process";
import { buildSync } from "esbuild";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runPython } from "../src/runner/python";
import { buildRequest } from "../src/runner/python/request";
import { tracerScriptPath } from "../src/runner/python/tracerScript";

const root = path.resolve(__dirname, "..");
const program = path.join(root, "test", "fixtures", "python", "microgpt_style", "train.py");
// The interpreter's own binary, for the plain runs as for the traced ones: a launcher in between (pyenv's
// shim, the Windows `py`) costs the plain run a start the traced one skips (launcherCache.ts).
const python = realInterpreter(process.env.GRADLENS_BENCH_PYTHON ?? "python3");
// Big results are read on the thread the extension uses (dist/pythonResultThread.js), built the same way.
const resultThreadFile = path.join(root, "out", "bench-python", "pythonResultThread.js");
buildSync({ entryPoints: [path.join(root, "src", "runner", "python", "resultThread.ts")], outfile: resultThreadFile, bundle: true, platform: "node", format: "cjs", target: "es2022", logLevel: "error" });
process.env.GRADLENS_PYTHON_RESULT_THREAD = resultThreadFile;
// GRADLENS_BENCH_PYTHON_STEPS=1 runs only the 1-step case (a comma list of the cases' step counts).
const only = process.env.GRADLENS_BENCH_PYTHON_STEPS?.split(",").map(Number);
const CASES = [
  { steps: 1, repeats: 7, goal: 1.5 },
  { steps: 20, repeats: 9, goal: 1.3 },
].filter((c) => !only || only.includes(c.steps));

function realInterpreter(command: string): string {
  const run = spawnSync(command, ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" });
  const executable = run.status === 0 ? run.stdout.trim() : "";
  return executable || command;
}

/** Empties the tracer's cache of rewritten code (python/gradlens_code_cache.py, beside the bytecode cache
 * python/gradlens_trace.py picks), so the next run is that of code edited since the last one. */
function forgetRewrites(): void {
  const base = process.platform === "darwin" ? path.join(os.homedir(), "Library", "Caches") : process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  rmSync(path.join(base, "gradlens", "instrumented"), { recursive: true, force: true });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function plainMs(steps: number): number {
  const started = performance.now();
  const run = spawnSync(python, ["-B", program], { cwd: path.dirname(program), env: { ...process.env, MICROGPT_STEPS: String(steps) }, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`plain run failed: ${run.stderr}`);
  return performance.now() - started;
}

async function tracedMs(steps: number): Promise<{ ms: number; nodes: number }> {
  process.env.MICROGPT_STEPS = String(steps);
  const started = performance.now();
  const result = await runPython({ file: program }, { timeLimitMs: 600_000, pythonPath: python });
  const ms = performance.now() - started;
  if (result.error) throw new Error(`traced run failed: ${result.error.message}`);
  return { ms, nodes: result.stats.nodeCount };
}

/** Peak resident memory (MB) and CPU time (user + system, ms) of one Python process, read by a parent
 * Python that waits for it: the process's own work, which a loaded machine disturbs less than wall time. */
function probe(args: string[], steps: number): { mb: number; cpuMs: number } {
  const code = "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); u = resource.getrusage(resource.RUSAGE_CHILDREN); print(u.ru_maxrss, u.ru_utime + u.ru_stime)";
  const run = spawnSync(python, ["-c", code, python, "-B", ...args], { cwd: path.dirname(program), env: { ...process.env, MICROGPT_STEPS: String(steps) }, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`probe failed: ${run.stderr}`);
  const [maxrss, cpuSeconds] = run.stdout.trim().split(/\s+/).map(Number);
  return { mb: maxrss / 1024, cpuMs: cpuSeconds * 1000 }; // ru_maxrss is in KB on Linux
}

async function main() {
  if (process.platform === "win32") {
    console.log("skipped: the memory probe reads ru_maxrss (POSIX)");
    return;
  }
  const directory = mkdtempSync(path.join(os.tmpdir(), "gradlens-bench-python-"));
  try {
    const request = await buildRequest({ file: program }, { timeLimitMs: 600_000, heapLimitMb: 4096 }, { resultPath: path.join(directory, "result.json"), dumpPath: path.join(directory, "where.txt"), checkpointPath: path.join(directory, "checkpoint") });
    const requestPath = path.join(directory, "request.json");
    writeFileSync(requestPath, JSON.stringify(request));
    const tracer = tracerScriptPath()!;

    console.log("microgpt-shaped training in Python: plain python3 vs GradLens's tracer (medians)");
    console.log("wall time: end to end through runPython; CPU and memory: the tracer process alone vs plain python3");
    console.log(`interpreter: ${python} (the same binary for both)`);
    console.log("steps  nodes    plain      traced     ratio  goal   cpu plain  traced  ratio   memory plain  traced  ratio  goal");
    for (const { steps, repeats, goal } of CASES) {
      const plain: number[] = [];
      const traced: number[] = [];
      const cpuPlain: number[] = [];
      const cpuTraced: number[] = [];
      const memoryPlain: number[] = [];
      const memoryTraced: number[] = [];
      // The same runs with the code edited since the last run (its rewrite not cached yet): 1 step only.
      const edited: number[] = [];
      const cpuEdited: number[] = [];
      let nodes = 0;
      await tracedMs(steps); // warm the file cache and the launcher cache
      for (let i = 0; i < repeats; i++) {
        plain.push(plainMs(steps));
        const t = await tracedMs(steps);
        traced.push(t.ms);
        nodes = t.nodes;
        const p = probe([program], steps);
        const q = probe([tracer, requestPath], steps);
        cpuPlain.push(p.cpuMs);
        cpuTraced.push(q.cpuMs);
        memoryPlain.push(p.mb);
        memoryTraced.push(q.mb);
        if (steps === 1) {
          forgetRewrites();
          edited.push((await tracedMs(steps)).ms);
          forgetRewrites();
          cpuEdited.push(probe([tracer, requestPath], steps).cpuMs);
        }
      }
      const ratio = median(traced) / median(plain);
      const cpuRatio = median(cpuTraced) / median(cpuPlain);
      const memoryRatio = median(memoryTraced) / median(memoryPlain);
      console.log(
        [
          String(steps).padStart(5),
          String(nodes).padStart(6),
          `${median(plain).toFixed(0)} ms`.padStart(10),
          `${median(traced).toFixed(0)} ms`.padStart(10),
          `${ratio.toFixed(2)}×`.padStart(6),
          `${goal}×`.padStart(5),
          `${median(cpuPlain).toFixed(0)} ms`.padStart(11),
          `${median(cpuTraced).toFixed(0)} ms`.padStart(7),
          `${cpuRatio.toFixed(2)}×`.padStart(6),
          `${median(memoryPlain).toFixed(0)} MB`.padStart(14),
          `${median(memoryTraced).toFixed(0)} MB`.padStart(7),
          `${memoryRatio.toFixed(2)}×`.padStart(6),
          "2×".padStart(5),
        ].join(" "),
      );
      if (edited.length) {
        console.log(
          `       code edited since the last run (no cached rewrite): traced ${median(edited).toFixed(0)} ms ${(median(edited) / median(plain)).toFixed(2)}× wall, CPU ${median(cpuEdited).toFixed(0)} ms ${(median(cpuEdited) / median(cpuPlain)).toFixed(2)}×`,
        );
      }
    }
  } finally {
    delete process.env.MICROGPT_STEPS;
    rmSync(directory, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
