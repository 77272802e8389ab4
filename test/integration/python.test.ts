// Python in the real VS Code: "Show Computation Graph" on a .py file that imports a micrograd-style
// engine.py, on the tutorial chapter's ```python blocks in Markdown, and hovers after a run.
// The files are the repository's own fixtures (test/fixtures/python), opened from the extension's folder.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as vscode from "vscode";
import type { RunResult } from "../../src/protocol/result";
import { closeAllEditors, eventually, extensionId, graphTab, hoverText } from "./helpers";

function pythonFixture(name: string): string {
  const extension = vscode.extensions.getExtension(extensionId);
  assert.ok(extension);
  return path.join(extension.extensionPath, "test", "fixtures", "python", name);
}

async function open(file: string): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  return vscode.window.showTextDocument(document);
}

function lineOf(document: vscode.TextDocument, text: string, from = 0): number {
  for (let line = from; line < document.lineCount; line++) {
    if (document.lineAt(line).text.startsWith(text)) return line;
  }
  assert.fail(`no line starts with ${text}`);
}

async function showGraphAt(editor: vscode.TextEditor, line: number): Promise<RunResult> {
  editor.selection = new vscode.Selection(line, 0, line, 0);
  const result = await vscode.commands.executeCommand<RunResult>("gradlens.showGraph");
  assert.ok(result, "the command returns the run's result");
  return result;
}

describe("Python", function () {
  this.timeout(60_000);
  before(() => vscode.commands.executeCommand("gradlens.clearResults"));
  after(closeAllEditors);

  it("Show Computation Graph on a .py file draws the graph of its micrograd-style engine.py, with op labels", async () => {
    const file = pythonFixture("micrograd_style/sanity.py");
    await open(file);
    const result = await vscode.commands.executeCommand<RunResult>("gradlens.showGraph");
    assert.ok(result);
    assert.equal(result.language, "python");
    assert.equal(result.error, undefined, result.error?.message);
    const [root] = result.roots;
    assert.equal(root.name, "y");
    assert.equal(root.graph.data[root.graph.root], -20);
    assert.ok(root.graph.opNames.includes("ReLU"), `ops ${root.graph.opNames.join(" ")}`);
    assert.deepEqual(result.console.map((c) => c.text), ["y = -20.0, dy/dx = 46.0"]);
    const tab = await eventually(() => graphTab(), "the graph panel");
    assert.match(tab.label, /y/);
  });

  it("hover on a variable of the .py file shows its data and grad after the run", async () => {
    const file = pythonFixture("micrograd_style/sanity.py");
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    const line = lineOf(document, "x = Value(-4.0)");
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", document.uri, new vscode.Position(line, 0));
    assert.match(hoverText(hovers), /data \*\*-4\*\* · grad \*\*46\*\*/);
  });

  it("Show Computation Graph on the chapter's full listing (§6) prints z = 7.0 and draws grads 3, 2, 1", async () => {
    const editor = await open(pythonFixture("value-chapter.ko.md"));
    const document = editor.document;
    const backward = lineOf(document, "z.backward()", lineOf(document, "## 6."));
    const result = await showGraphAt(editor, backward);
    assert.equal(result.language, "python");
    assert.equal(result.error, undefined, result.error?.message);
    assert.deepEqual(result.console.map((c) => c.text), ["z = 7.0", "dz/dx = 3.0", "dz/dy = 2.0", "dz/dw = 1"]);
    const [root] = result.roots;
    assert.equal(root.name, "z");
    assert.equal(root.position?.line, backward + 1, "the root points at the Markdown line of z.backward()");
    const grads = Object.fromEntries(result.bindings.map((b) => [b.name, b.grad]));
    assert.deepEqual([grads.x, grads.y, grads.w], [3, 2, 1]);
  });

  it("Show Computation Graph on the §7 numerical check prints 3.000000 (it builds on §6's block)", async () => {
    const editor = await open(pythonFixture("value-chapter.ko.md"));
    const result = await showGraphAt(editor, lineOf(editor.document, "estimate = central"));
    assert.equal(result.error, undefined, result.error?.message);
    const printed = result.console.filter((c) => !c.text.startsWith("GradLens:")).map((c) => c.text);
    assert.equal(printed[0], "수치 미분 3.000000");
    assert.equal(printed[1], "역전파 3.000000");
  });

  it("a fragment of the chapter shows its error at the Markdown line", async () => {
    const editor = await open(pythonFixture("value-chapter.ko.md"));
    const line = lineOf(editor.document, "self.grad = 1  #");
    const result = await showGraphAt(editor, line);
    assert.equal(result.error?.kind, "runtime");
    assert.match(result.error?.message ?? "", /'self' is not defined/);
    assert.equal(result.error?.position?.line, line + 1);
  });
});
