/**
 * Hover on a variable after a run: the data, grad and op of the `Value` bound to it (the last one,
 * with a count, when a loop made many), and a link that reveals its node in the graph; after a
 * training run, a parameter group's gradient norm over the steps as a sparkline.
 */
import * as vscode from "vscode";
import type { BindingValue } from "../protocol/result";
import { formatNumber } from "./format";
import { fileKey, type ResultStore } from "./results";
import { trainingHover } from "./trainingHover";

export const runnableSelector: vscode.DocumentSelector = ["typescript", "javascript", "typescriptreact", "javascriptreact", "python", "markdown"].map(
  (language) => ({ scheme: "file", language }),
);

const identifier = /[A-Za-z_$][\w$]*/;

export class ValueHoverProvider implements vscode.HoverProvider {
  constructor(private readonly store: ResultStore) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const run = this.store.freshRun(document.uri.fsPath);
    if (!run || (run.bindings.length === 0 && !run.training)) return undefined;
    const wordRange = document.getWordRangeAtPosition(position, identifier);
    if (!wordRange) return undefined;
    const word = document.getText(wordRange);
    const binding = bindingAt(run.bindings, document.uri.fsPath, word, position.line + 1);
    // After a training run, a parameter group's gradient over the steps (trainingSparkline.ts).
    const sparkline = trainingHover(run.training, word);
    const parts = [...(binding ? [hoverMarkdown(binding, document.uri.fsPath)] : []), ...(sparkline ? [sparkline] : [])];
    return parts.length > 0 ? new vscode.Hover(parts, wordRange) : undefined;
  }
}

/** Of the bindings with this name, the one declared last before the line (scopes nest downwards). */
export function bindingAt(bindings: readonly BindingValue[], file: string, name: string, line: number): BindingValue | undefined {
  const key = fileKey(file);
  const candidates = bindings.filter((b) => b.name === name && fileKey(b.range.file) === key);
  const before = candidates.filter((b) => b.range.line <= line);
  const pool = before.length > 0 ? before : candidates;
  return pool.reduce<BindingValue | undefined>((best, b) => (!best || b.range.line >= best.range.line ? b : best), undefined);
}

function hoverMarkdown(binding: BindingValue, file: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.supportThemeIcons = true;
  md.appendMarkdown(`**${escape(binding.name)}** · \`Value\`\n\n`);
  md.appendMarkdown(
    vscode.l10n.t("data **{0}** · grad **{1}** · op `{2}`", formatNumber(binding.data), formatNumber(binding.grad), binding.op === "" ? vscode.l10n.t("leaf") : binding.op),
  );
  md.appendMarkdown("\n\n");
  if (binding.count > 1) {
    md.appendMarkdown(vscode.l10n.t("made {0} times; the last value is shown", binding.count));
    md.appendMarkdown("\n\n");
  }
  if (binding.node) {
    const args = encodeURIComponent(JSON.stringify([{ file, root: binding.node.root, id: binding.node.id }]));
    md.appendMarkdown(`[$(type-hierarchy) ${vscode.l10n.t("Show in graph")}](command:gradlens.revealNode?${args})`);
    // Only this command may run from the hover's link.
    md.isTrusted = { enabledCommands: ["gradlens.revealNode"] };
  }
  return md;
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, "\\$&");
}
