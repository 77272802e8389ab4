/**
 * Inline values: after a run, the end of each binding's line in a `.grad.ts` file shows the data and
 * grad of the Value bound there. Themable colours, a setting to turn them off; they disappear as soon
 * as the text changes (the store marks the run stale) and come back with the next run.
 */
import * as vscode from "vscode";
import type { BindingValue } from "../protocol/result";
import { formatNumber } from "./format";
import { fileKey, type ResultStore } from "./results";
import { isGradFile } from "./runTarget";
import { inlineValuesEnabled } from "./settings";

/** Longest text shown after one line; a line with many bindings is cut with "…". */
const maxLineText = 160;

export class InlineValueDecorations implements vscode.Disposable {
  private readonly finite = vscode.window.createTextEditorDecorationType(style("gradlens.inlineValueForeground"));
  private readonly nonFinite = vscode.window.createTextEditorDecorationType(style("gradlens.inlineValueNonFiniteForeground"));
  /** What is shown now, by file (the test API reads it). */
  private readonly shown = new Map<string, string[]>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly store: ResultStore) {
    this.subscriptions = [
      store.onDidChange(() => this.refreshAll()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.refreshAll()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("gradlens.inlineValues")) this.refreshAll();
      }),
    ];
    this.refreshAll();
  }

  /** The texts shown at line ends in the file's editors, in line order. */
  textsFor(file: string): string[] {
    return this.shown.get(fileKey(file)) ?? [];
  }

  private refreshAll(): void {
    this.shown.clear();
    for (const editor of vscode.window.visibleTextEditors) this.refresh(editor);
  }

  private refresh(editor: vscode.TextEditor): void {
    const document = editor.document;
    const run = isGradFile(document) && inlineValuesEnabled(document.uri) ? this.store.freshRun(document.uri.fsPath) : undefined;
    const finite: vscode.DecorationOptions[] = [];
    const nonFinite: vscode.DecorationOptions[] = [];
    const texts: string[] = [];
    if (run) {
      for (const [line, bindings] of byLine(run.bindings, document.uri.fsPath)) {
        if (line >= document.lineCount) continue;
        const text = lineText(bindings);
        const end = document.lineAt(line).range.end;
        const target = bindings.some((b) => !Number.isFinite(b.data) || !Number.isFinite(b.grad)) ? nonFinite : finite;
        target.push({ range: new vscode.Range(end, end), renderOptions: { after: { contentText: text } } });
        texts.push(text);
      }
    }
    editor.setDecorations(this.finite, finite);
    editor.setDecorations(this.nonFinite, nonFinite);
    if (texts.length > 0) this.shown.set(fileKey(document.uri.fsPath), texts);
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.finite.dispose();
    this.nonFinite.dispose();
  }
}

function style(color: string): vscode.DecorationRenderOptions {
  return {
    after: { color: new vscode.ThemeColor(color), margin: "0 0 0 2em", fontStyle: "italic" },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  };
}

/** Bindings of this file grouped by 0-based line, in line order. */
function byLine(bindings: readonly BindingValue[], file: string): [number, BindingValue[]][] {
  const key = fileKey(file);
  const lines = new Map<number, BindingValue[]>();
  for (const b of bindings) {
    if (fileKey(b.range.file) !== key) continue;
    const line = b.range.line - 1;
    lines.set(line, [...(lines.get(line) ?? []), b]);
  }
  return [...lines.entries()].sort((a, b) => a[0] - b[0]);
}

/** "z = 7 · grad 1", or "h = 0.76 · grad 0.42 (×16)" for a binding made in a loop. */
export function lineText(bindings: readonly BindingValue[]): string {
  const parts = bindings.map((b) => {
    const count = b.count > 1 ? ` (×${b.count})` : "";
    return `${b.name} = ${formatNumber(b.data)} · ${vscode.l10n.t("grad")} ${formatNumber(b.grad)}${count}`;
  });
  const text = parts.join("   ");
  return text.length > maxLineText ? `${text.slice(0, maxLineText - 1)}…` : text;
}
