// A kept training step's graph opens as the same program's plain graph does: grouped by the calls
// that made it (call stacks sent with it, TypeScript and Python), stepped group by group, and its
// parameters named by their place in the program.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { runFile } from "../../src/runner";
import { resolvePythonPath, runPython } from "../../src/runner/python";
import { stepRoot } from "../../src/protocol/stepRoot";
import type { RootGraph, RunResult } from "../../src/protocol/result";
import { buildModel, nameOf } from "../../src/webview/graphModel";
import { Hierarchy } from "../../src/webview/hierarchy";
import { groupLevel } from "../../src/webview/level";
import { Stepper } from "../../src/webview/stepper";
import { repoRoot, useBuiltWorker } from "./runnerSupport";

const fixture = (name: string) => path.join(repoRoot, "test", "fixtures", "training", name);

/** What the view makes of a root: whether it groups by calls, the first level's groups, how many steps that level has, the names. */
function asShown(root: RootGraph, result: RunResult) {
  const model = buildModel(root.graph, result.sites, { paths: root.parameterPaths });
  const hierarchy = new Hierarchy(model, root.frames);
  const path = hierarchy.openPath(undefined);
  const open = path[path.length - 1];
  const stepper = new Stepper(model);
  stepper.setLevel(groupLevel(model, hierarchy, open));
  const names = Array.from({ length: model.snapshot.nodeCount }, (_, i) => nameOf(model, i));
  const titles = hierarchy.contents(open).map((item) => (item.kind === "group" ? item.group.name.text : "value"));
  return { byCalls: hierarchy.byCalls, titles, steps: stepper.stepCount, nodes: model.snapshot.nodeCount, names };
}

function assertLikePlainGraph(result: RunResult, paramPath: RegExp): void {
  assert.equal(result.error, undefined, result.error?.message);
  const plain = asShown(result.roots[result.roots.length - 1], result);
  assert.ok(plain.byCalls, "the plain graph groups by calls");
  const graphs = result.training?.graphs ?? [];
  assert.ok(graphs.length >= 2, `kept graphs: ${graphs.length}`);
  for (const kept of graphs) {
    const shown = asShown(stepRoot(kept, "loss"), result);
    assert.ok(shown.byCalls, `step ${kept.step}: grouped by calls`);
    assert.deepEqual(shown.titles, plain.titles, `step ${kept.step}: the first level's groups`);
    // Stepped group by group (as the plain graph is), not value by value.
    assert.ok(shown.steps < 50, `step ${kept.step}: ${shown.steps} steps for ${shown.nodes} nodes`);
    assert.equal(shown.steps, plain.steps, `step ${kept.step}: as many steps as the plain graph`);
    assert.ok(shown.names.some((n) => paramPath.test(n)), `step ${kept.step}: parameters named by their paths`);
    assert.ok(!shown.names.some((n) => /#\d/.test(n)), "no internal ids");
  }
}

describe("kept training graphs", function () {
  this.timeout(180_000);

  it("TypeScript microgpt with Adam: every kept step groups, steps and names as the plain graph", async () => {
    useBuiltWorker();
    const result = await runFile(fixture("microgptAdam.grad.ts"), { timeLimitMs: 100_000, training: {} });
    assertLikePlainGraph(result, /^model\.stateDict\.wte\[\d+\]\[\d+\]$/);
  });

  it("Python microgpt-shaped model: every kept step groups, steps and names as the plain graph", async function () {
    if (!(await resolvePythonPath(undefined))) this.skip();
    const result = await runPython({ file: fixture("microgpt_shaped.py") }, { timeLimitMs: 150_000, training: {} });
    assertLikePlainGraph(result, /^state_dict\['wte'\]\[\d+\]\[\d+\]$/);
  });
});
