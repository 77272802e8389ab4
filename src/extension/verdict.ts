/** The check verdicts in the editor's words: the shared phrasing (src/protocol/checkVerdict.ts) in the display language. */
import * as vscode from "vscode";
import * as l10n from "@vscode/l10n";
import type { FunctionCheckResult } from "../protocol/result";
import { verdictTitle as title, type VerdictWords } from "../protocol/checkVerdict";
import { formatNumber } from "./format";

// The shared phrasing speaks through @vscode/l10n: give it the bundle VS Code loaded for this extension.
l10n.config({ contents: vscode.l10n.bundle ?? {} });

export const editorWords: VerdictWords = { number: formatNumber };

/** "✓ gradient OK · max rel err 3.2e-10", "✗ `softplus` at model.grad.ts:6 gives 6.74 for d/dx, …", … */
export function verdictTitle(check: FunctionCheckResult): string {
  return title(check, editorWords);
}
