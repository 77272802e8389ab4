import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import type { GradLensApi } from "../../src/extension/api";
import { closeAllEditors, eventually, extensionId, openFixture } from "./helpers";

/** Which of the extension's lazily loaded bundles this extension host has loaded so far. */
function loadedBundles(): string[] {
  const dist = path.join(vscode.extensions.getExtension(extensionId)?.extensionPath ?? "", "dist");
  return ["runner.js", "pythonRunner.js", "analysis.js"].filter((name) => require.cache[path.join(dist, name)] !== undefined);
}

describe("activation", () => {
  after(closeAllEditors);

  it("activates in a workspace with .grad.ts files and returns its API", async () => {
    // Not activated by the test: the workspaceContains activation event must do it on its own.
    const extension = vscode.extensions.getExtension<GradLensApi>(extensionId);
    assert.ok(extension);
    await eventually(() => extension.isActive, "the extension to activate by itself", 30_000);
    const api = extension.exports;
    assert.ok(Number.isFinite(api.activationMs) && api.activationMs > 0, `activationMs = ${api.activationMs}`);
    assert.ok(Number.isFinite(api.activationCpuMs) && api.activationCpuMs >= 0, `activationCpuMs = ${api.activationCpuMs}`);
    assert.equal(api.runCount(), 0, "activation must not run any user code");
  });

  it("opening a .grad.ts file gets its lenses from the analysis thread: the host loads neither the parser nor the runner", async () => {
    assert.deepEqual(loadedBundles(), [], "activation loads no runner or analysis bundle");
    const editor = await openFixture("checks.grad.ts");
    const lenses = await eventually(async () => {
      const found = await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", editor.document.uri);
      return found.some((l) => l.command?.command === "gradlens.checkFunction") && found;
    }, "the Check gradient lenses", 30_000);
    assert.ok(lenses.length > 0);
    // The lenses are there and no parser was loaded here: dist/analysisThread.js found them.
    assert.deepEqual(loadedBundles(), [], "the host's thread loaded a bundle for the lenses");
  });

  it("loads its bundle without running anything at load time", () => {
    // Code loading is the other half of the start-up cost: time a fresh load of the bundle.
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension);
    const bundle = path.join(extension.extensionPath, "dist", "extension.js");
    const resolved = require.resolve(bundle);
    const cached = require.cache[resolved];
    // The median of a few fresh loads: one load on a busy machine says more about the machine.
    const times: number[] = [];
    const cpuTimes: number[] = [];
    const api = extension.exports as GradLensApi;
    const runsBefore = api.runCount();
    const bundlesBefore = loadedBundles();
    for (let i = 0; i < 5; i++) {
      delete require.cache[resolved];
      const cpuStarted = process.cpuUsage();
      const started = performance.now();
      // A real require on purpose: the extension host's module loader is what start-up pays for.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const loaded = require(resolved) as { activate?: unknown };
      times.push(performance.now() - started);
      const cpu = process.cpuUsage(cpuStarted);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
      assert.equal(typeof loaded.activate, "function");
    }
    if (cached) require.cache[resolved] = cached;
    // Loading the bundle defines activate() and nothing more: no run, no runner bundle pulled in.
    assert.equal(api.runCount(), runsBefore);
    assert.deepEqual(loadedBundles(), bundlesBefore);
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[2];
    const loadMs = median(times);
    const loadCpuMs = median(cpuTimes);
    // Numbers for the report, not assertions: tests check behaviour, benchmarks check time.
    const reportDir = process.env.GRADLENS_REPORT_DIR;
    if (reportDir) {
      fs.mkdirSync(reportDir, { recursive: true });
      const line =
        `VS Code ${vscode.version}: activate() ${api.activationMs.toFixed(1)} ms (${api.activationCpuMs.toFixed(1)} ms CPU), ` +
        `bundle load ${loadMs.toFixed(1)} ms (${loadCpuMs.toFixed(1)} ms CPU; median of 5, ${Math.round(fs.statSync(bundle).size / 1024)} KiB)`;
      fs.writeFileSync(path.join(reportDir, `activation-${vscode.version}.txt`), `${line}\n`);
    }
  });
});
