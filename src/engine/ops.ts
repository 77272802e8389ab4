/**
 * Function forms of the ops, so a number may stand on either side:
 * `sub(1, x)` is 1 − x, `div(1, x)` is 1/x (Python's __rsub__ / __rtruediv__).
 */
import { Operand, Value, toValue } from "./value";

export const add = (a: Operand, b: Operand): Value => toValue(a).add(b);
export const sub = (a: Operand, b: Operand): Value => toValue(a).sub(b);
export const mul = (a: Operand, b: Operand): Value => toValue(a).mul(b);
export const div = (a: Operand, b: Operand): Value => toValue(a).div(b);
export const pow = (a: Operand, exponent: number): Value => toValue(a).pow(exponent);
export const neg = (a: Operand): Value => toValue(a).neg();
export const exp = (a: Operand): Value => toValue(a).exp();
export const log = (a: Operand): Value => toValue(a).log();
export const relu = (a: Operand): Value => toValue(a).relu();
export const tanh = (a: Operand): Value => toValue(a).tanh();
export const sigmoid = (a: Operand): Value => toValue(a).sigmoid();

/** Σ values, as Python's `sum()` would build it: a chain of "+" nodes starting from 0. */
export function sum(values: Iterable<Operand>, start: Operand = 0): Value {
  let total = toValue(start);
  for (const v of values) total = total.add(v);
  return total;
}
