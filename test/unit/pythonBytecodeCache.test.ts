// The tracer keeps its own modules compiled in a cache folder of the user's (python/gradlens_trace.py),
// so a run does not compile ~4,000 lines first; the user's code still runs with -B's settings and
// nothing is written next to the user's file or GradLens's own.
import { strict as assert } from "assert";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolvePythonPath, runPython } from "../../src/runner/python";

const file = path.resolve(__dirname, "../fixtures/python/bytecode_cache.py");
const tracerFolder = path.resolve(__dirname, "../../python");

function filesUnder(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const inside = path.join(folder, entry.name);
    return entry.isDirectory() ? filesUnder(inside) : [inside];
  });
}

describe("Python tracer: the bytecode cache of its own modules", function () {
  this.timeout(60_000);
  let cacheHome = "";
  let saved: string | undefined;

  before(async function () {
    // The folder is found from XDG_CACHE_HOME on Linux and BSDs only (macOS and Windows have their own).
    if (process.platform === "win32" || process.platform === "darwin" || !(await resolvePythonPath(undefined))) this.skip();
    saved = process.env.XDG_CACHE_HOME;
    cacheHome = mkdtempSync(path.join(os.tmpdir(), "gradlens-cache-home-"));
    process.env.XDG_CACHE_HOME = cacheHome;
  });

  after(() => {
    if (!cacheHome) return;
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
    rmSync(cacheHome, { recursive: true, force: true });
  });

  it("compiles the tracer's modules into the user's cache folder, while the user's code sees -B as plain python3 -B does", async () => {
    const code = ["import sys", "print(sys.dont_write_bytecode, sys.pycache_prefix)", ""].join("\n");
    for (let run = 0; run < 2; run++) {
      const result = await runPython({ file, code, origin: { file, line: 1, column: 1 } });
      assert.equal(result.error, undefined, result.error?.message);
      assert.deepEqual(
        result.console.map((l) => l.text.trim()),
        ["True None"],
      );
    }
    const cached = filesUnder(path.join(cacheHome, "gradlens", "pycache")).map((f) => path.basename(f));
    for (const module of ["gradlens_run", "gradlens_values", "gradlens_capture", "gradlens_graph"]) {
      assert.ok(
        cached.some((name) => name.startsWith(`${module}.`) && name.endsWith(".pyc")),
        `${module} compiled into the cache (found: ${cached.join(", ")})`,
      );
    }
    assert.equal(existsSync(path.join(tracerFolder, "__pycache__")), false, "nothing written next to the tracer");
    assert.equal(existsSync(path.join(path.dirname(file), "__pycache__")), false, "nothing written next to the user's file");
  });

  it("also reads the modules only some runs import later (training records, the tutorial's Value) from that cache, and the user's code still sees -B", async () => {
    const code = ["import sys", "print(sys.dont_write_bytecode, sys.pycache_prefix)", "a = Value(2.0)", "b = a * a", "b.backward()", ""].join("\n");
    const result = await runPython({ file, code, origin: { file, line: 1, column: 1 } }, { training: {} });
    assert.equal(result.error, undefined, result.error?.message);
    assert.deepEqual(
      result.console.map((l) => l.text.trim()).filter((t) => !t.startsWith("GradLens")),
      ["True None"],
    );
    assert.equal(result.training?.steps.length, 1, "the training records were made");
    const cached = filesUnder(path.join(cacheHome, "gradlens", "pycache")).map((f) => path.basename(f));
    for (const module of ["gradlens_training", "gradlens_params", "gradlens_tutorial_value"]) {
      assert.ok(
        cached.some((name) => name.startsWith(`${module}.`) && name.endsWith(".pyc")),
        `${module} compiled into the cache (found: ${cached.join(", ")})`,
      );
    }
    assert.equal(existsSync(path.join(tracerFolder, "__pycache__")), false, "nothing written next to the tracer");
    assert.equal(existsSync(path.join(path.dirname(file), "__pycache__")), false, "nothing written next to the user's file");
  });
});
