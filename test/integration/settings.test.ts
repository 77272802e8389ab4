import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as vscode from "vscode";
import type { RunResult } from "../../src/protocol/result";
import { inlineValuesEnabled, pythonPathSetting, runOnSaveEnabled, runOptionsFromSettings } from "../../src/extension/settings";
import { closeAllEditors, fixture, openFixture } from "./helpers";

/** Sets workspace settings for the duration of `body`, then restores the defaults. */
async function withSettings<T>(values: Record<string, unknown>, body: () => Thenable<T>): Promise<T> {
  const config = vscode.workspace.getConfiguration("gradlens");
  for (const [key, value] of Object.entries(values)) await config.update(key, value, vscode.ConfigurationTarget.Workspace);
  try {
    return await body();
  } finally {
    for (const key of Object.keys(values)) await config.update(key, undefined, vscode.ConfigurationTarget.Workspace);
  }
}

describe("settings reach the runs", () => {
  before(() => vscode.commands.executeCommand("gradlens.clearResults"));
  after(closeAllEditors);

  it("declares every setting with a default and a description, and the run options read each one", async () => {
    const manifest = vscode.extensions.getExtension("gradlens.gradlens")?.packageJSON as {
      contributes: { configuration: { properties: Record<string, { default: unknown; markdownDescription?: string }> } };
    };
    const properties = manifest.contributes.configuration.properties;
    for (const [key, property] of Object.entries(properties)) {
      assert.notEqual(property.default, undefined, `${key} has a default`);
      // The description is the translated text, not a %placeholder% left unresolved.
      assert.ok(property.markdownDescription && !/^%.*%$/.test(property.markdownDescription), `${key} has a description`);
    }
    // Every setting a run uses is read under the name the manifest declares: a value set by the
    // user (here: none of them the default) comes through; a misspelt key would give the default.
    const values = { timeLimitSeconds: 7, heapLimitMb: 333, nodeLimit: 4321, "gradcheck.eps": 1e-3, "gradcheck.atol": 0.25, "gradcheck.rtol": 0.5, "gradcheck.seed": 9, runOnSave: false, "inlineValues.enabled": false, pythonPath: "/no/such/python" };
    for (const key of Object.keys(values)) assert.ok(properties[`gradlens.${key}`], `gradlens.${key} is declared`);
    for (const [key, value] of Object.entries(values)) assert.notEqual(properties[`gradlens.${key}`].default, value, `${key}: the test value is not the default`);
    await withSettings(values, async () => {
      assert.deepEqual(runOptionsFromSettings(), { timeLimitMs: 7000, heapLimitMb: 333, nodeLimit: 4321, gradcheck: { eps: 1e-3, atol: 0.25, rtol: 0.5, seed: 9 } });
      assert.equal(runOnSaveEnabled(), false);
      assert.equal(inlineValuesEnabled(), false);
      assert.equal(pythonPathSetting(), "/no/such/python");
    });
  });

  it("gradlens.gradcheck.atol and rtol decide what passes", async () => {
    const file = fixture("checks.grad.ts");
    await openFixture("checks.grad.ts");
    const strict = await vscode.commands.executeCommand<RunResult>("gradlens.checkFunction", { file, functionName: "wrongProduct" });
    assert.equal(strict?.checks?.[0].ok, false);
    // |backprop − numeric| = 1 ≤ atol + rtol·|numeric| = 1 + 1·2: loose enough to pass.
    const loose = await withSettings({ "gradcheck.atol": 1, "gradcheck.rtol": 1 }, () =>
      vscode.commands.executeCommand<RunResult>("gradlens.checkFunction", { file, functionName: "wrongProduct" }),
    );
    assert.equal(loose?.checks?.[0].ok, true);
  });

  it("gradlens.nodeLimit stops a graph that is too large", async () => {
    const file = fixture("many.grad.ts");
    fs.writeFileSync(file, 'import { Value } from "gradlens";\nlet s = new Value(0);\nfor (let i = 0; i < 300; i++) s = s.add(i);\ns.backward();\n');
    await openFixture("many.grad.ts");
    const small = await withSettings({ nodeLimit: 100 }, () => vscode.commands.executeCommand<RunResult>("gradlens.runFile"));
    assert.equal(small?.error?.kind, "too-large");
    const fits = await vscode.commands.executeCommand<RunResult>("gradlens.runFile");
    assert.equal(fits?.error, undefined);
    assert.ok((fits?.roots[0]?.graph.nodeCount ?? 0) > 300);
  });
});
