/** Why a value became NaN or ±Infinity, in words a learner can act on. */
import * as l10n from "@vscode/l10n";
import type { NonFiniteOrigin } from "../engine";

export function describeNonFinite(origin: NonFiniteOrigin): string {
  const { node, field, value } = origin;
  const inputs = node.children.map((c) => c.data);
  const shown = `${value}`;
  if (field === "grad") {
    return node.op
      ? l10n.t("backpropagation produced {0} at this {1} node: a local gradient here is not finite (for example log at 0 has slope 1/0)", shown, node.op)
      : l10n.t("backpropagation produced {0} at this leaf node: a local gradient here is not finite (for example log at 0 has slope 1/0)", shown);
  }
  if (inputs.length === 0) {
    return l10n.t("this value was {0} from the start: it was made from {0}, not computed from other values (a leaf)", shown);
  }
  const x = inputs[0];
  if (node.op === "log") {
    return x === 0
      ? l10n.t("log(0) is {0}: the logarithm of 0 is minus infinity", shown)
      : l10n.t("log({0}) is {1}: the logarithm is only defined for positive numbers", x, shown);
  }
  if (node.op.startsWith("**")) {
    const exponent = Number(node.op.slice(2));
    if (x === 0 && exponent < 0) return l10n.t("0 to the power {0} is {1}: it divides by zero", exponent, shown);
    if (x < 0 && !Number.isInteger(exponent)) return l10n.t("{0} to the power {1} is {2}: a negative number has no real fractional power", x, exponent, shown);
    return l10n.t("{0} to the power {1} overflows to {2}", x, exponent, shown);
  }
  if (node.op === "exp") return l10n.t("exp({0}) overflows to {1}: the input is too large", x, shown);
  return l10n.t("{0} of {1} is {2}: the result is too large for a number", node.op, inputs.join(", "), shown);
}
