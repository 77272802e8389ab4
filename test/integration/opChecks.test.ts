import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as vscode from "vscode";
import type { RunResult } from "../../src/protocol/result";
import { closeAllEditors, eventually, extensionId, fixture, gradlensDiagnostics, openFixture } from "./helpers";

/** A file of test/fixtures/opcheck in the installed extension (learners' classes with wrong ops). */
function opFixture(name: string): string {
  const extension = vscode.extensions.getExtension(extensionId);
  assert.ok(extension);
  return path.join(extension.extensionPath, "test", "fixtures", "opcheck", name);
}

/** The lines (1-based) of the file's wrong-local-gradient diagnostics, once there are `count`. */
async function wrongOpLines(file: string, count: number): Promise<number[]> {
  const found = await eventually(() => {
    const wrong = gradlensDiagnostics(file).filter((d) => d.code === "wrong-local-gradient");
    return wrong.length >= count && wrong;
  }, `${count} op diagnostic(s) in ${path.basename(file)}`);
  return found.map((d) => d.range.start.line + 1).sort((a, b) => a - b);
}

describe("op checks", function () {
  this.timeout(60_000);
  before(() => vscode.commands.executeCommand("gradlens.clearResults"));
  after(closeAllEditors);

  it("puts a wrong local gradient at the op's line (Check ops and a function check)", async () => {
    const file = fixture("wrongOp.grad.ts");
    await openFixture("wrongOp.grad.ts");
    await vscode.commands.executeCommand("gradlens.checkOps");
    const wrong = await eventually(() => {
      const found = gradlensDiagnostics(file).filter((d) => d.code === "wrong-local-gradient");
      return found.length > 0 && found;
    }, "the op diagnostic");
    assert.equal(wrong[0].range.start.line, 5, "line 6: the softplus op");
    assert.match(wrong[0].message, /`softplus` at wrongOp\.grad\.ts:6 gives .* for d\/dx, central differences give/);
    await vscode.commands.executeCommand("gradlens.checkGradients");
    const mismatch = await eventually(() => {
      const found = gradlensDiagnostics(file).filter((d) => d.code === "gradient-mismatch");
      return found.length > 0 && found;
    }, "the mismatch diagnostic");
    assert.match(mismatch.map((d) => d.message).join("\n"), /softplus/);
    assert.ok(gradlensDiagnostics(file).some((d) => d.code === "wrong-local-gradient" && d.range.start.line === 5));
  });

  it("a learner's TypeScript class: the wrong ops at their methods' lines (sub's sign, `=` in mul)", async () => {
    const file = opFixture("learnerClosures.grad.ts");
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(vscode.Uri.file(file)));
    const result = await vscode.commands.executeCommand<RunResult>("gradlens.checkOps");
    assert.equal(result?.error, undefined, result?.error?.message);
    // mul is wrong at two call sites, both defined at line 35; sub at 26.
    assert.deepEqual([...new Set(await wrongOpLines(file, 3))], [26, 35]);
    const messages = gradlensDiagnostics(file).map((d) => d.message).join("\n");
    assert.match(messages, /`-` at learnerClosures\.grad\.ts:77 gives 1 for d\/db, central differences give -1/);
    assert.match(messages, /`\*` at learnerClosures\.grad\.ts:\d+ overwrites its inputs' grads/);
  });

  it("a Python file with its own class: the wrong ops at their methods' lines", async () => {
    const file = opFixture("closures_wrong.py");
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(vscode.Uri.file(file)));
    const result = await vscode.commands.executeCommand<RunResult>("gradlens.checkOps");
    assert.equal(result?.error, undefined, result?.error?.message);
    assert.deepEqual([...new Set(await wrongOpLines(file, 2))], [25, 36]);
  });

  it("a python block of Markdown: Check ops runs it after the block it needs, the lens sits on the block", async () => {
    const file = opFixture("chapter_wrong.md");
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    const editor = await vscode.window.showTextDocument(document);
    editor.selection = new vscode.Selection(58, 0, 58, 0); // line 59: `c = residual(a, b)`
    const result = await vscode.commands.executeCommand<RunResult>("gradlens.checkOps");
    assert.equal(result?.error, undefined, result?.error?.message);
    assert.deepEqual(await wrongOpLines(file, 1), [24], "__sub__ of the class in the first block");
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", document.uri, 100)).filter((l) => l.command?.command === "gradlens.checkOps");
    assert.equal(lenses.length, 1);
    assert.equal(lenses[0].range.start.line + 1, 57, "on the block that ran (its backward() call), not the one it needed");
    assert.match(lenses[0].command!.title, /^✗ `-` at chapter_wrong\.md:51/);
  });
});
