/**
 * Nothing a program does takes the caller down: hostile TypeScript programs run through the runner
 * API in this process, as the extension host calls it, with a heartbeat proving this process's event
 * loop kept turning, and afterwards no process of the run left.
 */
import * as assert from "node:assert/strict";
import { runFile } from "../../src/runner";
import { useBuiltWorker } from "./runnerSupport";
import { assertAllGone, printedPids, program, withHeartbeat } from "./isolationSupport";

const VALUE = 'import { Value } from "gradlens";\n';
/** Three completed backward() calls of a small graph, at line 5. */
const TRAINING = `${VALUE}const w = new Value(0.5);
for (let step = 0; step < 3; step++) {
  const loss = w.mul(w).add(1);
  loss.backward();
  w.data -= 0.1 * w.grad;
  w.grad = 0;
}
`;

describe("isolation: limits that hold", function () {
  this.timeout(60_000);
  before(useBuiltWorker);

  it("stops a heap bomb at the memory limit; the caller survives and keeps turning", async () => {
    const file = program("heapBomb.grad.ts", `${TRAINING}console.log("pid " + process.pid);\nconst keep: number[][] = [];\nwhile (true) keep.push(new Array(1e6).fill(1.5));\n`);
    const { value: result, longestGapMs } = await withHeartbeat(() => runFile(file, { memoryLimitMb: 256, timeLimitMs: 30_000 }));
    assert.equal(result.error?.kind, "memory", result.error?.message);
    assert.match(result.error!.message, /memory limit of 256 MB/);
    assert.equal(result.error?.position?.line, 11);
    // What was recorded before the stop is kept: the last backward() and the output.
    assert.equal(result.roots[0]?.calls, 3);
    assert.ok(longestGapMs < 500, `the caller's event loop stalled for ${longestGapMs.toFixed(0)} ms`);
    await assertAllGone(printedPids(result));
  });

  it("stops an external-memory bomb (typed arrays, Buffers) measured on the process", async () => {
    const file = program(
      "externalBomb.grad.ts",
      `console.log("pid " + process.pid);\nconst keep: unknown[] = [];\nfor (let i = 0; i < 64; i++) {\n  keep.push(new Float64Array(1 << 20).fill(1.5), Buffer.alloc(8 << 20, 1));\n}\nconsole.log("allocated 1 GiB");\n`,
    );
    const result = await runFile(file, { heapLimitMb: 256, timeLimitMs: 30_000 });
    assert.equal(result.error?.kind, "memory", result.error?.message);
    assert.equal(result.error?.position?.line, 4);
    assert.ok(!result.console.some((c) => c.text === "allocated 1 GiB"));
    await assertAllGone(printedPids(result));
  });

  it("keeps a flood of output within the budget, and the run goes on to its end", async () => {
    const file = program("flood.grad.ts", `${VALUE}const chunk = ("y".repeat(1023) + "\\n").repeat(1024);\nfor (let i = 0; i < 40; i++) process.stdout.write(chunk);\nconst x = new Value(3);\nx.mul(x).backward();\nconsole.log("done");\n`);
    const { value: result, longestGapMs } = await withHeartbeat(() => runFile(file));
    assert.ok(result.ok, result.error?.message);
    assert.equal(result.roots.length, 1, "the run went on after the flood");
    const kept = result.console.reduce((n, c) => n + c.text.length, 0);
    assert.ok(kept < 1.1 * 2 ** 20, `${kept} characters kept`);
    assert.equal(result.console[0].text, "y".repeat(1023));
    assert.match(result.console[result.console.length - 1].text, /more characters of output were not kept/);
    assert.ok(longestGapMs < 500, `the caller's event loop stalled for ${longestGapMs.toFixed(0)} ms`);
  });

  it("cuts one 50 MB line with a mark and keeps the lines after it", async () => {
    const file = program("longLine.grad.ts", `console.log("x".repeat(50_000_000));\nconsole.log("after");\nprocess.stdout.write("raw " + "z".repeat(20_000) + "\\nraw end\\n");\n`);
    const result = await runFile(file);
    assert.ok(result.ok, result.error?.message);
    const texts = result.console.map((c) => c.text);
    assert.match(texts[0], /^x{8192} \[… 49,991,808 more characters\]$/);
    assert.deepEqual(texts.slice(1), ["after", `raw ${"z".repeat(8188)} [… 11,812 more characters]`, "raw end"]);
    assert.equal(result.console[1].position?.line, 2);
  });

  it("stops execSync('sleep 100') at the time limit, with the sleep, within a second", async () => {
    const file = program("execSync.grad.ts", `import { execSync } from "node:child_process";\nconsole.log("pid " + process.pid);\nexecSync("sleep 100");\n`);
    const started = Date.now();
    const { value: result, longestGapMs } = await withHeartbeat(() => runFile(file, { timeLimitMs: 1500 }));
    const took = Date.now() - started;
    assert.equal(result.error?.kind, "timeout");
    assert.ok(took < 1500 + 1000 + 600, `returned after ${took} ms`);
    assert.ok(longestGapMs < 500);
    await assertAllGone(printedPids(result));
    const sleeps = await sleepersOf(printedPids(result)[0]);
    assert.deepEqual(sleeps, []);
  });

  it("ends what a program started (detached or not, and a grandchild) when the run ends", async () => {
    const file = program(
      "children.grad.ts",
      `import { spawn } from "node:child_process";
const attached = spawn("sleep", ["100"], { stdio: "ignore" });
const detached = spawn("sleep", ["100"], { stdio: "ignore", detached: true });
detached.unref();
const parent = spawn(process.execPath, ["-e", "const c = require('child_process').spawn('sleep', ['100'], { stdio: 'ignore', detached: true }); console.log(c.pid); c.unref();"], { stdio: ["ignore", "pipe", "ignore"] });
parent.stdout.on("data", (d) => console.log("pid " + String(d).trim()));
console.log("pid " + attached.pid + " pid " + detached.pid + " pid " + process.pid);
attached.unref();
parent.on("exit", () => undefined);
`,
    );
    const result = await runFile(file, { timeLimitMs: 5000 });
    assert.ok(result.ok, result.error?.message);
    const pids = printedPids(result);
    assert.equal(pids.length, 4, JSON.stringify(result.console));
    await assertAllGone(pids);
  });
});

describe("isolation: every way a run can end", function () {
  this.timeout(60_000);
  before(useBuiltWorker);

  it("process.kill(process.pid) kills the run, not the caller: killed by a signal, named", async () => {
    const file = program("selfKill.grad.ts", `${TRAINING}console.log("pid " + process.pid);\nprocess.kill(process.pid);\n`);
    const result = await runFile(file);
    assert.equal(result.error?.kind, "signal");
    assert.match(result.error!.message, /SIGTERM/);
    assert.deepEqual(result.console.map((c) => c.text).slice(0, 1), [`pid ${printedPids(result)[0]}`]);
    await assertAllGone(printedPids(result));
  });

  it("a crash in native code (SIGSEGV) is named", async () => {
    const file = program("segfault.grad.ts", `process.kill(process.pid, "SIGSEGV");\n`);
    const result = await runFile(file);
    assert.equal(result.error?.kind, "signal");
    assert.match(result.error!.message, /SIGSEGV/);
  });

  it("cannot signal the process that runs it", async () => {
    const file = program("killHost.grad.ts", `try { process.kill(process.ppid, "SIGKILL"); } catch (e) { console.log(String(e)); }\ntry { process.kill(-1, "SIGKILL"); } catch (e) { console.log(String(e)); }\n`);
    const result = await runFile(file);
    assert.ok(result.ok, result.error?.message);
    assert.equal(result.console.filter((c) => /EPERM/.test(c.text)).length, 2);
  });

  it("process.exit(0) is a normal end, with the graph; another code is the program's own exit at its line", async () => {
    const normal = await runFile(program("exit0.grad.ts", `${TRAINING}process.exit(0);\nconsole.log("not reached");\n`));
    assert.ok(normal.ok, normal.error?.message);
    assert.equal(normal.roots[0].calls, 3);
    assert.equal(normal.console.length, 0);
    const failed = await runFile(program("exit2.grad.ts", `${TRAINING}if (w.data < 1) process.exit(2);\n`));
    assert.equal(failed.error?.kind, "exit");
    assert.match(failed.error!.message, /process\.exit\(2\)/);
    assert.equal(failed.error?.position?.line, 9);
    assert.equal(failed.roots[0].calls, 3, "the graph is kept");
  });

  it("ignores forged and foreign messages on its channel", async () => {
    const file = program(
      "forged.grad.ts",
      `${VALUE}const send = process.send!.bind(process);\nsend(42);\nsend({ type: "result", token: "guess", output: { roots: [], bindings: [], durationMs: 0, heapUsedMb: 0 } });\nsend({ type: "console", lines: "not lines" });\nconst x = new Value(2);\nx.mul(x).backward();\n`,
    );
    const result = await runFile(file);
    assert.ok(result.ok, result.error?.message);
    assert.equal(result.roots.length, 1, "the forged empty result was not taken");
    assert.ok(result.console.some((c) => /ignored 3 message/.test(c.text)));
  });

  it("keeps the graphs of completed backward() calls when the time limit stops a loop, and says where it was", async () => {
    const file = program("timeoutAfterTraining.grad.ts", `${TRAINING}function spin(): void {\n  for (;;) {}\n}\nfunction main(): void {\n  spin();\n}\nmain();\n`);
    const result = await runFile(file, { timeLimitMs: 1000 });
    assert.equal(result.error?.kind, "timeout");
    assert.equal(result.roots[0].calls, 3);
    assert.match(result.error!.message, /at line 10, in spin ← main/);
    assert.equal(result.error?.position?.line, 10);
  });

  it("a hard kill (a blocking call past the grace) still returns the latest checkpoint's graph", async () => {
    const file = program(
      "checkpointThenBlock.grad.ts",
      `${VALUE}import { execSync } from "node:child_process";\nconst w = new Value(0.5);\nconst started = Date.now();\nwhile (Date.now() - started < 2300) {\n  const loss = w.mul(w);\n  loss.backward();\n}\nexecSync("sleep 30");\n`,
    );
    const result = await runFile(file, { timeLimitMs: 3000 });
    assert.equal(result.error?.kind, "timeout");
    assert.ok(result.roots.length === 1 && (result.roots[0].calls ?? 0) > 1, "the checkpoint's graph is kept");
  });
});

describe("isolation: programs as users write them", function () {
  this.timeout(60_000);
  before(useBuiltWorker);

  it("runs an async main with awaits and timers until the event loop drains", async () => {
    const file = program(
      "asyncMain.grad.ts",
      `${VALUE}const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));\nasync function main() {\n  await sleep(50);\n  const x = new Value(3);\n  setTimeout(() => { x.mul(x).backward(); console.log("late"); }, 100);\n}\nvoid main();\n`,
    );
    const result = await runFile(file);
    assert.ok(result.ok, result.error?.message);
    assert.equal(result.roots.length, 1);
    assert.equal(result.roots[0].graph.data[result.roots[0].graph.root], 9);
    assert.deepEqual(result.console.map((c) => c.text), ["late"]);
  });

  it("runs top-level await (as an ES module would) and reports an error after it at its line", async () => {
    const file = program(
      "topLevelAwait.grad.ts",
      `${VALUE}const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));\nawait sleep(20);\nexport const x = new Value(3);\nconst y = x.mul(x);\ny.backward();\nconsole.log("after await", y.data);\nawait sleep(10);\nthrow new Error("after the second await");\n`,
    );
    const result = await runFile(file);
    assert.deepEqual(result.console.map((c) => c.text), ["after await 9"]);
    assert.equal(result.roots[0]?.name, "y");
    assert.match(result.error!.message, /after the second await/);
    assert.equal(result.error?.position?.line, 9);
  });

  it("reports an error thrown in a timer, and an unhandled rejection, at their own line", async () => {
    const timer = await runFile(program("timerError.grad.ts", `setTimeout(() => {\n  throw new Error("boom in a timer");\n}, 10);\n`));
    assert.equal(timer.error?.kind, "runtime");
    assert.match(timer.error!.message, /boom in a timer/);
    assert.equal(timer.error?.position?.line, 2);
    const rejected = await runFile(program("rejection.grad.ts", `async function f() {\n  await null;\n  throw new TypeError("rejected here");\n}\nvoid f();\n`));
    assert.equal(rejected.error?.kind, "runtime");
    assert.match(rejected.error!.message, /rejected here/);
    assert.equal(rejected.error?.position?.line, 3);
  });

  it("keeps JavaScript's meaning: optional chaining, this, short-circuits, and the user's expression in errors", async () => {
    const file = program(
      "semantics.grad.ts",
      `${VALUE}const model: { layer: { forward(): number } } | null = null as never;
const a = model?.layer.forward();
class Neuron { w = new Value(2); out() { return this.w.tanh(); } }
const n = new Neuron();
const b = n.out().data;
let called = false;
const c = false && (called = true);
console.log(String(a), b.toFixed(4), called, c);
const loss = new Value(1) as unknown as { backwards(): void };
loss.backwards();
`,
    );
    const result = await runFile(file);
    assert.deepEqual(result.console.map((c) => c.text), ["undefined 0.9640 false false"]);
    assert.equal(result.error?.kind, "runtime");
    assert.match(result.error!.message, /^TypeError: loss\.backwards is not a function/);
    assert.equal(result.error?.position?.line, 11);
  });

  it("keeps an optional chain whole past a call (`a?.f().exp()`), and gives the op its own line", async () => {
    const file = program(
      "optionalChain.grad.ts",
      `${VALUE}class Box { v = new Value(2); f() { return this; } g() { return this.v.mul(3); } h() { return this.v; } }
const a: Box | undefined = new Box();
const none: Box | undefined = undefined as Box | undefined;
const y = a?.f().g();
const skipped = none?.f().g();
const e = a?.f().h().exp();
const alsoSkipped = none?.f().h().exp();
const key = "h";
const t = a?.f()[key]().tanh();
const r = a?.f()?.h().relu();
console.log(String(y?.data), String(skipped), String(alsoSkipped), t?.data.toFixed(4), String(r?.data));
const loss = (y as Value).add(e as Value);
loss.backward();
`,
    );
    const result = await runFile(file);
    assert.equal(result.error, undefined, result.error?.message);
    // What plain node prints for the same program.
    assert.deepEqual(result.console.map((c) => c.text), ["6 undefined undefined 0.9640 2"]);
    const graph = result.roots[0].graph;
    const exp = Array.from(graph.op).findIndex((k) => graph.opNames[k] === "exp");
    assert.ok(exp >= 0);
    const line = result.sites.find((s) => s.id === graph.site[exp])?.line;
    assert.equal(line, 7, "the exp node is made by line 7's `.exp()`");
  });
});

/** `sleep` processes whose parent is `pid` (none should be left). */
async function sleepersOf(pid: number): Promise<number[]> {
  const { readdirSync, readFileSync } = await import("node:fs");
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, "utf8");
        return /\(sleep\)/.test(stat) && stat.split(") ")[1].split(" ")[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}
