/**
 * The child started ahead of a run (keepChildWarm, as the editor runs): every run still gets a
 * fresh process, the one that ran user code is gone after it, the waiting one is replaced when the
 * limits change, its limits count from the run's start, and it ends with its caller.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { keepChildWarm, runFile } from "../../src/runner";
import { warmChildPid } from "../../src/runner/workerHost";
import { repoRoot, useBuiltWorker } from "./runnerSupport";
import { assertAllGone, isRunning, printedPids, program } from "./isolationSupport";

const PID = 'import { Value } from "gradlens";\nconsole.log("pid " + process.pid, process.cwd() === __dirname);\nnew Value(2).mul(3).backward();\n';

describe("isolation: a child started ahead of its run", function () {
  this.timeout(60_000);
  before(useBuiltWorker);
  afterEach(() => keepChildWarm(false));

  it("runs each program in a fresh process: the waiting one, in the program's folder; the one that ran is gone", async () => {
    keepChildWarm(true);
    const file = program("warmPid.grad.ts", PID);
    const first = await runFile(file);
    assert.ok(first.ok, first.error?.message);
    const waiting = warmChildPid();
    assert.ok(waiting !== undefined && isRunning(waiting), "a child waits for the next run");
    const second = await runFile(file);
    assert.ok(second.ok, second.error?.message);
    const [firstPid] = printedPids(first);
    const [secondPid] = printedPids(second);
    assert.equal(secondPid, waiting, "the second run ran in the waiting child");
    assert.notEqual(secondPid, firstPid);
    assert.match(second.console[0].text, / true$/, "the program's folder is its working directory");
    assert.equal(second.roots[0]?.graph.nodeCount, 3);
    const next = warmChildPid();
    assert.ok(next !== undefined && next !== secondPid, "a process that ran user code is never used again");
    await assertAllGone([firstPid, secondPid]);
    keepChildWarm(false);
    await assertAllGone([next]);
  });

  it("replaces the waiting child when the memory limit changes (its heap flags were the old ones)", async () => {
    keepChildWarm(true);
    const file = program("warmLimit.grad.ts", PID);
    await runFile(file, { memoryLimitMb: 512 });
    const waiting = warmChildPid();
    assert.ok(waiting !== undefined);
    const result = await runFile(file, { memoryLimitMb: 1024 });
    assert.ok(result.ok, result.error?.message);
    assert.notEqual(printedPids(result)[0], waiting);
    await assertAllGone([waiting]);
  });

  it("counts the time limit from the run's start, not from when the child was started", async () => {
    keepChildWarm(true);
    const file = program("warmTime.grad.ts", `${PID}const until = Date.now() + 400;\nwhile (Date.now() < until);\nconsole.log("done");\n`);
    await runFile(file);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const result = await runFile(file, { timeLimitMs: 1200 });
    assert.ok(result.ok, result.error?.message);
    assert.equal(result.console[result.console.length - 1].text, "done");
  });

  it("ends the waiting child when its caller is killed", async () => {
    const runner = path.join(repoRoot, "src", "runner", "index.ts");
    const caller = program(
      "warmCaller.ts",
      `const runner = require(${JSON.stringify(runner)});\nconst host = require(${JSON.stringify(path.join(repoRoot, "src", "runner", "workerHost.ts"))});\nrunner.keepChildWarm(true);\nrunner.runFile(${JSON.stringify(program("warmCallerRun.grad.ts", PID))}).then(() => {\n  console.log("waiting " + host.warmChildPid());\n  setInterval(() => undefined, 1000);\n});\n`,
    );
    const child = spawn(process.execPath, ["--require", "tsx/cjs", caller], { cwd: repoRoot, env: process.env, stdio: ["ignore", "pipe", "inherit"] });
    const waiting = await new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const found = /waiting (\d+)/.exec(out);
        if (found) resolve(Number(found[1]));
      });
      child.on("exit", () => reject(new Error(`the caller exited first: ${out}`)));
    });
    assert.ok(isRunning(waiting));
    child.kill("SIGKILL");
    await assertAllGone([waiting]);
  });
});
