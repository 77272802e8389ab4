import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { RunResult } from "../../src/protocol/result";
import { closeAllEditors, eventually, fixture, graphTab, hoverText, openFixture } from "./helpers";

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

  it("a kept step opened in the graph panel stays there when the file runs again, until another graph is asked for", async function () {
    this.timeout(120_000);
    const trained = await vscode.commands.executeCommand<RunResult>("gradlens.train");
    assert.equal(trained?.error, undefined, trained?.error?.message);
    await vscode.commands.executeCommand("gradlens.training.openStep", 1);
    await eventually(() => graphTab()?.label.endsWith("· step 1"), "the graph of step 1");
    // A run of the same file (run on save, Run File, a training run's end) used to replace the step the user opened.
    const rerun = await vscode.commands.executeCommand<RunResult>("gradlens.runFile", vscode.Uri.file(fixture("fitLine.grad.ts")));
    assert.equal(rerun?.error, undefined, rerun?.error?.message);
    await new Promise((r) => setTimeout(r, 500));
    assert.match(graphTab()?.label ?? "", /· step 1$/);
    // Asking for the graph shows the run's own again.
    await vscode.commands.executeCommand("gradlens.showGraph", vscode.Uri.file(fixture("fitLine.grad.ts")));
    await eventually(() => graphTab() !== undefined && !/· step \d+$/.test(graphTab()?.label ?? ""), "the run's own graph");
  });
});
