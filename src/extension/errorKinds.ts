/** Names of the kinds of run error (`RunErrorKind`) for people, in the display language. */
import * as vscode from "vscode";
import type { RunErrorKind } from "../protocol/result";

/** The kind of a run error as the status bar and the log name it; in English, the kind's own id. */
export function errorKindLabel(kind: RunErrorKind): string {
  switch (kind) {
    case "syntax":
      return vscode.l10n.t("syntax");
    case "runtime":
      return vscode.l10n.t("runtime");
    case "timeout":
      return vscode.l10n.t("timeout");
    case "memory":
      return vscode.l10n.t("memory");
    case "cancelled":
      return vscode.l10n.t("cancelled");
    case "too-large":
      return vscode.l10n.t("too-large");
    case "interpreter":
      return vscode.l10n.t("interpreter");
    case "internal":
      return vscode.l10n.t("internal");
    case "exit":
      return vscode.l10n.t("exit");
    case "signal":
      return vscode.l10n.t("signal");
  }
}
