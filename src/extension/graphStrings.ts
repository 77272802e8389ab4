/**
 * The graph view's strings, localised on the host side (the webview has no `vscode.l10n`).
 * Each call spells `vscode.l10n.t("…")` in full so `npm run l10n:export` finds the string.
 */
import * as vscode from "vscode";
import type { GraphStrings } from "../protocol/messages";

export function graphStrings(): GraphStrings {
  return {
    play: vscode.l10n.t("Play"),
    pause: vscode.l10n.t("Pause"),
    stepForward: vscode.l10n.t("Step"),
    stepBackward: vscode.l10n.t("Step back"),
    reset: vscode.l10n.t("Reset"),
    speed: vscode.l10n.t("Speed"),
    modeBackward: vscode.l10n.t("Backward pass"),
    modeForward: vscode.l10n.t("Forward pass"),
    fit: vscode.l10n.t("Fit"),
    search: vscode.l10n.t("Search"),
    searchPlaceholder: vscode.l10n.t("Search labels…"),
    noMatch: vscode.l10n.t("No match"),
    exportPng: vscode.l10n.t("PNG"),
    exportSvg: vscode.l10n.t("SVG"),
    exportDot: vscode.l10n.t("DOT"),
    expandAll: vscode.l10n.t("Expand all"),
    collapseAll: vscode.l10n.t("Collapse all"),
    group: vscode.l10n.t("group"),
    expand: vscode.l10n.t("Expand"),
    collapse: vscode.l10n.t("Collapse"),
    instances: vscode.l10n.t("instances"),
    legendTitle: vscode.l10n.t("|grad| (log scale)"),
    legendLeaf: vscode.l10n.t("leaf (parameter or input)"),
    legendIntermediate: vscode.l10n.t("intermediate"),
    legendOutput: vscode.l10n.t("output"),
    legendNonFinite: vscode.l10n.t("NaN or Infinity"),
    nonFiniteTitle: vscode.l10n.t("NaN / Infinity nodes"),
    data: vscode.l10n.t("data"),
    grad: vscode.l10n.t("grad"),
    op: vscode.l10n.t("op"),
    leaf: vscode.l10n.t("leaf"),
    localGrad: vscode.l10n.t("local grad"),
    source: vscode.l10n.t("source"),
    unknownSource: vscode.l10n.t("made outside your file"),
    root: vscode.l10n.t("graph"),
    tooLarge: vscode.l10n.t("This graph has {0} nodes, more than the view's limit of {1}. Reduce the model or the input (for example, a shorter name) and run again."),
    truncated: vscode.l10n.t("The graph was cut at the node limit: only the nodes nearest the output are shown."),
    grouped: vscode.l10n.t("{0} nodes, grouped into {1} groups by the source expression that made them. Double-click a group to expand it."),
    empty: vscode.l10n.t("No computation graph yet. Run a .grad.ts file with \"Show Computation Graph\"."),
    forwardStep: vscode.l10n.t("step {0} of {1}: {2} = {3}"),
    backwardStart: vscode.l10n.t("start: {0}.grad = 1"),
    backwardDone: vscode.l10n.t("backward pass done"),
    forwardDone: vscode.l10n.t("forward pass done"),
  };
}
