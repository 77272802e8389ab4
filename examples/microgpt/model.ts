/**
 * microgpt in TypeScript: a GPT-2-style language model built from scalar `Value`s,
 * ported from Karpathy's microgpt.py (one layer, 4 heads, 16-wide, 4,192 parameters).
 *
 * Every number in the model is a `Value`, so one training step builds a graph of
 * 15k–136k nodes and `loss.backward()` fills in the gradient of every parameter.
 * The code follows microgpt.py closely, including how Python builds its graph:
 * `sum(...)` starts from 0, `a / b` is `a * b**-1`, `-x` is `x * -1`.
 */
import { Value, mulberry32 } from "gradlens";

export const config = {
  nEmbd: 16, // width of every token's vector
  nHead: 4, // attention heads
  nLayer: 1, // transformer blocks
  blockSize: 16, // longest context the model sees
  initStd: 0.08, // standard deviation of the initial weights
};
const headDim = config.nEmbd / config.nHead;

/** Adam's settings, as in microgpt.py. */
export const adamConfig = { learningRate: 0.01, beta1: 0.85, beta2: 0.99, eps: 1e-8 };

type Matrix = Value[][];

export interface Model {
  /** The characters of the names, sorted; token i is `chars[i]`, token `bos` marks a name's start and end. */
  chars: string[];
  bos: number;
  vocabSize: number;
  stateDict: Record<string, Matrix>;
  /** Every parameter, flattened, in the order Adam updates them. */
  params: Value[];
  /** Adam's running averages of each parameter's gradient and squared gradient. */
  m: Float64Array;
  v: Float64Array;
  /** The seeded random generator (weights, shuffling, sampling). */
  random: () => number;
}

export interface ModelOptions {
  /** The training documents; the vocabulary is their set of characters, plus BOS. */
  docs: readonly string[];
  seed?: number;
  /** Makes a parameter leaf (a benchmark can swap in another Value class with the same methods). */
  makeParameter?: (x: number) => Value;
}

export function createModel({ docs, seed = 42, makeParameter = (x) => new Value(x) }: ModelOptions): Model {
  const random = mulberry32(seed);
  const chars = [...new Set(docs.join(""))].sort();
  const bos = chars.length;
  const vocabSize = chars.length + 1;
  const gauss = gaussian(random);
  const matrix = (nOut: number, nIn: number): Matrix =>
    Array.from({ length: nOut }, () => Array.from({ length: nIn }, () => makeParameter(gauss() * config.initStd)));

  const { nEmbd, blockSize, nLayer } = config;
  const stateDict: Record<string, Matrix> = {
    wte: matrix(vocabSize, nEmbd),
    wpe: matrix(blockSize, nEmbd),
    lm_head: matrix(vocabSize, nEmbd),
  };
  for (let i = 0; i < nLayer; i++) {
    stateDict[`layer${i}.attn_wq`] = matrix(nEmbd, nEmbd);
    stateDict[`layer${i}.attn_wk`] = matrix(nEmbd, nEmbd);
    stateDict[`layer${i}.attn_wv`] = matrix(nEmbd, nEmbd);
    stateDict[`layer${i}.attn_wo`] = matrix(nEmbd, nEmbd);
    stateDict[`layer${i}.mlp_fc1`] = matrix(4 * nEmbd, nEmbd);
    stateDict[`layer${i}.mlp_fc2`] = matrix(nEmbd, 4 * nEmbd);
  }
  const params = Object.values(stateDict).flat(2);
  return {
    chars,
    bos,
    vocabSize,
    stateDict,
    params,
    m: new Float64Array(params.length),
    v: new Float64Array(params.length),
    random,
  };
}

// ---- The building blocks -------------------------------------------------------------

/** Python's `sum(values)`: it starts from 0, and `0 + v` becomes `v + 0`. */
function sum(values: Value[]): Value {
  return sumOf(values.length, (i) => values[i]);
}

/** Python's `sum(term(i) for i in range(n))`: each term is made just before it is added. */
function sumOf(n: number, term: (i: number) => Value): Value {
  let total = term(0).add(0);
  for (let i = 1; i < n; i++) total = total.add(term(i));
  return total;
}

/** y = W·x, one dot product per row of W. */
function linear(x: Value[], w: Matrix): Value[] {
  return w.map((row) => sumOf(row.length, (i) => row[i].mul(x[i])));
}

/** Probabilities from scores; subtracting the max keeps exp from overflowing (it does not change the result). */
function softmax(logits: Value[]): Value[] {
  const maxVal = Math.max(...logits.map((v) => v.data));
  const exps = logits.map((v) => v.sub(maxVal).exp());
  const total = sum(exps);
  return exps.map((e) => e.div(total));
}

/** Scales x to unit root-mean-square. */
function rmsnorm(x: Value[]): Value[] {
  const ms = sumOf(x.length, (i) => x[i].mul(x[i])).div(x.length);
  const scale = ms.add(1e-5).pow(-0.5);
  return x.map((xi) => xi.mul(scale));
}

const addVectors = (a: Value[], b: Value[]): Value[] => a.map((ai, i) => ai.add(b[i]));

/**
 * One position of the transformer: the logits of the next token given `tokenId` at `posId`.
 * `keys` and `values` hold each layer's keys and values of the earlier positions (the KV cache).
 */
export function gpt(model: Model, tokenId: number, posId: number, keys: Value[][][], values: Value[][][]): Value[] {
  const sd = model.stateDict;
  let x = addVectors(sd.wte[tokenId], sd.wpe[posId]);
  x = rmsnorm(x);
  for (let li = 0; li < config.nLayer; li++) {
    // 1) Multi-head self-attention
    let residual = x;
    x = rmsnorm(x);
    const q = linear(x, sd[`layer${li}.attn_wq`]);
    const k = linear(x, sd[`layer${li}.attn_wk`]);
    const v = linear(x, sd[`layer${li}.attn_wv`]);
    keys[li].push(k);
    values[li].push(v);
    const xAttn: Value[] = [];
    for (let h = 0; h < config.nHead; h++) {
      const hs = h * headDim;
      const qH = q.slice(hs, hs + headDim);
      const kH = keys[li].map((ki) => ki.slice(hs, hs + headDim));
      const vH = values[li].map((vi) => vi.slice(hs, hs + headDim));
      const attnLogits = kH.map((kt) => sumOf(headDim, (j) => qH[j].mul(kt[j])).div(Math.sqrt(headDim)));
      const attnWeights = softmax(attnLogits);
      for (let j = 0; j < headDim; j++) xAttn.push(sumOf(vH.length, (t) => attnWeights[t].mul(vH[t][j])));
    }
    x = linear(xAttn, sd[`layer${li}.attn_wo`]);
    x = addVectors(x, residual);
    // 2) MLP
    residual = x;
    x = rmsnorm(x);
    x = linear(x, sd[`layer${li}.mlp_fc1`]);
    x = x.map((xi) => xi.relu());
    x = linear(x, sd[`layer${li}.mlp_fc2`]);
    x = addVectors(x, residual);
  }
  return linear(x, sd.lm_head);
}

/** A name as tokens: BOS, its letters, BOS. */
export function tokenize(model: Model, doc: string): number[] {
  return [model.bos, ...[...doc].map((ch) => model.chars.indexOf(ch)), model.bos];
}

/** The mean cross-entropy of predicting each next token of `doc` (the graph that training differentiates). */
export function documentLoss(model: Model, doc: string): Value {
  const tokens = tokenize(model, doc);
  const n = Math.min(config.blockSize, tokens.length - 1);
  const keys: Value[][][] = Array.from({ length: config.nLayer }, () => []);
  const values: Value[][][] = Array.from({ length: config.nLayer }, () => []);
  const losses: Value[] = [];
  for (let posId = 0; posId < n; posId++) {
    const logits = gpt(model, tokens[posId], posId, keys, values);
    const probs = softmax(logits);
    losses.push(probs[tokens[posId + 1]].log().neg());
  }
  return sum(losses).mul(1 / n);
}

/**
 * One training step on one document: forward, backward, Adam update (with the learning
 * rate decaying linearly to 0 over `numSteps`). Returns the loss before the update.
 */
export function trainStep(model: Model, doc: string, step: number, numSteps: number): number {
  const loss = documentLoss(model, doc);
  loss.backward();
  const { learningRate, beta1, beta2, eps } = adamConfig;
  const lr = learningRate * (1 - step / numSteps);
  const { params, m, v } = model;
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    m[i] = beta1 * m[i] + (1 - beta1) * p.grad;
    v[i] = beta2 * v[i] + (1 - beta2) * p.grad ** 2;
    const mHat = m[i] / (1 - beta1 ** (step + 1));
    const vHat = v[i] / (1 - beta2 ** (step + 1));
    p.data -= (lr * mHat) / (vHat ** 0.5 + eps);
    p.grad = 0;
  }
  return loss.data;
}

/** Generates a new name, one token at a time, until the model emits BOS. */
export function sample(model: Model, temperature = 0.5): string {
  const keys: Value[][][] = Array.from({ length: config.nLayer }, () => []);
  const values: Value[][][] = Array.from({ length: config.nLayer }, () => []);
  let tokenId = model.bos;
  let name = "";
  for (let posId = 0; posId < config.blockSize; posId++) {
    const logits = gpt(model, tokenId, posId, keys, values);
    const probs = softmax(logits.map((l) => l.div(temperature)));
    tokenId = choose(probs.map((p) => p.data), model.random);
    if (tokenId === model.bos) break;
    name += model.chars[tokenId];
  }
  return name;
}

/** Python's random.shuffle (Fisher–Yates), with our seeded generator. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** An index drawn with probability proportional to its weight (Python's random.choices). */
function choose(weights: number[], random: () => number): number {
  let r = random() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i];
    if (r < 0) return i;
  }
  return weights.length - 1;
}

/** Normal samples from uniform ones (Box–Muller). */
function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
