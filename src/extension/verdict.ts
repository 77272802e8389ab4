/** The one-line verdict of a gradient check, as the CodeLens shows it. */
import * as vscode from "vscode";
import type { FunctionCheckResult } from "../protocol/result";
import { formatNumber } from "./format";

/** "✓ gradient OK · max rel err 3.2e-10", "✗ mismatch in b: backprop 1, numeric 0.5", … */
export function verdictTitle(check: FunctionCheckResult): string {
  if (check.error) return vscode.l10n.t("✗ could not check: {0}", check.error.message);
  const mismatch = check.inputs.find((input) => input.verdict === "mismatch" || input.verdict === "non-finite");
  if (mismatch) {
    return vscode.l10n.t("✗ mismatch in {0}: backprop {1}, numeric {2}", mismatch.name, formatNumber(mismatch.analytic), formatNumber(mismatch.numeric));
  }
  const kink = check.inputs.find((input) => input.verdict === "kink");
  if (kink) {
    return vscode.l10n.t("⚠ at a kink in {0}: backprop {1}, numeric {2}", kink.name, formatNumber(kink.analytic), formatNumber(kink.numeric));
  }
  if (!check.ok) return vscode.l10n.t("✗ gradient check failed");
  return vscode.l10n.t("✓ gradient OK · max rel err {0}", formatNumber(check.maxRelError));
}
