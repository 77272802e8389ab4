import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { closeAllEditors, eventually, fixture, graphTab, hoverText, openFixture } from "./helpers";

async function hoverAt(file: string, line: number, text: string): Promise<string> {
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const column = document.lineAt(line - 1).text.indexOf(text);
  assert.ok(column >= 0, `"${text}" on line ${line}`);
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", document.uri, new vscode.Position(line - 1, column + 1));
  return hoverText(hovers);
}

describe("hover on a variable", () => {
  const file = () => fixture("affine.grad.ts");
  before(async () => {
    await vscode.commands.executeCommand("gradlens.clearResults");
    await openFixture("affine.grad.ts");
  });
  after(closeAllEditors);

  it("shows nothing from GradLens before a run", async () => {
    assert.doesNotMatch(await hoverAt(file(), 7, "z ="), /grad \*\*/);
  });

  it("shows data, grad and op after a run, with a Show in graph link", async () => {
    await vscode.commands.executeCommand("gradlens.runFile");
    const text = await hoverAt(file(), 7, "z =");
    assert.match(text, /data \*\*7\*\* · grad \*\*1\*\* · op `\+`/);
    assert.match(text, /\[.*Show in graph\]\(command:gradlens\.revealNode\?/);
    // The use of x on line 7 (not its declaration) shows x too.
    assert.match(await hoverAt(file(), 7, "x.mul"), /data \*\*2\*\* · grad \*\*3\*\* · op `leaf`/);
  });

  it("shows the count and the last value for a binding made in a loop", async () => {
    const text = await hoverAt(file(), 13, "term");
    assert.match(text, /data \*\*6\*\*/, "the last term is x·3 = 6");
    assert.match(text, /made 3 times/);
  });

  it("Show in graph reveals the node in the graph panel", async () => {
    const text = await hoverAt(file(), 7, "z =");
    const link = /command:gradlens\.revealNode\?([^)]+)\)/.exec(text);
    assert.ok(link);
    const args = JSON.parse(decodeURIComponent(link[1])) as unknown[];
    assert.equal(await vscode.commands.executeCommand("gradlens.revealNode", ...args), true);
    await eventually(() => graphTab(), "the graph panel");
  });
});
