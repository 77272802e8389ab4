/**
 * One neuron, micrograd-style: o = tanh(x1·w1 + x2·w2 + b).
 *
 * With these numbers the weighted sum is 0.8814, o = tanh(0.8814) = 0.7071, and
 * do/dn = 1 − o² = 0.5, which backward() spreads to every weight and input.
 */
import { Value } from "gradlens";

/** @gradcheck x=[2, 0], w=[-3, 1], b=6.881373587019543 */
export function neuron(x: Value[], w: Value[], b: Value): Value {
  let n = b;
  for (let i = 0; i < x.length; i++) n = n.add(x[i].mul(w[i]));
  return n.tanh();
}

const x = [new Value(2.0), new Value(0.0)];
const w = [new Value(-3.0), new Value(1.0)];
const b = new Value(6.881373587019543);
const o = neuron(x, w, b);
o.backward();

console.log(`o = ${o.data.toFixed(4)}`); // 0.7071
console.log(`x1.grad = ${x[0].grad.toFixed(4)}, w1.grad = ${w[0].grad.toFixed(4)}`); // -1.5, 1.0
console.log(`x2.grad = ${x[1].grad.toFixed(4)}, w2.grad = ${w[1].grad.toFixed(4)}`); // 0.5, 0.0
console.log(`b.grad = ${b.grad.toFixed(4)}`); // 0.5
