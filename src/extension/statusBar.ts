/** The status bar item: the last run's outcome at a glance; a click opens the log. */
import * as vscode from "vscode";
import type { RunResult } from "../protocol/result";
import { errorKindLabel } from "./errorKinds";
import type { ResultStore } from "./results";
import type { RunService } from "./runService";

export class ResultStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("gradlens.lastResult", vscode.StatusBarAlignment.Left, 10);
  private readonly subscriptions: vscode.Disposable[];

  constructor(runs: RunService, store: ResultStore) {
    this.item.name = vscode.l10n.t("GradLens Result");
    this.item.command = "gradlens.showLog";
    this.subscriptions = [
      runs.onDidFinishRun((result) => this.show(result)),
      store.onDidChange((file) => {
        if (file === undefined) this.item.hide();
      }),
    ];
  }

  /** What the item says now (tests read it). */
  get text(): string {
    return this.item.text;
  }

  private show(result: RunResult): void {
    this.item.text = summarize(result);
    this.item.tooltip = tooltip(result);
    this.item.backgroundColor = result.error && result.error.kind !== "cancelled"
      ? new vscode.ThemeColor("statusBarItem.errorBackground")
      : undefined;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}

function summarize(result: RunResult): string {
  if (result.error) {
    return result.error.kind === "cancelled" ? `$(circle-slash) ${vscode.l10n.t("GradLens: cancelled")}` : `$(error) ${vscode.l10n.t("GradLens: {0} error", errorKindLabel(result.error.kind))}`;
  }
  if (result.checks) {
    const failed = result.checks.filter((c) => !c.ok).length;
    return failed === 0
      ? `$(pass) ${vscode.l10n.t("GradLens: {0} gradient(s) OK", result.checks.length)}`
      : `$(warning) ${vscode.l10n.t("GradLens: {0} of {1} gradient(s) mismatch", failed, result.checks.length)}`;
  }
  if (result.nonFinite) return `$(warning) ${vscode.l10n.t("GradLens: non-finite value")}`;
  // A note (the tutorial's Value was supplied, earlier blocks ran) changes the icon; the tooltip says it.
  return `${result.notes?.length ? "$(info)" : "$(type-hierarchy)"} ${vscode.l10n.t("GradLens: {0} nodes", result.stats.nodeCount)}`;
}

function tooltip(result: RunResult): string {
  const lines = [vscode.l10n.t("{0} — {1} ms", vscode.workspace.asRelativePath(result.file), Math.round(result.stats.durationMs))];
  if (result.error) lines.push(result.error.message);
  if (result.nonFinite) lines.push(result.nonFinite.message);
  for (const note of result.notes ?? []) lines.push(note.message);
  lines.push(vscode.l10n.t("Click to open the GradLens log."));
  return lines.join("\n");
}
