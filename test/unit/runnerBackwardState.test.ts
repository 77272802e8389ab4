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

  it("gives the numbers at backward() when the writes come in a new order, or to values not written before", () => {
    // The k-th write after a backward() is looked up by its place in the last order first: a loop that
    // writes its parameters in another order (or other values) must still save each value's own numbers.
    const states = new BackwardStates();
    const params = [1, 2, 3, 4].map((x) => new Value(x));
    const orders = [[0, 1, 2, 3], [0, 1, 2, 3], [3, 2, 1, 0], [0, 2], [1, 3, 0, 2], [0, 1, 2, 3]];
    let epoch: number | undefined;
    orders.forEach((order, step) => {
      epoch = states.recordBackward(epoch);
      const before = params.map((p) => ({ data: p.data, grad: p.grad }));
      for (const i of order) {
        states.beforeWrite(params[i]);
        params[i].data += 10 * (step + 1);
        states.beforeWrite(params[i]);
        params[i].grad = step + 1;
      }
      params.forEach((p, i) => {
        const saved = states.stateAt(p, epoch as number);
        if (order.includes(i)) assert.deepEqual({ data: saved?.data, grad: saved?.grad }, before[i], `step ${step}, value ${i}`);
        else assert.equal(saved, undefined, `step ${step}, value ${i} was not written`);
      });
    });
  });
});
