/**
 * The per-input table behind a verdict: a read-only Markdown document (scheme `gradlens-check`) shown
 * in the Markdown preview. The document is generated from the stored check, so it is never out of date.
 */
import * as vscode from "vscode";
import type { FunctionCheckResult, InputCheckResult } from "../protocol/result";
import { formatNumber } from "./format";
import type { ResultStore } from "./results";
import { verdictTitle } from "./verdict";

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
  const point = Object.entries(check.point)
    .map(([name, value]) => `${name} = ${Array.isArray(value) ? `[${value.map(formatNumber).join(", ")}]` : formatNumber(value)}`)
    .join(", ");
  lines.push(
    check.pointSource === "@gradcheck"
      ? vscode.l10n.t("At the point from the @gradcheck tag: {0}", point)
      : vscode.l10n.t("At a random point (setting gradlens.gradcheck.seed): {0}", point),
    "",
  );
  if (check.output !== undefined) lines.push(vscode.l10n.t("Output: {0}", formatNumber(check.output)), "");
  if (check.inputs.length > 0) {
    const header = [
      vscode.l10n.t("Input"),
      vscode.l10n.t("Backprop"),
      vscode.l10n.t("Numeric"),
      vscode.l10n.t("Abs. error"),
      vscode.l10n.t("Rel. error"),
      vscode.l10n.t("Verdict"),
    ];
    lines.push(`| ${header.join(" | ")} |`, `|${header.map(() => " --- ").join("|")}|`);
    for (const input of check.inputs) {
      const verdict = input.ok ? "✓" : input.verdict === "kink" ? "⚠" : "✗";
      lines.push(
        `| ${escapeCell(input.name)} | ${formatNumber(input.analytic)} | ${formatNumber(input.numeric)} | ${formatNumber(input.absError)} | ${formatNumber(input.relError)} | ${verdict} ${escapeCell(verdictText(input))} |`,
      );
    }
    lines.push("");
  }
  if (check.error) lines.push(check.error.message, "");
  return lines.join("\n");
}

/** The verdict of one input and why, in the display language (the engine's own note is English). */
function verdictText(input: InputCheckResult): string {
  const backprop = formatNumber(input.analytic);
  const numeric = formatNumber(input.numeric);
  switch (input.verdict) {
    case "ok":
      return vscode.l10n.t("ok");
    case "mismatch":
      return vscode.l10n.t("mismatch: backprop says {0}, numerical differentiation says {1}", backprop, numeric);
    case "kink":
      return vscode.l10n.t("kink: {0} sits where a relu argument is within ε of 0, so the derivative is undefined there; backprop uses relu'(0) = 0, the central difference averages both sides", input.name);
    case "non-finite":
      return vscode.l10n.t("non-finite: the gradient is not finite here (backprop {0}, numeric {1})", backprop, numeric);
  }
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}
