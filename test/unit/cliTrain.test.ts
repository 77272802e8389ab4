// `gradlens train` (the built CLI, spawned): the per-step table, the exact --json document, --steps,
// --timeout, and usage errors, for .grad.ts and .py.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { buildCli, spawnCli, repoRoot } from "./runnerSupport";
import { parseTrainArgs, tableRow } from "../../src/cli/train";
import { resolvePythonPath } from "../../src/runner/python";

const fixture = (name: string) => path.join(repoRoot, "test", "fixtures", "training", name);

describe("cli: gradlens train", function () {
  this.timeout(120_000);
  let cli = "";
  before(() => {
    cli = buildCli();
  });
  const gradlens = (...args: string[]) => spawnCli(cli, args);

  it("--json prints exactly { steps: [ { step, loss, gradNorm, groups, deadReluFraction, nonFinite } ] }", () => {
    const { status, stdout, stderr } = gradlens("train", fixture("mlp.grad.ts"), "--json");
    assert.equal(status, 0, stderr);
    const json = JSON.parse(stdout) as { steps: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(json), ["steps"]);
    assert.equal(json.steps.length, 8);
    for (const [i, s] of json.steps.entries()) {
      assert.deepEqual(Object.keys(s), ["step", "loss", "gradNorm", "groups", "deadReluFraction", "nonFinite"]);
      assert.equal(s.step, i + 1);
      for (const g of Object.values(s.groups as Record<string, Record<string, unknown>>)) assert.deepEqual(Object.keys(g), ["gradNorm", "updateRatio"]);
    }
    // The program's own printout (on stderr, as for every command) has the same numbers.
    const own = stderr.split("\n").filter((l) => l.startsWith("check ")).map((l) => l.split(" ").map(Number));
    assert.deepEqual(json.steps.map((s) => s.loss), own.map((o) => o[2]));
  });

  it("prints a table row per step: step, loss, grad norm, the worst group's update ratio", () => {
    const { status, stdout } = gradlens("train", fixture("microgptAdam.grad.ts"));
    assert.equal(status, 0);
    const lines = stdout.trim().split("\n");
    assert.match(lines[0], /step\s+loss\s+grad norm\s+worst update ratio/);
    assert.equal(lines.length, 7);
    assert.match(lines[1], /^\s+1\s+\d\.\d{6}\s+\d\.\d{6}\s+\d\.\d{6} \([\w.]+\)$/);
  });

  it("says so when the program never called backward(): no steps, no table rows", () => {
    const { status, stdout, stderr } = gradlens("train", fixture("forwardOnly.grad.ts"));
    assert.equal(status, 0, stderr);
    assert.equal(stdout.trim().split("\n").length, 1, "the header alone");
    assert.match(stderr, /note: the program never called backward\(\), so there are no training steps/);
  });

  it("--steps N stops the program cleanly after N backward() calls", () => {
    const { status, stdout } = gradlens("train", fixture("endless.grad.ts"), "--steps", "5", "--json");
    assert.equal(status, 0);
    assert.deepEqual((JSON.parse(stdout) as { steps: { step: number }[] }).steps.map((s) => s.step), [1, 2, 3, 4, 5]);
  });

  it("a long run's steps are thinned past 4,000: --json says so in `thinned`, the table in a note", () => {
    const { status, stdout, stderr } = gradlens("train", fixture("tinyLoop.grad.ts"), "--steps", "10000", "--json");
    assert.equal(status, 0, stderr);
    const json = JSON.parse(stdout) as { steps: { step: number }[]; thinned?: { every: number; steps: number } };
    assert.deepEqual(json.thinned, { every: 4, steps: 10000 });
    assert.ok(json.steps.length <= 4001);
    assert.deepEqual(json.steps.slice(0, 3).map((s) => s.step), [1, 5, 9]);
    assert.equal(json.steps.at(-1)?.step, 10000);
    const table = gradlens("train", fixture("tinyLoop.grad.ts"), "--steps", "10000");
    assert.match(table.stderr, /10000 steps were recorded; past the first ones only one step in 4 was kept/);
    // Rows are printed as the steps happen: the first 4,000 all, then every 2nd, then every 4th.
    const rows = table.stdout.trim().split("\n").slice(1).map((l) => Number(l.trim().split(/\s+/)[0]));
    assert.deepEqual(rows.slice(0, 4000), Array.from({ length: 4000 }, (_, i) => i + 1));
    assert.equal(rows.at(-1), 10000);
    assert.ok(rows.length < 7000, `${rows.length} rows`);
  });

  it("--timeout stops the run and still prints every step", () => {
    const { status, stdout, stderr } = gradlens("train", fixture("endless.grad.ts"), "--timeout", "1.5");
    assert.equal(status, 0, stderr);
    assert.ok(stdout.trim().split("\n").length > 10);
    assert.match(stderr, /stopped at the time limit after \d+ steps/);
  });

  it("works for Python files", async function () {
    if (!(await resolvePythonPath(undefined))) this.skip();
    const { status, stdout } = gradlens("train", fixture("nan_at_step.py"), "--json");
    assert.equal(status, 0);
    const steps = (JSON.parse(stdout) as { steps: { nonFinite: boolean; loss: number | null }[] }).steps;
    assert.deepEqual(steps.map((s) => s.nonFinite), [false, false, true, true, true]);
    assert.equal(steps[2].loss, null, "NaN is null in JSON");
  });

  it("usage errors exit with 2", () => {
    assert.equal(gradlens("train").status, 2);
    assert.equal(gradlens("train", fixture("mlp.grad.ts"), "--steps", "0").status, 2);
    assert.equal(gradlens("train", fixture("mlp.grad.ts"), "--bogus").status, 2);
    assert.equal(gradlens("train", "--help").status, 0);
  });

  it("parses its arguments; rows name the worst group", () => {
    assert.deepEqual(parseTrainArgs(["f.py", "--json", "--steps", "3", "--timeout", "2.5"]), { ok: true, args: { file: "f.py", json: true, steps: 3, timeoutSeconds: 2.5 } });
    assert.equal(parseTrainArgs(["f.py", "--steps", "1.5"]).ok, false);
    const row = tableRow({ step: 2, loss: 1, gradNorm: 2, groups: { a: { gradNorm: 1, updateRatio: 0.001 }, b: { gradNorm: 1, updateRatio: 0.5 } }, deadReluFraction: null, nonFinite: false, timeMs: 0 });
    assert.match(row, /0\.500000 \(b\)$/);
  });
});
