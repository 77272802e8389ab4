/**
 * A small multi-layer perceptron, micrograd-style: 3 inputs → 4 → 4 → 1, tanh neurons,
 * trained by gradient descent to fit four points. Its loss falls as it learns.
 */
import { Value, mulberry32 } from "gradlens";

const random = mulberry32(1);
const uniform = () => random() * 2 - 1;

class Neuron {
  w: Value[];
  b = new Value(0);
  constructor(inputs: number) {
    this.w = Array.from({ length: inputs }, () => new Value(uniform()));
  }
  call(x: Value[]): Value {
    let act = this.b;
    for (let i = 0; i < x.length; i++) act = act.add(this.w[i].mul(x[i]));
    return act.tanh();
  }
  parameters(): Value[] {
    return [...this.w, this.b];
  }
}

class Layer {
  neurons: Neuron[];
  constructor(inputs: number, outputs: number) {
    this.neurons = Array.from({ length: outputs }, () => new Neuron(inputs));
  }
  call(x: Value[]): Value[] {
    return this.neurons.map((n) => n.call(x));
  }
  parameters(): Value[] {
    return this.neurons.flatMap((n) => n.parameters());
  }
}

class MLP {
  layers: Layer[];
  constructor(inputs: number, sizes: number[]) {
    const widths = [inputs, ...sizes];
    this.layers = sizes.map((_, i) => new Layer(widths[i], widths[i + 1]));
  }
  call(x: Value[]): Value {
    let out = x;
    for (const layer of this.layers) out = layer.call(out);
    return out[0];
  }
  parameters(): Value[] {
    return this.layers.flatMap((l) => l.parameters());
  }
}

export const model = new MLP(3, [4, 4, 1]);
const xs = [
  [2.0, 3.0, -1.0],
  [3.0, -1.0, 0.5],
  [0.5, 1.0, 1.0],
  [1.0, 1.0, -1.0],
];
const ys = [1.0, -1.0, -1.0, 1.0]; // the targets

/**
 * The model's output for one input point; checkable: its gradient with respect to the inputs.
 * @gradcheck x=[2, 3, -1]
 */
export function predict(x: Value[]): Value {
  return model.call(x);
}

/** Sum of squared errors over the four points. */
export function loss(): Value {
  let total = new Value(0);
  xs.forEach((x, i) => {
    const prediction = model.call(x.map((xi) => new Value(xi)));
    total = total.add(prediction.sub(ys[i]).pow(2));
  });
  return total;
}

for (let step = 0; step < 20; step++) {
  const l = loss();
  for (const p of model.parameters()) p.grad = 0;
  l.backward();
  for (const p of model.parameters()) p.data -= 0.05 * p.grad;
  if (step % 5 === 0 || step === 19) console.log(`step ${step} loss ${l.data.toFixed(4)}`);
}
