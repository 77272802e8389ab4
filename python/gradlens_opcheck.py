"""Op-level gradient checks for the user's own Python Value class (see src/runner/opCheck.ts).

For every op kind at every source site, a sample of the instances in the graphs captured at
backward() (gradlens_capture.py, handed over by collect() as it writes each root out) is checked: the
op's own local gradients against central differences of the op's forward, at the instance's inputs as
they were at that backward() (a later optimizer step does not move the point).

- Local gradients: `_local_grads` where the class stores them (the tutorial, microgpt); else the
  node's `_backward` closure (micrograd), called in isolation on the captured numbers: output grad 1,
  the inputs' grads saved and zeroed, then restored. Called a second time with the inputs' grads already non-zero, it also
  finds `=` written for `+=` (the grads then do not add up).
- Forward: the method or function that made the node (the recorder knows its code object) is called
  again on fresh leaves of the same class holding the inputs +/- h. It is trusted only when, at the
  recorded inputs, it gives the recorded output (set children are tried in both orders).
"""
import gc
import math
import random

from gradlens_capture import capture
from gradlens_graph import as_float, inputs_of, json_number
from gradlens_values import TAG_MASK

SAMPLE = 20
ATOL = 1e-6
RTOL = 1e-4
STEPS = (1e-6, 1e-4, 1e-8, 1e-3)
ROUNDING = 64 * 2.220446049250313e-16
SENTINEL = 0.5
DUNDER_OF = {"+": "__add__", "*": "__mul__", "-": "__sub__", "/": "__truediv__", "neg": "__neg__"}
KINKS = {"relu": 0.0, "ReLU": 0.0}


class Instance:
    """One recorded op application, with the numbers it had when its graph was captured at backward()
    (an optimizer step since then changed the values themselves, not these)."""

    __slots__ = ("root", "node", "value", "children", "output", "inputs")

    def __init__(self, root, node, value, children, output, inputs):
        self.root, self.node, self.value, self.children = root, node, value, children
        self.output, self.inputs = output, inputs


class OpChecks:
    """Collects a sample of instances per (op, source site) from the captured graphs as collect()
    writes them out (`add_root`), then checks them (`results`): [OpCheckResult as JSON]."""

    def __init__(self, run):
        self.run = run
        self.recorder = run.recorder
        self.groups = {}  # tag (an (op, site) pair) -> {"total", "sample"}
        self.rng = random.Random(15)

    def add_root(self, root_index, taken, index):
        """`index`: id(value) -> node id in the root's written graph (for marking nodes)."""
        recorder = self.recorder
        made, groups, rng = recorder.made, self.groups, self.rng
        inputs, _ = inputs_of(recorder, taken)
        position = {id(v): i for i, v in enumerate(taken.nodes)}
        data = taken.data
        for i, value in enumerate(taken.nodes):
            children = inputs[i]
            if not children:
                continue
            tag = made.get(id(value), 0) & TAG_MASK
            group = groups.get(tag)
            if group is None:
                group = groups[tag] = {"total": 0, "sample": []}
            group["total"] += 1
            if len(group["sample"]) >= SAMPLE:
                j = rng.randrange(group["total"])
                if j >= SAMPLE:
                    continue
            children = list(children)
            node = index.get(id(value))
            instance = Instance(root_index, node, value, children, as_float(data[i]), [as_float(data[position[id(c)]]) for c in children])
            if len(group["sample"]) < SAMPLE:
                group["sample"].append(instance)
            else:
                group["sample"][j] = instance

    def results(self):
        recorder = self.recorder
        was_enabled = recorder.enabled
        recorder.enabled = False  # values made while re-running ops are not the user's
        try:
            found = [_check_group(recorder, recorder.tag_op[tag], recorder.tag_site[tag], group, self._position_of_code) for tag, group in self.groups.items()]
        finally:
            recorder.enabled = was_enabled
        found.sort(key=lambda r: (r["ok"], r["siteId"]))
        return found

    def _position_of_code(self, code):
        chunk = self.run.chunks.get(code.co_filename)
        return chunk.position(code.co_firstlineno) if chunk is not None else None


def check_function_graph(run, out, limit=200_000):
    """The op checks of the graph a gradient check's call built (its nodes are not in the run's roots:
    no node marks), or None when it cannot be read."""
    taken = capture(run.recorder, out, limit)
    if taken.too_large or not taken.nodes:
        return None
    checks = OpChecks(run)
    checks.add_root(None, taken, {})
    return checks.results()


def _check_group(recorder, op_index, site, group, position_of_code):
    op = recorder.op_names[op_index] if op_index < len(recorder.op_names) else ""
    sample = group["sample"]
    first = sample[0].value
    shown = getattr(first, "_op", None)
    name = shown if isinstance(shown, str) and shown else (op or "op")
    result = {"op": name, "siteId": site, "kind": "user", "ok": True, "total": group["total"], "checked": 0, "failed": 0}
    if type(first).__module__ == "gradlens_tutorial_value":
        result["kind"] = "built-in"
    codes = recorder.codes_of_op(op_index)
    functions = _functions_of(codes)
    if position_of_code is not None:
        for code in codes:
            where = position_of_code(code)
            if where is not None:
                result["definition"] = where
                break
    worst_score = -1.0
    nodes = []
    reasons = []
    for taken in sample:
        root_index, node_id = taken.root, taken.node
        try:
            instance = _check_instance(taken, op, name, functions)
        except Exception as failure:  # noqa: BLE001 — user code may raise anything; the op is then not checked
            reasons.append("%s: %s" % (type(failure).__name__, failure))
            continue
        if isinstance(instance, str):
            reasons.append(instance)
            continue
        if instance is None:
            continue
        check, score, overwrites = instance
        result["checked"] += 1
        if overwrites:
            result["overwrites"] = True
        if not check["ok"]:
            result["failed"] += 1
            result["ok"] = False
            if node_id is not None:
                nodes.append({"root": root_index, "id": node_id})
        if score > worst_score:
            worst_score = score
            if node_id is not None:
                check["node"] = {"root": root_index, "id": node_id}
            result["worst"] = check
    if result["checked"] == 0 and reasons:
        result["unchecked"] = reasons[0]
    if nodes:
        result["nodes"] = nodes
    return result


def _functions_of(codes):
    found = []
    for code in codes:
        for referrer in gc.get_referrers(code):
            if callable(referrer) and getattr(referrer, "__code__", None) is code:
                found.append(referrer)
                break
    return found


def _analytic(taken):
    """(local gradients, overwrites) from `_local_grads`, or from calling `_backward` in isolation
    with the numbers the op had when its graph was captured."""
    value, children = taken.value, taken.children
    grads = getattr(value, "_local_grads", None)
    if grads is not None:
        try:
            listed = [as_float(g) for g in grads]
        except TypeError:
            listed = None
        if listed is not None and len(listed) == len(children):
            return listed, False
    backward = getattr(value, "_backward", None)
    if not callable(backward):
        return None, False
    unique = list({id(c): c for c in children}.values())
    saved = [(c, c.grad, c.data) for c in unique]
    saved_out = (value.grad, value.data)
    try:
        for c, x in zip(children, taken.inputs):
            c.data = x
        value.data = taken.output
        for c in unique:
            c.grad = 0.0
        value.grad = 1.0
        backward()
        local = {id(c): as_float(c.grad) for c in unique}
        for c in unique:
            c.grad = SENTINEL
        value.grad = 1.0
        backward()
        added = {id(c): as_float(c.grad) - SENTINEL for c in unique}
    finally:
        for c, g, d in saved:
            c.grad = g
            c.data = d
        value.grad, value.data = saved_out
    overwrites = any(abs(added[k] - local[k]) > 1e-9 * max(1.0, abs(local[k])) for k in local)
    # A child listed twice (x*x with tuple children) got both edges' share: split it evenly.
    counts = {}
    for c in children:
        counts[id(c)] = counts.get(id(c), 0) + 1
    return [local[id(c)] / counts[id(c)] for c in children], overwrites


def _forward(taken, op, functions):
    """A function of the inputs' numbers giving the op's output, checked to reproduce it, or a reason."""
    children = taken.children
    cls = type(children[0])
    makers = [_leaf_maker(type(c)) for c in children]
    if any(make is None for make in makers):
        return "could not make a fresh input of class %s from a number alone (its constructor wants more)" % type(children[0]).__name__
    candidates = []
    if op.startswith("**"):
        try:
            exponent = float(op[2:])
            exponent = int(exponent) if exponent.is_integer() else exponent
        except ValueError:
            exponent = None
        method = getattr(cls, "__pow__", None)
        if exponent is not None and method is not None and len(children) == 1:
            candidates.append(lambda leaves, m=method, k=exponent: m(leaves[0], k))
    else:
        method = getattr(cls, DUNDER_OF.get(op, op), None) if op else None
        if callable(method):
            candidates.append(lambda leaves, m=method: m(*leaves))
            if len(children) == 1 and op in DUNDER_OF and op != "neg":
                # `d * d` with inputs in a set (micrograd) has the one input d: the op of d with itself.
                candidates.append(lambda leaves, m=method: m(leaves[0], leaves[0]))
        for function in functions:
            if function is not method:
                candidates.append(lambda leaves, f=function: f(*leaves))
    if not candidates:
        return "no way to re-run %s: its method or function was not found" % (op or "this op")
    recorded = taken.output
    inputs = taken.inputs
    orders = [list(range(len(children)))]
    if len(children) == 2:
        orders.append([1, 0])  # set-valued children (micrograd) lose the argument order
    for candidate in candidates:
        for order in orders:
            def forward(xs, candidate=candidate, order=order):
                leaves = [makers[j](xs[j]) for j in order]
                out = candidate(leaves)
                return as_float(getattr(out, "data", math.nan))
            try:
                again = forward(inputs)
            except Exception:  # noqa: BLE001
                continue
            if again == recorded or abs(again - recorded) <= 1e-9 * max(1.0, abs(recorded)):
                return forward
    return "re-running %s did not give its recorded output (its inputs changed after it was made, e.g. by an optimizer step)" % (op or "the op")


def _leaf_maker(cls):
    """The class itself, or the nearest base class, whose constructor makes a leaf from a number alone
    (a `Param(Node)` subclass that also wants a name is re-made as a Node)."""
    for kind in cls.__mro__:
        if kind is object:
            break
        try:
            leaf = kind(0.5)
        except Exception:  # noqa: BLE001 — a constructor that wants more: try the base class
            continue
        if as_float(getattr(leaf, "data", math.nan)) == 0.5:
            return kind
    return None


def _check_instance(taken, op, name, functions):
    analytic, overwrites = _analytic(taken)
    if analytic is None:
        return "the op stores no local gradients and has no _backward"
    forward = _forward(taken, op, functions)
    if isinstance(forward, str):
        return forward
    inputs = taken.inputs
    output = taken.output
    kink = KINKS.get(name, KINKS.get(op))
    numeric = []
    ok = True
    score = 0.0
    for j, x in enumerate(inputs):
        if kink is not None and abs(x - kink) <= 1e-3 * max(1.0, abs(x)):
            return None
        best = None
        for step in STEPS:
            h = step * max(1.0, abs(x))
            try:
                plus = forward([y + h if k == j else y for k, y in enumerate(inputs)])
                minus = forward([y - h if k == j else y for k, y in enumerate(inputs)])
            except (ArithmeticError, ValueError):
                continue
            estimate = (plus - minus) / (2 * h)
            if not math.isfinite(estimate):
                continue
            noise = ROUNDING * max(abs(plus), abs(minus), abs(output)) / h
            error = abs(analytic[j] - estimate)
            ratio = error / (ATOL + RTOL * abs(estimate) + noise) if math.isfinite(error) else math.inf
            if best is None or ratio < best[1]:
                best = (estimate, ratio)
            if ratio <= 1:
                break
        if best is None:
            return None
        numeric.append(best[0])
        if not best[1] <= 1:
            ok = False
        score = max(score, best[1] if math.isfinite(best[1]) else 1e300)
    if overwrites:
        ok = False
        score = max(score, 1e6)
    check = {
        "inputs": [json_number(x) for x in inputs],
        "output": json_number(output),
        "analytic": [json_number(g) for g in analytic],
        "numeric": [json_number(n) for n in numeric],
        "ok": ok,
    }
    return check, score, overwrites
