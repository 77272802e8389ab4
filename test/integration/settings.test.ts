import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as vscode from "vscode";
import type { RunResult } from "../../src/protocol/result";
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

  it("declares every setting with a default and a description", () => {
    const manifest = vscode.extensions.getExtension("gradlens.gradlens")?.packageJSON as {
      contributes: { configuration: { properties: Record<string, { default: unknown; markdownDescription?: string }> } };
    };
    const properties = manifest.contributes.configuration.properties;
    const expected: Record<string, unknown> = {
      "gradlens.timeLimitSeconds": 10,
      "gradlens.heapLimitMb": 1024,
      "gradlens.nodeLimit": 500000,
      "gradlens.runOnSave": true,
      "gradlens.inlineValues.enabled": true,
      "gradlens.gradcheck.eps": 1e-6,
      "gradlens.gradcheck.atol": 1e-5,
      "gradlens.gradcheck.rtol": 1e-3,
      "gradlens.gradcheck.seed": 0,
      "gradlens.graph.groupThreshold": 1500,
      "gradlens.pythonPath": "",
    };
    for (const [key, value] of Object.entries(expected)) {
      assert.equal(properties[key]?.default, value, key);
      assert.ok(properties[key]?.markdownDescription, `${key} has a description`);
    }
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
