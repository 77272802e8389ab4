import { strict as assert } from "assert";
import { Value } from "../../src/engine";

describe("smoke", () => {
  it("z = x*y + w", () => {
    const x = new Value(2), y = new Value(3), w = new Value(1);
    const z = x.mul(y).add(w);
    z.backward();
    assert.equal(z.data, 7);
    assert.deepEqual([x.grad, y.grad, w.grad], [3, 2, 1]);
  });
});
