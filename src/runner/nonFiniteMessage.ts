/** Why a value became NaN or ±Infinity, in words a learner can act on. */
import type { NonFiniteOrigin } from "../engine";

export function describeNonFinite(origin: NonFiniteOrigin): string {
  const { node, field, value } = origin;
  const inputs = node.children.map((c) => c.data);
  const shown = `${value}`;
  if (field === "grad") {
    return `backpropagation produced ${shown} at this ${node.op || "leaf"} node: a local gradient here is not finite (for example log at 0 has slope 1/0)`;
  }
  const x = inputs[0];
  if (node.op === "log") {
    return x === 0 ? `log(0) is ${shown}: the logarithm of 0 is minus infinity` : `log(${x}) is ${shown}: the logarithm is only defined for positive numbers`;
  }
  if (node.op.startsWith("**")) {
    const exponent = Number(node.op.slice(2));
    if (x === 0 && exponent < 0) return `0 to the power ${exponent} is ${shown}: it divides by zero`;
    if (x < 0 && !Number.isInteger(exponent)) return `${x} to the power ${exponent} is ${shown}: a negative number has no real fractional power`;
    return `${x} to the power ${exponent} overflows to ${shown}`;
  }
  if (node.op === "exp") return `exp(${x}) overflows to ${shown}: the input is too large`;
  return `${node.op} of ${inputs.join(", ")} is ${shown}: the result is too large for a number`;
}
