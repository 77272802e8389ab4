/**
 * "Check gradient" above every checkable function of a `.grad.ts` file, a `.py` file or a ```python block
 * of Markdown; after a check, its verdict, which opens the per-input table. Finding the functions only
 * reads the text: nothing runs here.
 */
import * as vscode from "vscode";
import { lensSitesOffThread } from "./analysis";
import { lensLanguageOf, type LensSite } from "../protocol/lensSites";
import { gradFileSelector } from "./runTarget";
import type { ResultStore } from "./results";
import { opMessage } from "../protocol/checkVerdict";
import { editorWords, verdictTitle } from "./verdict";
import type { FunctionArgs } from "./commands";
import type { RunResult } from "../protocol/result";
import { codeBlocksOf, type MarkdownCodeBlock } from "../analysis/codeBlocks";

/** Where gradient-check lenses appear: grad files, Python files, and Markdown (its ```python blocks). */
export const checkLensSelector: vscode.DocumentSelector = [gradFileSelector as vscode.DocumentFilter, { scheme: "file", language: "python" }, { scheme: "file", language: "markdown" }];

/**
 * In Markdown, the code block a "Check ops" run was of: the one with the last line the run recorded
 * (its ops, its backward() calls; the blocks it needed ran first, so their lines come earlier).
 */
function blockThatRan(document: vscode.TextDocument, run: RunResult): MarkdownCodeBlock | undefined {
  const positions = [...(run.opChecks ?? []).map((op) => op.position), ...run.roots.map((root) => root.position)];
  const lines = positions.filter((p) => p?.file === document.uri.fsPath).map((p) => p!.line);
  if (lines.length === 0) return undefined;
  const last = Math.max(...lines);
  return codeBlocksOf(document.getText()).find((b) => b.startLine <= last && last <= b.endLine);
}

export class GradientCheckLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly store: ResultStore) {
    this.subscription = store.onDidChange(() => this.changed.fire());
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    let functions: LensSite[];
    let models: LensSite[];
    try {
      // Off the extension host's thread: a big file takes a parser tenths of a second.
      ({ functions, models } = (await lensSitesOffThread(document.getText(), document.uri.fsPath, lensLanguageOf(document.languageId))).sites);
    } catch {
      return []; // A file that does not parse has no lenses; the run reports the syntax error.
    }
    const lenses: vscode.CodeLens[] = [];
    for (const fn of functions) {
      const line = Math.max(0, fn.line - 1);
      const range = new vscode.Range(line, 0, line, 0);
      const args: FunctionArgs = { file: document.uri.fsPath, functionName: fn.name, ...(fn.blockLine !== undefined ? { line: fn.blockLine } : {}) };
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
    lenses.push(...this.modelLenses(document, models));
    lenses.push(...this.opsLenses(document));
    return lenses;
  }

  /** "Check gradient (all parameters)" above a function that returns a Value but takes no Value parameters. */
  private modelLenses(document: vscode.TextDocument, models: readonly LensSite[]): vscode.CodeLens[] {
    const lenses: vscode.CodeLens[] = [];
    for (const fn of models) {
      const line = Math.max(0, fn.line - 1);
      const range = new vscode.Range(line, 0, line, 0);
      const args = { file: document.uri.fsPath, functionName: fn.name };
      const check = this.store.freshCheck(document.uri.fsPath, fn.name);
      if (check) lenses.push(new vscode.CodeLens(range, { title: verdictTitle(check), tooltip: vscode.l10n.t("Show the check of each input"), command: "gradlens.showCheckDetails", arguments: [args] }));
      lenses.push(new vscode.CodeLens(range, {
        title: vscode.l10n.t("Check gradient (all parameters)"),
        tooltip: vscode.l10n.t("Compare backprop with numerical differentiation for {0} with respect to every leaf of the graph it builds, at the program's own values", fn.name),
        command: "gradlens.checkFunction",
        arguments: [args],
      }));
    }
    return lenses;
  }

  /**
   * After "Check ops" (command palette): at the top of the file, whether every op's local gradient
   * agreed, or the first wrong op; clicking checks again. No lens before: the palette starts it.
   */
  private opsLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const run = this.store.freshRun(document.uri.fsPath);
    const ops = run?.opChecks;
    if (!run || !ops) return [];
    const wrong = ops.filter((op) => !op.ok);
    const title = wrong.length > 0 ? `✗ ${opMessage(wrong[0], editorWords)}` : vscode.l10n.t("✓ the local gradients of {0} op kinds agree", ops.length);
    const block = document.languageId === "markdown" ? blockThatRan(document, run) : undefined;
    const line = block ? block.startLine - 1 : 0;
    return [
      new vscode.CodeLens(new vscode.Range(line, 0, line, 0), {
        title,
        tooltip: vscode.l10n.t("Run the file and check the local gradient of every op it used"),
        command: "gradlens.checkOps",
        arguments: block ? [document.uri, block.startLine] : [document.uri],
      }),
    ];
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
