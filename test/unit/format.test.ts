import { strict as assert } from "assert";
import { Value, snapshotGraph } from "../../src/engine";
import { formatNumber } from "../../src/format/number";
import { escapeRecord, graphToDot } from "../../src/format/dot";
import { formatNumber as editorNumber } from "../../src/extension/format";
import { formatNumber as graphViewNumber } from "../../src/webview/format";
import { formatNumber as cliNumber } from "../../src/cli/graphOutput";

describe("format: one number formatter with named styles", () => {
  const cases: [number, string, string, string][] = [
    // x, short, drawDot, table
    [7, "7", "7.0000", "7"],
    [0, "0", "0.0000", "0"],
    [0.49999999, "0.5", "0.5000", "0.5"],
    [1 / 3, "0.3333", "0.3333", "0.333333"],
    [-2.5, "-2.5", "-2.5000", "-2.5"],
    [3.2e-10, "3.2e-10", "3.200e-10", "3.2000e-10"],
    [123456, "1.235e5", "1.235e+5", "123456"],
    [12345, "1.235e4", "12345.0000", "12345"],
    [1234.5, "1235", "1234.5000", "1234.5"],
    [2.5e7, "2.5e7", "2.500e+7", "2.5000e+7"],
    [NaN, "NaN", "NaN", "NaN"],
    [Infinity, "Infinity", "Infinity", "Infinity"],
    [-Infinity, "-Infinity", "-Infinity", "-Infinity"],
  ];
  for (const [x, short, drawDot, table] of cases) {
    it(`writes ${x} as ${short} / ${drawDot} / ${table}`, () => {
      assert.equal(formatNumber(x), short);
      assert.equal(formatNumber(x, "short"), short);
      assert.equal(formatNumber(x, "drawDot"), drawDot);
      assert.equal(formatNumber(x, "table"), table);
    });
  }

  it("is what the editor, the graph view and the CLI use", () => {
    for (const [x] of cases) {
      assert.equal(editorNumber(x), formatNumber(x, "short"));
      assert.equal(graphViewNumber(x), formatNumber(x, "drawDot"));
      assert.equal(cliNumber(x), formatNumber(x, "table"));
    }
  });
});

describe("format: one DOT writer", () => {
  it("writes micrograd's draw_dot records, op nodes and local gradients on the edges", () => {
    const x = new Value(2).named("x");
    const y = new Value(3).named("y");
    const z = x.mul(y).add(1).named("z");
    z.backward();
    const dot = graphToDot(snapshotGraph(z), 'the "z" graph');
    assert.ok(dot.startsWith('digraph "the \\"z\\" graph" {\n'));
    assert.ok(dot.includes('n0 [shape=record, label="{ x | data 2.0000 | grad 3.0000 }"];'));
    assert.ok(dot.includes('o2 [shape=ellipse, label="*"];'));
    assert.ok(dot.includes('n0 -> o2 [label="3.0000"];')); // d(x·y)/dx = y
    assert.ok(dot.includes('n1 -> o2 [label="2.0000"];'));
    assert.ok(dot.includes('n4 [shape=record, label="{ z | data 7.0000 | grad 1.0000 }"];'));
    assert.equal(dot.split("->").length - 1, 6); // 2 + 2 input edges, 2 op → value edges
    assert.ok(dot.endsWith("}\n"));
  });

  it("takes the names to show from the caller, and escapes record syntax", () => {
    const a = new Value(1);
    const b = a.exp();
    const dot = graphToDot(snapshotGraph(b), "g", (i) => (i === 1 ? "b{1}|<x>" : ""));
    assert.ok(dot.includes('n1 [shape=record, label="{ b\\{1\\}\\|\\<x\\> | data 2.7183 | grad 0.0000 }"];'));
    assert.ok(dot.includes('n0 [shape=record, label="{  | data 1.0000 | grad 0.0000 }"];'));
    assert.equal(escapeRecord('a{b}|<c>"d\ne'), 'a\\{b\\}\\|\\<c\\>\\"d\\ne');
  });
});
