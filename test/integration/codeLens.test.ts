import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { RunResult } from "../../src/protocol/result";
import { closeAllEditors, eventually, fixture, gradlensDiagnostics, openFixture } from "./helpers";

async function lensTitles(file: string): Promise<string[]> {
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", vscode.Uri.file(file), 100);
  return lenses.filter((l) => l.command?.command.startsWith("gradlens.")).map((l) => `${l.range.start.line + 1}: ${l.command?.title}`);
}

describe("CodeLens gradient checks", () => {
  const file = () => fixture("checks.grad.ts");
  before(() => vscode.commands.executeCommand("gradlens.clearResults"));
  after(closeAllEditors);

  it("shows \"Check gradient\" above every checkable function", async () => {
    await openFixture("checks.grad.ts");
    assert.deepEqual(await lensTitles(file()), ["5: Check gradient", "10: Check gradient"]);
  });

  it("shows the verdict after a check of one function", async () => {
    const result = await vscode.commands.executeCommand<RunResult>("gradlens.checkFunction", { file: file(), functionName: "affine" });
    assert.equal(result?.checks?.length, 1);
    const titles = await lensTitles(file());
    assert.equal(titles.length, 3);
    assert.match(titles[0], /^5: ✓ gradient OK · max rel err \d(\.\d+)?e-\d+$/);
    assert.deepEqual(titles.slice(1), ["5: Check gradient", "10: Check gradient"]);
  });

  it("Check Gradients in File shows a mismatch with both numbers and puts it in Problems", async () => {
    await openFixture("checks.grad.ts");
    await vscode.commands.executeCommand("gradlens.checkGradients");
    const titles = await lensTitles(file());
    // The verdict names the op whose local gradient is wrong, at its line.
    assert.ok(titles.includes("10: ✗ `*` at checks.grad.ts:12 gives 1 for d/db, central differences give 2"), titles.join(" | "));
    const problems = await eventually(() => gradlensDiagnostics(file()).filter((d) => d.code === "gradient-mismatch"), "the mismatch diagnostic", 5000);
    assert.equal(problems.length, 1);
    assert.equal(problems[0].range.start.line, 9);
    assert.match(problems[0].message, /wrongProduct.*b: backprop 1, numeric 2/);
  });

  it("the verdict opens the per-input table", async () => {
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", vscode.Uri.file(file()), 100);
    const verdict = lenses.find((l) => l.command?.title.startsWith("✗"));
    assert.ok(verdict?.command);
    assert.equal(verdict.command.command, "gradlens.showCheckDetails");
    const uri = await vscode.commands.executeCommand<vscode.Uri>(verdict.command.command, ...(verdict.command.arguments ?? []));
    const table = (await vscode.workspace.openTextDocument(uri)).getText();
    assert.match(table, /\| Input \| Backprop \| Numeric \|/);
    assert.match(table, /\| a \| 3 \| 3 \|.*✓ ok/);
    assert.match(table, /\| b \| 1 \| 2 \|.*✗ mismatch/);
    assert.match(table, /@gradcheck tag: a = 2, b = 3/);
  });

  it("editing the file turns verdicts back into \"Check gradient\"", async () => {
    const editor = await openFixture("checks.grad.ts");
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), "// edited\n"));
    assert.deepEqual(await lensTitles(file()), ["6: Check gradient", "11: Check gradient"]);
    await vscode.commands.executeCommand("workbench.action.files.revert");
  });
});
