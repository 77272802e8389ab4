import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import { extensionId, gradlens } from "./helpers";

describe("activation", () => {
  it("activates in a workspace with .grad.ts files and returns its API", async () => {
    const api = await gradlens();
    const extension = vscode.extensions.getExtension(extensionId);
    assert.equal(extension?.isActive, true);
    assert.ok(Number.isFinite(api.activationMs) && api.activationMs > 0, `activationMs = ${api.activationMs}`);
    assert.ok(Number.isFinite(api.activationCpuMs) && api.activationCpuMs >= 0, `activationCpuMs = ${api.activationCpuMs}`);
    assert.equal(api.runCount(), 0, "activation must not run any user code");
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
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[2];
    const loadMs = median(times);
    const loadCpuMs = median(cpuTimes);
    // Numbers for the report, not assertions: tests check behaviour, benchmarks check time.
    const reportDir = process.env.GRADLENS_REPORT_DIR;
    if (reportDir) {
      fs.mkdirSync(reportDir, { recursive: true });
      const api = extension.exports as { activationMs: number; activationCpuMs: number };
      const line =
        `VS Code ${vscode.version}: activate() ${api.activationMs.toFixed(1)} ms (${api.activationCpuMs.toFixed(1)} ms CPU), ` +
        `bundle load ${loadMs.toFixed(1)} ms (${loadCpuMs.toFixed(1)} ms CPU; median of 5, ${Math.round(fs.statSync(bundle).size / 1024)} KiB)`;
      fs.writeFileSync(path.join(reportDir, `activation-${vscode.version}.txt`), `${line}\n`);
    }
  });
});
