/**
 * What "run" means for the active editor: a whole file, the selection, or the fenced code block under
 * the cursor in Markdown — and in which language. Decides only; running is `runService.ts`.
 */
import * as vscode from "vscode";
import { findCodeBlockAt } from "../analysis/codeBlocks";
import { gradFileContextKey, gradFileGlob, isGradFileName } from "../analysis/gradFile";
import type { SnippetOrigin } from "../runner/index";

export type RunLanguage = "typescript" | "python";

export type RunTarget =
  | { kind: "file"; language: RunLanguage; file: string; document: vscode.TextDocument }
  | { kind: "snippet"; language: RunLanguage; file: string; code: string; origin: SnippetOrigin; document: vscode.TextDocument };

/** Why nothing can run, as a sentence for the user. */
export interface NoTarget {
  problem: string;
}

const languageOfEditor: Record<string, RunLanguage> = {
  typescript: "typescript",
  javascript: "typescript",
  typescriptreact: "typescript",
  javascriptreact: "typescript",
  python: "python",
};

/** Fence info strings GradLens runs (```ts, ```python, …). */
const languageOfFence: Record<string, RunLanguage> = {
  ts: "typescript",
  typescript: "typescript",
  js: "typescript",
  javascript: "typescript",
  py: "python",
  python: "python",
  python3: "python",
};

/** Grad files on disk (see src/analysis/gradFile.ts): lenses, inline values, checks and run-on-save are for them. */
export const gradFileSelector: vscode.DocumentSelector = { scheme: "file", pattern: gradFileGlob };

export function isGradFile(document: vscode.TextDocument): boolean {
  return document.uri.scheme === "file" && isGradFileName(document.uri.path);
}

/** Keeps the `gradlens.gradFile` context key true while the active editor shows a grad file. */
export function trackGradFileContext(): vscode.Disposable {
  const update = (): void => {
    const document = vscode.window.activeTextEditor?.document;
    void vscode.commands.executeCommand("setContext", gradFileContextKey, document !== undefined && isGradFile(document));
  };
  update();
  return vscode.Disposable.from(
    vscode.window.onDidChangeActiveTextEditor(update),
    // A file saved under a new name, or a changed language mode, reopens the document.
    vscode.workspace.onDidOpenTextDocument((document) => document === vscode.window.activeTextEditor?.document && update()),
  );
}

/** The file, or — when `useSelection` and text is selected — the selected code. */
export async function targetFromEditor(editor: vscode.TextEditor, useSelection: boolean): Promise<RunTarget | NoTarget> {
  const document = editor.document;
  if (document.uri.scheme !== "file") {
    return { problem: vscode.l10n.t("GradLens runs files on disk. Save this file first.") };
  }
  const file = document.uri.fsPath;
  if (document.languageId === "markdown") return markdownTarget(editor, file);

  const language = languageOfEditor[document.languageId];
  if (!language) {
    return { problem: vscode.l10n.t("GradLens runs TypeScript, JavaScript and Python, and code blocks in Markdown.") };
  }
  const selection = editor.selection;
  if (useSelection && !selection.isEmpty && document.getText(selection).trim() !== "") {
    return {
      kind: "snippet",
      language,
      file,
      document,
      code: document.getText(selection),
      origin: { file, line: selection.start.line + 1, column: selection.start.character + 1 },
    };
  }
  return { kind: "file", language, file, document };
}

async function markdownTarget(editor: vscode.TextEditor, file: string): Promise<RunTarget | NoTarget> {
  const line = editor.selection.active.line + 1;
  const block = findCodeBlockAt(editor.document.getText(), line);
  if (!block) return { problem: vscode.l10n.t("Put the cursor in a fenced code block (```ts or ```python) to run it.") };
  const language = languageOfFence[block.language.toLowerCase()];
  if (!language) return { problem: vscode.l10n.t("GradLens cannot run a \"{0}\" code block.", block.language || "?") };
  return {
    kind: "snippet",
    language,
    file,
    document: editor.document,
    code: block.code,
    origin: { file, line: block.startLine, column: 1 },
  };
}
