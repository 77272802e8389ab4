/** Shared helpers of the integration tests: the fixture workspace, the extension's test API, waiting. */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as vscode from "vscode";
import type { GradLensApi } from "../../src/extension/api";

export const extensionId = "gradlens.gradlens";

/** The extension, activated; its `activate()` result is the test API. */
export async function gradlens(): Promise<GradLensApi> {
  const extension = vscode.extensions.getExtension<GradLensApi>(extensionId);
  assert.ok(extension, `extension ${extensionId} is not installed`);
  return extension.isActive ? extension.exports : await extension.activate();
}

/** Absolute path of a file in the (temporary copy of the) fixture workspace. */
export function fixture(name: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "the tests need the fixture workspace open");
  return path.join(folder.uri.fsPath, name);
}

export async function openFixture(name: string): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(fixture(name)));
  return vscode.window.showTextDocument(document);
}

/** Polls until `probe` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The open graph panel's tab, if any (the panel's viewType is "gradlens.graph"). */
export function graphTab(): vscode.Tab | undefined {
  for (const group of vscode.window.tabGroups.all) {
    for (const tab of group.tabs) {
      if (tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith("gradlens.graph")) return tab;
    }
  }
  return undefined;
}

export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand("workbench.action.closeAllEditors");
}

/** The GradLens diagnostics of a file. */
export function gradlensDiagnostics(file: string): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(vscode.Uri.file(file)).filter((d) => d.source === "GradLens");
}

/** The plain text of a hover's contents. */
export function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === "string" ? c : "value" in c ? c.value : ""))
    .join("\n");
}
