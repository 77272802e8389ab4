import * as assert from "node:assert/strict";
import { Value } from "../../src/engine";
import { BackwardStates } from "../../src/runner/backwardState";

describe("runner: numbers as at backward() (BackwardStates)", () => {
  it("gives each live backward() the numbers a value had then, through many writes and reused states", () => {
    const states = new BackwardStates();
    const p = new Value(1);
    // Two call sites taking turns (two live epochs), as a training loop with a validation loss does.
    const history: { epoch: number; data: number; grad: number }[] = [];
    let siteA: number | undefined;
    let siteB: number | undefined;
    for (let step = 0; step < 50; step++) {
      const site = step % 3 === 0 ? "b" : "a";
      const epoch = states.recordBackward(site === "a" ? siteA : siteB);
      if (site === "a") siteA = epoch;
      else siteB = epoch;
      p.grad = step + 0.5;
      history.push({ epoch, data: p.data, grad: p.grad });
      states.beforeWrite(p);
      p.data -= 0.1;
      states.beforeWrite(p); // a second write after the same backward() saves nothing new
      p.grad = 0;
      for (const live of [siteA, siteB]) {
        if (live === undefined) continue;
        const expected = history.find((h) => h.epoch === live);
        assert.deepEqual(states.stateAt(p, live), { epoch: live, data: expected?.data, grad: expected?.grad }, `step ${step}, epoch ${live}`);
      }
    }
  });

  it("a value not written since a backward() has no saved state for it", () => {
    const states = new BackwardStates();
    const p = new Value(2);
    const first = states.recordBackward();
    states.beforeWrite(p);
    p.data = 3;
    const second = states.recordBackward(first);
    assert.equal(states.stateAt(p, second), undefined);
  });
});
