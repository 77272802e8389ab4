// The TypeScript parts of the Python runner on their own: finding the interpreter, dedenting a
// selection, listing Markdown code blocks, reading a faulthandler dump, launcher scripts.
import { strict as assert } from "assert";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolvePythonPath } from "../../src/runner/python/interpreter";
import { codeBlocksOf, pythonBlocksOf } from "../../src/runner/python/markdownBlocks";
import { buildRequest, decodePythonSource, snippetChunk } from "../../src/runner/python/request";
import { lineFromDump, toSnapshot } from "../../src/runner/python/result";
import { interpreterToStart, rememberBinary } from "../../src/runner/python/launcherCache";
import { tracerScriptPath } from "../../src/runner/python/tracerScript";

describe("Python runner parts", () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(path.join(os.tmpdir(), "gradlens-python-parts-"));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  const executable = (name: string, text = "#!/bin/sh\n") => {
    const file = path.join(directory, name);
    writeFileSync(file, text);
    chmodSync(file, 0o755);
    return file;
  };

  describe("resolvePythonPath", () => {
    it("prefers the setting, then the Python extension's interpreter, then PATH", async () => {
      const configured = executable("configured-python");
      const selected = executable("selected-python");
      assert.deepEqual(await resolvePythonPath(configured, selected), { path: configured, source: "setting" });
      assert.deepEqual(await resolvePythonPath("  ", selected), { path: selected, source: "python-extension" });
      const fromPath = await resolvePythonPath(undefined, path.join(directory, "gone"));
      assert.equal(fromPath?.source, "PATH");
      assert.match(path.basename(fromPath?.path ?? ""), /^python3?$/);
    });

    it("does not fall back silently when the setting points nowhere, and skips non-executables", async () => {
      assert.equal(await resolvePythonPath(path.join(directory, "missing")), undefined);
      const plain = path.join(directory, "not-executable");
      writeFileSync(plain, "");
      chmodSync(plain, 0o644);
      assert.equal(await resolvePythonPath(plain), undefined);
      assert.equal(await resolvePythonPath(directory), undefined, "a directory is not an interpreter");
    });

    it("looks a bare command name up on PATH", async () => {
      executable("my-python");
      const saved = process.env.PATH;
      process.env.PATH = `${directory}${path.delimiter}${saved}`;
      try {
        assert.deepEqual(await resolvePythonPath("my-python"), { path: path.join(directory, "my-python"), source: "setting" });
      } finally {
        process.env.PATH = saved;
      }
    });
  });

  describe("snippetChunk", () => {
    it("dedents an indented selection and shifts columns back", () => {
      const chunk = snippetChunk("    a = 1\n      b = 2\n\n    c = 3", "/w/f.py", 10, 1);
      assert.equal(chunk.code, "a = 1\n  b = 2\n\nc = 3");
      assert.deepEqual([chunk.line, chunk.firstLineShift, chunk.shift], [10, 4, 4]);
      assert.equal(chunk.compileName, "<f.py, line 10>");
    });

    it("dedents code below a column-0 comment (the comment's indentation does not count, as in Python)", () => {
      const chunk = snippetChunk("# value.py:10-12\n    def add(a, b):\n        return a + b", "/w/f.md", 5, 1);
      assert.equal(chunk.code, "# value.py:10-12\ndef add(a, b):\n    return a + b");
      assert.deepEqual([chunk.firstLineShift, chunk.shift], [4, 4]);
    });

    it("counts a selection starting mid-line as indented by its column", () => {
      const chunk = snippetChunk("a = 1\n    b = 2", "/w/f.py", 3, 5);
      assert.equal(chunk.code, "a = 1\nb = 2");
      assert.deepEqual([chunk.firstLineShift, chunk.shift], [4, 4]);
      const expression = snippetChunk("x * y", "/w/f.py", 3, 9);
      assert.deepEqual([expression.code, expression.firstLineShift, expression.shift], ["x * y", 8, 8]);
    });
  });

  describe("Markdown code blocks", () => {
    const markdown = ["# T", "```python", "a = 1", "```", "", "~~~py", "b = 2", "c = 3", "~~~", "```ts", "let x = 1", "```", "```python", "```", "```python", "d = 4"].join("\n");

    it("lists every fenced block once, in order, with the line of its first code line", () => {
      assert.deepEqual(
        codeBlocksOf(markdown).map((b) => [b.language, b.startLine, b.code]),
        [["python", 3, "a = 1"], ["py", 7, "b = 2\nc = 3"], ["ts", 11, "let x = 1"], ["python", 14, ""], ["python", 16, "d = 4"]],
      );
      assert.deepEqual(pythonBlocksOf(markdown).map((b) => b.startLine), [3, 7, 14, 16]);
    });

    it("finds fenced blocks inside list items, their code as written", () => {
      const listed = ["1. First:", "", "   ```python", "   a = 1", "   b = a", "   ```", "2. Then", "    ~~~py", "    c = 2", "    ~~~"].join("\n");
      assert.deepEqual(
        codeBlocksOf(listed).map((b) => [b.language, b.startLine, b.endLine, b.code]),
        [["python", 4, 6, "   a = 1\n   b = a"], ["py", 9, 10, "    c = 2"]],
      );
    });

    it("reads a long document in one pass (the block list is primary)", () => {
      const long = Array.from({ length: 4000 }, (_, i) => `para ${i}\n\n\`\`\`python\nx${i} = ${i}\n\`\`\``).join("\n\n");
      const started = performance.now();
      assert.equal(pythonBlocksOf(long).length, 4000);
      assert.ok(performance.now() - started < 2000, "linear in the document's length");
    });

    it("hands the tracer the Python blocks before the selected one, from the editor's text", async () => {
      const file = path.join(directory, "notes.md");
      const request = await buildRequest(
        { file, code: "d = 4", origin: { file, line: 16, column: 1 }, document: markdown },
        { timeLimitMs: 1000, heapLimitMb: 100 },
        { resultPath: "r", dumpPath: "d", checkpointPath: "c" },
      );
      assert.equal(request.markdown, true);
      assert.deepEqual(request.context.map((c) => [c.line, c.code]), [[3, "a = 1"], [7, "b = 2\nc = 3"], [14, ""]]);
      assert.equal(request.main.line, 16);
    });

    it("runs a whole .py file under its real path", async () => {
      const file = path.join(directory, "train.py");
      writeFileSync(file, "\uFEFFx = 1\n");
      const request = await buildRequest({ file }, { timeLimitMs: 1000, heapLimitMb: 100 }, { resultPath: "r", dumpPath: "d", checkpointPath: "c" });
      assert.deepEqual([request.main.compileName, request.main.code, request.markdown, request.context.length], [file, "x = 1\n", false, 0]);
    });
  });

  it("decodes a .py file in the encoding its first two lines declare (PEP 263), else UTF-8", () => {
    assert.equal(decodePythonSource(Buffer.from("# -*- coding: latin-1 -*-\ns = 'caf\xe9'\n", "latin1")), "# -*- coding: latin-1 -*-\ns = 'café'\n");
    assert.equal(decodePythonSource(Buffer.from("#!/usr/bin/env python\n# vim: set fileencoding=iso-8859-1 :\nx = '\xe9'\n", "latin1")), "#!/usr/bin/env python\n# vim: set fileencoding=iso-8859-1 :\nx = 'é'\n");
    assert.equal(decodePythonSource(Buffer.from("x = 1\n# coding: latin-1\ns = 'é'\n", "utf8")), "x = 1\n# coding: latin-1\ns = 'é'\n", "a declaration after code is a comment");
    assert.equal(decodePythonSource(Buffer.from("# coding: no-such-codec\ns = 'é'\n", "utf8")), "# coding: no-such-codec\ns = 'é'\n");
  });

  it("validates the tracer's packed graph columns when reading them", () => {
    const b64 = (array: { buffer: ArrayBufferLike }) => Buffer.from(array.buffer as ArrayBuffer).toString("base64");
    // y = exp(x), as the tracer captures it: the root first (capture positions y 0, x 1); node ids by `order`.
    const graph = {
      nodeCount: 2, opNames: ["", "exp"], labels: { "1": "y" }, root: 1, order: b64(new Uint32Array([1, 0])),
      op: b64(new Uint16Array([1, 0])), tag: b64(new Uint32Array([1, 0])), tagSite: b64(new Int32Array([0, 3])), childCount: b64(new Uint32Array([1, 0])), child: b64(new Uint32Array([1])),
      data: b64(new Float64Array([Math.E, 1])), grad: b64(new Float64Array([1, Math.E])), localGrad: b64(new Float64Array([NaN])),
    };
    const snapshot = toSnapshot(graph);
    assert.deepEqual(
      [Array.from(snapshot.data), Array.from(snapshot.grad), Array.from(snapshot.site), Array.from(snapshot.childStart), Array.from(snapshot.child), snapshot.labels, snapshot.opNames[snapshot.op[1]], Number.isNaN(snapshot.localGrad[0])],
      [[1, Math.E], [Math.E, 1], [0, 3], [0, 0, 1], [0], { 1: "y" }, "exp", true],
    );
    assert.throws(() => toSnapshot({ ...graph, data: b64(new Float64Array([1])) }), /data column has 1 entries, not 2/);
    assert.throws(() => toSnapshot({ ...graph, child: b64(new Uint32Array([0])) }), /cycle: a value is among its own inputs/);
    assert.throws(() => toSnapshot({ ...graph, child: b64(new Uint32Array([2])) }), /node 1 has an input that is not in the graph/);
    assert.throws(() => toSnapshot({ ...graph, tag: b64(new Uint32Array([2, 0])) }), /node 1 has no site/);
    assert.throws(() => toSnapshot({ ...graph, order: b64(new Uint32Array([0, 0])) }), /node order is not one of its nodes each/);
    assert.throws(() => toSnapshot({ ...graph, root: 0 }), /no nodes/);
    // Ops by tag (a class that names none): the method's op for a node with inputs, "op" for none, "" for a leaf.
    const byTag = { ...graph, op: undefined };
    const named = toSnapshot({ ...byTag, opNames: ["", "exp"], tagOp: b64(new Uint32Array([0, 1])) });
    assert.deepEqual([...named.op].map((i) => named.opNames[i]), ["", "exp"]);
    const unnamed = toSnapshot({ ...byTag, opNames: ["", "exp"], tagOp: b64(new Uint32Array([0, 0])) });
    assert.deepEqual([...unnamed.op].map((i) => unnamed.opNames[i]), ["", "op"]);
    assert.throws(() => toSnapshot({ ...byTag, opNames: [""], tagOp: b64(new Uint32Array([0, 1])) }), /node 1 has no op/);
  });

  it("reads the innermost user frame from a faulthandler dump", async () => {
    const file = path.join(directory, "notes.md");
    const request = await buildRequest({ file, code: "x = 1\nwhile True: pass", origin: { file, line: 40, column: 1 }, document: "" }, { timeLimitMs: 1, heapLimitMb: 1 }, { resultPath: "r", dumpPath: "d", checkpointPath: "c" });
    const dump = ['Current thread 0x00007f (most recent call first):', '  File "/usr/lib/python3.11/x.py", line 7 in helper', `  File "${request.main.compileName}", line 2 in <module>`, '  File "/gradlens/python/gradlens_run.py", line 250 in execute'].join("\n");
    assert.deepEqual(lineFromDump(dump, request), { file, line: 41, column: 1 });
    assert.equal(lineFromDump("Current thread (most recent call first):\n", request), undefined);
  });

  it("starts the binary behind a launcher script directly, but never replaces a real binary", async () => {
    const shim = executable("shim-python", "#!/bin/sh\nexec python3 \"$@\"\n");
    assert.equal(interpreterToStart(shim, "/project"), shim);
    await rememberBinary(shim, "/project", "/opt/python/bin/python3.11");
    assert.equal(interpreterToStart(shim, "/project"), "/opt/python/bin/python3.11");
    assert.equal(interpreterToStart(shim, "/elsewhere"), shim, "another directory may select another version");
    const binary = executable("real-python", "\u007fELF....");
    await rememberBinary(binary, "/project", "/somewhere/else");
    assert.equal(interpreterToStart(binary, "/project"), binary);
  });

  it("finds the tracer script from the source tree", () => {
    const found = tracerScriptPath();
    assert.ok(found?.endsWith(path.join("python", "gradlens_trace.py")));
    assert.equal(tracerScriptPath(path.parse(directory).root), undefined);
  });
});
