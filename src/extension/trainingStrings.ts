/** The training view's words in the display language (the webview has no l10n of its own). */
import * as vscode from "vscode";
import type { TrainingStrings } from "../protocol/trainingMessages";

export function trainingStrings(): TrainingStrings {

  return {
    title: vscode.l10n.t("Training"),
    loss: vscode.l10n.t("Loss"),
    lossSmoothed: vscode.l10n.t("Loss (smoothed)"),
    gradNorm: vscode.l10n.t("Gradient norm"),
    gradNormAll: vscode.l10n.t("all parameters"),
    updateRatio: vscode.l10n.t("Update ratio |Δp| / |p|"),
    deadRelu: vscode.l10n.t("Dead ReLU fraction"),
    step: vscode.l10n.t("step"),
    stop: vscode.l10n.t("Stop"),
    running: vscode.l10n.t("Training"),
    stopping: vscode.l10n.t("Stopping at the next backward()"),
    finished: vscode.l10n.t("Finished"),
    stopped: vscode.l10n.t("Stopped"),
    failed: vscode.l10n.t("Failed"),
    progress: vscode.l10n.t("{0} steps · {1} steps/s"),
    stepsDone: vscode.l10n.t("{0} steps"),
    eta: vscode.l10n.t("about {0} left"),
    graphsKept: vscode.l10n.t("Graphs kept for steps:"),
    clickHint: vscode.l10n.t("Click a step in a chart to open its graph."),
    nearestGraph: vscode.l10n.t("No graph was kept for step {0}; showing step {1}."),
    nonFinite: vscode.l10n.t("non-finite"),
    waiting: vscode.l10n.t("waiting for the first backward() …"),
    heatmapNote: vscode.l10n.t("a row per group, the stronger the colour, the larger (log scale)"),
    healthyRatio: vscode.l10n.t("marked: 0.001, the usual ratio of a sane learning rate"),
    thinned: vscode.l10n.t("one step in {0} shown (of {1})"),
  };
}
