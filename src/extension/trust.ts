/**
 * Workspace Trust: GradLens runs the user's code, so in Restricted Mode it runs nothing. Commands call
 * `ensureTrusted` first; it explains why nothing happens and offers to manage trust.
 */
import * as vscode from "vscode";

/** True when code may run; otherwise tells the user why not (without waiting for their answer). */
export function ensureTrusted(): boolean {
  if (vscode.workspace.isTrusted) return true;
  const manage = vscode.l10n.t("Manage Workspace Trust");
  void vscode.window
    .showWarningMessage(
      vscode.l10n.t("GradLens runs your code to draw its graph and check its gradients, so it is off in Restricted Mode. Trust this workspace to use it."),
      manage,
    )
    .then((choice) => {
      if (choice === manage) void vscode.commands.executeCommand("workbench.trust.manage");
    });
  return false;
}
