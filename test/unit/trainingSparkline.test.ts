// The hover's sparkline of a parameter group's gradient over training steps, and which groups a name belongs to.
import * as assert from "node:assert/strict";
import { groupsNamed, sparkline, SPARK_WIDTH } from "../../src/extension/trainingSparkline";

describe("training sparkline", () => {
  it("draws one bar per step on a log scale: a gradient norm falling by decades falls bar by bar", () => {
    assert.equal(sparkline([1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1]), "▁▂▃▄▅▆▇█");
    assert.equal(sparkline([8, 8, 8]), "███");
  });

  it("buckets long runs to its width, keeping each bucket's peak (a spike is not averaged away)", () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i === 537 ? 100 : 1));
    const line = sparkline(values);
    assert.equal([...line].length, SPARK_WIDTH);
    assert.equal([...line].filter((c) => c === "█").length, 1);
    assert.equal([...line].indexOf("█"), Math.floor((537 * SPARK_WIDTH) / 1000));
  });

  it("marks non-finite steps with ! and zero gradients with ·", () => {
    assert.equal(sparkline([1, NaN, 0, 10]), "▁!·█");
    assert.equal(sparkline([]), "");
  });

  it("a name belongs to its own group, or to the groups it is a segment of", () => {
    const groups = ["wte", "layer0.attn_wq", "layers[0].w", "layers[1].w", "layers[1].b"];
    assert.deepEqual(groupsNamed(groups, "wte"), ["wte"]);
    assert.deepEqual(groupsNamed(groups, "w"), ["layers[0].w", "layers[1].w"]);
    assert.deepEqual(groupsNamed(groups, "attn_wq"), ["layer0.attn_wq"]);
    assert.deepEqual(groupsNamed(groups, "loss"), []);
  });
});
