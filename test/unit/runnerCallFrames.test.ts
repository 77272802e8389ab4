/** The runner records which function call made each node (for grouping big graphs by call stack). */
import * as assert from "node:assert/strict";
import { runFile } from "../../src/runner";
import type { RootGraph } from "../../src/protocol/result";
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
