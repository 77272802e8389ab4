import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { buildCli, fixture } from "./runnerSupport";
import { parseArgs, UsageError } from "../../src/cli/args";

interface GraphJson {
  nodes: { id: number; op: string; label: string | null; data: number | string; grad: number | string; line: number | null }[];
  edges: { from: number; to: number }[];
}

describe("cli: gradlens (the built bundle, spawned)", function () {
  this.timeout(60_000);
  let cli = "";
  before(() => {
    cli = buildCli();
  });
  const gradlens = (...args: string[]) => {
    const run = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  };

  it("graph --json prints nodes with op, label, data, grad and 1-based line, and edges", () => {
    const { status, stdout } = gradlens("graph", fixture("basic.grad.ts"), "--json");
    assert.equal(status, 0);
    const json = JSON.parse(stdout) as GraphJson;
    assert.equal(json.nodes.length, 5);
    const z = json.nodes.find((n) => n.label === "z")!;
    assert.deepEqual([z.op, z.data, z.grad, z.line], ["+", 7, 1, 7]);
    const x = json.nodes.find((n) => n.label === "x")!;
    assert.deepEqual([x.op, x.data, x.grad, x.line], ["", 2, 3, 4]);
    const mul = json.nodes.find((n) => n.op === "*")!;
    assert.deepEqual(json.edges.filter((e) => e.to === mul.id).map((e) => e.from).sort(), [x.id, json.nodes.find((n) => n.label === "y")!.id].sort());
    assert.ok(json.edges.some((e) => e.from === mul.id && e.to === z.id));
  });

  it("graph --json writes non-finite numbers as strings", () => {
    const { status, stdout, stderr } = gradlens("graph", fixture("log0.grad.ts"), "--json");
    assert.equal(status, 0);
    const json = JSON.parse(stdout) as GraphJson;
    assert.equal(json.nodes.find((n) => n.op === "log")!.data, "-Infinity");
    assert.match(stderr, /log0\.grad\.ts:5:13: warning: log\(0\)/);
  });

  it("graph --root N picks one of several roots (default: the last)", () => {
    const last = JSON.parse(gradlens("graph", fixture("twoRoots.grad.ts"), "--json").stdout) as GraphJson & { root: { name: string } };
    const first = JSON.parse(gradlens("graph", fixture("twoRoots.grad.ts"), "--json", "--root", "1").stdout) as GraphJson & { root: { name: string } };
    assert.equal(last.root.name, "loss");
    assert.equal(first.root.name, "first");
    assert.equal(first.nodes.length, 2);
    const missing = gradlens("graph", fixture("twoRoots.grad.ts"), "--root", "3");
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no root #3/);
  });

  it("graph --dot prints Graphviz", () => {
    const { status, stdout } = gradlens("graph", fixture("basic.grad.ts"), "--dot");
    assert.equal(status, 0);
    // The same DOT writer as the graph view's export (src/format/dot.ts).
    assert.match(stdout, /^digraph "z" \{/);
    assert.match(stdout, /n4 \[shape=record, label="\{ z \| data 7\.0000 \| grad 1\.0000 \}"\];/);
    assert.match(stdout, /o2 \[shape=ellipse, label="\*"\];/);
    assert.match(stdout, /n0 -> o2 \[label="3\.0000"\];/); // x's local gradient in x*y is y = 3
  });

  it("graph prints a table by default", () => {
    const { status, stdout } = gradlens("graph", fixture("basic.grad.ts"));
    assert.equal(status, 0);
    assert.match(stdout, /z \(backward\(\) root\): 5 nodes, 4 edges/);
    assert.match(stdout, /^\s*4\s+\+\s+z\s+7\s+1\s+7$/m);
  });

  it("check --json reports every function and input, and exits 1 when one fails", () => {
    const { status, stdout } = gradlens("check", fixture("checks.grad.ts"), "--json");
    assert.equal(status, 1);
    const json = JSON.parse(stdout) as { ok: boolean; functions: { name: string; ok: boolean; inputs: { name: string; analytic: number; numeric: number; ok: boolean }[] }[] };
    assert.equal(json.ok, false);
    const product = json.functions.find((f) => f.name === "product")!;
    assert.equal(product.ok, true);
    assert.deepEqual(product.inputs.map((i) => [i.name, i.analytic, i.ok]), [["x", 4, true], ["y", 2, true]]);
    assert.equal(json.functions.find((f) => f.name === "badSquare")!.ok, false);
  });

  it("check exits 0 when every check passes, with a table", () => {
    const { status, stdout } = gradlens("check", fixture("checks.grad.ts"), "--function", "neuron");
    assert.equal(status, 0);
    assert.match(stdout, /neuron\s+w\[0\]/);
    assert.match(stdout, /1 of 1 function passed/);
  });

  it("exits 2 with file:line:col on stderr when the file cannot run", () => {
    const syntax = gradlens("check", fixture("syntax.grad.ts"), "--json");
    assert.equal(syntax.status, 2);
    assert.equal(syntax.stdout, "");
    assert.match(syntax.stderr, /syntax\.grad\.ts:4:18: error: Expected "\)"/);
    const thrown = gradlens("graph", fixture("throws.grad.ts"));
    assert.equal(thrown.status, 2);
    assert.match(thrown.stderr, /throws\.grad\.ts:5:11: error: a layer needs 3 inputs/);
  });

  it("honours --timeout", () => {
    const started = Date.now();
    const { status, stderr } = gradlens("graph", fixture("forever.grad.ts"), "--timeout", "1");
    assert.equal(status, 2);
    assert.match(stderr, /forever\.grad\.ts:6:\d+: timeout: stopped after 1 s/);
    assert.ok(Date.now() - started < 9000);
  });

  it("prints help, and a usage error for bad arguments", () => {
    const help = gradlens("--help");
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: gradlens <command> FILE/);
    const bad = gradlens("graph");
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /graph needs a FILE/);
  });
});

describe("cli: argument parsing", () => {
  it("reads commands, formats and numbers", () => {
    assert.deepEqual(parseArgs(["check", "a.grad.ts", "--json", "--timeout", "2.5", "--seed", "3"]), {
      command: "check",
      file: "a.grad.ts",
      format: "json",
      timeoutSeconds: 2.5,
      seed: 3,
    });
    assert.equal(parseArgs(["graph", "a.ts", "--dot", "--root", "2"]).root, 2);
  });

  it("rejects what it does not understand", () => {
    assert.throws(() => parseArgs(["graph", "a.ts", "--timeout", "soon"]), UsageError);
    assert.throws(() => parseArgs(["graph", "a.ts", "--timeout", "-1"]), UsageError);
    assert.throws(() => parseArgs(["draw", "a.ts"]), UsageError);
    assert.throws(() => parseArgs(["check", "a.ts", "--dot"]), UsageError);
  });
});
