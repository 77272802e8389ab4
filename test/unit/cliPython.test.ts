// `gradlens graph|check` on Python files and Markdown blocks, and `localGrad` on graph --json edges
// (TypeScript too): the built CLI, spawned, as a user or CI runs it.
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { resolvePythonPath } from "../../src/runner/python";
import { buildCli, spawnCli, fixture, repoRoot } from "./runnerSupport";

interface GraphJson {
  root: { name: string; reason: string; line: number | null };
  nodes: { id: number; op: string; label: string | null; data: number | string; grad: number | string; line: number | null }[];
  edges: { from: number; to: number; localGrad: number | string | null }[];
}
interface CheckJson {
  ok: boolean;
  functions: { name: string; ok: boolean; line: number; inputs: { name: string; verdict: string; analytic: number }[] }[];
}

const userFixture = (...parts: string[]) => path.join(repoRoot, "test", "fixtures", "userClasses", ...parts);

describe("cli: Python files, Markdown blocks and local gradients (the built bundle, spawned)", function () {
  this.timeout(60_000);
  let cli = "";
  before(() => {
    cli = buildCli();
  });
  const gradlens = (...args: string[]) => spawnCli(cli, args);

  it("graph --json edges carry localGrad for GradLens's engine (keeping every other field)", () => {
    const { status, stdout } = gradlens("graph", fixture("basic.grad.ts"), "--json");
    assert.equal(status, 0);
    const json = JSON.parse(stdout) as GraphJson;
    assert.deepEqual(Object.keys(json), ["root", "nodes", "edges"]);
    assert.deepEqual(Object.keys(json.nodes[0]), ["id", "op", "label", "data", "grad", "line"]);
    const x = json.nodes.find((n) => n.label === "x")!;
    const y = json.nodes.find((n) => n.label === "y")!;
    const mul = json.nodes.find((n) => n.op === "*")!;
    // d(x·y)/dx = y, d(x·y)/dy = x
    assert.equal(json.edges.find((e) => e.from === x.id && e.to === mul.id)?.localGrad, y.data);
    assert.equal(json.edges.find((e) => e.from === y.id && e.to === mul.id)?.localGrad, x.data);
  });

  it("graph --json of a learner's closure-based TypeScript class has the recovered local gradients", () => {
    const { status, stdout, stderr } = gradlens("graph", userFixture("microgradPort.grad.ts"), "--json");
    assert.equal(status, 0, stderr);
    const json = JSON.parse(stdout) as GraphJson;
    assert.equal(json.root.name, "loss");
    assert.ok(json.edges.length > 10);
    assert.ok(json.edges.every((e) => typeof e.localGrad === "number"));
  });

  it("graph --json says null where a local gradient is unknown (a class without local gradients or steps)", () => {
    const { status, stdout, stderr } = gradlens("graph", userFixture("noLocalGrads.grad.ts"), "--json");
    assert.equal(status, 0, stderr);
    const json = JSON.parse(stdout) as GraphJson;
    assert.deepEqual(json.nodes.map((n) => [n.op, n.data, n.grad]), [["", 4, 5], ["", 5, 4], ["*", 20, 1]]);
    assert.deepEqual(json.edges.map((e) => e.localGrad), [null, null]);
  });

  it("graph FILE.md --line N runs a ```ts block as a snippet (Value in scope), lines in the Markdown file", () => {
    const { status, stdout, stderr } = gradlens("graph", fixture("snippets.md"), "--line", "7", "--json");
    assert.equal(status, 0, stderr);
    const json = JSON.parse(stdout) as GraphJson;
    assert.deepEqual([json.root.name, json.root.line, json.nodes[json.nodes.length - 1].data], ["b", 8, 5]);
    assert.equal(json.nodes.find((n) => n.label === "a")?.grad, 4);
    const check = gradlens("check", fixture("snippets.md"), "--line", "7");
    assert.equal(check.status, 2);
    assert.match(check.stderr, /gradient checks of TypeScript run on \.grad\.ts files/);
  });

  describe("with python3", () => {
    before(async function () {
      if (!(await resolvePythonPath(undefined))) this.skip();
    });

    it("graph FILE.py prints the user's class's graph with its local gradients", () => {
      const { status, stdout, stderr } = gradlens("graph", userFixture("python", "wrong_op.py"), "--json");
      assert.equal(status, 0, stderr);
      const json = JSON.parse(stdout) as GraphJson;
      assert.equal(json.root.reason, "backward");
      assert.equal(json.root.line, 45);
      assert.equal(json.nodes[json.nodes.length - 1].data, 8);
      assert.match(stderr, /^8\.0$/m); // what the program printed goes to stderr
      // The class stores local gradients (here the buggy ones): x·y's second edge says 3, not 2.
      const mul = json.nodes.find((n) => n.op !== "" && json.edges.filter((e) => e.to === n.id).length === 2 && json.edges.some((e) => e.to === n.id && e.localGrad === 3 && json.nodes[e.from].data === 3))!;
      assert.ok(mul, "the mul node with the wrong local gradient");
      const closures = gradlens("graph", path.join(repoRoot, "test", "fixtures", "python", "micrograd_style", "sanity.py"), "--json");
      assert.equal(closures.status, 0, closures.stderr);
      const edges = (JSON.parse(closures.stdout) as GraphJson).edges;
      assert.ok(edges.every((e) => e.localGrad === null || typeof e.localGrad === "number"));
    });

    it("graph FILE.py prints a table by default", () => {
      const { status, stdout } = gradlens("graph", userFixture("python", "wrong_op.py"));
      assert.equal(status, 0);
      assert.match(stdout, /^z \(backward\(\) root\): 4 nodes, 4 edges/m);
    });

    it("check FILE.py runs the Python checks with the user's class and exits 1 on a mismatch", () => {
      const failing = gradlens("check", userFixture("python", "wrong_op.py"), "--json");
      assert.equal(failing.status, 1, failing.stderr);
      const json = JSON.parse(failing.stdout) as CheckJson;
      assert.equal(json.ok, false);
      assert.deepEqual(json.functions.map((f) => [f.name, f.line, f.inputs.map((i) => i.verdict).join(",")]), [["f", 39, "ok,mismatch"]]);
      const passing = gradlens("check", userFixture("python", "closures.py"), "--function", "neuron");
      assert.equal(passing.status, 0, passing.stderr);
      assert.match(passing.stdout, /1 of 1 function passed/);
    });

    it("graph and check FILE.md --line N run the block at that line after the earlier blocks it needs", () => {
      const md = userFixture("python", "chapter.md");
      const graph = gradlens("graph", md, "--line", "48", "--json");
      assert.equal(graph.status, 0, graph.stderr);
      const json = JSON.parse(graph.stdout) as GraphJson;
      assert.equal(json.root.name, "out");
      assert.equal(json.root.line, 50);
      assert.match(graph.stderr, /ran the code block at line 6 first \(it defines Value, scaled\)/);
      const check = gradlens("check", md, "--line", "46");
      assert.equal(check.status, 0, check.stderr);
      assert.match(check.stdout, /^f\s+x\s+5\.43656\s+5\.43656\s+ok\s+ok$/m);
    });

    it("explains a Markdown file without --line, a line outside any block, and --line on other files", () => {
      const md = userFixture("python", "chapter.md");
      const noLine = gradlens("graph", md);
      assert.equal(noLine.status, 2);
      assert.match(noLine.stderr, /Markdown: say which code block with --line N/);
      const outside = gradlens("graph", md, "--line", "3");
      assert.equal(outside.status, 2);
      assert.match(outside.stderr, /no fenced code block at line 3/);
      const notMarkdown = gradlens("graph", userFixture("python", "wrong_op.py"), "--line", "3");
      assert.equal(notMarkdown.status, 2);
      assert.match(notMarkdown.stderr, /--line is for Markdown files/);
    });
  });
});
