/**
 * Reading the Python tracer's result (tracerResult.ts, readResult.ts): written by a process that
 * ran user code, so it is checked before it is used. Malformed results are named problems, never a
 * throw; a program that forges one gets a reported error, and the caller survives. Big results are
 * decoded on a thread of their own, the caller's event loop turning meanwhile.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { runPython } from "../../src/runner/python";
import { decodeTracerResult } from "../../src/runner/python/tracerResult";
import { INLINE_RESULT_BYTES, prepareResultThread, readTracerResult, resultThreadsStarted } from "../../src/runner/python/readResult";
import { repoRoot } from "./runnerSupport";
import { withHeartbeat } from "./isolationSupport";

const dir = mkdtempSync(path.join(os.tmpdir(), "gradlens-tracer-result-"));

/** Base64 of a typed array's bytes, as python/gradlens_graph.py writes a column. */
const b64 = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");

/** A well-formed result: one graph `c = a * b` with `n` extra leaves summed in (for size). */
function wellFormed(extra = 0): Record<string, unknown> {
  const n = 3 + 2 * extra;
  const childStart = new Uint32Array(n + 1);
  const child: number[] = [];
  const op = new Uint16Array(n);
  // Leaves a, b; then c = a * b; then pairs (leaf, sum) each adding a leaf to the previous sum.
  childStart[0] = 0;
  childStart[1] = 0;
  childStart[2] = 0;
  child.push(0, 1);
  op[2] = 1;
  childStart[3] = child.length;
  for (let k = 0; k < extra; k++) {
    const leaf = 3 + 2 * k;
    childStart[leaf + 1] = child.length;
    child.push(leaf - 1, leaf);
    op[leaf + 1] = 2;
    childStart[leaf + 2] = child.length;
  }
  const data = new Float64Array(n).map((_, i) => i + 0.5);
  return {
    roots: [
      {
        name: "c",
        reason: "backward",
        site: 1,
        graph: {
          nodeCount: n,
          opNames: ["", "*", "+"],
          labels: { 0: "a", 1: "b" },
          root: n - 1,
          // Captured in node order (the reordering test below has another).
          order: b64(new Uint32Array(n).map((_, i) => i)),
          op: b64(op),
          tag: b64(new Uint32Array(n).fill(1)),
          tagSite: b64(new Int32Array([0, 1])),
          childCount: b64(new Uint32Array(n).map((_, i) => childStart[i + 1] - childStart[i])),
          child: b64(new Uint32Array(child)),
          data: b64(data),
          grad: b64(new Float64Array(n).fill(1)),
          localGrad: b64(new Float64Array(child.length).fill(NaN)),
          unknownLocalGrad: [0, 99],
        },
      },
    ],
    bindings: [{ name: "c", range: { file: "/x.py", line: 3, column: 1, endLine: 3, endColumn: 2 }, data: 0.75, grad: "NaN", op: "*", count: 1 }],
    sites: [
      { id: 0, file: "", line: 0, column: 0, endLine: 0, endColumn: 0, text: "(library code)" },
      { id: 1, file: "/x.py", line: 3, column: 5, endLine: 3, endColumn: 10, text: "a * b" },
    ],
    console: [{ stream: "stdout", text: "hi" }],
    durationMs: 4,
  };
}

/** The result with one field replaced (a path of keys, the last one set). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test data, edited freely to break it
function broken(change: (r: any) => void): string {
  const r = wellFormed();
  change(r);
  return JSON.stringify(r);
}

describe("runner: reading the Python tracer's result", function () {
  this.timeout(60_000);

  it("decodes a well-formed result: columns as typed arrays, labels, unknown local gradients in range", () => {
    const reading = decodeTracerResult(JSON.stringify(wellFormed()));
    assert.ok("output" in reading, "problem" in reading ? reading.problem : "");
    const graph = reading.output.roots[0].graph;
    assert.ok(graph.data instanceof Float64Array && graph.child instanceof Uint32Array);
    assert.deepEqual([...graph.data], [0.5, 1.5, 2.5]);
    assert.deepEqual([...graph.child], [0, 1]);
    assert.deepEqual(graph.labels, { 0: "a", 1: "b" });
    assert.deepEqual(graph.unknownLocalGrad, [0], "an edge index out of range is dropped");
  });

  it("puts a graph whose inputs come after their values in topological order, and moves every node id with it", () => {
    // In the tracer's order (by creation records: a value made by copy can hold an older record):
    // 0 a, 1 e = c * a, 2 c = a + b, 3 b, 4 f = e + c (the root).
    const result = wellFormed();
    const i32 = (xs: number[]) => b64(new Int32Array(xs));
    result.roots = [
      {
        name: "f",
        reason: "backward",
        site: 1,
        graph: {
          nodeCount: 5,
          opNames: ["", "+", "*"],
          labels: { 1: "e", 2: "c" },
          root: 4,
          order: b64(new Uint32Array([0, 1, 2, 3, 4])),
          op: b64(new Uint16Array([0, 2, 1, 0, 1])),
          tag: b64(new Uint32Array([0, 1, 1, 0, 1])),
          tagSite: i32([0, 1]),
          childCount: b64(new Uint32Array([0, 2, 2, 0, 2])),
          child: b64(new Uint32Array([2, 0, 0, 3, 1, 2])),
          data: b64(new Float64Array([2, 10, 5, 3, 15])),
          grad: b64(new Float64Array([12, 1, 3, 3, 1])),
          localGrad: b64(new Float64Array([2, 5, 1, 1, 1, 1])),
          unknownLocalGrad: [0],
          frames: { functions: [{ name: "mix", file: "/x.py", line: 1 }], parent: i32([-1]), fn: i32([0]), callSite: i32([1]), node: i32([-1, 0, -1, -1, -1]) },
        },
      },
    ];
    result.bindings = [{ name: "e", range: { file: "/x.py", line: 3, column: 1, endLine: 3, endColumn: 2 }, data: 10, grad: 1, op: "*", count: 1, node: { root: 0, id: 1 } }];
    result.opChecks = [{ op: "*", siteId: 1, ok: true, total: 1, checked: 1, failed: 0, worst: { inputs: [5, 2], output: 10, analytic: [2, 5], numeric: [2, 5], ok: true, node: { root: 0, id: 1 } } }];
    const reading = decodeTracerResult(JSON.stringify(result));
    assert.ok("output" in reading, "problem" in reading ? reading.problem : "");
    const graph = reading.output.roots[0].graph;
    // New ids: a 0, b 1, c 2, e 3, f 4.
    assert.deepEqual([...graph.data], [2, 3, 5, 10, 15]);
    assert.deepEqual([...graph.childStart], [0, 0, 0, 2, 4, 6]);
    assert.deepEqual([...graph.child], [0, 1, 2, 0, 3, 2]);
    assert.deepEqual([...graph.localGrad], [1, 1, 2, 5, 1, 1]);
    assert.deepEqual([...graph.op].map((k) => graph.opNames[k]), ["", "", "+", "*", "+"]);
    assert.deepEqual([...graph.site], [0, 0, 1, 1, 1]);
    assert.deepEqual(graph.labels, { 2: "c", 3: "e" });
    assert.deepEqual(graph.unknownLocalGrad, [2], "e's first edge (to c) is edge 2 now");
    assert.deepEqual([...graph.frames!.node], [-1, -1, -1, 0, -1]);
    assert.deepEqual(reading.output.bindings[0].node, { root: 0, id: 3 });
    assert.deepEqual(reading.output.opChecks![0].worst!.node, { root: 0, id: 3 });
  });

  const malformed: [string, string, RegExp][] = [
    ["not JSON", '{"roots": [', /not JSON/],
    ["not an object", "[1, 2]", /not an object/],
    ["roots not a list", broken((r) => (r.roots = { 0: 1 })), /roots is not a list/],
    ["a root without a name", broken((r) => delete r.roots[0].name), /roots\[0\] is malformed/],
    ["a column of the wrong length", broken((r) => (r.roots[0].graph.data = b64(new Float64Array(2)))), /data column has 2 entries, not 3/],
    ["a column that is not base64 text", broken((r) => (r.roots[0].graph.op = 7)), /no op column/],
    ["a value among its own inputs", broken((r) => (r.roots[0].graph.child = b64(new Uint32Array([0, 2])))), /roots\[0\]\.graph: the graph has a cycle/],
    ["an input that is not in the graph", broken((r) => (r.roots[0].graph.child = b64(new Uint32Array([0, 3])))), /input that is not in the graph/],
    ["a node order that repeats a value", broken((r) => (r.roots[0].graph.order = b64(new Uint32Array([0, 0, 2])))), /node order is not one of its nodes each/],
    ["more inputs than edges", broken((r) => (r.roots[0].graph.childCount = b64(new Uint32Array([0, 0, 3])))), /child column has 2 entries, not 3/],
    ["a tag with no site", broken((r) => (r.roots[0].graph.tag = b64(new Uint32Array([0, 1, 2])))), /node 2 has no site/],
    ["an op index out of range", broken((r) => (r.roots[0].graph.op = b64(new Uint16Array([0, 0, 9])))), /node 2 is malformed/],
    ["a binding whose number is text", broken((r) => (r.bindings[0].data = "lots")), /bindings\[0\] is malformed/],
    ["a site without a line", broken((r) => delete r.sites[1].line), /sites\[1\] is malformed/],
    ["a console line of another stream", broken((r) => (r.console[0].stream = "stdin")), /console\[0\] is malformed/],
    ["an error of an unknown kind", broken((r) => (r.error = { kind: "format-disk", message: "x" })), /error is malformed/],
    ["a training summary without steps", broken((r) => (r.training = { groups: [] })), /training is malformed/],
    ["a negative CPU time", broken((r) => (r.cpuMs = -5)), /cpuMs is not a number/],
  ];
  for (const [what, text, problem] of malformed) {
    it(`names the problem, without throwing: ${what}`, () => {
      const reading = decodeTracerResult(text);
      assert.ok("problem" in reading, `accepted: ${what}`);
      assert.match(reading.problem, problem);
    });
  }

  /** The result as the tracer writes its file (gradlens_run.write_result: a JSON line, then the raw column block). */
  function writtenByTracer(result: Record<string, unknown>, file: string): Buffer {
    const types: Record<string, string> = { order: "I", op: "H", tag: "I", tagSite: "i", childCount: "I", child: "I", data: "d", grad: "d", localGrad: "d" };
    const code = [
      "import base64, json, sys",
      "from array import array",
      `sys.path.insert(0, ${JSON.stringify(path.join(repoRoot, "python"))})`,
      "from gradlens_run import write_result",
      "result, types = json.load(sys.stdin)",
      "for root in result['roots']:",
      "    g = root['graph']",
      "    for key, typecode in types.items():",
      "        g[key] = array(typecode, base64.b64decode(g[key]))",
      "write_result(sys.argv[1], result)",
    ].join("\n");
    const run = spawnSync("python3", ["-c", code, file], { input: JSON.stringify([result, types]), encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    return readFileSync(file);
  }

  it("reads the columns from the raw block after the JSON line, as the tracer writes them, and checks every place", () => {
    const file = path.join(dir, "columns");
    const bytes = writtenByTracer(wellFormed(3), file);
    const newline = bytes.indexOf(0x0a);
    const header = JSON.parse(bytes.toString("utf8", 0, newline));
    const place = header.roots[0].graph.data;
    assert.ok(Number.isInteger(place.at) && place.at % 8 === 0 && place.bytes === 9 * 8, `columns are 8-aligned places in the block: ${JSON.stringify(place)}`);
    assert.ok(newline < 2000, "the JSON holds no column text");
    const reading = decodeTracerResult(bytes);
    assert.ok("output" in reading, "problem" in reading ? reading.problem : "");
    const graph = reading.output.roots[0].graph;
    assert.deepEqual([...graph.data], [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5]);
    assert.deepEqual([...graph.child], [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.ok(graph.localGrad.every(Number.isNaN));
    assert.notEqual(graph.data.buffer, graph.grad.buffer, "each column owns its memory (not a view of the whole file)");
    // Every place is checked against the block.
    const withPlace = (key: string, place: unknown): Buffer => {
      const changed = structuredClone(header);
      changed.roots[0].graph[key] = place;
      const json = Buffer.from(JSON.stringify(changed) + "\n");
      const padding = Buffer.alloc((8 - (json.length % 8)) % 8);
      return Buffer.concat([json, padding, bytes.subarray(Math.ceil((newline + 1) / 8) * 8)]);
    };
    const blockSize = bytes.length - Math.ceil((newline + 1) / 8) * 8;
    for (const [what, key, place, problem] of [
      ["past the block's end", "data", { at: blockSize - 8, bytes: 72 }, /no data column/],
      ["not 8-aligned", "grad", { at: 4, bytes: 72 }, /no grad column/],
      ["negative", "op", { at: -8, bytes: 18 }, /no op column/],
      ["of the wrong length", "data", { at: 0, bytes: 16 }, /data column has 2 entries, not 9/],
      ["not a place", "child", { at: "0", bytes: 64 }, /no child column/],
    ] as const) {
      const read = decodeTracerResult(withPlace(key, place));
      assert.ok("problem" in read, `accepted a place ${what}`);
      assert.match(read.problem, problem, what);
    }
    // A file cut short: its columns are not there.
    const cut = decodeTracerResult(bytes.subarray(0, newline + 1));
    assert.ok("problem" in cut && /column/.test(cut.problem), "a file without its block is a problem");
  });

  /** Builds the reading thread's script from source and has readTracerResult use it; returns its path. */
  function useBuiltResultThread(): string {
    const script = path.join(repoRoot, "out", "test-runner", "pythonResultThread.js");
    buildSync({ entryPoints: [path.join(repoRoot, "src", "runner", "python", "resultThread.ts")], outfile: script, bundle: true, platform: "node", format: "cjs", target: "es2022", logLevel: "error" });
    process.env.GRADLENS_PYTHON_RESULT_THREAD = script;
    return script;
  }

  it("reads a big result on a thread of its own, the caller's event loop turning", async () => {
    useBuiltResultThread();
    const file = path.join(dir, "big.json");
    writeFileSync(file, JSON.stringify(wellFormed(200_000)));
    const { value: reading, longestGapMs } = await withHeartbeat(() => readTracerResult(file));
    assert.ok(reading && "output" in reading, reading && "problem" in reading ? reading.problem : "no result");
    assert.equal(reading.thread, true);
    assert.equal(reading.output.roots[0].graph.nodeCount, 400_003);
    assert.equal(reading.output.roots[0].graph.data[400_002], 400_002.5);
    assert.ok(longestGapMs < 100, `the caller's event loop stalled for ${longestGapMs.toFixed(0)} ms`);
    // A small one is read here.
    const small = path.join(dir, "small.json");
    writeFileSync(small, JSON.stringify(wellFormed()));
    assert.equal((await readTracerResult(small))?.thread, false);
    assert.ok(JSON.stringify(wellFormed()).length < INLINE_RESULT_BYTES);
    // A malformed big one is a problem from the thread too.
    writeFileSync(file, `${JSON.stringify(wellFormed(200_000)).slice(0, -10)}`);
    const bad = await readTracerResult(file);
    assert.ok(bad && "problem" in bad && bad.thread, "a malformed big result is reported");
  });

  it("keeps one reading thread for many results, started ahead (while Python runs), never holding the process open", async () => {
    const script = useBuiltResultThread();
    const file = path.join(dir, "again.json");
    writeFileSync(file, JSON.stringify(wellFormed(50_000)));
    prepareResultThread();
    const before = resultThreadsStarted();
    for (let i = 0; i < 3; i++) {
      const reading = await readTracerResult(file);
      assert.ok(reading && "output" in reading && reading.thread, `read ${i} on the thread`);
      assert.equal(reading.output.roots[0].graph.data[100_002], 100_002.5);
    }
    assert.equal(resultThreadsStarted(), before, "the thread started ahead read all three");
    // A process (the CLI) that read a big result on the thread ends by itself, at once.
    const entry = path.join(dir, "reader.ts");
    writeFileSync(entry, `import { readTracerResult } from ${JSON.stringify(path.join(repoRoot, "src", "runner", "python", "readResult"))};\nvoid readTracerResult(process.argv[2]).then((r) => console.log(r && "output" in r ? "thread " + r.thread : "problem"));\n`);
    const reader = path.join(dir, "reader.js");
    buildSync({ entryPoints: [entry], outfile: reader, bundle: true, platform: "node", format: "cjs", target: "es2022", logLevel: "error" });
    const started = performance.now();
    const run = spawnSync(process.execPath, [reader, file], { encoding: "utf8", timeout: 20_000, env: { ...process.env, GRADLENS_PYTHON_RESULT_THREAD: script } });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), "thread true");
    assert.ok(performance.now() - started < 10_000, "the reading thread kept the process alive");
  });

  it("reports a forged result (written by the 'interpreter' instead of the tracer) as an error, not a crash", async () => {
    // A stand-in interpreter: it ignores the tracer and writes its own result file.
    const fake = path.join(dir, "fake-python");
    writeFileSync(
      fake,
      `#!/usr/bin/env python3\nimport json, sys\nrequest = json.load(open(sys.argv[-1]))\nopen(request["resultPath"], "w").write(json.dumps({"roots": [{"name": "x", "reason": "backward", "site": 0, "graph": {"nodeCount": 2, "root": 1, "opNames": [""], "order": "", "op": "AAAA", "tag": "", "tagSite": "", "childCount": "", "child": "", "data": "", "grad": "", "localGrad": ""}}], "bindings": [], "sites": [], "console": []}))\nprint("forged")\n`,
    );
    chmodSync(fake, 0o755);
    const program = path.join(dir, "prog.py");
    writeFileSync(program, "print('hi')\n");
    const result = await runPython({ file: program }, { pythonPath: fake });
    assert.equal(result.ok, false);
    assert.equal(result.error?.kind, "internal");
    assert.match(result.error!.message, /could not read the Python tracer's result: roots\[0\]\.graph: the tracer's order column/);
    assert.deepEqual(result.roots, []);
    assert.ok(result.console.some((c) => c.text === "forged"), "what the process printed is kept");
  });
});
