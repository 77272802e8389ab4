// The tracer keeps the user's instrumented code in a cache (python/gradlens_code_cache.py): a run of
// unchanged code replays what instrumenting it did instead of parsing, rewriting and compiling again.
// A cached run must be the very run an uncached one is.
import { strict as assert } from "assert";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkPython, pythonBlocksOf, resolvePythonPath, runPython, type PythonRunOptions } from "../../src/runner/python";
import type { RunResult } from "../../src/protocol/result";

const FIXTURES = path.resolve(__dirname, "../fixtures/python");
const CHAPTER = path.join(FIXTURES, "value-chapter.ko.md");

/** The result without what differs between any two runs (timings). */
function comparable(result: RunResult): string {
  const { stats: _stats, ...rest } = result;
  return JSON.stringify(rest);
}

describe("Python tracer: the cache of instrumented code", function () {
  this.timeout(120_000);
  let cacheHome = "";
  let saved: string | undefined;
  const entriesIn = (home: string) => {
    const folder = path.join(home, "gradlens", "instrumented");
    return existsSync(folder) ? readdirSync(folder).filter((n) => n.endsWith(".bin")) : [];
  };
  const entries = () => entriesIn(cacheHome);
  const withCache = (home: string) => {
    process.env.XDG_CACHE_HOME = home;
  };

  before(async function () {
    if (process.platform === "win32" || process.platform === "darwin" || !(await resolvePythonPath(undefined))) this.skip();
    saved = process.env.XDG_CACHE_HOME;
    process.env.GL_STEPS = "2"; // microgpt_shaped.py: 2 training steps are enough here
    cacheHome = mkdtempSync(path.join(os.tmpdir(), "gradlens-code-cache-"));
  });

  after(() => {
    delete process.env.GL_STEPS;
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
    if (cacheHome) rmSync(cacheHome, { recursive: true, force: true });
  });

  /** The same run three ways: without any cache (a relative XDG_CACHE_HOME is not used), storing an entry, replaying it. */
  async function threeWays(run: () => Promise<RunResult>): Promise<RunResult> {
    withCache("not-absolute");
    const uncached = await run();
    assert.equal(comparable(await run()), comparable(uncached), "the program itself gives the same result every run");
    const home = mkdtempSync(path.join(cacheHome, "home-"));
    withCache(home);
    const stored = await run();
    assert.equal(entriesIn(home).length, 1, "the second run stored an entry");
    const replayed = await run();
    assert.equal(entriesIn(home).length, 1, "the third run used it");
    assert.equal(comparable(stored), comparable(uncached), "a run that stores an entry is an uncached run");
    assert.equal(comparable(replayed), comparable(uncached), "a replayed run is an uncached run");
    return replayed;
  }

  // Programs whose every run is the same (micrograd keeps inputs in a set, whose order follows ids: its runs differ in the last bits).
  it("gives the uncached run's result for a microgpt-shaped training script, with opChecks and with training records", async () => {
    const shaped = path.resolve(FIXTURES, "..", "training", "microgpt_shaped.py");
    for (const options of [{}, { opChecks: true }] as PythonRunOptions[]) {
      const result = await threeWays(() => runPython({ file: shaped }, { timeLimitMs: 60_000, ...options }));
      assert.equal(result.error, undefined, result.error?.message);
      assert.ok(result.roots.length > 0 && result.bindings.length > 0);
    }
    const trained = await threeWays(async () => {
      const result = await runPython({ file: shaped }, { timeLimitMs: 60_000, training: {} });
      for (const step of result.training?.steps ?? []) delete (step as { timeMs?: number }).timeMs;
      return result;
    });
    assert.equal(trained.training?.steps.length, 2);
  });

  it("gives the uncached run's result for a Markdown block run with an earlier block first, and for gradient checks", async () => {
    const blocks = pythonBlocksOf(readFileSync(CHAPTER, "utf8"));
    const last = blocks[blocks.length - 1];
    const result = await threeWays(() => runPython({ file: CHAPTER, code: last.code, origin: { file: CHAPTER, line: last.startLine, column: 1 } }, { timeLimitMs: 20_000 }));
    assert.ok(result.notes?.length, "the earlier block's note is there");
    const checks = await threeWays(() => checkPython({ file: path.join(FIXTURES, "..", "userClasses", "python", "closures.py") }));
    assert.ok(checks.checks?.length);
  });

  it("runs changed code as it is now, and instruments again over an entry that cannot be read", async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), "gradlens-code-cache-file-"));
    try {
      const file = path.join(folder, "edited.py");
      const code = (k: number) => ["class V:", "    def __init__(self, data, _children=()):", "        self.data, self.grad, self._children = data, 0, _children", "    def __mul__(self, o):", "        return V(self.data * o.data, (self, o))", `a = V(${k})`, "b = a * a", "print(b.data)", ""].join("\n");
      withCache(cacheHome);
      writeFileSync(file, code(3));
      assert.deepEqual((await runPython({ file })).console.map((l) => l.text.trim()), ["9"]);
      writeFileSync(file, code(4));
      const before = entries();
      assert.deepEqual((await runPython({ file })).console.map((l) => l.text.trim()), ["16"]);
      const added = entries().filter((n) => !before.includes(n));
      assert.equal(added.length, 1);
      const entry = path.join(cacheHome, "gradlens", "instrumented", added[0]);
      writeFileSync(entry, "not an entry");
      const again = await runPython({ file });
      assert.equal(again.error, undefined, again.error?.message);
      assert.deepEqual(again.console.map((l) => l.text.trim()), ["16"]);
      assert.notEqual(readFileSync(entry, "utf8"), "not an entry", "written again");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("gives two runs at once on an empty cache each the uncached run's result", async () => {
    const file = path.join(FIXTURES, "microgpt_style", "train.py");
    withCache("not-absolute");
    const uncached = comparable(await runPython({ file }));
    withCache(mkdtempSync(path.join(cacheHome, "race-")));
    const [a, b] = await Promise.all([runPython({ file }), runPython({ file })]);
    assert.equal(comparable(a), uncached);
    assert.equal(comparable(b), uncached);
    assert.equal(comparable(await runPython({ file })), uncached);
  });
});
