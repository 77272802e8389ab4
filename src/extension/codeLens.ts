/**
 * "Check gradient" above every checkable function of a `.grad.ts` file; after a check, its verdict,
 * which opens the per-input table. Finding the functions only parses the file: nothing runs here.
 */
import * as vscode from "vscode";
import { loadAnalysis } from "./analysis";
import type { ResultStore } from "./results";
import { verdictTitle } from "./verdict";

export class GradientCheckLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly store: ResultStore) {
    this.subscription = store.onDidChange(() => this.changed.fire());
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const { findCheckableFunctions } = loadAnalysis();
    let functions;
    try {
      functions = findCheckableFunctions(document.getText(), document.uri.fsPath);
    } catch {
      return []; // A file that does not parse has no lenses; the run reports the syntax error.
    }
    const lenses: vscode.CodeLens[] = [];
    for (const fn of functions) {
      const line = Math.max(0, fn.range.line - 1);
      const range = new vscode.Range(line, 0, line, 0);
      const args = { file: document.uri.fsPath, functionName: fn.name };
      const check = this.store.freshCheck(document.uri.fsPath, fn.name);
      if (check) {
        lenses.push(new vscode.CodeLens(range, {
          title: verdictTitle(check),
          tooltip: vscode.l10n.t("Show the check of each input"),
          command: "gradlens.showCheckDetails",
          arguments: [args],
        }));
      }
      lenses.push(new vscode.CodeLens(range, {
        title: vscode.l10n.t("Check gradient"),
        tooltip: vscode.l10n.t("Compare backprop with numerical differentiation for {0}", fn.name),
        command: "gradlens.checkFunction",
        arguments: [args],
      }));
    }
    return lenses;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
