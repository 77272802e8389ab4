/**
 * Document events: an edit makes the file's results stale (hovers and inline values stop matching the
 * text); a save of a `.grad.ts` file runs it again when `gradlens.runOnSave` is on and the workspace is
 * trusted, so hovers and inline values follow the code.
 */
import * as vscode from "vscode";
import type { ResultStore } from "./results";
import type { RunService } from "./runService";
import { isGradFile, type RunTarget } from "./runTarget";
import { runOnSaveEnabled } from "./settings";

export function watchDocuments(store: ResultStore, runs: RunService): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length > 0 && store.get(e.document.uri.fsPath)) store.markStale(e.document.uri.fsPath);
    }),
    vscode.workspace.onDidSaveTextDocument(async (document) => {
      if (!isGradFile(document) || document.uri.scheme !== "file") return;
      if (!vscode.workspace.isTrusted || !runOnSaveEnabled(document.uri)) return;
      // A command that saved the file before running it is already running it.
      if (runs.isRunning(document.uri.fsPath)) return;
      const target: RunTarget = { kind: "file", language: "typescript", file: document.uri.fsPath, document };
      await runs.run({ target, mode: "run", feedback: "background" });
    }),
  );
}
