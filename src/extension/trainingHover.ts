/**
 * The training part of a variable's hover: after a training run, a parameter group the hovered name
 * belongs to (`wte`, `layers[0].w`, a scalar `w`) shows its gradient norm over the steps as a sparkline.
 */
import * as vscode from "vscode";
import type { TrainingResult } from "../protocol/training";
import { formatNumber } from "./format";
import { groupsNamed, sparkline } from "./trainingSparkline";

/** Groups shown in one hover at most (a name like `w` can be in every layer). */
const MAX_GROUPS = 4;

/** The hover's training lines for `name`, or undefined when it names no parameter group of the run. */
export function trainingHover(training: TrainingResult | undefined, name: string): vscode.MarkdownString | undefined {
  if (!training || training.steps.length === 0) return undefined;
  const groups = groupsNamed(training.groups, name);
  if (groups.length === 0) return undefined;
  const md = new vscode.MarkdownString();
  const steps = training.thinned?.steps ?? training.steps[training.steps.length - 1].step;
  md.appendMarkdown(vscode.l10n.t("Gradient norm over {0} training steps (log scale):", steps));
  if (training.thinned) md.appendMarkdown(` ${vscode.l10n.t("one step in {0} shown (of {1})", training.thinned.every, training.thinned.steps)}`);
  md.appendMarkdown("\n\n");
  for (const group of groups.slice(0, MAX_GROUPS)) {
    const values = training.steps.map((s) => s.groups[group]?.gradNorm ?? Number.NaN);
    const finite = values.filter((v) => Number.isFinite(v));
    const last = values[values.length - 1];
    md.appendMarkdown(`\`${group}\` \`${sparkline(values)}\` `);
    md.appendMarkdown(
      vscode.l10n.t("min {0} · max {1} · last {2}", formatNumber(Math.min(...finite)), formatNumber(Math.max(...finite)), formatNumber(last)),
    );
    md.appendMarkdown("\n\n");
  }
  if (groups.length > MAX_GROUPS) md.appendMarkdown(vscode.l10n.t("… and {0} more groups", groups.length - MAX_GROUPS) + "\n\n");
  return md;
}
