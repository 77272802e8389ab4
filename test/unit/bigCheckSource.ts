/** Test and bench support: a `.grad.ts` source with functions of many inputs. */
/** A file with two functions of 10,000 inputs (the @gradcheck tags give the point), one with a wrong op. */
export function bigCheckSource(point: string): string {
  return [
    'import { Value, sum } from "gradlens";',
    `/** @gradcheck w=[${point}] */`,
    "function wide(w: Value[]): Value {",
    "  return sum(w.map((wi, i) => wi.mul((i % 5) - 2).tanh()));",
    "}",
    "function wrongSquare(x: Value): Value {",
    '  return new Value(x.data * x.data, [x], [x.data], "sq");',
    "}",
    `/** @gradcheck w=[${point}] */`,
    "function wideWrong(w: Value[]): Value {",
    "  return sum(w.map((wi, i) => (i === 1234 ? wrongSquare(wi) : wi.mul((i % 5) - 2).tanh())));",
    "}",
    "",
  ].join("\n");
}
