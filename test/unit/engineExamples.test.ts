import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { readFileSync } from "fs";
import { join } from "path";
import { Value, gradcheck, mulberry32, topologicalOrder } from "../../src/engine";
import { createModel, documentLoss, sample, shuffle, trainStep } from "../../examples/microgpt/model";

const root = join(__dirname, "..", "..");
const examples = join(root, "examples");

/** Runs an example as a user would (`tsx examples/x.grad.ts`) and returns its output lines. */
function runExample(file: string): string[] {
  const run = spawnSync(process.execPath, ["--import", "tsx", join(examples, file)], { cwd: root, encoding: "utf8" });
  assert.equal(run.status, 0, `${file} exited with ${run.status}: ${run.stderr}`);
  return run.stdout.trim().split("\n");
}

/** Loads an example's exports in this process without its console output. */
function loadExample<T>(file: string): T {
  const log = console.log;
  console.log = () => undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an example is loaded on demand, after silencing its output
    return require(join(examples, file)) as T;
  } finally {
    console.log = log;
  }
}

type Checkable = (...args: (Value | Value[])[]) => Value;

describe("examples", function () {
  this.timeout(60000);

  it("ch04.grad.ts prints the tutorial's numbers", () => {
    assert.deepEqual(runExample("ch04.grad.ts"), [
      "z.data = 7",
      "x.grad = 3",
      "y.grad = 2",
      "w.grad = 1",
      "numerical dz/dx = 3.000000",
    ]);
  });

  it("ch04.grad.ts: its tagged function passes gradcheck at x=2, y=3, w=1", () => {
    const { f } = loadExample<{ f: Checkable }>("ch04.grad.ts");
    const result = gradcheck(f, [2, 3, 1], { names: ["x", "y", "w"] });
    assert.equal(result.ok, true);
    assert.equal(result.output, 7);
  });

  it("neuron.grad.ts: o = 0.7071 and micrograd's gradients", () => {
    assert.deepEqual(runExample("neuron.grad.ts"), [
      "o = 0.7071",
      "x1.grad = -1.5000, w1.grad = 1.0000",
      "x2.grad = 0.5000, w2.grad = 0.0000",
      "b.grad = 0.5000",
    ]);
    const { neuron } = loadExample<{ neuron: Checkable }>("neuron.grad.ts");
    const result = gradcheck(neuron, [[2, 0], [-3, 1], 6.881373587019543], { names: ["x", "w", "b"] });
    assert.equal(result.ok, true);
    assert.equal(result.inputs.length, 5);
  });

  it("mlp.grad.ts: the loss falls during training, and predict passes gradcheck", () => {
    const lines = runExample("mlp.grad.ts");
    const losses = lines.map((line) => Number(/loss (\S+)/.exec(line)?.[1]));
    assert.ok(losses.length >= 3 && losses.every(Number.isFinite), lines.join("\n"));
    assert.ok(losses[losses.length - 1] < losses[0] / 2, `loss ${losses[0]} → ${losses[losses.length - 1]}`);
    const { predict } = loadExample<{ predict: Checkable }>("mlp.grad.ts");
    assert.equal(gradcheck(predict, [[2, 3, -1]], { names: ["x"] }).ok, true);
  });

  it("microgpt.grad.ts runs, reports 4,192 parameters and a falling loss", () => {
    const lines = runExample("microgpt.grad.ts");
    assert.match(lines[0], /vocabulary 27, 4192 parameters/);
    const losses = lines.filter((l) => l.startsWith("step")).map((l) => Number(/loss (\S+)/.exec(l)?.[1]));
    assert.ok(losses.length > 5 && losses.every(Number.isFinite));
    assert.match(lines[lines.length - 1], /^samples: [a-z]*(, [a-z]*){4}$/);
  });
});

describe("examples: microgpt", function () {
  this.timeout(120000);
  const docs = readFileSync(join(examples, "names.txt"), "utf8").split("\n").filter((l) => l.length > 0);

  it("has microgpt's sizes: 4,192 parameters, 27 tokens", () => {
    const model = createModel({ docs });
    assert.equal(model.params.length, 4192);
    assert.equal(model.vocabSize, 27);
    assert.equal(model.bos, 26);
    assert.equal(model.chars.join(""), "abcdefghijklmnopqrstuvwxyz");
    const shapes = Object.fromEntries(Object.entries(model.stateDict).map(([k, m]) => [k, [m.length, m[0].length]]));
    assert.deepEqual(shapes, {
      wte: [27, 16],
      wpe: [16, 16],
      lm_head: [27, 16],
      "layer0.attn_wq": [16, 16],
      "layer0.attn_wk": [16, 16],
      "layer0.attn_wv": [16, 16],
      "layer0.attn_wo": [16, 16],
      "layer0.mlp_fc1": [64, 16],
      "layer0.mlp_fc2": [16, 64],
    });
  });

  it("builds as many nodes per step as microgpt.py (~15.6k, ~39.7k, ~136k)", () => {
    const model = createModel({ docs });
    const created = (doc: string) => {
      const before = new Value(0).id;
      documentLoss(model, doc);
      return new Value(0).id - before - 1;
    };
    const near = (n: number, target: number) => Math.abs(n - target) / target < 0.01;
    const one = created("a");
    const emma = created("emma");
    const sixteen = created("abcdefghijklmno"); // 15 letters + BOS: 16 positions
    assert.ok(near(one, 15_600), `1-letter name: ${one}`);
    assert.ok(near(emma, 39_700), `emma: ${emma}`);
    assert.ok(near(sixteen, 136_000), `16 positions: ${sixteen}`);
  });

  it("starts near the uniform loss ln 27 and the gradient reaches every used parameter", () => {
    const model = createModel({ docs });
    const loss = documentLoss(model, "emma");
    assert.ok(Math.abs(loss.data - Math.log(27)) < 0.3, `initial loss ${loss.data}`);
    loss.backward();
    const graph = new Set(topologicalOrder(loss));
    const used = model.params.filter((p) => graph.has(p));
    // Rows of wte/wpe for tokens and positions that "emma" does not use get no gradient.
    assert.equal(used.length, 4192 - (27 - 4) * 16 - (16 - 5) * 16);
    assert.ok(used.every((p) => Number.isFinite(p.grad)));
    assert.ok(used.filter((p) => p.grad !== 0).length > used.length * 0.9);
  });

  it("trains: the mean loss of the last 10 of 40 steps is below that of the first 10", () => {
    const names = shuffle([...docs], mulberry32(42));
    const model = createModel({ docs: names, seed: 42 });
    const steps = 40;
    const losses: number[] = [];
    for (let step = 0; step < steps; step++) losses.push(trainStep(model, names[step], step, steps));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(losses.slice(0, 10));
    const last = mean(losses.slice(-10));
    assert.ok(losses.every(Number.isFinite));
    assert.ok(last < first - 0.2, `first 10: ${first.toFixed(3)}, last 10: ${last.toFixed(3)}`);
    // Adam zeroes the grads after each update.
    assert.ok(model.params.every((p) => p.grad === 0));
    assert.match(sample(model), /^[a-z]{0,16}$/);
  });
});
