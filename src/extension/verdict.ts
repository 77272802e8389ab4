/** The check verdicts in the editor's words: the shared phrasing (src/protocol/checkVerdict.ts) with vscode.l10n. */
import * as vscode from "vscode";
import type { FunctionCheckResult } from "../protocol/result";
import { verdictTitle as title, type VerdictWords } from "../protocol/checkVerdict";
import { formatNumber } from "./format";

export const editorWords: VerdictWords = { l10n: vscode.l10n, number: formatNumber };

/** "✓ gradient OK · max rel err 3.2e-10", "✗ `softplus` at model.grad.ts:6 gives 6.74 for d/dx, …", … */
export function verdictTitle(check: FunctionCheckResult): string {
  return title(check, editorWords);
}
