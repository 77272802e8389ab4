/** Moving the cursor in the editor lights up the nodes made on that line in the open graph panel. */
import * as vscode from "vscode";
import { GraphPanel } from "./graphPanel";

export function followCursorInGraph(): vscode.Disposable {
  let last = "";
  return vscode.window.onDidChangeTextEditorSelection((e) => {
    const panel = GraphPanel.current;
    if (!panel || e.textEditor.document.uri.scheme !== "file") return;
    const file = e.textEditor.document.uri.fsPath;
    const line = e.selections[0].active.line + 1;
    // Typing along one line moves the cursor on every key; the panel needs to hear only new lines.
    const key = `${file}:${line}`;
    if (key === last) return;
    last = key;
    panel.highlightLine(file, line);
  });
}
