// Acceptance: every Python code block of the tutorial's Ch04, run from the Markdown file with the
// machine's python3, shows what the chapter prints. Blocks that are fragments of a class show no graph
// (methods alone) or a "not defined" error at their own line (statements that need a `self`).
import { strict as assert } from "assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { findCodeBlockAt } from "../../src/runner/staticAnalysis";
import { pythonBlocksOf, resolvePythonPath, runPython, type MarkdownCodeBlock } from "../../src/runner/python";
import type { RunResult } from "../../src/protocol/result";
import { snapshotEdges, snapshotNodes } from "../../src/engine/snapshot";

const CHAPTER = path.resolve(__dirname, "../fixtures/python/ch04-value-and-backprop.ko.md");
const markdown = readFileSync(CHAPTER, "utf8");
const lines = markdown.split(/\r?\n/);
const lineOf = (text: string, from = 1): number => {
  const index = lines.findIndex((l, i) => i + 1 >= from && l.startsWith(text));
  assert.ok(index >= 0, `the chapter has a line starting with ${text}`);
  return index + 1;
};

function runBlock(block: MarkdownCodeBlock): Promise<RunResult> {
  return runPython({ file: CHAPTER, code: block.code, origin: { file: CHAPTER, line: block.startLine, column: 1 } }, { timeLimitMs: 20_000 });
}

describe("Python: the Ch04 chapter's code blocks, run from the Markdown file", function () {
  this.timeout(60_000);
  const blocks = pythonBlocksOf(markdown);
  const results = new Map<number, RunResult>();
  const blockWith = (text: string) => {
    const block = blocks.find((b) => b.code.includes(text));
    assert.ok(block, `a block contains ${text}`);
    return block;
  };
  const resultOf = (text: string) => {
    const result = results.get(blockWith(text).startLine);
    assert.ok(result);
    return result;
  };

  before(async function () {
    if (!(await resolvePythonPath(undefined))) this.skip();
    for (const block of blocks) results.set(block.startLine, await runBlock(block));
  });

  it("finds the chapter's eleven ```python blocks, at the lines the runner's findCodeBlockAt reports", () => {
    assert.equal(blocks.length, 11);
    for (const block of blocks) {
      const found = findCodeBlockAt(markdown, block.startLine + 1);
      assert.deepEqual(found, block);
    }
  });

  it("§6: x, y, w without a class uses the provided tutorial Value and shows z = 7", () => {
    const result = resultOf("mul = x * y");
    assert.equal(result.error, undefined);
    assert.equal(result.roots.length, 1);
    const root = result.roots[0];
    assert.equal(root.name, "z");
    assert.equal(root.reason, "last-value");
    const nodes = snapshotNodes(root.graph);
    assert.deepEqual(nodes.map((n) => n.data), [2, 3, 6, 1, 7]);
    assert.deepEqual(nodes.map((n) => n.op), ["", "", "*", "", "+"]);
    assert.deepEqual(nodes.map((n) => n.label), ["x", "y", "mul", "w", "z"]);
    // The local gradients the chapter writes in its comments: (3.0, 2.0) for mul, (1, 1) for z.
    assert.deepEqual(snapshotEdges(root.graph).map((e) => [e.from, e.to, e.localGrad]), [[0, 2, 3], [1, 2, 2], [2, 4, 1], [3, 4, 1]]);
    // Each node points at the Markdown line that made it.
    const siteLine = (id: number) => result.sites[root.graph.site[id]].line;
    assert.deepEqual([0, 1, 2, 3, 4].map(siteLine), [144, 145, 148, 146, 149]);
    assert.equal(result.sites[root.graph.site[4]].file, CHAPTER);
    assert.equal(result.sites[root.graph.site[4]].binding, "z");
    assert.equal(root.position?.line, lineOf("z   = mul + w"));
  });

  it("§8: the chapter's own Value class prints z.data = 7.0 and the grads 3, 2, 1", () => {
    const result = resultOf('print(f"z.data');
    assert.equal(result.error, undefined, result.error?.message);
    assert.deepEqual(result.console.map((c) => c.text), ["z.data = 7.0", "x.grad = 3.0", "y.grad = 2.0", "w.grad = 1"]);
    assert.deepEqual(result.console.map((c) => c.position?.line), [lineOf('print(f"z.data'), lineOf('print(f"x.grad'), lineOf('print(f"y.grad'), lineOf('print(f"w.grad')]);
    const root = result.roots[0];
    assert.equal(result.roots.length, 1);
    assert.equal(root.reason, "backward");
    assert.equal(root.name, "z");
    assert.equal(root.position?.line, lineOf("z.backward()", 300));
    const grads = Object.fromEntries(snapshotNodes(root.graph).filter((n) => n.label).map((n) => [n.label, n.grad]));
    assert.deepEqual(grads, { x: 3, y: 2, w: 1, z: 1 });
    // Values made inside the class's methods belong to the line that used them.
    const madeAt = Object.fromEntries(snapshotNodes(root.graph).map((n) => [n.label ?? n.op, result.sites[n.site].line]));
    assert.deepEqual(madeAt, { x: lineOf("x = Value(2.0)", 300), y: lineOf("y = Value(3.0)", 300), w: lineOf("w = Value(1.0)", 300), "*": lineOf("z = x * y + w", 300), z: lineOf("z = x * y + w", 300) });
    const hover = Object.fromEntries(result.bindings.map((b) => [b.name, [b.data, b.grad, b.range.line]]));
    assert.deepEqual(hover.x, [2, 3, lineOf("x = Value(2.0)", 300)]);
    assert.deepEqual(hover.z, [7, 1, lineOf("z = x * y + w", 300)]);
  });

  it("§9: the numerical check runs after the §8 block it relies on and prints 3.000000 twice", () => {
    const result = resultOf("def numerical_grad");
    assert.equal(result.error, undefined, result.error?.message);
    // A note says which earlier block ran first; §8's own prints are not repeated.
    const eighth = blockWith('print(f"z.data').startLine;
    assert.deepEqual(result.console[0], { stream: "stderr", text: `GradLens: ran the code block at line ${eighth} first (it defines x)` });
    const printed = result.console.slice(1).map((c) => c.text);
    assert.equal(printed.length, 3, printed.join("\n"));
    assert.equal(printed[0], "수치 미분: dz/dx = 3.000000");
    assert.equal(printed[1], "역전파:   dz/dx = 3.000000");
    assert.match(printed[2], /^오차: \d\.\d\de[-+]\d\d$/);
    assert.equal(result.console[2].position?.line, lineOf('print(f"역전파'));
    // The graph drawn is the one §8 built (z = x*y + w, backward called there).
    assert.equal(result.roots[0]?.name, "z");
    assert.equal(result.roots[0].graph.data[result.roots[0].graph.root], 7);
  });

  it("blocks that are methods alone (§2–§5, §7) run without error and draw nothing", () => {
    for (const text of ["# microgpt.py:30-37", "# microgpt.py:39-41", "# microgpt.py:43-45", "# microgpt.py:47-50", "# microgpt.py:59-72", "def build_topo(v):\n    if"]) {
      const result = resultOf(text);
      assert.equal(result.error, undefined, `${text}: ${result.error?.message}`);
      assert.equal(result.roots.length, 0, text);
    }
  });

  it("fragments that use names from elsewhere say so at their own Markdown line", () => {
    const first = resultOf("grad_a = ");
    assert.equal(first.error?.kind, "runtime");
    assert.match(first.error?.message ?? "", /'n' is not defined .*fragment/);
    assert.equal(first.error?.position?.line, lineOf("grad_a = "));
    assert.equal(first.error?.position?.file, CHAPTER);
    const backprop = resultOf("self.grad = 1  #");
    assert.match(backprop.error?.message ?? "", /'self' is not defined/);
    assert.equal(backprop.error?.position?.line, lineOf("self.grad = 1  #"));
  });

  it("exactly the three blocks that build values draw z = 7", () => {
    const drawn = blocks.filter((b) => (results.get(b.startLine)?.roots.length ?? 0) > 0);
    assert.deepEqual(drawn.map((b) => b.startLine), [blockWith("mul = x * y").startLine, blockWith("print(f\"z.data").startLine, blockWith("def numerical_grad").startLine]);
    for (const b of drawn) {
      const root = results.get(b.startLine)!.roots[0];
      assert.equal(root.graph.data[root.graph.root], 7);
    }
  });

  it("the code block under a cursor (findCodeBlockAt) runs the same, with unsaved Markdown text", async () => {
    // The editor's text may differ from the saved file: blocks are read from `document`.
    const edited = markdown.replace("x = Value(2.0)\ny = Value(3.0)\nw = Value(1.0)\nz = x * y + w", "x = Value(5.0)\ny = Value(3.0)\nw = Value(1.0)\nz = x * y + w");
    const cursor = lineOf("def numerical_grad") + 2;
    const block = findCodeBlockAt(edited, cursor)!;
    const result = await runPython({ file: CHAPTER, code: block.code, origin: { file: CHAPTER, line: block.startLine, column: 1 }, document: edited }, {});
    assert.equal(result.error, undefined, result.error?.message);
    assert.equal(result.roots[0].graph.data[result.roots[0].graph.root], 16);
    assert.equal(result.console[2].text, "역전파:   dz/dx = 3.000000");
  });
});
