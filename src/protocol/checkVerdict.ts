/**
 * The one phrasing of gradient-check verdicts: the CLI table, the CodeLens, the details table and the
 * Problems panel all say the same thing in the same words. No vscode or Node imports: messages go
 * through `@vscode/l10n` (the extension loads its bundle into it, see extension/verdict.ts; the CLI
 * speaks English) and numbers through the caller's format.
 */
import * as l10n from "@vscode/l10n";
import type { FunctionCheckResult, InputCheckResult, OpCheckResult } from "./result";

export interface VerdictWords {
  number(x: number): string;
}

/** A check passes when it ran without error and every input and op agreed. */
export const checkPassed = (c: FunctionCheckResult): boolean => c.ok && c.error === undefined;

/** The op a failing check blames: the failing op with the largest error, if the op checks found one. */
export function culpritOp(check: { ops?: readonly OpCheckResult[] }): OpCheckResult | undefined {
  return check.ops?.find((op) => !op.ok && (op.worst !== undefined || op.overwrites));
}

/** The inputs backprop got wrong (kinks are not failures). */
export function failingInputs(check: FunctionCheckResult): InputCheckResult[] {
  return check.inputs.filter((input) => !input.ok && input.verdict !== "kink");
}

const fileName = (file: string): string => file.split(/[\\/]/).pop() ?? file;

/** "model.grad.ts:12", or just the op when its line is unknown. */
export function opPlace(op: OpCheckResult): string {
  return op.position ? `${fileName(op.position.file)}:${op.position.line}` : "?";
}

/** "`softplus` at model.grad.ts:12 gives 6.74 for d/dx, central differences give 0.871". */
export function opMessage(op: OpCheckResult, words: VerdictWords): string {
  if (op.overwrites) return l10n.t("`{0}` at {1} overwrites its inputs' grads instead of adding to them (= instead of +=)", op.op, opPlace(op));
  if (op.ok || !op.worst) {
    if (op.unchecked) return l10n.t("`{0}` at {1} could not be checked: {2}", op.op, opPlace(op), op.unchecked);
    return l10n.t("`{0}` at {1}: local gradients agree ({2} of {3} checked)", op.op, opPlace(op), op.checked, op.total);
  }
  const worst = op.worst;
  const j = worstInput(worst);
  return l10n.t(
    "`{0}` at {1} gives {2} for d/d{3}, central differences give {4}",
    op.op,
    opPlace(op),
    words.number(worst.analytic[j]),
    opInputName(worst.inputs.length, j),
    words.number(worst.numeric[j]),
  );
}

/** "x" for a one-input op, "a"/"b" for two, "x1", "x2", … for more: how a message names input j. */
export function opInputName(count: number, j: number): string {
  if (count === 1) return "x";
  if (count === 2) return j === 0 ? "a" : "b";
  return `x${j + 1}`;
}

/** The input of an instance with the largest error (the one a message names). */
export function worstInput(worst: { analytic: readonly number[]; numeric: readonly number[] }): number {
  let best = 0;
  let error = -1;
  worst.analytic.forEach((a, j) => {
    const e = Math.abs(a - worst.numeric[j]);
    const score = Number.isNaN(e) ? Infinity : e;
    if (score > error) {
      error = score;
      best = j;
    }
  });
  return best;
}

/** "f changed x.data: the check is of another point". */
export function mutationMessage(check: FunctionCheckResult, _words: VerdictWords): string | undefined {
  const first = check.mutations?.[0];
  if (!first) return undefined;
  return l10n.t("{0} changed {1}.{2}: the check is of another point", check.name, first.input, first.field);
}

/** The one-line verdict: "✓ gradient OK · max rel err 3.2e-10", "✗ `softplus` at m.grad.ts:6 gives …". */
export function verdictTitle(check: FunctionCheckResult, words: VerdictWords): string {
  const { number } = words;
  if (check.error) return l10n.t("✗ could not check: {0}", check.error.message);
  const mutation = mutationMessage(check, words);
  if (mutation) return `✗ ${mutation}`;
  const culprit = culpritOp(check);
  if (culprit) return `✗ ${opMessage(culprit, words)}`;
  const mismatch = check.inputs.find((input) => input.verdict === "mismatch" || input.verdict === "non-finite");
  if (mismatch) return l10n.t("✗ mismatch in {0}: backprop {1}, numeric {2}", mismatch.name, number(mismatch.analytic), number(mismatch.numeric));
  const kink = check.inputs.find((input) => input.verdict === "kink");
  if (kink) return l10n.t("⚠ at a kink in {0}: backprop {1}, numeric {2}", kink.name, number(kink.analytic), number(kink.numeric));
  if (!check.ok) return l10n.t("✗ gradient check failed");
  const weak = check.inputs.filter((input) => input.weak).length;
  const ok = check.mode === "fast" ? l10n.t("✓ gradient OK (random directions) · max rel err {0}", number(check.maxRelError)) : l10n.t("✓ gradient OK · max rel err {0}", number(check.maxRelError));
  return weak > 0 ? `${ok} · ${l10n.t("{0} weak", weak)}` : ok;
}

/** Why an input got its verdict, in the display language (the engine's own note is English). */
export function inputVerdictText(input: InputCheckResult, words: VerdictWords): string {
  const { number } = words;
  const backprop = number(input.analytic);
  const numeric = number(input.numeric);
  switch (input.verdict) {
    case "ok":
      if (input.sweepVerdict === "poor-difference") return l10n.t("ok: a poor finite difference at the default step, not a wrong gradient (the error shrinks, then grows with the step)");
      if (input.undecided) return l10n.t("weak: |grad| is below the rounding noise of the difference, so the check cannot tell");
      if (input.weak) return l10n.t("ok, weak: |grad| is small next to atol, judged by relative error instead");
      return l10n.t("ok");
    case "mismatch":
      if (input.weak) return l10n.t("mismatch (weak: atol alone would have passed it): backprop says {0}, numerical differentiation says {1}", backprop, numeric);
      if (input.sweepVerdict === "wrong-gradient") return l10n.t("mismatch: backprop says {0}, numerical differentiation says {1}; the error stays at every step from 1e-2 to 1e-8, so the gradient is wrong", backprop, numeric);
      return l10n.t("mismatch: backprop says {0}, numerical differentiation says {1}", backprop, numeric);
    case "kink":
      return l10n.t("kink: {0} sits where a relu argument is within ε of 0, so the derivative is undefined there; backprop uses relu'(0) = 0, the central difference averages both sides", input.name);
    case "non-finite":
      return l10n.t("non-finite: the gradient is not finite here (backprop {0}, numeric {1})", backprop, numeric);
  }
}

/** Which term of atol + rtol·|numeric| decided, for tables: "atol", "rtol", or "relative" for a weak input. */
export function decidedByText(input: InputCheckResult, _words: VerdictWords): string {
  if (input.undecided) return l10n.t("cannot tell");
  if (input.weak) return l10n.t("relative");
  return input.decidedBy ?? "";
}

/** The Problems-panel text of a failing check, or undefined when it passed. */
export function mismatchSummary(check: FunctionCheckResult, words: VerdictWords): string | undefined {
  const { number } = words;
  if (check.error) return l10n.t("Could not check the gradient of {0}: {1}", check.name, check.error.message);
  if (check.ok) return undefined;
  const mutation = mutationMessage(check, words);
  if (mutation) return mutation;
  const failures = failingInputs(check);
  const culprit = culpritOp(check);
  if (failures.length === 0 && !culprit) return undefined;
  const details = failures.map((input) => l10n.t("{0}: backprop {1}, numeric {2}", input.name, number(input.analytic), number(input.numeric))).join("; ");
  const text = l10n.t("Gradient mismatch in {0} — {1}", check.name, details || opMessage(culprit as OpCheckResult, words));
  return culprit && details ? `${text} (${opMessage(culprit, words)})` : text;
}
