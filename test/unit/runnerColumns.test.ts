/**
 * A graph's big columns cross the child's channel in pieces (process/columnTransfer.ts): the caller
 * gets the very numbers a plain run computes, its event loop turning meanwhile, and a malformed or
 * oversized piece is refused, never trusted, never a throw.
 */
import * as assert from "node:assert/strict";
import { runFile } from "../../src/runner";
import { Value, snapshotGraph } from "../../src/engine";
import { ColumnAssembly, PIECE_BYTES, splitColumns } from "../../src/runner/process/columnTransfer";
import { useBuiltWorker } from "./runnerSupport";
import { program, withHeartbeat } from "./isolationSupport";

const TERMS = 60_000;

describe("runner: big columns in pieces", function () {
  this.timeout(120_000);
  before(useBuiltWorker);

  it("splits big typed arrays into pieces and puts them back exactly; small ones and other fields stay", () => {
    const big = new Float64Array(3 * (PIECE_BYTES / 8) + 5).map((_, i) => i * 0.5);
    const small = new Uint32Array([1, 2, 3]);
    const message = { type: "result", output: { roots: [{ graph: { data: big, child: small, opNames: ["", "+"] } }], bindings: [{ id: 1 }] } };
    let ids = 0;
    const { message: sent, pieces } = splitColumns(message, () => ids++);
    assert.equal(pieces.length, 4);
    assert.deepEqual(sent.output.roots[0].graph.data, { gradlensColumn: 0 });
    assert.equal(sent.output.roots[0].graph.child, small);
    const assembly = new ColumnAssembly();
    assert.equal(sent.output.roots[0].graph.data instanceof Float64Array, false);
    assert.equal(assembly.resolve(sent), undefined, "incomplete until every piece arrived");
    for (const piece of pieces.reverse()) assert.ok(assembly.add(structuredClone(piece)));
    const back = assembly.resolve(sent);
    assert.ok(back);
    assert.deepEqual(back.output.roots[0].graph.data, big);
    assert.deepEqual(back.output.bindings, [{ id: 1 }]);
  });

  it("refuses malformed pieces: unknown kind, wrong data type, out of range, a forged huge length", () => {
    const assembly = new ColumnAssembly();
    const data = new Float64Array(4);
    assert.equal(assembly.add(null), false);
    assert.equal(assembly.add({ id: 1, kind: "BigInt64Array", length: 4, offset: 0, data }), false);
    assert.equal(assembly.add({ id: 1, kind: "Uint32Array", length: 4, offset: 0, data }), false);
    assert.equal(assembly.add({ id: 1, kind: "Float64Array", length: 4, offset: 2, data }), false);
    assert.equal(assembly.add({ id: 1, kind: "Float64Array", length: 2 ** 40, offset: 0, data }), false);
    assert.equal(assembly.add({ id: 1, kind: "Float64Array", length: 4, offset: 0, data }), true);
    assert.equal(assembly.add({ id: 1, kind: "Float64Array", length: 8, offset: 0, data }), false, "a piece that disagrees with its column");
  });

  it("a graph of 180k nodes from the child equals the plain engine's, column by column, the caller turning", async () => {
    const code = `let total = new Value(0.25);\nfor (let i = 0; i < ${TERMS}; i++) total = total.add(new Value(i * 1e-3).mul(0.5));\ntotal.backward();\n`;
    const file = program("columns.grad.ts", `import { Value } from "gradlens";\n${code}`);
    const { value: result, longestGapMs } = await withHeartbeat(() => runFile(file));
    assert.ok(result.ok, result.error?.message);
    let total = new Value(0.25);
    for (let i = 0; i < TERMS; i++) total = total.add(new Value(i * 1e-3).mul(0.5));
    total.backward();
    const expected = snapshotGraph(total);
    const got = result.roots[0].graph;
    assert.equal(got.nodeCount, expected.nodeCount);
    assert.ok(got.data.byteLength > PIECE_BYTES, "the columns were big enough to travel in pieces");
    for (const column of ["op", "data", "grad", "childStart", "child", "localGrad"] as const) assert.deepEqual(got[column], expected[column], column);
    assert.ok(longestGapMs < 500, `the caller's event loop stalled for ${longestGapMs.toFixed(0)} ms`);
  });
});
