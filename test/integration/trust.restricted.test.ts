import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { closeAllEditors, fixture, gradlens, gradlensDiagnostics, graphTab, openFixture } from "./helpers";

describe("Restricted Mode", () => {
  after(closeAllEditors);

  it("opens the workspace untrusted", () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  it("runs no user code, whatever the command", async () => {
    const api = await gradlens();
    const file = fixture("affine.grad.ts");
    await openFixture("affine.grad.ts");
    for (const command of ["gradlens.showGraph", "gradlens.runFile", "gradlens.checkGradients"]) {
      assert.equal(await vscode.commands.executeCommand(command), undefined, command);
    }
    assert.equal(await vscode.commands.executeCommand("gradlens.checkFunction", { file: fixture("checks.grad.ts"), functionName: "affine" }), undefined);
    assert.equal(api.runCount(), 0);
    assert.equal(api.lastRun(file), undefined);
    assert.equal(graphTab(), undefined);
    assert.deepEqual(gradlensDiagnostics(file), []);
  });

  it("explains why and offers to manage Workspace Trust", async () => {
    await openFixture("affine.grad.ts");
    // The extension and its tests share one `vscode` API object, so the message can be observed here.
    const window = vscode.window as { showWarningMessage: (...args: unknown[]) => Thenable<unknown> };
    const original = window.showWarningMessage;
    const shown: unknown[][] = [];
    window.showWarningMessage = (...args: unknown[]) => {
      shown.push(args);
      return Promise.resolve(undefined);
    };
    try {
      await vscode.commands.executeCommand("gradlens.showGraph");
    } finally {
      window.showWarningMessage = original;
    }
    assert.equal(shown.length, 1);
    assert.match(String(shown[0][0]), /Restricted Mode/);
    assert.ok(shown[0].includes("Manage Workspace Trust"), shown[0].join(" | "));
  });

  it("does not run on save", async () => {
    const api = await gradlens();
    const editor = await openFixture("affine.grad.ts");
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), "// saved\n"));
    await editor.document.save();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(api.runCount(), 0);
  });

  it("still shows \"Check gradient\" lenses (finding functions only parses)", async () => {
    await openFixture("checks.grad.ts");
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", vscode.Uri.file(fixture("checks.grad.ts")), 100);
    assert.deepEqual(lenses.map((l) => l.command?.title), ["Check gradient", "Check gradient"]);
  });

  it("declares limited support for untrusted workspaces and none for virtual ones", () => {
    const capabilities = (vscode.extensions.getExtension("gradlens.gradlens")?.packageJSON as {
      capabilities: { untrustedWorkspaces: { supported: unknown }; virtualWorkspaces: { supported: unknown } };
    }).capabilities;
    assert.equal(capabilities.untrustedWorkspaces.supported, "limited");
    assert.equal(capabilities.virtualWorkspaces.supported, false);
  });
});
