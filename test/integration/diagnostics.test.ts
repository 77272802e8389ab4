import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as vscode from "vscode";
import { closeAllEditors, eventually, fixture, gradlens, gradlensDiagnostics, openFixture } from "./helpers";

describe("diagnostics", () => {
  before(() => vscode.commands.executeCommand("gradlens.clearResults"));
  after(closeAllEditors);

  it("puts a run error at its source line and clears it when fixed", async () => {
    const file = fixture("broken.grad.ts");
    const original = fs.readFileSync(file, "utf8");
    try {
      await openFixture("broken.grad.ts");
      await vscode.commands.executeCommand("gradlens.runFile");
      const [error] = await eventually(() => gradlensDiagnostics(file).length > 0 && gradlensDiagnostics(file), "the error diagnostic");
      assert.equal(error.severity, vscode.DiagnosticSeverity.Error);
      assert.equal(error.range.start.line, 5, "line 6 of the file");
      assert.match(error.message, /missing/);
      // A gradient check runs the file too and meets the same error: Problems lists it once.
      await vscode.commands.executeCommand("gradlens.checkGradients");
      assert.equal(gradlensDiagnostics(file).length, 1);

      // Fix it the way a user does: edit, save (run on save), or run again.
      const editor = await openFixture("broken.grad.ts");
      const line = editor.document.lineAt(5);
      await editor.edit((e) => e.replace(line.range, "const bad = y.mul(2);"));
      await vscode.commands.executeCommand("gradlens.runFile");
      await eventually(() => gradlensDiagnostics(file).length === 0, "the diagnostic to clear");
    } finally {
      fs.writeFileSync(file, original);
    }
  });

  it("warns at the first non-finite value", async () => {
    const file = fixture("nonfinite.grad.ts");
    await openFixture("nonfinite.grad.ts");
    await vscode.commands.executeCommand("gradlens.runFile");
    const [warning] = await eventually(() => gradlensDiagnostics(file).length > 0 && gradlensDiagnostics(file), "the non-finite diagnostic");
    assert.equal(warning.severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(warning.range.start.line, 5);
    assert.match(warning.message, /log\(0\)/);
  });

  it("runs a .grad.ts file again on save", async () => {
    const api = await gradlens();
    const editor = await openFixture("affine.grad.ts");
    const file = fixture("affine.grad.ts");
    await vscode.commands.executeCommand("gradlens.runFile");
    const runs = api.runCount();
    await editor.edit((e) => e.replace(editor.document.lineAt(3).range, "const x = new Value(5);"));
    assert.equal(api.lastRun(file), undefined, "an edit makes the run stale");
    await editor.document.save();
    const run = await eventually(() => api.lastRun(file), "the run on save");
    assert.equal(api.runCount(), runs + 1);
    assert.equal(run.bindings.find((b) => b.name === "z")?.data, 16);
    await editor.edit((e) => e.replace(editor.document.lineAt(3).range, "const x = new Value(2);"));
    await editor.document.save();
  });
});
