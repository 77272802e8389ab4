import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { closeAllEditors, eventually, fixture, gradlens, openFixture } from "./helpers";

describe("inline values", () => {
  const file = () => fixture("affine.grad.ts");
  beforeEach(() => vscode.commands.executeCommand("gradlens.clearResults"));
  after(closeAllEditors);

  it("shows data and grad at the end of binding lines after a run", async () => {
    const api = await gradlens();
    await openFixture("affine.grad.ts");
    assert.deepEqual(api.inlineValueTexts(file()), []);
    await vscode.commands.executeCommand("gradlens.runFile");
    const texts = await eventually(() => api.inlineValueTexts(file()).length > 0 && api.inlineValueTexts(file()), "inline values");
    assert.ok(texts.includes("z = 7 · grad 1"), texts.join(" | "));
    assert.ok(texts.includes("x = 2 · grad 3"), texts.join(" | "));
    assert.ok(texts.some((t) => t === "term = 6 · grad 0 (×3)"), texts.join(" | "));
  });

  it("disappear as soon as the text changes", async () => {
    const api = await gradlens();
    const editor = await openFixture("affine.grad.ts");
    await vscode.commands.executeCommand("gradlens.runFile");
    await eventually(() => api.inlineValueTexts(file()).length > 0, "inline values");
    await editor.edit((e) => e.insert(new vscode.Position(1, 0), "// a new line moves everything down\n"));
    await eventually(() => api.inlineValueTexts(file()).length === 0, "inline values to clear");
    await vscode.commands.executeCommand("workbench.action.files.revert");
  });

  it("are off with gradlens.inlineValues.enabled = false", async () => {
    const api = await gradlens();
    const config = vscode.workspace.getConfiguration("gradlens");
    await config.update("inlineValues.enabled", false, vscode.ConfigurationTarget.Workspace);
    try {
      await openFixture("affine.grad.ts");
      await vscode.commands.executeCommand("gradlens.runFile");
      assert.ok(api.lastRun(file()), "the run happened");
      assert.deepEqual(api.inlineValueTexts(file()), []);
    } finally {
      await config.update("inlineValues.enabled", undefined, vscode.ConfigurationTarget.Workspace);
    }
    await eventually(() => api.inlineValueTexts(file()).length > 0, "inline values back when turned on");
  });

  it("declares themable colours", () => {
    const extension = vscode.extensions.getExtension("gradlens.gradlens");
    const colors = (extension?.packageJSON as { contributes: { colors: { id: string }[] } }).contributes.colors.map((c) => c.id);
    assert.deepEqual(colors.sort(), ["gradlens.inlineValueForeground", "gradlens.inlineValueNonFiniteForeground"]);
  });
});
