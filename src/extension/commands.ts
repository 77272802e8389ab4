/**
 * The commands in package.json `contributes.commands`. Each one is a few lines: find what to run, check
 * trust, hand it to the run service, and show the result where the user looks for it.
 */
import * as vscode from "vscode";
import type { RunResult } from "../protocol/result";
import { GraphPanel } from "./graphPanel";
import { CheckDetailsProvider } from "./checkDetails";
import type { ResultStore } from "./results";
import type { RunService } from "./runService";
import { isGradFile, targetFromEditor, type RunTarget } from "./runTarget";
import { ensureTrusted } from "./trust";
import { opMessage } from "../protocol/checkVerdict";
import { editorWords } from "./verdict";
import { loadRunner } from "./runners";

const findCodeBlockAt = (markdown: string, line: number) => loadRunner().findCodeBlockAt(markdown, line);

/** Arguments of the commands that lenses and hover links call. */
export interface FunctionArgs {
  file: string;
  functionName: string;
  /** In Markdown: the first line of the ```python block the function is in (the block runs, with the blocks it needs). */
  line?: number;
}
export interface NodeArgs {
  file: string;
  root: number;
  id: number;
}

export function registerCommands(context: vscode.ExtensionContext, runs: RunService, store: ResultStore, log: vscode.LogOutputChannel): vscode.Disposable {
  const register = vscode.commands.registerCommand;
  return vscode.Disposable.from(
    register("gradlens.showGraph", async (resource?: vscode.Uri) => {
      const target = await targetFor(resource, true);
      if (!target || !ensureTrusted()) return undefined;
      const result = await runs.run({ target, mode: "run", feedback: "notification" });
      if (!result) return undefined;
      // A run that failed halfway still shows the graph it built up to the error.
      if (result.roots.length > 0) GraphPanel.show(context, result);
      if (!reportError(result) && result.roots.length === 0 && !result.error) {
        void vscode.window.showInformationMessage(vscode.l10n.t("The code ran but made no Value, so there is no graph to show."));
      }
      return result;
    }),

    register("gradlens.runFile", async (resource?: vscode.Uri) => {
      const target = await targetFor(resource, false);
      if (!target || !ensureTrusted()) return undefined;
      const result = await runs.run({ target, mode: "run", feedback: "notification" });
      if (result) reportError(result);
      return result;
    }),

    register("gradlens.checkGradients", async (resource?: vscode.Uri) => {
      const target = await targetFor(resource, false);
      if (!target || !ensureTrusted()) return undefined;
      if (!isGradFile(target.document) && target.language !== "python") {
        void vscode.window.showInformationMessage(vscode.l10n.t("Gradient checks run on .grad.ts files, Python files and ```python blocks of Markdown."));
        return undefined;
      }
      const result = await runs.run({ target, mode: "check", feedback: "notification" });
      if (result) reportChecks(result);
      return result;
    }),

    register("gradlens.checkFunction", async (args: FunctionArgs) => {
      if (!ensureTrusted()) return undefined;
      const document = await vscode.workspace.openTextDocument(vscode.Uri.file(args.file));
      const target = checkTarget(args, document);
      const result = await runs.run({ target, mode: "check", functionName: args.functionName, feedback: "notification" });
      if (result) reportChecks(result);
      return result;
    }),

    register("gradlens.checkOps", async (resource?: vscode.Uri, line?: number) => {
      // In Markdown the lens says which ```python block (its first line); else the cursor's block or the selection.
      const target = typeof line === "number" && resource instanceof vscode.Uri ? await blockTarget(resource, line) : await targetFor(resource, true);
      if (!target || !ensureTrusted()) return undefined;
      const result = await runs.run({ target, mode: "run", opsOnly: true, feedback: "notification" });
      if (result && !reportError(result)) reportOps(result);
      return result;
    }),

    register("gradlens.showCheckDetails", async (args: FunctionArgs) => {
      const uri = CheckDetailsProvider.uriFor(args.file, args.functionName);
      try {
        await vscode.commands.executeCommand("markdown.showPreviewToSide", uri);
      } catch {
        // Without the Markdown extension the table is still readable as text.
        await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.Beside, preview: true });
      }
      return uri;
    }),

    register("gradlens.revealNode", async (args: NodeArgs) => {
      let panel = GraphPanel.current;
      // The hover may be in another file than the graph on screen: show that file's graph.
      if (!panel || !panel.shows(args.file)) {
        const run = store.get(args.file)?.run;
        if (!run || run.roots.length === 0) return false;
        panel = GraphPanel.show(context, run, args.root);
      }
      panel.revealNode(args.root, args.id);
      return true;
    }),

    register("gradlens.clearResults", () => {
      runs.cancelAll();
      store.clear();
    }),

    register("gradlens.showLog", () => log.show(true)),
  );
}

/** What a lens's check runs: the file, or in Markdown the ```python block of the function. */
function checkTarget(args: FunctionArgs, document: vscode.TextDocument): RunTarget {
  if (document.languageId === "markdown" && args.line !== undefined) {
    const block = findCodeBlockAt(document.getText(), args.line);
    if (block) return { kind: "snippet", language: "python", file: args.file, document, code: block.code, origin: { file: args.file, line: block.startLine, column: 1 } };
  }
  return { kind: "file", language: document.languageId === "python" ? "python" : "typescript", file: args.file, document };
}

/** The ```python block at `line` of a Markdown file, as a lens of that block runs it. */
async function blockTarget(resource: vscode.Uri, line: number): Promise<RunTarget | undefined> {
  const document = await vscode.workspace.openTextDocument(resource);
  return checkTarget({ file: resource.fsPath, functionName: "", line }, document);
}

/** The code to run: the file the command was invoked on (editor title), else the active editor. */
async function targetFor(resource: vscode.Uri | undefined, useSelection: boolean): Promise<RunTarget | undefined> {
  let editor = vscode.window.activeTextEditor;
  if (resource instanceof vscode.Uri && editor?.document.uri.toString() !== resource.toString()) {
    editor = await vscode.window.showTextDocument(resource, { preserveFocus: true });
  }
  if (!editor) {
    void vscode.window.showInformationMessage(vscode.l10n.t("Open a .grad.ts, JavaScript, Python or Markdown file to run it."));
    return undefined;
  }
  const target = await targetFromEditor(editor, useSelection);
  if ("problem" in target) {
    void vscode.window.showInformationMessage(target.problem);
    return undefined;
  }
  return target;
}

/** Errors are also in the Problems panel; the notification points there and to the log. */
function reportError(result: RunResult): boolean {
  reportNotes(result);
  if (!result.error || result.error.kind === "cancelled") return false;
  const showLog = vscode.l10n.t("Show Log");
  void vscode.window.showErrorMessage(vscode.l10n.t("GradLens: {0}", result.error.message), showLog).then((choice) => {
    if (choice === showLog) void vscode.commands.executeCommand("gradlens.showLog");
  });
  return true;
}

/** What the run did that plain Python would not (earlier blocks ran first, the tutorial's Value was supplied). */
function reportNotes(result: RunResult): void {
  if (!result.notes?.length) return;
  void vscode.window.showInformationMessage(vscode.l10n.t("GradLens: {0}", result.notes.map((note) => note.message).join(" · ")));
}

function reportChecks(result: RunResult): void {
  if (reportError(result)) return;
  const failed = (result.checks ?? []).filter((check) => !check.ok);
  if (failed.length === 0) return;
  const details = vscode.l10n.t("Show Details");
  void vscode.window
    .showWarningMessage(vscode.l10n.t("Gradient mismatch in {0}.", failed.map((check) => check.name).join(", ")), details)
    .then((choice) => {
      if (choice === details) void vscode.commands.executeCommand("gradlens.showCheckDetails", { file: result.file, functionName: failed[0].name });
    });
}

/** After "Check ops": the wrong ops, or that all agreed. */
function reportOps(result: RunResult): void {
  const ops = result.opChecks ?? [];
  const wrong = ops.filter((op) => !op.ok);
  if (wrong.length > 0) void vscode.window.showWarningMessage(wrong.map((op) => opMessage(op, editorWords)).join("\n"));
  else void vscode.window.showInformationMessage(vscode.l10n.t("GradLens: the local gradients of all {0} op kinds agree with central differences.", ops.length));
}
