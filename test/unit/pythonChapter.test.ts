// Acceptance: every Python code block of a chapter-shaped Korean Markdown file (written for these
// tests in the shape of the tutorial's chapters: a class in pieces, method fragments, a full listing,
// a numerical check that needs an earlier block, a column-0 comment above indented code, blocks in a
// list item), run from the Markdown file with the machine's python3, shows what plain Python prints.
import { strict as assert } from "assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { findCodeBlockAt } from "../../src/runner/staticAnalysis";
import { pythonBlocksOf, resolvePythonPath, runPython, type MarkdownCodeBlock } from "../../src/runner/python";
import type { RunResult } from "../../src/protocol/result";
import { snapshotEdges, snapshotNodes } from "../../src/engine/snapshot";

const CHAPTER = path.resolve(__dirname, "../fixtures/python/value-chapter.ko.md");
const markdown = readFileSync(CHAPTER, "utf8");
const lines = markdown.split(/\r?\n/);
const lineOf = (text: string, from = 1): number => {
  const index = lines.findIndex((l, i) => i + 1 >= from && l.trimStart().startsWith(text));
  assert.ok(index >= 0, `the chapter has a line starting with ${text}`);
  return index + 1;
};
const TUTORIAL_NOTE = /^GradLens: this code uses Value without defining or importing it: GradLens supplied the tutorial's Value class \(plain Python would stop with NameError/;

function runBlock(block: MarkdownCodeBlock): Promise<RunResult> {
  return runPython({ file: CHAPTER, code: block.code, origin: { file: CHAPTER, line: block.startLine, column: 1 } }, { timeLimitMs: 20_000 });
}

describe("Python: a chapter's code blocks, run from the Markdown file", function () {
  this.timeout(120_000);
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
  const printed = (result: RunResult) => result.console.filter((c) => c.stream === "stdout").map((c) => c.text);

  before(async function () {
    if (!(await resolvePythonPath(undefined))) this.skip();
    for (const block of blocks) results.set(block.startLine, await runBlock(block));
  });

  it("finds the chapter's eleven ```python blocks (two inside a list item), at the lines findCodeBlockAt reports", () => {
    assert.equal(blocks.length, 11);
    for (const block of blocks) {
      assert.deepEqual(findCodeBlockAt(markdown, block.startLine + 1), { language: block.language, code: block.code, startLine: block.startLine });
    }
    assert.deepEqual(blocks.filter((b) => b.code.startsWith("   ")).map((b) => b.startLine), [lineOf("a = Value(4.0)"), lineOf("total = (1 +")]);
  });

  it("§4: x, y, w without a class uses the provided tutorial Value, says so, and shows z = 7", () => {
    const result = resultOf("mul = x * y");
    assert.equal(result.error, undefined);
    assert.deepEqual(result.notes?.map((n) => n.kind), ["tutorial-value"]);
    assert.match(result.console[0].text, TUTORIAL_NOTE);
    const [root] = result.roots;
    assert.equal(root.name, "z");
    assert.equal(root.reason, "last-value");
    // Node ids follow the order the values were made: x, y, w, then mul = x*y and z.
    const nodes = snapshotNodes(root.graph);
    assert.deepEqual(nodes.map((n) => [n.label, n.op, n.data]), [["x", "", 2], ["y", "", 3], ["w", "", 1], ["mul", "*", 6], ["z", "+", 7]]);
    assert.deepEqual(snapshotEdges(root.graph).map((e) => [nodes[e.from].label, nodes[e.to].label, e.localGrad]), [["x", "mul", 3], ["y", "mul", 2], ["mul", "z", 1], ["w", "z", 1]]);
    const siteLine = (id: number) => result.sites[root.graph.site[id]].line;
    assert.deepEqual(nodes.map((n) => siteLine(n.id)), [lineOf("x = Value(2.0)"), lineOf("y = Value(3.0)"), lineOf("w = Value(1.0)"), lineOf("mul = x * y"), lineOf("z = mul + w")]);
    assert.equal(result.sites[root.graph.site[4]].file, CHAPTER);
  });

  it("§6: the full listing prints what plain Python prints, and draws the graph its backward() saw", () => {
    const result = resultOf('print(f"z = {z.data}")');
    assert.equal(result.error, undefined, result.error?.message);
    assert.equal(result.notes, undefined, "it defines its own Value");
    assert.deepEqual(printed(result), ["z = 7.0", "dz/dx = 3.0", "dz/dy = 2.0", "dz/dw = 1"]);
    const full = blockWith('print(f"z = {z.data}")').startLine;
    assert.deepEqual(result.console.map((c) => c.position?.line), [lineOf('print(f"z = {z.data}")', full), lineOf('print(f"dz/dx', full), lineOf('print(f"dz/dy', full), lineOf('print(f"dz/dw', full)]);
    const [root] = result.roots;
    assert.equal(root.reason, "backward");
    assert.equal(root.position?.line, lineOf("z.backward()", full));
    const grads = Object.fromEntries(snapshotNodes(root.graph).filter((n) => n.label).map((n) => [n.label, n.grad]));
    assert.deepEqual(grads, { x: 3, y: 2, w: 1, z: 1 });
  });

  it("§7: the numerical check runs after the full listing it relies on, and says so", () => {
    const result = resultOf("def central");
    assert.equal(result.error, undefined, result.error?.message);
    const full = blockWith('print(f"z = {z.data}")').startLine;
    assert.deepEqual(result.console[0], { stream: "stderr", text: `GradLens: ran the code block at line ${full} first (it defines x)` });
    assert.deepEqual(result.notes, [{ kind: "context", message: `ran the code block at line ${full} first (it defines x)` }]);
    assert.deepEqual(printed(result), ["수치 미분 3.000000", "역전파 3.000000"], "the full listing's own prints are not repeated");
    assert.equal(result.roots[0]?.name, "z");
  });

  it("§2–§3: a class in pieces and methods alone run without error and draw nothing, even below a column-0 comment", () => {
    for (const text of ["# value.py:1-8", "# value.py:10-12", "def __mul__(self, other):"]) {
      const result = resultOf(text);
      assert.equal(result.error, undefined, `${text}: ${result.error?.message}`);
      assert.equal(result.roots.length, 0, text);
      assert.equal(result.notes, undefined, `${text}: a method that only mentions Value made none`);
    }
  });

  it("fragments that use names from elsewhere say so at their own Markdown line and column", () => {
    const first = resultOf("slope = ");
    assert.equal(first.error?.kind, "runtime");
    assert.match(first.error?.message ?? "", /'pairs' is not defined .*fragment/);
    assert.deepEqual([first.error?.position?.file, first.error?.position?.line, first.error?.position?.column], [CHAPTER, lineOf("slope = "), lines[lineOf("slope = ") - 1].indexOf("pairs") + 1]);
    const backprop = resultOf("self.grad = 1  #");
    assert.match(backprop.error?.message ?? "", /'self' is not defined/);
    assert.equal(backprop.error?.position?.line, lineOf("self.grad = 1  #"));
  });

  it("§8: a block inside a list item runs, its values at the block's own lines and columns", () => {
    const result = resultOf("a = Value(4.0)");
    assert.equal(result.error, undefined, result.error?.message);
    assert.deepEqual(printed(result), ["db/da = 8.0"]);
    const b = result.bindings.find((x) => x.name === "b");
    assert.deepEqual([b?.range.line, b?.range.column], [lineOf("b = a * a"), 4]);
  });

  it("§8: Python's own 'on line N' in a syntax error is the Markdown file's line", () => {
    const result = resultOf("total = (1 +");
    assert.equal(result.error?.kind, "syntax");
    assert.match(result.error?.message ?? "", new RegExp(`does not match opening parenthesis '\\(' on line ${lineOf("total = (1 +")}$`));
    assert.deepEqual([result.error?.position?.line, result.error?.position?.column], [lineOf("2]"), lines[lineOf("2]") - 1].indexOf("]") + 1]);
  });

  it("§9: log(0) inside the tutorial's Value is reported as the op, its input and what JavaScript gives", () => {
    const result = resultOf("nll = -1 * p.log()");
    assert.equal(result.error?.kind, "runtime");
    assert.equal(result.error?.message, "log(0.0) raised ValueError in Python (math domain error); JavaScript, and GradLens's TypeScript engine, would give -Infinity");
    assert.deepEqual([result.error?.position?.line, result.error?.position?.column], [lineOf("nll = "), lines[lineOf("nll = ") - 1].indexOf("p.log") + 1]);
  });

  it("exactly the blocks that build values draw a graph", () => {
    const drawn = blocks.filter((b) => (results.get(b.startLine)?.roots.length ?? 0) > 0);
    assert.deepEqual(
      drawn.map((b) => b.startLine),
      ["mul = x * y", 'print(f"z = {z.data}")', "def central", "a = Value(4.0)", "nll = -1"].map((text) => blockWith(text).startLine),
    );
  });

  it("the code block under a cursor runs the same, with unsaved Markdown text", async () => {
    const full = blockWith('print(f"z = {z.data}")').startLine;
    const edited = lines.map((l, i) => (i + 1 === lineOf("x = Value(2.0)", full) ? "x = Value(5.0)" : l)).join("\n");
    const block = findCodeBlockAt(edited, lineOf("def central") + 2)!;
    const result = await runPython({ file: CHAPTER, code: block.code, origin: { file: CHAPTER, line: block.startLine, column: 1 }, document: edited }, {});
    assert.equal(result.error, undefined, result.error?.message);
    assert.equal(result.roots[0].graph.data[result.roots[0].graph.root], 16);
    assert.equal(printed(result)[1], "역전파 3.000000");
  });
});
