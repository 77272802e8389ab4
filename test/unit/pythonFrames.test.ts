// Python call stacks for the graph hierarchy: every node knows the user's calls that were running
// when it was made (python/gradlens_frames.py), in the TypeScript runner's CallFrames shape.
import { strict as assert } from "assert";
import * as path from "node:path";
import { resolvePythonPath, runPython } from "../../src/runner/python";
import type { CallFrames, RunResult } from "../../src/protocol/result";

const FIXTURES = path.resolve(__dirname, "../fixtures/python");

/** The names of a node's calls, innermost first. */
function stackOf(frames: CallFrames, node: number): string[] {
  const names: string[] = [];
  for (let k = frames.node[node]; k >= 0; k = frames.parent[k]) names.push(frames.functions[frames.fn[k]].name);
  return names;
}

function siteLine(result: RunResult, site: number): number {
  return result.sites[site].line;
}

describe("Python call stacks", function () {
  this.timeout(60_000);
  let result: RunResult;

  before(async function () {
    if (!(await resolvePythonPath(undefined))) this.skip();
    result = await runPython({ file: path.join(FIXTURES, "micrograd_style/mlp_in_one_file.py") });
  });

  it("groups a micrograd-shaped MLP's nodes as MLP.__call__ → Layer.__call__ → Neuron.__call__", () => {
    assert.equal(result.error, undefined, result.error?.message);
    const [root] = result.roots;
    const frames = root.frames;
    assert.ok(frames, "the graph has frames");
    const graph = root.graph;
    // Nodes made on the neuron's `activation = sum(…)` line (line 15) and its `relu()` (line 16).
    const neuronNodes = Array.from({ length: graph.nodeCount }, (_, i) => i).filter((i) => [15, 16].includes(siteLine(result, graph.site[i])));
    assert.ok(neuronNodes.length > 0);
    for (const i of neuronNodes) assert.deepEqual(stackOf(frames, i), ["Neuron.__call__", "Layer.__call__", "MLP.__call__"], `node ${i}`);
    // 2 samples × (3 + 1) neurons: one Neuron.__call__ per neuron and sample.
    const neuronCalls = new Set(neuronNodes.map((i) => frames.node[i]));
    assert.equal(neuronCalls.size, 8);
    // Each call knows the line that called it: MLP.__call__ from the module's `loss = …` line (46),
    // Layer.__call__ from MLP's loop body (35), Neuron.__call__ from Layer's list (24).
    const callLines = (name: string) => new Set([...frames.fn.keys()].filter((k) => frames.functions[frames.fn[k]].name === name).map((k) => siteLine(result, frames.callSite[k])));
    assert.deepEqual([...callLines("MLP.__call__")], [46]);
    assert.deepEqual([...callLines("Layer.__call__")], [35]);
    assert.deepEqual([...callLines("Neuron.__call__")], [24]);
    const mlp = frames.functions.find((f) => f.name === "MLP.__call__");
    assert.deepEqual(mlp, { name: "MLP.__call__", file: path.join(FIXTURES, "micrograd_style/mlp_in_one_file.py"), line: 33 });
  });

  it("puts the parameters under the constructors that made them, and top-level values under no call", () => {
    const [root] = result.roots;
    const frames = root.frames!;
    const graph = root.graph;
    const weights = Array.from({ length: graph.nodeCount }, (_, i) => i).filter((i) => siteLine(result, graph.site[i]) === 10);
    assert.ok(weights.length > 0);
    for (const i of weights) assert.deepEqual(stackOf(frames, i), ["Neuron.__init__", "Layer.__init__", "MLP.__init__"]);
    // The root `loss = sum(model(x) for x in rows())` adds at the module's line: no call of the user's.
    assert.deepEqual(stackOf(frames, graph.root), []);
  });

  it("leaves the program's behaviour alone: docstrings stay, generators still yield, numbers as plain Python", () => {
    assert.deepEqual(
      result.console.map((c) => c.text),
      ["The weighted sum of the inputs, through a ReLU.", "loss 1.0300648435718287"],
    );
    assert.equal(result.roots[0].graph.data[result.roots[0].graph.root], 1.0300648435718287);
  });
});
