/**
 * Bundling off the caller's thread: the extension host's event loop keeps turning while a big
 * program is parsed and instrumented, and the bundle the thread makes is the one the caller's
 * thread would (same code, sites and bindings), errors included.
 */
import * as assert from "node:assert/strict";
import * as os from "node:os";
import * as path from "node:path";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { buildSync } from "esbuild";
import { bundleUserCode, type BundleRequest } from "../../src/runner/bundle";
import { bundleOffThread, bundleThreadsStarted, useBundleThread } from "../../src/runner/bundleOffThread";
import { runFile } from "../../src/runner";
import { useBuiltWorker } from "./runnerSupport";
import { withHeartbeat } from "./heartbeat";
import { longProgram } from "./longProgram";

const repoRoot = path.resolve(__dirname, "..", "..");

describe("bundling off the caller's thread", function () {
  this.timeout(120_000);
  let dir: string;

  before(() => {
    useBuiltWorker();
    const script = path.join(repoRoot, "out", "test-runner", "runnerBundleThread.js");
    buildSync({ entryPoints: [path.join(repoRoot, "src", "runner", "bundleThread.ts")], outfile: script, bundle: true, platform: "node", format: "cjs", target: "es2022", external: ["esbuild"], logLevel: "error" });
    process.env.GRADLENS_BUNDLE_THREAD = script;
    dir = mkdtempSync(path.join(os.tmpdir(), "gradlens-bundle-thread-"));
  });
  after(() => {
    useBundleThread(false);
    delete process.env.GRADLENS_BUNDLE_THREAD;
    rmSync(dir, { recursive: true, force: true });
  });

  it("makes the caller's own bundle on its thread, while the caller's event loop keeps turning", async () => {
    const file = path.join(dir, "long.grad.ts");
    writeFileSync(file, longProgram(6_000));
    const request: BundleRequest = { entry: { file }, sourceTracking: true };
    const here = await bundleUserCode(request);
    useBundleThread(true);
    await bundleOffThread(request); // the thread's first bundle pays its start and its cold parser
    const { value: off, longestGapMs } = await withHeartbeat(() => bundleOffThread(request));
    assert.equal(off.thread, true);
    assert.ok(here.ok && off.outcome.ok);
    assert.equal(off.outcome.bundle.code, here.bundle.code);
    assert.equal(off.outcome.bundle.map, here.bundle.map);
    assert.deepEqual(off.outcome.bundle.registry, here.bundle.registry);
    assert.ok(here.bundle.registry.sites.length > 12_000, `${here.bundle.registry.sites.length} sites`);
    assert.ok(longestGapMs < 100, `the caller's event loop stalled for ${longestGapMs.toFixed(0)} ms`);
  });

  it("runs a program bundled on the thread with the numbers of a plain run, and reports a syntax error at its line", async () => {
    useBundleThread(true);
    const file = path.join(dir, "small.grad.ts");
    writeFileSync(file, longProgram(20));
    const started = bundleThreadsStarted();
    const result = await runFile(file);
    assert.equal(result.error, undefined, result.error?.message);
    assert.equal(result.stats.bundledOffThread, true);
    assert.equal(bundleThreadsStarted(), started, "the thread kept from the last run bundled this one");
    useBundleThread(false);
    const plain = await runFile(file);
    assert.equal(plain.stats.bundledOffThread, false);
    assert.deepEqual(result.console.map((c) => c.text), plain.console.map((c) => c.text));
    assert.deepEqual(result.bindings.map((b) => [b.name, b.data, b.grad, b.range.line]), plain.bindings.map((b) => [b.name, b.data, b.grad, b.range.line]));
    useBundleThread(true);
    const broken = path.join(dir, "broken.grad.ts");
    writeFileSync(broken, `import { Value } from "gradlens";\nconst x = new Value(1);\nconst y = x.mul(;\n`);
    const failed = await runFile(broken);
    assert.equal(failed.error?.kind, "syntax");
    assert.equal(failed.error?.position?.line, 3);
  });
});
