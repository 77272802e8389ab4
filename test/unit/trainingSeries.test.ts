// The training view's pure helpers: a heatmap's colour range and a log axis's labels.
import { strict as assert } from "assert";
import { blockOf, decadeLabelStep, heatRange, rowLabels, sampledGroupValues } from "../../src/webview/training/series";
import type { StepRecord } from "../../src/protocol/training";

describe("training view: colour ranges and axis labels", () => {
  it("a heatmap's range leaves out the extreme 2% at each end, so one outlier cannot set it", () => {
    const values = Array.from({ length: 100 }, (_, i) => 0.01 * (1 + i / 99));
    values[7] = 1e16;
    values[8] = 1e-17;
    const range = heatRange(values)!;
    assert.ok(range.lo >= 0.01 && range.hi <= 0.02, `${range.lo}…${range.hi}`);
    // Without the tails, the outliers would be the ends.
    assert.ok(heatRange([1e-17, 0.01, 1e16])!.lo === 1e-17);
  });

  it("keeps a marked value a decade inside, skips zeros, NaN and Infinity, widens a single value", () => {
    assert.deepEqual(heatRange([0.5, 0.6, 0.7], 1e-3), { lo: 1e-4, hi: 0.7 });
    assert.deepEqual(heatRange([0, NaN, Infinity, -1, 2]), { lo: 0.2, hi: 20 });
    assert.equal(heatRange([0, NaN]), undefined);
  });

  it("labels every decade while they fit, else every 2nd, 5th, 10th", () => {
    assert.equal(decadeLabelStep(3, 120), 1);
    assert.equal(decadeLabelStep(17, 120), 5); // 6 labels fit in 120 px: 1e-17…1 by fives
    assert.equal(decadeLabelStep(12, 120), 2);
    assert.equal(decadeLabelStep(400, 120), 100);
    assert.equal(decadeLabelStep(2000, 120), 334);
  });

  it("names every row when rows are tall enough, else each block of neighbouring rows once", () => {
    assert.equal(blockOf("layers[1].neurons[3].w"), "layers[1]");
    assert.equal(blockOf("layer0.attn_wq"), "layer0");
    assert.equal(blockOf("wte"), "wte");
    assert.equal(blockOf("['wte']"), "['wte']");
    const groups = ["layers[0].neurons[0].w", "layers[0].neurons[0].b", "layers[1].neurons[0].w", "lm_head"];
    assert.deepEqual(rowLabels(groups, 14, 12).map((l) => l.text), groups);
    assert.deepEqual(rowLabels(groups, 4, 12), [
      { text: "layers[0]", first: 0, rows: 2 },
      { text: "layers[1]", first: 2, rows: 1 },
      { text: "lm_head", first: 3, rows: 1 },
    ]);
  });

  it("reads a range from at most 20,000 cells: every k-th step of a long run, every group", () => {
    const groups = Array.from({ length: 60 }, (_, g) => `g${g}`);
    const steps = Array.from({ length: 4000 }, (_, i): StepRecord => ({ step: i + 1, loss: 1, gradNorm: 1, deadReluFraction: null, nonFinite: false, timeMs: i, groups: Object.fromEntries(groups.map((g) => [g, { gradNorm: i, updateRatio: 1e-3 }])) }));
    const values = sampledGroupValues(steps, groups, "gradNorm");
    assert.ok(values.length <= 20_000 && values.length >= 10_000, `${values.length} cells`);
    assert.equal(values[0], 0);
    assert.ok(Math.max(...values) > 3900, "the late steps are read too");
    assert.equal(sampledGroupValues(steps.slice(0, 10), groups, "updateRatio").length, 600, "a short run: every cell");
  });
});
