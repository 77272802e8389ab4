/**
 * What a cold run's start-up rests on (bench/runner.bench.ts measures the times): the child's bundle
 * stays small, the CLI starts the run's child before it loads the rest of itself and the run uses
 * that very child, and a child ends at once after its result — with the program's exit listeners run.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { buildSync } from "esbuild";
import { runFile } from "../../src/runner";
import { prestartWorker, warmChildPid } from "../../src/runner/workerHost";
import { resolveLimits } from "../../src/protocol/limits";
import { buildCli, repoRoot, useBuiltWorker } from "./runnerSupport";
import { assertAllGone, isRunning, printedPids, program, scratch } from "./isolationSupport";

const PID = 'import { Value } from "gradlens";\nconsole.log("pid " + process.pid);\nnew Value(2).mul(3).backward();\n';

describe("runner start-up: the child's bundle", () => {
  it("carries no parser and no Python runner (they tripled what every run's process parsed)", () => {
    const built = buildSync({ entryPoints: [path.join(repoRoot, "src", "runner", "worker.ts")], bundle: true, platform: "node", format: "cjs", target: "es2022", external: ["esbuild"], write: false, metafile: true, outfile: path.join(repoRoot, "out", "startup-test", "w.js"), logLevel: "error" });
    const inputs = Object.keys(built.metafile.inputs);
    assert.deepEqual(inputs.filter((file) => /node_modules\/(acorn|@sveltejs)|src\/runner\/python\/|staticAnalysis|parse\.ts/.test(file)), []);
    assert.ok(inputs.some((file) => file.endsWith("src/engine/value.ts")), "the engine is in it");
  });
});

describe("runner start-up: a child started before its run (the CLI)", function () {
  this.timeout(60_000);
  before(useBuiltWorker);

  it("is the process the next run uses, and a second run gets a fresh one", async () => {
    prestartWorker(resolveLimits({}));
    const waiting = warmChildPid();
    assert.ok(waiting !== undefined && isRunning(waiting));
    const file = program("prestarted.grad.ts", PID);
    const first = await runFile(file);
    assert.ok(first.ok, first.error?.message);
    assert.equal(printedPids(first)[0], waiting);
    assert.equal(warmChildPid(), undefined, "nothing waits after it: the CLI runs once");
    const second = await runFile(file);
    assert.notEqual(printedPids(second)[0], waiting);
    await assertAllGone([waiting!, printedPids(second)[0]]);
  });

  it("is discarded, not used, when the run asks for another memory limit", async () => {
    prestartWorker(resolveLimits({ memoryLimitMb: 512 }));
    const waiting = warmChildPid();
    assert.ok(waiting !== undefined);
    const result = await runFile(program("otherLimit.grad.ts", PID), { memoryLimitMb: 768 });
    assert.ok(result.ok, result.error?.message);
    assert.notEqual(printedPids(result)[0], waiting);
    await assertAllGone([waiting]);
  });
});

describe("runner start-up: the CLI as a process", function () {
  this.timeout(60_000);
  let cli = "";
  // Notes, in the CLI's process, each process it starts and each module it loads (its bundle's `require`s); printed at its exit.
  const hook = path.join(scratch, "startupHook.js");
  before(() => {
    cli = buildCli();
    fs.writeFileSync(
      hook,
      `const cp = require("node:child_process"); const Module = require("node:module");
const events = []; const spawn = cp.spawn; const load = Module._load;
cp.spawn = function (command, args, ...rest) { const child = spawn.call(this, command, args, ...rest); events.push({ kind: "spawn", script: String((args || []).at(-1)), pid: child.pid }); return child; };
Module._load = function (request, ...rest) { events.push({ kind: request === "esbuild" ? "esbuild" : "load" }); return load.call(this, request, ...rest); };
process.on("exit", () => process.stderr.write("STARTUP " + JSON.stringify(events) + "\\n"));
`,
    );
  });
  const run = (file: string) => {
    const out = spawnSync(process.execPath, ["-r", hook, cli, "graph", file], { encoding: "utf8" });
    const events = JSON.parse(/STARTUP (.*)/.exec(out.stderr)?.[1] ?? "[]") as { kind: string; script?: string; pid?: number }[];
    return { ...out, events, workers: events.filter((e) => e.kind === "spawn" && e.script?.endsWith("runnerWorker.js")) };
  };

  it("starts the run's child before it loads the bundler, and runs the program in that one child", async () => {
    const { status, stderr, events, workers } = run(program("cliEarly.grad.ts", PID));
    assert.equal(status, 0, stderr);
    assert.equal(workers.length, 1, JSON.stringify(events));
    // Before the bundler, and before most of the CLI's modules are set up (the parser, the Python runner...).
    const started = events.indexOf(workers[0]);
    const loads = (list: typeof events) => list.filter((e) => e.kind !== "spawn").length;
    assert.ok(started < events.findIndex((e) => e.kind === "esbuild"));
    assert.ok(loads(events.slice(0, started)) < loads(events.slice(started)), `the child first: ${loads(events.slice(0, started))} modules loaded before it, ${loads(events.slice(started))} after`);
    const pid = Number(/pid (\d+)/.exec(stderr)?.[1]);
    assert.equal(pid, workers[0].pid);
    await assertAllGone([pid]);
  });

  it("starts no TypeScript child for a Python file", () => {
    const { workers } = run(program("cliEarly.py", "print(1)\n"));
    assert.deepEqual(workers, []);
  });
});

describe("runner start-up: the child's end after its result", function () {
  this.timeout(60_000);
  before(useBuiltWorker);

  it("still runs the program's own exit listeners (as a plain node run does), then is gone", async () => {
    const marker = path.join(scratch, "exitListener.txt");
    fs.rmSync(marker, { force: true });
    const file = program("exitListener.grad.ts", `${PID}import { writeFileSync } from "node:fs";\nprocess.on("exit", (code) => writeFileSync(${JSON.stringify(marker)}, "exit " + code));\n`);
    const result = await runFile(file);
    assert.ok(result.ok, result.error?.message);
    assert.equal(fs.readFileSync(marker, "utf8"), "exit 0");
    await assertAllGone(printedPids(result));
  });
});
