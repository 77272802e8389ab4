/**
 * `Value` written the way the tutorial (microgpt.py, chapter 4) writes it — one object per
 * node holding arrays of children and local gradients, and `backward()` with a recursive
 * topological sort and a visited Set. Not shipped in GradLens; it is the readable reference
 * twice over: `npm run bench` reports the engine's speed as a ratio against it, and
 * test/unit/engineOracle.test.ts checks the fast engine's data and grads against it.
 */
type Operand = TutorialValue | number;

export class TutorialValue {
  data: number;
  grad = 0;
  _children: TutorialValue[];
  _localGrads: number[];

  constructor(data: number, children: TutorialValue[] = [], localGrads: number[] = []) {
    this.data = data;
    this._children = children;
    this._localGrads = localGrads;
  }

  add(other: Operand): TutorialValue {
    const o = other instanceof TutorialValue ? other : new TutorialValue(other);
    return new TutorialValue(this.data + o.data, [this, o], [1, 1]);
  }

  mul(other: Operand): TutorialValue {
    const o = other instanceof TutorialValue ? other : new TutorialValue(other);
    return new TutorialValue(this.data * o.data, [this, o], [o.data, this.data]);
  }

  pow(n: number): TutorialValue {
    return new TutorialValue(this.data ** n, [this], [n * this.data ** (n - 1)]);
  }

  log(): TutorialValue {
    return new TutorialValue(Math.log(this.data), [this], [1 / this.data]);
  }

  exp(): TutorialValue {
    return new TutorialValue(Math.exp(this.data), [this], [Math.exp(this.data)]);
  }

  relu(): TutorialValue {
    return new TutorialValue(Math.max(0, this.data), [this], [this.data > 0 ? 1 : 0]);
  }

  tanh(): TutorialValue {
    const t = Math.tanh(this.data);
    return new TutorialValue(t, [this], [1 - t ** 2]);
  }

  sigmoid(): TutorialValue {
    const s = 1 / (1 + Math.exp(-this.data));
    return new TutorialValue(s, [this], [s * (1 - s)]);
  }

  neg(): TutorialValue {
    return this.mul(-1);
  }

  sub(other: Operand): TutorialValue {
    return this.add(other instanceof TutorialValue ? other.neg() : -other);
  }

  div(other: Operand): TutorialValue {
    return this.mul(other instanceof TutorialValue ? other.pow(-1) : other ** -1);
  }

  backward(): void {
    const topo: TutorialValue[] = [];
    const visited = new Set<TutorialValue>();
    const buildTopo = (v: TutorialValue): void => {
      if (!visited.has(v)) {
        visited.add(v);
        for (const child of v._children) buildTopo(child);
        topo.push(v);
      }
    };
    buildTopo(this);
    this.grad = 1;
    for (let i = topo.length - 1; i >= 0; i--) {
      const v = topo[i];
      for (let j = 0; j < v._children.length; j++) v._children[j].grad += v._localGrads[j] * v.grad;
    }
  }
}
