// The graph of a backward() shows the numbers as backward() left them, though the tracer copies them
// only when the graph is read (python/gradlens_capture.py `lazy`): the first write after a backward()
// saves a value's numbers. Each program of test/fixtures/python/lazy prints every value of its graph
// right after its backward() returns ("STATE tag [[data, grad], …]"); the graph GradLens keeps for a
// call site must hold exactly those pairs, whatever the program wrote afterwards.
import { strict as assert } from "assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { resolvePythonPath, runPython } from "../../src/runner/python";
import { snapshotNodes } from "../../src/engine/snapshot";
import type { RootGraph, RunResult } from "../../src/protocol/result";

const FOLDER = path.resolve(__dirname, "../fixtures/python/lazy");

/** The program with the shared Value class and `state` before it (in the same file, as a learner writes it). */
async function runLazy(name: string, edit: (code: string) => string = (c) => c, timeLimitMs = 60_000, training?: { maxSteps: number }): Promise<{ result: RunResult; code: string }> {
  const file = path.join(FOLDER, name);
  const code = readFileSync(path.join(FOLDER, "tiny_value.py"), "utf8") + "\n" + edit(readFileSync(file, "utf8"));
  const result = await runPython({ file, code, origin: { file, line: 1, column: 1 } }, { timeLimitMs, ...(training ? { training } : {}) });
  return { result, code };
}

/** The last STATE the program printed for `tag`. */
function lastState(result: RunResult, tag: string): number[][] {
  const lines = result.console.filter((c) => c.stream === "stdout").flatMap((c) => c.text.split("\n"));
  const said = lines.filter((l) => l.startsWith(`STATE ${tag} `));
  assert.ok(said.length > 0, `the program printed a STATE ${tag}`);
  return JSON.parse(said[said.length - 1].slice(`STATE ${tag} `.length)) as number[][];
}

const pairsOf = (root: RootGraph) =>
  snapshotNodes(root.graph)
    .map((n) => [n.data, n.grad])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);

const lineOf = (code: string, marker: string) => code.split("\n").findIndex((l) => l.includes(marker)) + 1;

function rootAt(result: RunResult, line: number): RootGraph {
  const root = result.roots.find((r) => r.position?.line === line);
  assert.ok(root, `a root for the backward() at line ${line}`);
  return root;
}

function assertSame(root: RootGraph, want: number[][], what: string): void {
  assert.deepEqual(pairsOf(root), want, `${what}: every value's data and grad as backward() left them`);
}

describe("Python: the graph as it was at backward(), copied only when read", function () {
  this.timeout(120_000);

  before(async function () {
    if (!(await resolvePythonPath(undefined))) this.skip();
  });

  it("parameters written after each backward() (SGD, grads zeroed) show their backward() numbers; inputs their accumulated grads", async () => {
    const { result } = await runLazy("sgd_loop.py");
    assert.equal(result.error, undefined, result.error?.message);
    const [root] = result.roots;
    assert.equal(root.calls, 4);
    assertSame(root, lastState(result, "loss"), "the 4th step");
  });

  it("two call sites sharing parameters: each keeps its own backward()'s numbers", async () => {
    const { result, code } = await runLazy("two_sites.py");
    assert.equal(result.error, undefined, result.error?.message);
    assertSame(rootAt(result, lineOf(code, "# site a")), lastState(result, "a"), "site a");
    assertSame(rootAt(result, lineOf(code, "# site b")), lastState(result, "b"), "site b (its backward() added to a's grads)");
  });

  it("the same graph backpropagated twice at one site and again at another", async () => {
    const { result, code } = await runLazy("twice.py");
    assert.equal(result.error, undefined, result.error?.message);
    const one = rootAt(result, lineOf(code, "# site one"));
    assert.equal(one.calls, 2);
    assertSame(one, lastState(result, "one"), "site one, before the other backward() added to every grad");
    assertSame(rootAt(result, lineOf(code, "# site two")), lastState(result, "two"), "site two");
  });

  it("writes made by the value class's own methods (a step() method, __iadd__) after backward()", async () => {
    const { result } = await runLazy("class_writes.py");
    assert.equal(result.error, undefined, result.error?.message);
    assertSame(result.roots[0], lastState(result, "loss"), "after w[0].step() and w[1] += 0.25");
  });

  it("a closure engine's _backward() called by hand after backward()", async () => {
    const { result } = await runLazy("closure_by_hand.py");
    assert.equal(result.error, undefined, result.error?.message);
    const root = result.roots.find((r) => r.name === "out")!;
    assertSame(root, lastState(result, "out"), "before the closure ran again");
  });

  it("inputs changed after backward() (`loss._children = ()`): the graph has the inputs backward() walked", async () => {
    const { result } = await runLazy("relinked.py");
    assert.equal(result.error, undefined, result.error?.message);
    assertSame(result.roots[0], lastState(result, "loss"), "the whole graph, before it was cut loose");
  });

  it("writes GradLens cannot see one by one: setattr, an optimizer in a module of the user's (imported first, or after a backward())", async () => {
    for (const name of ["setattr_writes.py", "foreign_optimizer.py", "late_import.py"]) {
      const { result } = await runLazy(name);
      assert.equal(result.error, undefined, result.error?.message);
      assertSame(result.roots[0], lastState(result, "loss"), name);
    }
  });

  it("backward() stopped midway: the last complete graph when the stop cannot have changed it, else the stopped one as it was", async () => {
    const fresh = await runLazy("stopped.py");
    assert.equal(fresh.result.error, undefined, fresh.result.error?.message);
    assert.equal(fresh.result.roots[0].calls, 2, "the stopped call is not counted");
    assertSame(fresh.result.roots[0], lastState(fresh.result, "loss"), "fresh inputs each step: step 2's graph");
    const kept = await runLazy("stopped.py", (c) => c.replace("FRESH_INPUTS = True", "FRESH_INPUTS = False"));
    assert.equal(kept.result.error, undefined, kept.result.error?.message);
    assertSame(kept.result.roots[0], lastState(kept.result, "stopped"), "inputs shared with step 2's graph: the stopped graph");
  });

  it("a training run stopped between steps (--steps 5) keeps the 5th backward()'s numbers", async () => {
    const { result } = await runLazy("endless.py", (c) => c, 60_000, { maxSteps: 5 });
    assert.equal(result.error, undefined, result.error?.message);
    const [root] = result.roots;
    assert.equal(root.calls, 5);
    const digest = result.console
      .filter((c) => c.stream === "stdout")
      .flatMap((c) => c.text.split("\n"))
      .find((l) => l.startsWith("DIGEST 5 "))!
      .split(" ")
      .map(Number);
    const nodes = snapshotNodes(root.graph);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    assert.equal(nodes.length, digest[2]);
    assert.ok(Math.abs(sum(nodes.map((n) => n.data)) - digest[3]) < 1e-12, "data as backward() left it, not after the update");
    assert.ok(Math.abs(sum(nodes.map((n) => n.grad)) - digest[4]) < 1e-12, "grads as backward() left them, not zeros");
  });
});
