/** The runner records which function call made each node (for grouping big graphs by call stack). */
import * as assert from "node:assert/strict";
import { runFile } from "../../src/runner";
import type { CallFrames, RootGraph } from "../../src/protocol/result";
import { CallFrameRecorder } from "../../src/runner/callFrames";
import { Value, mulberry32, valuesCreated } from "../../src/engine";
import { repoRoot, useBuiltWorker } from "./runnerSupport";
import * as path from "node:path";

const mlp = path.join(repoRoot, "test", "fixtures", "callFrames", "mlp.grad.ts");

/** The chain of function names from the outermost call down to the one that made node i. */
function stackOf(root: RootGraph, i: number): string[] {
  const f = root.frames;
  if (!f) return [];
  const names: string[] = [];
  for (let k = f.node[i]; k >= 0; k = f.parent[k]) names.unshift(f.functions[f.fn[k]].name);
  return names;
}

describe("runner: call stacks per node", function () {
  this.timeout(60_000);
  before(() => useBuiltWorker());

  it("places each value in the call that made it: Layer.call → Neuron.call", async () => {
    const result = await runFile(mlp);
    assert.equal(result.ok, true, result.error?.message);
    const root = result.roots[0];
    assert.ok(root.frames, "frames recorded");
    const g = root.graph;
    const tanhs = [];
    for (let i = 0; i < g.nodeCount; i++) if (g.opNames[g.op[i]] === "tanh") tanhs.push(i);
    assert.equal(tanhs.length, 4);
    for (const i of tanhs) assert.deepEqual(stackOf(root, i), ["Layer.call", "Neuron.call"]);
    // Four Neuron calls, each its own frame; the loss is top-level code.
    const neuronCalls = new Set(tanhs.map((i) => root.frames?.node[i]));
    assert.equal(neuronCalls.size, 4);
    assert.deepEqual(stackOf(root, g.root), []);
    // Weights were made in the constructors: new Layer → … → new Neuron → the Array.from callback.
    const weight = Array.from({ length: g.nodeCount }, (_, i) => i).find((i) => g.labels[i] === undefined && g.childStart[i + 1] === g.childStart[i] && Math.abs(g.data[i] - 0.2) < 1e-12);
    assert.ok(weight !== undefined);
    assert.deepEqual(stackOf(root, weight).slice(0, 1), ["new Layer"]);
  });

  it("names a node after a variable only when the variable's expression made it", async () => {
    const result = await runFile(mlp);
    const g = result.roots[0].graph;
    const labels = Object.values(g.labels);
    // `let act = this.b` held the bias first: the bias is not called `act`.
    const biases = Array.from({ length: g.nodeCount }, (_, i) => i).filter((i) => g.childStart[i + 1] === g.childStart[i] && g.data[i] === 0.5);
    assert.equal(biases.length, 4);
    for (const b of biases) assert.notEqual(g.labels[b], "act");
    // The sums `act = act.add(…)` made are.
    assert.ok(labels.includes("act"));
    assert.equal(g.labels[g.root], "loss");
  });
});

describe("call frames of a graph made across many calls", () => {
  /** Nested calls made at random, a few values in each; every call is logged as the test saw it. */
  function record(calls: number, seed: number) {
    const random = mulberry32(seed);
    let site = 0;
    const recorder = new CallFrameRecorder(() => site);
    const log: { site: number; name: string; start: number; end: number }[] = [];
    const open: { token: number; at: number }[] = [];
    const values: Value[] = [];
    for (let made = 0; made < calls; ) {
      const r = random();
      if (r < 0.45 || open.length === 0) {
        site = log.length + 1;
        const fn = Math.floor(random() * 7);
        const name = `f${fn}`;
        open.push({ token: recorder.enter(fn, name, "m.ts", 1), at: log.length });
        log.push({ site, name, start: valuesCreated(), end: -1 });
        made++;
      } else if (r < 0.8) {
        for (let k = Math.floor(random() * 3); k > 0; k--) values.push(new Value(random()));
      } else {
        const call = open.pop() as { token: number; at: number };
        recorder.exit(call.token);
        log[call.at].end = valuesCreated();
      }
    }
    return { recorder, log, values, random };
  }

  /** Outermost first: the calls whose range of creation ids holds the value, as logged. */
  const expected = (log: ReturnType<typeof record>["log"], v: Value) =>
    log.filter((c) => c.start <= v.id && (c.end < 0 || v.id < c.end)).map((c) => `${c.name}@${c.site}`);

  function shown(frames: CallFrames | undefined, i: number): string[] {
    const chain: string[] = [];
    for (let k = frames?.node[i] ?? -1; k >= 0 && frames; k = frames.parent[k]) chain.unshift(`${frames.functions[frames.fn[k]].name}@${frames.callSite[k]}`);
    return chain;
  }

  it("places each node of a sparse graph (parameters made early, one late step) in its own call, as a walk over every call would", () => {
    for (const seed of [1, 2, 3]) {
      const { recorder, log, values, random } = record(6000, seed);
      // Early values (a model's parameters), a late run of values (the step), and a few picked anywhere, in no particular order.
      const picked = new Set<Value>([...values.slice(0, 40), ...values.slice(values.length - 300), ...values.filter(() => random() < 0.01)]);
      const order = [...picked].sort(() => random() - 0.5);
      const frames = recorder.framesFor(order);
      assert.ok(frames);
      order.forEach((v, i) => assert.deepEqual(shown(frames, i), expected(log, v), `seed ${seed}, value #${v.id}`));
      // Only the calls that hold a node, and their callers, are sent; callers come first.
      const held = new Set(order.map((_, i) => frames.node[i]));
      for (let k = 0; k < frames.parent.length; k++) {
        assert.ok(frames.parent[k] < k);
        if (!held.has(k)) assert.ok(Array.from(frames.parent).includes(k), `call ${k} holds nothing and calls nothing`);
      }
    }
  });
});
