/**
 * The Python twins of the hostile programs (isolation.test.ts), through the same runner API, and
 * for both languages: the caller killed mid-run takes the run with it, temp folder included.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { resolvePythonPath, runPython } from "../../src/runner/python";
import { repoRoot, useBuiltWorker } from "./runnerSupport";
import { assertAllGone, isRunning, printedPids, privateTemp, program, tempFolders, withHeartbeat } from "./isolationSupport";

const run = (name: string, code: string, options = {}) => runPython({ file: program(name, code) }, options);

describe("isolation: Python programs", function () {
  this.timeout(60_000);
  before(() => privateTemp.use());
  after(() => privateTemp.restore());

  beforeEach(async function () {
    if (!(await resolvePythonPath(undefined))) this.skip();
  });

  afterEach(() => {
    assert.deepEqual(tempFolders("gradlens-python-"), [], "the run's temp folder was removed");
  });

  it("stops a memory bomb at the memory limit; the caller keeps turning", async () => {
    const { value: result, longestGapMs } = await withHeartbeat(() => run("bomb.py", "import os\nprint('pid', os.getpid())\nkeep = []\nwhile True:\n    keep.append(bytearray(8 << 20))\n", { memoryLimitMb: 256 }));
    assert.equal(result.error?.kind, "memory", result.error?.message);
    assert.ok(longestGapMs < 500);
    await assertAllGone(printedPids(result));
  });

  it("keeps a flood of output within the budget", async () => {
    const result = await run("flood.py", "import sys\nline = 'y' * 1023 + '\\n'\nfor i in range(20):\n    sys.stdout.write(line * 1024)\nprint('done')\n");
    assert.ok(result.ok, result.error?.message);
    const kept = result.console.reduce((n, c) => n + c.text.length, 0);
    assert.ok(kept < 1.1 * 2 ** 20, `${kept} characters kept`);
  });

  it("stops a blocking subprocess at the time limit, with the subprocess, within a second", async () => {
    const started = Date.now();
    const result = await run("sleep.py", "import os, subprocess\nprint('pid', os.getpid())\nsubprocess.run(['sleep', '100'])\n", { timeLimitMs: 1500 });
    assert.equal(result.error?.kind, "timeout");
    assert.ok(Date.now() - started < 1500 + 1000 + 600, `returned after ${Date.now() - started} ms`);
    await assertAllGone(printedPids(result));
  });

  it("ends what the program started, detached or not, when the run ends", async () => {
    const result = await run(
      "children.py",
      "import os, subprocess\na = subprocess.Popen(['sleep', '100'])\nb = subprocess.Popen(['sleep', '100'], start_new_session=True)\nprint('pid', a.pid, 'pid', b.pid, 'pid', os.getpid())\n",
    );
    assert.ok(result.ok, result.error?.message);
    const pids = printedPids(result);
    assert.equal(pids.length, 3);
    await assertAllGone(pids);
  });

  it("names the signal that killed it, and tells sys.exit(0), sys.exit(3) and os._exit(4) apart", async () => {
    const killed = await run("selfKill.py", "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n");
    assert.equal(killed.error?.kind, "signal");
    assert.match(killed.error!.message, /SIGSEGV/);
    const normal = await run("exit0.py", "import sys\nprint('bye')\nsys.exit(0)\n");
    assert.ok(normal.ok, normal.error?.message);
    const own = await run("exit3.py", "import sys\nsys.exit(3)\n");
    assert.equal(own.ok, false);
    assert.match(own.error!.message, /sys\.exit\(3\)/);
    const hard = await run("exit4.py", "import os\nos._exit(4)\n");
    assert.equal(hard.error?.kind, "exit");
    assert.match(hard.error!.message, /exit code 4/);
  });
});

describe("isolation: the caller dies mid-run", function () {
  this.timeout(60_000);
  before(useBuiltWorker);
  before(() => privateTemp.use());
  after(() => privateTemp.restore());

  /** A caller process that runs `file` through the runner API, prints the run's pid line, and is then killed. */
  async function killCallerMidRun(runner: "typescript" | "python", file: string): Promise<number[]> {
    const script = `
      const { runFile } = require(${JSON.stringify(path.join(repoRoot, "src", "runner"))});
      const { runPython } = require(${JSON.stringify(path.join(repoRoot, "src", "runner", "python"))});
      (${runner === "python" ? "() => runPython({ file: process.argv[1] }, { timeLimitMs: 60000 })" : "() => runFile(process.argv[1], { timeLimitMs: 60000 })"})();
    `;
    const caller = spawn(process.execPath, ["--require", "tsx/cjs", "-e", script, file], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], env: process.env });
    // The program writes its pid to a file beside it (its console goes to the dead caller).
    const pidFile = `${file}.pid`;
    const { readFileSync, existsSync } = await import("node:fs");
    // The file exists before its two pids are in it (a program writes after it opens): wait for both.
    const written = () => (existsSync(pidFile) ? readFileSync(pidFile, "utf8").trim().split(/\s+/).filter((p) => p !== "").map(Number) : []);
    const deadline = Date.now() + 20_000;
    while (written().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const pids = written();
    assert.equal(pids.length, 2, "the program wrote its pid and its child's");
    assert.ok(pids.every(isRunning), "the run is going");
    caller.kill("SIGKILL");
    return pids;
  }

  it("a TypeScript run dies with its caller", async () => {
    const file = program(
      "orphan.grad.ts",
      `import { writeFileSync } from "node:fs";\nimport { spawn } from "node:child_process";\nconst sleeper = spawn("sleep", ["100"], { stdio: "ignore" });\nwriteFileSync(__filename + ".pid", process.pid + " " + sleeper.pid);\nfor (;;) {}\n`,
    );
    await assertAllGone(await killCallerMidRun("typescript", file), 3000);
  });

  it("a Python run dies with its caller, and its temp folder goes too", async function () {
    if (!(await resolvePythonPath(undefined))) this.skip();
    const file = program("orphan.py", "import os, subprocess\nsleeper = subprocess.Popen(['sleep', '100'])\nopen(__file__ + '.pid', 'w').write('%d %d' % (os.getpid(), sleeper.pid))\nwhile True:\n    pass\n");
    await assertAllGone(await killCallerMidRun("python", file), 3000);
    assert.deepEqual(tempFolders("gradlens-python-"), []);
  });
});
