// Gradient checks of learners' own classes in the real VS Code: "Check gradient" lenses above Python
// functions (.py files and ```python blocks of Markdown), verdicts, Problems entries and the details
// table, with the user's own class; and the same for a learner's TypeScript class.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as vscode from "vscode";
import type { RunResult } from "../../src/protocol/result";
import { closeAllEditors, eventually, extensionId, gradlens, gradlensDiagnostics, hoverText } from "./helpers";

function userFixture(...parts: string[]): string {
  const extension = vscode.extensions.getExtension(extensionId);
  assert.ok(extension);
  return path.join(extension.extensionPath, "test", "fixtures", "userClasses", ...parts);
}

async function lenses(file: string): Promise<vscode.CodeLens[]> {
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(vscode.Uri.file(file)));
  const all = await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", vscode.Uri.file(file), 100);
  return all.filter((l) => l.command?.command.startsWith("gradlens."));
}

const titles = (found: vscode.CodeLens[]) => found.map((l) => `${l.range.start.line + 1}: ${l.command?.title}`);

async function click(lens: vscode.CodeLens | undefined): Promise<RunResult> {
  assert.ok(lens?.command, "a lens with a command");
  const result = await vscode.commands.executeCommand<RunResult>(lens.command.command, ...(lens.command.arguments ?? []));
  assert.ok(result, "the command returns the check's result");
  return result;
}

describe("Gradient checks of learners' own classes", function () {
  this.timeout(60_000);
  before(() => vscode.commands.executeCommand("gradlens.clearResults"));
  after(closeAllEditors);

  it("shows \"Check gradient\" above Python functions with Value hints or a @gradcheck line", async () => {
    assert.deepEqual(titles(await lenses(userFixture("python", "closures.py"))), ["74: Check gradient", "79: Check gradient", "84: Check gradient"]);
  });

  it("a Python check with the user's class: verdict lens (the culprit op), Problems entry and the per-input table", async () => {
    const file = userFixture("python", "wrong_op.py");
    const result = await click((await lenses(file)).find((l) => l.command?.title === "Check gradient"));
    assert.equal(result.language, "python");
    assert.equal(result.error, undefined, result.error?.message);
    assert.deepEqual(result.checks?.map((c) => c.inputs.map((i) => i.verdict)), [["ok", "mismatch"]]);
    const after = await lenses(file);
    assert.deepEqual(titles(after), ["39: ✗ `*` at wrong_op.py:41 gives 3 for d/db, central differences give 2", "39: Check gradient"]);
    const problems = await eventually(() => gradlensDiagnostics(file).filter((d) => d.code === "gradient-mismatch"), "the mismatch diagnostic", 5000);
    assert.equal(problems[0].range.start.line, 38);
    assert.match(problems[0].message, /f.*y: backprop 3, numeric 2/);
    const uri = await vscode.commands.executeCommand<vscode.Uri>(after[0].command!.command, ...(after[0].command!.arguments ?? []));
    const table = (await vscode.workspace.openTextDocument(uri)).getText();
    assert.match(table, /\| x \| 4 \| 4 \|.*✓ ok/);
    assert.match(table, /\| y \| 3 \| 2 \|.*✗ mismatch/);
  });

  it("a ```python block of Markdown gets lenses, and its check runs the block after the ones it needs", async () => {
    const file = userFixture("python", "chapter.md");
    const found = await lenses(file);
    assert.deepEqual(titles(found), ["45: Check gradient"]);
    const result = await click(found[0]);
    assert.equal(result.error, undefined, result.error?.message);
    assert.equal(result.checks?.[0].ok, true);
    assert.match(titles(await lenses(file))[0], /^45: ✓ gradient OK/);
  });

  it("a learner's TypeScript class: the check builds inputs with the user's constructor and names the wrong op", async () => {
    const file = userFixture("wrongMul.grad.ts");
    const result = await click((await lenses(file)).find((l) => l.command?.title === "Check gradient"));
    assert.equal(result.error, undefined, result.error?.message);
    assert.deepEqual(titles(await lenses(file)).slice(0, 1), ["47: ✗ `*` at wrongMul.grad.ts:48 gives 3 for d/db, central differences give 2"]);
  });
});

describe("A learner's own TypeScript Value class in the editor", function () {
  this.timeout(60_000);
  before(() => vscode.commands.executeCommand("gradlens.clearResults"));
  after(closeAllEditors);

  it("Show Computation Graph draws the class's graph; hovers and inline values show its numbers", async () => {
    const api = await gradlens();
    const file = userFixture("localGrads.grad.ts");
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    await vscode.window.showTextDocument(document);
    const result = await vscode.commands.executeCommand<RunResult>("gradlens.showGraph");
    assert.equal(result?.error, undefined, result?.error?.message);
    assert.equal(result?.roots[0].name, "d");
    assert.deepEqual(result?.console.map((c) => c.text), ['{"a":4,"b":3,"c":1,"d":3}']);
    const line = [...Array(document.lineCount).keys()].find((n) => document.lineAt(n).text.startsWith("const a = "))!;
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", document.uri, new vscode.Position(line, 6));
    assert.match(hoverText(hovers), /data \*\*3\*\* · grad \*\*4\*\*/);
    const texts = await eventually(() => api.inlineValueTexts(file).length > 0 && api.inlineValueTexts(file), "inline values");
    assert.ok(texts.includes("a = 3 · grad 4"), texts.join(" | "));
  });
});
