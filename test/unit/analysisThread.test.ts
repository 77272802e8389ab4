/**
 * CodeLens sites found off the extension host's thread: the analysis thread gives the lenses the
 * host's own analysis would, for TypeScript, Python and Markdown, while the caller's event loop
 * keeps turning over a 6,000-line program; what it answers is checked before it is used.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { analysisThreadsStarted, lensSitesOffThread } from "../../src/extension/analysis";
import { lensSitesOf } from "../../src/analysis/lensSites";
import { isLensSites, lensLanguageOf } from "../../src/protocol/lensSites";
import { withHeartbeat } from "./heartbeat";
import { longProgram } from "./longProgram";

const repoRoot = path.resolve(__dirname, "..", "..");

const functions = `
export function neuron(x: Value, w: Value, b: Value): Value {
  return x.mul(w).add(b).tanh();
}

export function buildLoss(): Value {
  return new Value(2).mul(new Value(3));
}
`;

const python = `from micrograd.engine import Value

def neuron(x: Value, w: Value, b: Value):
    return (x * w + b).tanh()
`;

const markdown = `# A chapter

\`\`\`python
from micrograd.engine import Value
\`\`\`

Some words.

\`\`\`python
def square(x: Value):
    return x * x
\`\`\`
`;

describe("CodeLens sites off the caller's thread", function () {
  this.timeout(120_000);

  before(() => {
    const script = path.join(repoRoot, "out", "test-analysis", "analysisThread.js");
    buildSync({ entryPoints: [path.join(repoRoot, "src", "analysis", "thread.ts")], outfile: script, bundle: true, platform: "node", format: "cjs", target: "es2022", logLevel: "error" });
    process.env.GRADLENS_ANALYSIS_THREAD = script;
  });
  after(() => {
    delete process.env.GRADLENS_ANALYSIS_THREAD;
  });

  it("finds the lenses the caller's own analysis finds, in TypeScript, Python and Markdown, on one kept thread", async () => {
    const text = longProgram(6_000) + functions;
    const here = lensSitesOf(text, "/w/long.grad.ts", "typescript");
    assert.deepEqual(here.functions.map((f) => f.name), ["neuron"]);
    assert.deepEqual(here.models.map((f) => f.name), ["buildLoss"]);
    assert.equal(here.functions[0].line, text.split("\n").findIndex((l) => l.includes("function neuron")) + 1);
    const started = analysisThreadsStarted();
    const off = await lensSitesOffThread(text, "/w/long.grad.ts", "typescript"); // pays the thread's start and its cold parser
    assert.equal(off.onThread, true);
    assert.deepEqual(off.sites, here);

    const { value: again, longestGapMs } = await withHeartbeat(() => lensSitesOffThread(text, "/w/long.grad.ts", "typescript"));
    assert.deepEqual(again.sites, here);
    assert.ok(longestGapMs < 100, `the caller's event loop stalled for ${longestGapMs.toFixed(0)} ms`);

    const py = await lensSitesOffThread(python, "/w/neuron.py", lensLanguageOf("python"));
    assert.deepEqual(py, { sites: { functions: [{ name: "neuron", line: 3 }], models: [] }, onThread: true });
    const md = await lensSitesOffThread(markdown, "/w/chapter.md", lensLanguageOf("markdown"));
    assert.deepEqual(md.sites, { functions: [{ name: "square", line: 10, blockLine: 10 }], models: [] });
    assert.deepEqual(md.sites, lensSitesOf(markdown, "/w/chapter.md", "markdown"));
    assert.equal(analysisThreadsStarted(), started + 1, "one thread served every request");
  });

  it("gives a file that does not parse no lenses, and refuses a malformed answer", async () => {
    const broken = await lensSitesOffThread("export function f(x: Value): Value {\n  return x.mul(;\n}\n", "/w/broken.grad.ts", "typescript");
    assert.deepEqual(broken.sites, { functions: [], models: [] });
    assert.equal(isLensSites({ functions: [{ name: "f", line: 1 }], models: [] }), true);
    assert.equal(isLensSites({ functions: [{ name: "f", line: 0 }], models: [] }), false);
    assert.equal(isLensSites({ functions: [{ name: 3, line: 1 }], models: [] }), false);
    assert.equal(isLensSites({ functions: [], models: {} }), false);
    assert.equal(isLensSites([]), false);
    assert.equal(isLensSites({ threadError: "boom" }), false);
  });
});
