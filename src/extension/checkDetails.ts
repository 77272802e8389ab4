/**
 * The per-input table behind a verdict: a read-only Markdown document (scheme `gradlens-check`) shown
 * in the Markdown preview. The document is generated from the stored check, so it is never out of date.
 */
import * as vscode from "vscode";
import type { FunctionCheckResult, OpCheckResult } from "../protocol/result";
import { decidedByText, inputVerdictText, mutationMessage, opMessage } from "../protocol/checkVerdict";
import { formatNumber } from "./format";
import type { ResultStore } from "./results";
import { editorWords, verdictTitle } from "./verdict";

export const checkDetailsScheme = "gradlens-check";

export class CheckDetailsProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly shown = new Set<string>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly store: ResultStore) {
    // A new check refreshes a table that is open.
    this.subscription = store.onDidChange(() => {
      for (const uri of this.shown) this.changed.fire(vscode.Uri.parse(uri));
    });
  }

  /** The document for one function's check: `gradlens-check:/<name>.md?<source file>`. */
  static uriFor(file: string, functionName: string): vscode.Uri {
    return vscode.Uri.from({ scheme: checkDetailsScheme, path: `/${functionName}.md`, query: vscode.Uri.file(file).toString() });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    this.shown.add(uri.toString());
    const file = vscode.Uri.parse(uri.query).fsPath;
    const functionName = uri.path.replace(/^\//, "").replace(/\.md$/, "");
    const check = this.store.get(file)?.checks.get(functionName);
    if (!check) return vscode.l10n.t("No gradient check of {0} yet. Click \"Check gradient\" above the function.", functionName) + "\n";
    return renderCheck(check);
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

export function renderCheck(check: FunctionCheckResult): string {
  const lines = [`# ${vscode.l10n.t("Gradient check of {0}", check.name)}`, "", `**${verdictTitle(check)}**`, ""];
  if (check.pointSource === "@gradcheck") lines.push(vscode.l10n.t("At the point from the @gradcheck tag: {0}", pointText(check.point)), "");
  else if (check.pointSource === "random") lines.push(vscode.l10n.t("At a random point (setting gradlens.gradcheck.seed): {0}", pointText(check.point)), "");
  if (check.note) lines.push(check.note, "");
  const mutation = mutationMessage(check, editorWords);
  if (mutation) lines.push(`⚠ ${mutation}`, "");
  if (check.output !== undefined) lines.push(vscode.l10n.t("Output: {0}", formatNumber(check.output)), "");
  if (check.mode === "fast") lines.push(vscode.l10n.t("Checked along random directions (many inputs); only inputs that disagree are listed."), "");
  if (check.inputs.length > 0) {
    const header = [
      vscode.l10n.t("Input"),
      vscode.l10n.t("Backprop"),
      vscode.l10n.t("Numeric"),
      vscode.l10n.t("Abs. error"),
      vscode.l10n.t("Rel. error"),
      vscode.l10n.t("Decided by"),
      vscode.l10n.t("Verdict"),
    ];
    lines.push(`| ${header.join(" | ")} |`, `|${header.map(() => " --- ").join("|")}|`);
    for (const input of check.inputs) {
      const verdict = input.ok ? (input.weak ? "◐" : "✓") : input.verdict === "kink" ? "⚠" : "✗";
      lines.push(
        `| ${escapeCell(input.name)} | ${formatNumber(input.analytic)} | ${formatNumber(input.numeric)} | ${formatNumber(input.absError)} | ${formatNumber(input.relError)} | ${escapeCell(decidedByText(input, editorWords))} | ${verdict} ${escapeCell(inputVerdictText(input, editorWords))} |`,
      );
    }
    lines.push("");
    for (const input of check.inputs) {
      if (!input.sweep) continue;
      lines.push(vscode.l10n.t("Step sweep for {0}:", input.name), "", `| ε | ${vscode.l10n.t("Numeric")} | ${vscode.l10n.t("Abs. error")} |`, "| --- | --- | --- |");
      for (const s of input.sweep) lines.push(`| ${s.eps} | ${formatNumber(s.numeric)} | ${formatNumber(s.absError)} |`);
      lines.push("");
    }
  }
  if (check.ops && check.ops.length > 0) lines.push(...renderOps(check.ops));
  if (check.error) lines.push(check.error.message, "");
  return lines.join("\n");
}

/** The op rows: each op kind and site, the worst instance's inputs and its local gradients both ways. */
export function renderOps(ops: readonly OpCheckResult[]): string[] {
  const header = [vscode.l10n.t("Op"), vscode.l10n.t("Line"), vscode.l10n.t("Checked"), vscode.l10n.t("Inputs"), vscode.l10n.t("Local gradient"), vscode.l10n.t("Numeric"), vscode.l10n.t("Verdict")];
  const lines = [`## ${vscode.l10n.t("Local gradients of the ops")}`, "", `| ${header.join(" | ")} |`, `|${header.map(() => " --- ").join("|")}|`];
  const list = (xs: readonly number[] | undefined) => (xs ? xs.map(formatNumber).join(", ") : "");
  for (const op of ops) {
    const verdict = op.unchecked ? "–" : op.ok ? "✓" : "✗";
    lines.push(
      `| ${escapeCell(op.op)} | ${op.position?.line ?? ""} | ${op.checked}/${op.total} | ${list(op.worst?.inputs)} | ${list(op.worst?.analytic)} | ${list(op.worst?.numeric)} | ${verdict} ${op.ok && !op.unchecked ? "" : escapeCell(opMessage(op, editorWords))} |`,
    );
  }
  lines.push("");
  return lines;
}

function pointText(point: FunctionCheckResult["point"]): string {
  return Object.entries(point)
    .map(([name, value]) => `${name} = ${Array.isArray(value) ? `[${value.map(formatNumber).join(", ")}]` : formatNumber(value)}`)
    .join(", ");
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}
