import { strict as assert } from "assert";
import { Value, gradcheck, mulberry32, sum } from "../../src/engine";

/** A user op with a wrong local gradient: d(x²)/dx is 2x, not x. */
const wrongSquare = (x: Value): Value => new Value(x.data ** 2, [x], [x.data]);

describe("engine: gradcheck", () => {
  it("passes a correct function of scalars and reports each input", () => {
    const f = (x: Value, y: Value) => x.mul(y).add(x.exp()).sub(y.pow(3)).tanh();
    const result = gradcheck(f, [0.3, -0.7], { names: ["x", "y"] });
    assert.equal(result.ok, true);
    assert.equal(result.mode, "full");
    assert.deepEqual(
      result.inputs.map((c) => [c.name, c.verdict, c.ok]),
      [
        ["x", "ok", true],
        ["y", "ok", true],
      ],
    );
    const x = result.inputs[0];
    assert.ok(Math.abs(x.analytic - x.numeric) <= 1e-5 + 1e-3 * Math.abs(x.numeric));
    assert.equal(x.absError, Math.abs(x.analytic - x.numeric));
    assert.ok(Math.abs(result.output - Math.tanh(0.3 * -0.7 + Math.exp(0.3) - (-0.7) ** 3)) < 1e-12);
    // 1 evaluation for backprop, 2 per input for the differences.
    assert.equal(result.evaluations, 5);
  });

  it("names the elements of array inputs w[0], w[1], …", () => {
    const f = (w: Value[], b: Value) => sum(w.map((wi, i) => wi.mul(i + 1))).add(b).sigmoid();
    const result = gradcheck(f, [[0.5, -1.2, 2], 0.1], { names: ["w", "b"] });
    assert.equal(result.ok, true);
    assert.deepEqual(
      result.inputs.map((c) => c.name),
      ["w[0]", "w[1]", "w[2]", "b"],
    );
    assert.deepEqual(
      result.inputs.map((c) => [c.argument, c.element]),
      [
        [0, 0],
        [0, 1],
        [0, 2],
        [1, 0],
      ],
    );
  });

  it("uses arg0, arg1, … when no names are given", () => {
    const result = gradcheck((a, b) => (a as Value).mul(b as Value), [1, 2]);
    assert.deepEqual(
      result.inputs.map((c) => c.name),
      ["arg0", "arg1"],
    );
  });

  it("fails a user op with a wrong local gradient and names the input", () => {
    const f = (x: Value, y: Value) => wrongSquare(x).add(y.mul(2));
    const result = gradcheck(f, [3, 1], { names: ["x", "y"] });
    assert.equal(result.ok, false);
    const failing = result.inputs.filter((c) => !c.ok);
    assert.deepEqual(
      failing.map((c) => c.name),
      ["x"],
    );
    assert.equal(failing[0].verdict, "mismatch");
    assert.equal(failing[0].analytic, 3);
    assert.ok(Math.abs(failing[0].numeric - 6) < 1e-6);
    assert.match(failing[0].note ?? "", /backprop says 3/);
    assert.equal(result.inputs[1].verdict, "ok");
  });

  it("gives a relu at exactly 0 the verdict 'kink' with a note, not a failure", () => {
    const result = gradcheck((x) => (x as Value).relu().mul(3), [0], { names: ["x"] });
    assert.equal(result.ok, true);
    const [x] = result.inputs;
    assert.equal(x.verdict, "kink");
    assert.equal(x.analytic, 0);
    assert.ok(Math.abs(x.numeric - 1.5) < 1e-6);
    assert.match(x.note ?? "", /kink/);
  });

  it("still fails a real bug next to a kink-free relu", () => {
    const result = gradcheck((x) => wrongSquare((x as Value).relu()), [2], { names: ["x"] });
    assert.equal(result.ok, false);
    assert.equal(result.inputs[0].verdict, "mismatch");
  });

  it("reports a non-finite gradient as 'non-finite'", () => {
    const result = gradcheck((x) => (x as Value).log(), [0], { names: ["x"] });
    assert.equal(result.ok, false);
    assert.equal(result.inputs[0].verdict, "non-finite");
    assert.match(result.inputs[0].note ?? "", /not finite/);
  });

  it("honours eps, atol and rtol", () => {
    // f(x) = x³ at x = 1: the central difference with a coarse eps is off by eps².
    const f = (x: Value | Value[]) => (x as Value).pow(3);
    const coarse = gradcheck(f, [1], { eps: 0.1, atol: 0, rtol: 1e-4 });
    assert.ok(Math.abs(coarse.inputs[0].numeric - 3.01) < 1e-9);
    // The step sweep finds that smaller steps agree: a poor finite difference, not a wrong gradient.
    assert.equal(coarse.inputs[0].sweepVerdict, "poor-difference");
    assert.equal(coarse.ok, true);
    const lenient = gradcheck(f, [1], { eps: 0.1, atol: 0.02, rtol: 0 });
    assert.equal(lenient.ok, true);
  });

  describe("fast mode", () => {
    const n = 1000;
    const random = mulberry32(7);
    const point = Array.from({ length: n }, () => random() * 2 - 1);

    /** Σ tanh(w_i · (i mod 7 − 3)/3) + (Σ w_i)²/n, with an optional wrong op on one element. */
    const makeF = (badIndex: number | undefined, counter: { calls: number }) => (w: Value | Value[]) => {
      counter.calls++;
      const ws = w as Value[];
      const terms = ws.map((wi, i) => (i === badIndex ? wrongSquare(wi) : wi.mul(((i % 7) - 3) / 3).tanh()));
      return sum(terms).add(sum(ws).pow(2).div(n));
    };

    it("checks a correct function of 1,000 inputs with 3 evaluations (1 base + 2)", () => {
      const counter = { calls: 0 };
      const result = gradcheck(makeF(undefined, counter), [point], { names: ["w"], fast: true, seed: 1 });
      assert.equal(result.ok, true);
      assert.equal(result.mode, "fast");
      assert.equal(result.evaluations, 3);
      assert.equal(counter.calls, 3);
      assert.ok(result.direction !== undefined);
      assert.ok(Math.abs(result.direction.analytic - result.direction.numeric) <= 1e-5 + 1e-3 * Math.abs(result.direction.numeric));
    });

    it("on a wrong function bisects with directions over halves and names the bad input", function () {
      this.timeout(120000);
      const counter = { calls: 0 };
      const result = gradcheck(makeF(537, counter), [point], { names: ["w"], fast: true, seed: 1 });
      assert.equal(result.ok, false);
      assert.equal(result.mode, "fast");
      assert.deepEqual(
        result.inputs.filter((c) => !c.ok).map((c) => c.name),
        ["w[537]"],
      );
      // 1 base + 2 for the whole direction + 2 per half on the way down + the named input's differences
      // and step sweep: far fewer than the 2 per input (2,000) of the full check.
      assert.equal(counter.calls, result.evaluations);
      assert.ok(result.evaluations < 100, `${result.evaluations} evaluations`);
    });

    it("names two wrong inputs among 1,000", () => {
      const twoBad = (w: Value | Value[]) => {
        const ws = w as Value[];
        return sum(ws.map((wi, i) => (i === 3 || i === 800 ? wrongSquare(wi) : wi.mul(wi))));
      };
      const result = gradcheck(twoBad, [point], { names: ["w"], fast: true, seed: 2 });
      assert.deepEqual(result.inputs.filter((c) => !c.ok).map((c) => c.name), ["w[3]", "w[800]"]);
    });
  });

  describe("honest tolerances", () => {
    it("says which term of atol + rtol·|numeric| decided, and the tolerance", () => {
      const big = gradcheck((x) => (x as Value).pow(3), [20], { names: ["x"] });
      assert.equal(big.inputs[0].decidedBy, "rtol");
      assert.ok(Math.abs((big.inputs[0].tolerance ?? 0) - (1e-5 + 1e-3 * Math.abs(big.inputs[0].numeric))) < 1e-12);
      const small = gradcheck((x) => (x as Value).mul(0.005), [1], { names: ["x"] });
      assert.equal(small.inputs[0].decidedBy, "atol");
      assert.equal(small.inputs[0].weak, false);
    });

    it("marks a gradient below atol as weak and judges it by relative error: 7% off fails", () => {
      // d/dx of 1e-6·x² at x = 1 is 2e-6, below atol = 1e-5: atol alone would pass any answer.
      const wrong = (x: Value | Value[]) => new Value(1e-6 * (x as Value).data ** 2, [x as Value], [2e-6 * 1.07], "tiny");
      const result = gradcheck(wrong, [1], { names: ["x"] });
      const [x] = result.inputs;
      assert.equal(x.weak, true);
      assert.equal(x.ok, false);
      assert.equal(result.ok, false);
      const right = gradcheck((v: Value | Value[]) => (v as Value).pow(2).mul(1e-6), [1], { names: ["x"] });
      assert.equal(right.inputs[0].weak, true);
      assert.equal(right.inputs[0].ok, true);
      assert.match(right.inputs[0].note ?? "", /relative error/);
    });

    it("says it cannot tell when the gradient is within rounding noise", () => {
      const flat = gradcheck((x) => (x as Value).mul(1e-14).add(1), [0.3], { names: ["x"] });
      assert.equal(flat.inputs[0].weak, true);
      assert.equal(flat.inputs[0].undecided, true);
      assert.equal(flat.inputs[0].ok, true);
    });

    it("on a mismatch sweeps the step: a wrong gradient keeps its error at every step", () => {
      const result = gradcheck((x) => wrongSquare(x as Value), [3], { names: ["x"] });
      const [x] = result.inputs;
      assert.equal(x.sweepVerdict, "wrong-gradient");
      assert.deepEqual(x.sweep?.map((s) => s.eps), [1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8]);
      assert.ok(x.sweep!.every((s) => s.absError > 2.9));
      assert.equal(x.ok, false);
    });

    it("on a mismatch from a too-small step, the sweep finds the steps that agree", () => {
      // At eps = 1e-13 rounding ruins the difference of exp around 10; the gradient is right.
      const result = gradcheck((x) => (x as Value).exp(), [10], { names: ["x"], eps: 1e-13 });
      const [x] = result.inputs;
      assert.equal(x.sweepVerdict, "poor-difference");
      assert.equal(x.ok, true);
      const errors = x.sweep!.map((s) => s.absError);
      const best = errors.indexOf(Math.min(...errors));
      assert.ok(best > 0 && best < errors.length - 1, "the error shrinks, then grows");
    });
  });

  describe("safe checks", () => {
    it("reports a function that changes its input's data: the check is of another point", () => {
      const result = gradcheck((x) => {
        const v = x as Value;
        v.data += 10;
        return v.mul(v);
      }, [1], { names: ["x"] });
      assert.equal(result.ok, false);
      assert.deepEqual(result.mutations, [{ input: "x", field: "data" }]);
    });

    it("reports a function that runs backward() on its input's graph (grads written)", () => {
      const result = gradcheck((x) => {
        const y = (x as Value).mul(2);
        y.backward();
        return y;
      }, [1], { names: ["x"] });
      assert.deepEqual(result.mutations, [{ input: "x", field: "grad" }]);
    });

    it("a function that leaves its inputs alone has no mutations", () => {
      assert.equal(gradcheck((x) => (x as Value).tanh(), [0.2]).mutations, undefined);
    });
  });
});
