import * as assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { runFile, runSnippet, checkFile, findCodeBlockAt, DEFAULT_TIME_LIMIT_MS, type RunOptions } from "../../src/runner";
import { snapshotNodes, snapshotEdges } from "../../src/engine";
import type { RunResult } from "../../src/protocol/result";
import { fixture, repoRoot, useBuiltWorker } from "./runnerSupport";
import { instrumentSource, SiteRegistry } from "../../src/runner/instrument";
import { HELPERS } from "../../src/runner/helpers";

/** The node of root `r` bound to `name` (labels come from variable names). */
function nodeNamed(result: RunResult, name: string, r = 0) {
  const node = snapshotNodes(result.roots[r].graph).find((n) => n.label === name);
  assert.ok(node, `no node labelled ${name}`);
  return node;
}

describe("runner: files", function () {
  this.timeout(60_000);
  before(useBuiltWorker);

  it("runs the tutorial example with values, gradients, labels and sites", async () => {
    const result = await runFile(fixture("basic.grad.ts"));
    assert.equal(result.error, undefined);
    assert.ok(result.ok);
    assert.equal(result.roots.length, 1);
    const root = result.roots[0];
    assert.equal(root.reason, "backward");
    assert.equal(root.name, "z");
    assert.equal(root.position?.line, 8);
    assert.equal(nodeNamed(result, "z").data, 7);
    assert.equal(nodeNamed(result, "x").grad, 3);
    assert.equal(nodeNamed(result, "y").grad, 2);
    assert.equal(nodeNamed(result, "w").grad, 1);
    // z's node was made by `.add(w)` on line 7, bound to z.
    const zSite = result.sites[nodeNamed(result, "z").site];
    assert.deepEqual([zSite.line, zSite.binding, zSite.file], [7, "z", fixture("basic.grad.ts")]);
    assert.ok(zSite.text.includes("x.mul(y).add(w)"));
    const mulNode = snapshotNodes(root.graph).find((n) => n.op === "*");
    assert.equal(result.sites[mulNode!.site].text, "x.mul(y)");
    assert.deepEqual(result.console.map((c) => [c.stream, c.text, c.position?.line]), [["stdout", "z = 7", 9]]);
    assert.equal(result.stats.nodeCount, 5);
    // The child's CPU time over its run (the training bench's ratio on a loaded machine).
    const cpu = result.stats.executeCpuMs;
    assert.ok(cpu !== undefined && cpu > 0 && cpu < 60_000, `executeCpuMs ${cpu}`);
  });

  it("groups loop instances by site and reports bindings with their last value and count", async () => {
    const result = await runFile(fixture("loop.grad.ts"));
    assert.ok(result.ok, result.error?.message);
    assert.equal(result.roots.length, 1);
    const graph = result.roots[0].graph;
    const nodes = snapshotNodes(graph);
    const squares = nodes.filter((n) => n.op === "*");
    assert.equal(squares.length, 4);
    assert.equal(new Set(squares.map((n) => n.site)).size, 1, "the four x*x nodes share one site");
    assert.equal(result.sites[squares[0].site].line, 6);
    const sq = result.bindings.find((b) => b.name === "sq");
    assert.ok(sq);
    assert.equal(sq.count, 4);
    assert.equal(sq.data, 16);
    assert.equal(sq.range.line, 6);
    const loss = result.bindings.find((b) => b.name === "loss");
    assert.equal(loss?.count, 1);
    assert.equal(loss?.grad, 1);
    assert.deepEqual(loss?.node, { root: 0, id: graph.root });
    const acc = result.bindings.find((b) => b.name === "acc");
    assert.equal(acc?.count, 5, "the initial value and four reassignments");
    // `total` was bound after backward() and is not part of the root graph.
    const total = result.bindings.find((b) => b.name === "total");
    assert.equal(total?.data, 10);
    assert.equal(total?.node, undefined);
  });

  it("lists every backward() call site as a root; a loop's site keeps its last graph and counts the calls", async () => {
    const result = await runFile(fixture("twoRoots.grad.ts"));
    assert.ok(result.ok, result.error?.message);
    assert.deepEqual(
      result.roots.map((r) => [r.name, r.reason, r.position?.line, r.calls]),
      [
        ["first", "backward", 5, undefined],
        ["loss", "backward", 10, 3],
      ],
    );
    const last = result.roots[1].graph;
    // The third step: loss = (w·3)², made from the w of that step.
    const w = snapshotNodes(last).find((n) => n.label === "w")!;
    assert.ok(Math.abs(last.data[last.root] - (w.data * 3) ** 2) < 1e-12);
    // The graph shows w as backward() left it, not as the update and `w.grad = 0` after it did.
    assert.ok(w.grad !== 0 && Math.abs(w.grad - 18 * w.data) < 1e-12, `w.grad ${w.grad}`);
    const a = snapshotNodes(result.roots[0].graph).find((n) => n.label === "a")!;
    assert.equal(a.grad, 4);
    assert.equal(result.bindings.find((b) => b.name === "loss")?.count, 3);
  });

  it("shows the last value when the file never calls backward()", async () => {
    const result = await runFile(fixture("lastValue.grad.ts"));
    assert.ok(result.ok);
    assert.equal(result.roots.length, 1);
    assert.equal(result.roots[0].reason, "last-value");
    const nodes = snapshotNodes(result.roots[0].graph);
    assert.equal(nodes[nodes.length - 1].op, "*");
    assert.ok(Math.abs(nodes[nodes.length - 1].data - 2 * Math.exp(1.5)) < 1e-12);
  });

  it("bundles relative imports and maps sites into the imported file", async () => {
    const result = await runFile(fixture("imports", "main.grad.ts"));
    assert.ok(result.ok, result.error?.message);
    const nodes = snapshotNodes(result.roots[0].graph);
    assert.equal(nodes[nodes.length - 1].data, 10);
    assert.equal(nodeNamed(result, "x").grad, 6);
    const mul = nodes.find((n) => n.op === "*")!;
    const site = result.sites[mul.site];
    assert.equal(site.file, fixture("imports", "helpers.grad.ts"));
    assert.equal(site.line, 4);
    assert.equal(site.functionName, "square");
  });

  it("captures a 200k-node graph", async () => {
    const result = await runFile(fixture("big.grad.ts"));
    assert.ok(result.ok, result.error?.message);
    const graph = result.roots[0].graph;
    assert.equal(graph.nodeCount, 200_001);
    assert.equal(graph.data[graph.root], (() => {
      let t = 0;
      for (let i = 0; i < 100_000; i++) t += i % 7;
      return t;
    })());
    assert.equal(graph.grad[0], 1);
    assert.equal(snapshotEdges(graph).length, 200_000);
  });

  it("reports a graph over the node limit as too large, with its size", async () => {
    const result = await runFile(fixture("big.grad.ts"), { nodeLimit: 1000 });
    assert.equal(result.error?.kind, "too-large");
    assert.match(result.error!.message, /200,001 nodes, more than the limit of 1,000/);
    assert.equal(result.error?.position?.line, 8);
  });
});

describe("runner: source tracking", () => {
  it("hooks a binding only where the value can be an object: operators give numbers, strings or booleans", () => {
    const source = ["const mHat = m[i] / (1 - beta ** t);", "const neg = -x;", "const y = w.mul(mHat);", "const pick = flag || y;", "let k = 0;", "k = k + 1;", "k = next(k);"].join("\n");
    const { code } = instrumentSource(source, new SiteRegistry(), { offset: { file: "t.ts", line: 1, column: 1 } });
    const hooked = code.split("\n").map((line) => line.includes(`${HELPERS.bind}(`));
    assert.deepEqual(hooked, [false, false, true, true, false, false, true], code);
  });
});

describe("runner: errors", function () {
  this.timeout(60_000);
  before(useBuiltWorker);

  it("reports a syntax error at the user's line and column", async () => {
    const result = await runFile(fixture("syntax.grad.ts"));
    assert.equal(result.ok, false);
    assert.equal(result.error?.kind, "syntax");
    assert.deepEqual(result.error?.position, { file: fixture("syntax.grad.ts"), line: 4, column: 18 });
    assert.match(result.error!.message, /Expected "\)"/);
  });

  it("reports an exception at the line that threw, with the user's frames only", async () => {
    const result = await runFile(fixture("throws.grad.ts"));
    assert.equal(result.error?.kind, "runtime");
    assert.equal(result.error?.message, "a layer needs 3 inputs");
    assert.deepEqual(result.error?.position, { file: fixture("throws.grad.ts"), line: 5, column: 11 });
    const stack = result.error!.stack!.split("\n");
    assert.equal(stack.length, 2);
    assert.match(stack[0], /at layer \(.*throws\.grad\.ts:5:11\)/);
    assert.match(stack[1], /throws\.grad\.ts:10:13/);
  });

  it("describes a thrown non-Error", async () => {
    const result = await runFile(fixture("throwNumber.grad.ts"));
    assert.equal(result.error?.kind, "runtime");
    assert.match(result.error!.message, /threw 42, which is not an Error/);
    assert.equal(result.error?.position?.line, 2);
  });

  it("survives process.exit, rejected promises and throwing getters", async () => {
    const result = await runFile(fixture("hostile.grad.ts"));
    assert.equal(result.error?.kind, "exit");
    assert.equal(result.error?.position?.line, 9);
    assert.match(result.error!.message, /process\.exit\(3\)/);
    assert.equal(result.console[0].text, "before exit");
    // The caller is fine and can run again.
    assert.ok((await runFile(fixture("basic.grad.ts"))).ok);
  });

  it("finds where log(0) made the first non-finite value", async () => {
    const result = await runFile(fixture("log0.grad.ts"));
    assert.ok(result.ok);
    const report = result.nonFinite;
    assert.ok(report);
    assert.equal(report.op, "log");
    assert.equal(report.field, "data");
    assert.equal(report.value, -Infinity);
    assert.deepEqual(report.position, { file: fixture("log0.grad.ts"), line: 5, column: 13 });
    assert.match(report.message, /log\(0\)/);
    assert.equal(result.roots[0].graph.opNames[result.roots[0].graph.op[report.id]], "log");
  });

  it("stops an endless loop at the time limit, naming its line, while the caller keeps running", async () => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    const started = Date.now();
    const result = await runFile(fixture("forever.grad.ts"), { timeLimitMs: 1500 });
    clearInterval(ticker);
    assert.equal(result.error?.kind, "timeout");
    assert.match(result.error!.message, /^stopped after 1\.5 s/);
    assert.equal(result.error?.position?.line, 6);
    assert.ok(Date.now() - started < 10_000);
    assert.ok(ticks >= 20, `the caller's timer ticked only ${ticks} times`);
    assert.deepEqual(result.console.map((c) => c.text), ["starting"]);
  });

  it("states whole seconds without decimals, and defaults to 10 s", async () => {
    assert.equal(DEFAULT_TIME_LIMIT_MS, 10_000);
    const result = await runFile(fixture("forever.grad.ts"), { timeLimitMs: 1000 });
    assert.equal(result.error?.kind, "timeout");
    assert.match(result.error!.message, /^stopped after 1 s:/);
  });

  it("can be cancelled", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    const result = await runFile(fixture("forever.grad.ts"), { signal: controller.signal });
    assert.equal(result.error?.kind, "cancelled");
    assert.ok(Date.now() - started < 5000);
    const already = await runFile(fixture("basic.grad.ts"), { signal: controller.signal });
    assert.equal(already.error?.kind, "cancelled");
  });

  it("reports a heap-limit breach as a memory error", async () => {
    const options: RunOptions = { heapLimitMb: 160, timeLimitMs: 30_000 };
    const result = await runFile(fixture("memory.grad.ts"), options);
    assert.equal(result.error?.kind, "memory");
    assert.match(result.error!.message, /160 MB/);
    assert.equal(result.error?.position?.line, 3);
  });

  it("caps huge console output and keeps running", async () => {
    const result = await runFile(fixture("chatty.grad.ts"));
    assert.ok(result.ok, result.error?.message);
    // The budget (1 MB, each line costing a little extra) keeps the first lines, then counts the rest.
    assert.ok(result.console.length > 10_000 && result.console.length < 30_000, `${result.console.length} lines`);
    assert.equal(result.console[0].text, "line 0");
    assert.equal(result.console[0].position?.line, 2);
    assert.match(result.console[result.console.length - 1].text, /more characters of output were not kept/);
    assert.ok(!result.console.some((c) => c.text === "written directly"), "output past the budget is dropped");
  });

  it("runs user code in strict mode, as modules are", async () => {
    const result = await runFile(fixture("strict.grad.ts"));
    assert.equal(result.error?.kind, "runtime");
    assert.match(result.error!.message, /undeclared is not defined/);
    assert.deepEqual([result.error?.position?.line, result.error?.position?.column], [2, 1]);
  });

  it("survives an error whose message getter throws", async () => {
    const result = await runFile(fixture("badMessage.grad.ts"));
    assert.equal(result.error?.kind, "runtime");
    assert.match(result.error!.message, /cannot be described/);
  });

  it("reports a missing file as an error value", async () => {
    const result = await runFile(fixture("no-such-file.grad.ts"));
    assert.equal(result.ok, false);
    assert.ok(result.error);
  });
});

describe("runner: snippets", function () {
  this.timeout(60_000);
  before(useBuiltWorker);

  it("runs a fenced ts block from Markdown with positions in the Markdown file", async () => {
    const file = fixture("snippets.md");
    const block = findCodeBlockAt(readFileSync(file, "utf8"), 7);
    assert.ok(block);
    assert.equal(block.language, "ts");
    assert.equal(block.startLine, 6);
    const result = await runSnippet(block.code, { file, line: block.startLine, column: 1 });
    assert.ok(result.ok, result.error?.message);
    assert.equal(result.roots[0].reason, "backward");
    assert.equal(result.roots[0].position?.line, 8);
    assert.equal(nodeNamed(result, "b").data, 5);
    assert.equal(nodeNamed(result, "a").grad, 4);
    const b = result.bindings.find((x) => x.name === "b");
    assert.deepEqual([b?.range.file, b?.range.line, b?.range.column], [file, 7, 7]);
  });

  it("runs lines selected from a .ts file with the helpers in scope, offset to their place", async () => {
    const file = fixture("snippetSource.ts");
    const lines = readFileSync(file, "utf8").split("\n");
    const selected = lines.slice(4, 8).join("\n"); // lines 5–8, indented by two spaces
    const result = await runSnippet(selected, { file, line: 5, column: 1 });
    assert.ok(result.ok, result.error?.message);
    assert.equal(result.roots[0].name, "loss");
    const reluNode = snapshotNodes(result.roots[0].graph).find((n) => n.op === "relu")!;
    const site = result.sites[reluNode.site];
    assert.deepEqual([site.file, site.line, site.column], [file, 6, 13]);
    assert.equal(nodeNamed(result, "u").grad, 1 - Math.tanh(4) ** 2);
  });

  it("uses the last assigned Value as the root when nothing calls backward()", async () => {
    const result = await runSnippet("const a = new Value(3);\nconst b = a.pow(2);\nconst note = 'done';", { file: fixture("snippets.md"), line: 1, column: 1 });
    assert.ok(result.ok);
    assert.equal(result.roots[0].reason, "last-value");
    assert.equal(result.roots[0].name, "b");
  });

  it("uses the last expression as the root when no Value is assigned", async () => {
    const result = await runSnippet("new Value(2).mul(new Value(5))", { file: fixture("snippets.md"), line: 3, column: 5 });
    assert.ok(result.ok);
    const graph = result.roots[0].graph;
    assert.equal(graph.data[graph.root], 10);
    assert.deepEqual([result.sites[graph.site[graph.root]].line, result.sites[graph.site[graph.root]].column], [3, 5]);
  });

  it("takes whichever came last as the root, a bound Value or a top-level expression", async () => {
    const where = { file: fixture("snippets.md"), line: 1, column: 1 };
    // An expression, then a binding: the bound value (a later expression made no Value).
    const bound = await runSnippet("const a = new Value(3);\na.mul(2);\nconst b = a.add(1);\nconsole.log('done');", where);
    assert.equal(bound.roots[0].name, "b");
    assert.equal(bound.roots[0].graph.data[bound.roots[0].graph.root], 4);
    // A binding, then an expression: the expression's value, though the binding's is still recorded.
    const expressed = await runSnippet("const b = new Value(3).add(1);\nb.mul(10);", where);
    assert.equal(expressed.roots[0].graph.data[expressed.roots[0].graph.root], 40);
    assert.notEqual(expressed.roots[0].name, "b");
    assert.equal(expressed.bindings.find((x) => x.name === "b")?.data, 4);
    // A loop rebinding one variable: the last value it took, counted each time.
    const looped = await runSnippet("let t = new Value(0);\nfor (let i = 1; i <= 4; i++) t = t.add(i);", where);
    assert.equal(looped.roots[0].name, "t");
    assert.equal(looped.roots[0].graph.data[looped.roots[0].graph.root], 10);
    assert.equal(looped.bindings.find((x) => x.name === "t")?.count, 5);
  });

  it("maps a snippet's runtime error and syntax error to the file's lines", async () => {
    const file = fixture("snippetSource.ts");
    const thrown = await runSnippet("const a = new Value(1);\nnull!.foo();", { file, line: 20, column: 3 });
    assert.equal(thrown.error?.kind, "runtime");
    assert.equal(thrown.error?.position?.line, 21);
    const broken = await runSnippet("const a = new Value(1);\nconst b = a.mul(;", { file, line: 30, column: 1 });
    assert.equal(broken.error?.kind, "syntax");
    assert.equal(broken.error?.position?.line, 31);
  });

  it("lets a snippet declare its own names that shadow the helpers", async () => {
    const result = await runSnippet("const sum = (a: Value, b: Value) => a.add(b);\nconst s = sum(new Value(1), new Value(2));", { file: fixture("snippets.md"), line: 1, column: 1 });
    assert.ok(result.ok, result.error?.message);
    assert.equal(nodeNamed(result, "s").data, 3);
  });
});

describe("runner: the examples", function () {
  this.timeout(120_000);
  before(useBuiltWorker);
  const examples = path.join(repoRoot, "examples");
  const files = existsSync(examples) ? readdirSync(examples).filter((f) => f.endsWith(".grad.ts")) : [];

  it("has examples to run", () => {
    assert.ok(files.length >= 4, `examples/*.grad.ts: ${files.join(", ")}`);
  });

  for (const name of files) {
    it(`runs examples/${name} and captures a graph with sites in the example`, async () => {
      const file = path.join(examples, name);
      const result = await runFile(file, { timeLimitMs: 100_000 });
      assert.equal(result.error, undefined, result.error && `${result.error.message} at line ${result.error.position?.line}`);
      assert.ok(result.roots.length > 0);
      const graph = result.roots[result.roots.length - 1].graph;
      assert.ok(graph.nodeCount > 1);
      const siteIds = new Set(graph.site);
      assert.ok([...siteIds].some((id) => id > 0 && result.sites[id].file.startsWith(examples)), "nodes point into the example's source");
      assert.equal(result.nonFinite, undefined);
      // Leaves (parameters, inputs) show the grads backward() gave them, even where a training
      // loop zeroed them afterwards.
      let leafWithGrad = false;
      for (let i = 0; i < graph.nodeCount; i++) if (graph.childStart[i] === graph.childStart[i + 1] && graph.grad[i] !== 0) leafWithGrad = true;
      if (result.roots[result.roots.length - 1].reason === "backward") assert.ok(leafWithGrad, "some leaf has a non-zero grad");
    });
  }

  it("checks the examples' gradients", async () => {
    for (const name of files) {
      const result = await checkFile(path.join(examples, name), { timeLimitMs: 100_000 });
      for (const check of result.checks ?? []) assert.ok(check.ok, `${name}: ${check.name} ${check.error?.message ?? check.inputs.filter((i) => !i.ok).map((i) => i.note).join("; ")}`);
    }
  });
});
