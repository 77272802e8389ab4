import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { RunResult } from "../../src/protocol/result";
import { closeAllEditors, fixture, hoverText, openFixture } from "./helpers";

describe("training run: hover sparkline", () => {
  before(async () => {
    await vscode.commands.executeCommand("gradlens.clearResults");
    await openFixture("fitLine.grad.ts");
  });
  after(closeAllEditors);

  it("after Train, a parameter's hover shows its gradient over the steps as a sparkline", async function () {
    this.timeout(120_000);
    const result = await vscode.commands.executeCommand<RunResult>("gradlens.train");
    assert.equal(result?.error, undefined, result?.error?.message);
    assert.equal(result?.training?.steps.length, 30);
    assert.equal(result?.training?.totalSteps, 30);
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(fixture("fitLine.grad.ts")));
    const line = 12; // w.data -= 0.02 * w.grad;
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", document.uri, new vscode.Position(line - 1, document.lineAt(line - 1).text.indexOf("w")));
    const text = hoverText(hovers);
    assert.match(text, /Gradient norm over 30 training steps/);
    // The loss falls towards 0, so w's gradient falls: the line starts high and ends low.
    const spark = /`w` `([▁▂▃▄▅▆▇█·!]+)`/.exec(text);
    assert.ok(spark, text);
    assert.equal([...spark[1]].length, 30);
    assert.equal([...spark[1]][0], "█");
    assert.ok("▁▂▃".includes([...spark[1]][29]), spark[1]);
  });
});
