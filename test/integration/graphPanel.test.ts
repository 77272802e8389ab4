/** The graph panel in a real VS Code: it opens beside the editor and its webview renders the graph. */
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { RunResult } from "../../src/protocol/result";
import type { ViewMessage } from "../../src/protocol/messages";
import { closeAllEditors, eventually, fixture, graphTab, openFixture } from "./helpers";

type Rendered = Extract<ViewMessage, { type: "rendered" }>;

describe("graph panel", () => {
  afterEach(closeAllEditors);

  it("opens beside the editor and renders every node of the example", async () => {
    await openFixture("affine.grad.ts");
    const result = await vscode.commands.executeCommand<RunResult>("gradlens.showGraph");
    assert.ok(result && result.roots.length > 0, "the run produced a graph");
    await eventually(() => graphTab(), "the graph panel's tab");
    // The webview reports "rendered" once cytoscape drew the graph (a test hook of the panel).
    const rendered = await vscode.commands.executeCommand<Rendered | undefined>("gradlens.graph.waitForRender", 45_000);
    assert.ok(rendered, "the webview rendered within 45 s");
    const root = result.roots[result.roots.length - 1];
    assert.equal(rendered.nodeCount, root.graph.nodeCount);
    assert.equal(rendered.grouped, false);
    assert.ok(rendered.visibleNodes >= root.graph.nodeCount, `${rendered.visibleNodes} nodes drawn (values and ops)`);
  });

  it("renders again after the panel was hidden and shown (no retained context)", async () => {
    await openFixture("affine.grad.ts");
    await vscode.commands.executeCommand<RunResult>("gradlens.showGraph");
    assert.ok(await vscode.commands.executeCommand<Rendered | undefined>("gradlens.graph.waitForRender", 45_000));
    const tab = await eventually(() => graphTab(), "the graph panel's tab");
    // Put the source editor in the graph's group: the webview is hidden and destroyed.
    const other = await vscode.workspace.openTextDocument(fixture("checks.grad.ts"));
    await vscode.window.showTextDocument(other, tab.group.viewColumn);
    const again = vscode.commands.executeCommand<Rendered | undefined>("gradlens.graph.waitForRender", 45_000, true);
    await vscode.commands.executeCommand("workbench.action.previousEditorInGroup");
    const rendered = await again;
    assert.ok(rendered, "the webview rendered again when shown");
  });
});
