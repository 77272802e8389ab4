// The one-time and training-only costs of a Python run are cut by shortcuts (python/gradlens_values.py,
// gradlens_params.py, gradlens_backward_watch.py): each must give exactly what the general way gives.
import { strict as assert } from "assert";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { resolvePythonPath, runPython } from "../../src/runner/python";
import { snapshotNodes } from "../../src/engine/snapshot";

const TRACER = path.resolve(__dirname, "../../python");
const OUTPUT_FIXTURE = path.resolve(__dirname, "../fixtures/python/output.py"); // its code is replaced in each run

/** Runs `lines` as a Python script with the tracer's modules importable; its stdout, trimmed. */
function python(lines: string[]): string {
  const run = spawnSync("python3", ["-c", lines.join("\n")], { encoding: "utf8", cwd: TRACER, env: { ...process.env, PYTHONPATH: TRACER } });
  assert.equal(run.stderr, "");
  return run.stdout.trim();
}

/** microgpt's shape of class (`__slots__`, tuple children and local gradients), as the collector tests below run it. */
const SLOTS_VALUE = [
  "class Value:",
  "    __slots__ = ('data', 'grad', '_children', '_local_grads')",
  "    def __init__(self, data, children=(), local_grads=()):",
  "        self.data, self.grad, self._children, self._local_grads = data, 0, children, local_grads",
  "    def __mul__(self, o):",
  "        return Value(self.data * o.data, (self, o), (o.data, self.data))",
  "    def __add__(self, o):",
  "        return Value(self.data + o.data, (self, o), (1, 1))",
  "    def backward(self):",
  "        order, seen = [], set()",
  "        def visit(v):",
  "            if v not in seen:",
  "                seen.add(v)",
  "                for c in v._children: visit(c)",
  "                order.append(v)",
  "        visit(self)",
  "        self.grad = 1",
  "        for v in reversed(order):",
  "            for c, l in zip(v._children, v._local_grads): c.grad += l * v.grad",
];

describe("Python tracer: one-time costs' shortcuts give what the general way gives", function () {
  this.timeout(60_000);
  before(async function () {
    if (!(await resolvePythonPath(undefined))) this.skip();
  });

  it("reads a plain __init__'s signature from its code object as inspect.signature does, and leaves the rest to inspect", () => {
    const out = python([
      "import functools, inspect, sys",
      "import gradlens_values as gv",
      "def deco(f):",
      "    @functools.wraps(f)",
      "    def inner(*args, **kwargs):",
      "        return f(*args, **kwargs)",
      "    return inner",
      "class C:",
      "    def plain(self, data, children=(), op=''): pass",
      "    def bare(self): pass",
      "    def packs(self, *args): pass",
      "    def keywords(self, data, **kw): pass",
      "    def only(self, data, *, label=''): pass",
      "    def positional(self, data, /, grad=0): pass",
      "    def noself(this, data=1.5): pass",
      "    def locals_too(self, data):",
      "        x = data; return x",
      "    wrapped = deco(plain)",
      "    lam = lambda self, a, b=[1]: None",
      "def signed(self, *args): pass",
      "signed.__signature__ = inspect.signature(C.plain)",
      "cases = [C.plain, C.bare, C.packs, C.keywords, C.only, C.positional, C.noself, C.locals_too, C.wrapped, C.lam, signed, functools.partial(C.plain, 1), len]",
      "seen = set()",
      "for f in cases:",
      "    fast = gv._plain_parameters(f)",
      "    if fast is None:",
      "        seen.add('inspect')",
      "        continue",
      "    seen.add('fast')",
      "    slow = gv._inspected_parameters(f)",
      "    if fast != slow:",
      "        print('differ', f, fast, slow); sys.exit()",
      "print(sorted(seen), gv._signature_text(C.plain, {}), gv._signature_text(C.wrapped, {}), gv._signature_text(C.positional, {}))",
    ]);
    assert.equal(out, "['fast', 'inspect'] ('self, data, children=_default2, op=_default3', 'self, data, children, op') ('self, data, children=_default2, op=_default3', 'self, data, children, op') ('self, *args, **kwargs', 'self, *args, **kwargs')");
    // …and a plain __init__ needs no import of inspect (≈ 6 ms at every start).
    const imported = python([
      "import sys, gradlens_values as gv",
      "class V:",
      "    def __init__(self, data, children=()): pass",
      "print(gv._signature_text(V.__init__, {})[1], 'inspect' in sys.modules)",
    ]);
    assert.equal(imported, "self, data, children False");
  });

  it("finds the same parameter paths, in the same order, when lists of only values or only names are read at C speed", () => {
    const out = python([
      "import random, time",
      "from gradlens_params import find_parameter_paths",
      "class Value:",
      "    __slots__ = ('data', 'grad', '_children')",
      "    def __init__(self, data, children=()): self.data, self.grad, self._children = data, 0, children",
      "class Other:",
      "    def __init__(self): self.data, self.grad, self._prev = 1.0, 0.0, set()",
      "class Neuron:",
      "    def __init__(self, n): self.w, self.b = [Other() for _ in range(n)], Other()",
      "class Num(float): pass",
      "def matrix(r, c): return [[Value(random.random()) for _ in range(c)] for _ in range(r)]",
      "random.seed(1)",
      "sd = {'wte': matrix(30, 8), 'layer0.w': matrix(8, 8)}",
      "scope = {",
      "    '__name__': '__main__', 'state_dict': sd, 'params': [p for m in sd.values() for row in m for p in row],",
      "    'docs': ['ada', 'bo'] * 5000, 'm': [0.0] * 300, 'mixed': [Value(1), None, 'x', (Value(2), 3.0)], 'nums': [Num(1.0), Value(3)],",
      "    'model': [Neuron(3), Neuron(2)], 'pair': (Value(5), Other()), 'empty': [], 'nones': [None, None], 'holes': [Value(8), None, Value(9)], 'nested': [[['deep', Value(7)]]],",
      "    'loss': Value(0.5, (sd['wte'][0][0],)), 'row_again': sd['wte'][3],",
      "}",
      "is_value = lambda v: hasattr(v, 'data') and hasattr(v, 'grad')",
      "slow = find_parameter_paths(scope, is_value)",
      "fast = find_parameter_paths(scope, is_value, {Value: None, Other: None})",
      "same = list(slow.items()) == list(fast.items())",
      "print(same, len(fast), fast[id(sd['wte'][3][5])][1], fast[id(scope['mixed'][0])][1])",
    ]);
    assert.equal(out, "True 320 state_dict['wte'][3][5] mixed[0]");
  });

  it("finds the very stale leaves the general walk finds, in its order, before a watched backward() (or leaves the graph to it)", () => {
    const out = python([
      "import random",
      "from gradlens_values import Recorder",
      "from gradlens_capture import leaf_grads",
      "from gradlens_graph import as_float",
      "from gradlens_backward_watch import stale_leaves",
      "class Value:",
      "    __slots__ = ('data', 'grad', '_children')",
      "    def __init__(self, data, children=()): self.data, self.grad, self._children = data, 0, children",
      "class Prev:",
      "    def __init__(self, data, children=()): self.data, self.grad, self._prev = data, 0, set(children)",
      "class Odd:",
      "    def __init__(self, data, children=()): self.data, self.grad, self._children = data, 0, children",
      "rec = Recorder(set(), lambda frame: 0)",
      "def graph(cls, n, rng, mix=None):",
      "    made = [cls(rng.random()) for _ in range(8)]",
      "    for i in range(n):",
      "        kind = mix if mix is not None and rng.random() < 0.05 else cls",
      "        made.append(kind(rng.random(), tuple(rng.sample(made, 2))))",
      "    return made",
      "def stale_of(nodes):",
      "    walked = leaf_grads(rec, nodes[-1], 10_000)",
      "    return None if walked is None else [(id(v), as_float(g)) for v, g in walked if as_float(g) != 0]",
      "def ours(root, limit=10_000):",
      "    found = stale_leaves(rec, root, limit)",
      "    return 'general' if found is None else [(id(v), as_float(g)) for v, g in found if as_float(g) != 0]",
      "results = []",
      "for trial in range(60):",
      "    rng = random.Random(trial)",
      "    cls = [Value, Prev][trial % 2]",
      "    nodes = graph(cls, 300, rng, Odd if trial % 7 == 3 else None)",
      "    for kind in (Value, Prev): rec.is_value(kind(0.0))",
      "    if trial % 7 != 3: rec.is_value(Odd(0.0)) if trial % 14 == 10 else None",
      "    leaves = [v for v in nodes if not (v._children if hasattr(v, '_children') else v._prev)]",
      "    for v in rng.sample(leaves, rng.randint(0, 3)): v.grad = rng.choice([0.5, -2, float('nan'), True])",
      "    if trial % 5 == 4: leaves[0].grad = Value(3.0)  # a grad kept as a Value: read by its data",
      "    if trial % 9 == 8: nodes[len(nodes) // 2].grad = 1.0  # an inner node's grad is not a leaf's",
      "    a, b = stale_of(nodes), ours(nodes[-1])",
      "    if b != 'general' and a != b: print('differ', trial, a, b); break",
      "    results.append('general' if b == 'general' else 'stale' if b else 'none')",
      "print(sorted(set(results)), ours(graph(Value, 300, random.Random(1))[-1], 50))",
    ]);
    assert.equal(out, "['general', 'none', 'stale'] []");
  });

  it("gives the program its collector back after each recorded step and watched backward(), as the program left it", async () => {
    const program = (disable: boolean) =>
      [
        "import gc",
        "class Value:",
        "    def __init__(self, data, _children=()):",
        "        self.data, self.grad, self._children = data, 0, _children",
        "    def __mul__(self, o):",
        "        out = Value(self.data * o.data, (self, o))",
        "        def _backward():",
        "            self.grad += o.data * out.grad",
        "            o.grad += self.data * out.grad",
        "        out._backward = _backward",
        "        return out",
        "    def backward(self):",
        "        self.grad = 1",
        "        self._backward()",
        ...(disable ? ["gc.disable()"] : []),
        "w = Value(0.5)",
        "for step in range(3):",
        "    loss = w * Value(2.0)",
        "    loss.backward()",
        "    print(step, gc.isenabled())",
        "    w.data -= 0.1 * w.grad",
        "    w.grad = 0",
        "",
      ].join("\n");
    for (const disable of [false, true]) {
      for (const options of [{}, { training: {} }]) {
        const result = await runPython({ file: OUTPUT_FIXTURE, code: program(disable), origin: { file: OUTPUT_FIXTURE, line: 1, column: 1 } }, options);
        assert.equal(result.error, undefined, result.error?.message);
        assert.deepEqual(
          result.console.map((l) => l.text.trim()),
          [0, 1, 2].map((k) => `${k} ${disable ? "False" : "True"}`),
        );
      }
    }
  });

  it("starts no collection of the program's heap while it records a backward() or looks at its leaves", async () => {
    // The threshold 1 makes every tracked object a collection: any that GradLens's own work allocated
    // would start one from inside the recording (seen by a callback that finds GradLens's frames).
    const program = [
      "import gc, sys",
      ...SLOTS_VALUE,
      "inside = []",
      "def spy(phase, info):",
      "    if phase == 'start':",
      "        f = sys._getframe(1)",
      "        while f is not None:",
      "            if f.f_code.co_name in ('_record_backward', 'before') and 'gradlens_' in f.f_code.co_filename: inside.append(f.f_code.co_name); break",
      "            f = f.f_back",
      "ws = [Value(0.1 * k) for k in range(40)]",
      "gc.callbacks.append(spy)",
      "gc.set_threshold(1)",
      "for step in range(4):",
      "    loss = ws[0]",
      "    for w in ws[1:]: loss = loss * w + w",
      "    loss.backward()",
      "    for w in ws:",
      "        w.data -= 0.01 * w.grad",
      "        w.grad = 0",
      "gc.set_threshold(700, 10, 10)",
      "gc.callbacks.remove(spy)",
      "print(sorted(set(inside)))",
      "",
    ].join("\n");
    const result = await runPython({ file: OUTPUT_FIXTURE, code: program, origin: { file: OUTPUT_FIXTURE, line: 1, column: 1 } }, {});
    assert.equal(result.error, undefined, result.error?.message);
    assert.deepEqual(result.console.map((l) => l.text.trim()), ["[]"]);
    assert.equal(result.roots[0].calls, 4);
  });

  it("keeps the numbers a lazy capture saves in objects the collector does not track", async () => {
    // Each parameter's first write after a backward() saves its numbers: a tuple each would be as many
    // new objects for every young collection of the program to look at.
    const program = [
      "import gc",
      ...SLOTS_VALUE,
      "ws = [Value(float(k)) for k in range(3000)]",
      "for step in range(2):",
      "    loss = Value(sum(w.data for w in ws), tuple(ws), (1,) * len(ws))",
      "    loss.backward()",
      "    gc.disable()",
      "    before = gc.get_count()[0]",
      "    for w in ws:",
      "        w.data -= 0.01 * w.grad",
      "        w.grad = 0",
      "    grown = gc.get_count()[0] - before",
      "    gc.enable()",
      "    print(step, grown < 100)",
      "",
    ].join("\n");
    const result = await runPython({ file: OUTPUT_FIXTURE, code: program, origin: { file: OUTPUT_FIXTURE, line: 1, column: 1 } }, {});
    assert.equal(result.error, undefined, result.error?.message);
    assert.deepEqual(result.console.map((l) => l.text.trim()), ["0 True", "1 True"]);
    const root = result.roots[0];
    assert.equal(root.calls, 2);
    // The 2nd backward()'s numbers, not the writes after it: every parameter's grad 1, data as before them.
    const graph = root.graph;
    const nodes = snapshotNodes(graph).filter((n) => graph.childStart[n.id + 1] === graph.childStart[n.id]);
    assert.equal(nodes.length, 3000);
    assert.ok(nodes.every((n) => n.grad === 1));
    assert.deepEqual(nodes.map((n) => n.data).sort((a, b) => a - b).slice(0, 3), [-0.01, 0.99, 1.99]);
  });

  it("streams a line with columns as the very text json.dumps writes with each column as base64", () => {
    const out = python([
      "import base64, json, random",
      "from array import array",
      "import gradlens_graph as gg",
      "b64 = lambda o: base64.b64encode(o).decode('ascii')",
      "rng = random.Random(5)",
      "def graph(n):",
      "    return {'nodeCount': n, 'data': array('d', [rng.random() for _ in range(n)]), 'op': array('H', [rng.randrange(9) for _ in range(n)]),",
      "            'child': array('I', []), 'labels': {'3': 'x\\u00e9\\u0000' + gg._PLACEHOLDER + '0.'}, 'frames': {'x': array('i', [-1, 2])}}",
      "line = {'steps': [{'step': 1, 'loss': 2.5}], 'graphs': [{'step': k, 'graph': graph(k * 7 + 1)} for k in range(12)], 'note': '\"' + gg._PLACEHOLDER + '1.\"'}",
      "same = ''.join(gg.streamed_json(line)) == json.dumps(line, allow_nan=False, default=b64)",
      "plain = gg.streamed_json({'a': 1}) == [json.dumps({'a': 1})]",
      "try:",
      "    gg.streamed_json({'a': float('nan')}); nan = 'written'",
      "except ValueError:",
      "    nan = 'refused'",
      "print(same, plain, nan)",
    ]);
    assert.equal(out, "True True refused");
  });
});
