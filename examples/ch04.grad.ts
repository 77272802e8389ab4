/**
 * The tutorial's worked example (chapter 4): z = x*y + w.
 *
 * Forward: z = 2·3 + 1 = 7. Backward: dz/dx = y = 3, dz/dy = x = 2, dz/dw = 1.
 * Then the numerical check: nudge x by a tiny h and see how much z moves.
 */
import { Value } from "gradlens";

/** @gradcheck x=2, y=3, w=1 */
export function f(x: Value, y: Value, w: Value): Value {
  return x.mul(y).add(w);
}

const x = new Value(2.0);
const y = new Value(3.0);
const w = new Value(1.0);
const z = f(x, y, w);
console.log(`z.data = ${z.data}`); // 7

z.backward();
console.log(`x.grad = ${x.grad}`); // 3 (dz/dx = y)
console.log(`y.grad = ${y.grad}`); // 2 (dz/dy = x)
console.log(`w.grad = ${w.grad}`); // 1 (dz/dw = 1)

// Central difference: (f(x+h) − f(x−h)) / 2h should agree with x.grad.
const h = 1e-5;
const zOf = (xv: number) => f(new Value(xv), new Value(3.0), new Value(1.0)).data;
const numeric = (zOf(2.0 + h) - zOf(2.0 - h)) / (2 * h);
console.log(`numerical dz/dx = ${numeric.toFixed(6)}`); // 3.000000
