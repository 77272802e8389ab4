"""Op-level gradient checks for the user's own Python Value class (see src/runner/opCheck.ts).

For every op kind at every source site, a sample of the recorded instances is checked: the op's own
local gradients against central differences of the op's forward, at the instance's inputs.

- Local gradients: `_local_grads` where the class stores them (the tutorial, microgpt); else the
  node's `_backward` closure (micrograd), called in isolation: output grad 1, the inputs' grads saved
  and zeroed, then restored. Called a second time with the inputs' grads already non-zero, it also
  finds `=` written for `+=` (the grads then do not add up).
- Forward: the method or function that made the node (the recorder knows its code object) is called
  again on fresh leaves of the same class holding the inputs +/- h. It is trusted only when, at the
  recorded inputs, it gives the recorded output (set children are tried in both orders).
"""
import gc
import math
import random

from gradlens_graph import as_float, json_number, read_graph, topological_order

SAMPLE = 20
ATOL = 1e-6
RTOL = 1e-4
STEPS = (1e-6, 1e-4, 1e-8, 1e-3)
ROUNDING = 64 * 2.220446049250313e-16
GRAPH_LIMIT = 200_000
SENTINEL = 0.5
DUNDER_OF = {"+": "__add__", "*": "__mul__", "-": "__sub__", "/": "__truediv__", "neg": "__neg__"}
KINKS = {"relu": 0.0, "ReLU": 0.0}


def check_ops(recorder, roots, position_of_code=None):
    """[OpCheckResult as JSON] for the graphs of `roots` (a list of values; index = root index)."""
    groups = {}
    rng = random.Random(15)
    was_enabled = recorder.enabled
    recorder.enabled = False  # values made while re-running ops are not the user's
    try:
        for root_index, root in enumerate(roots):
            graph, too_large = read_graph(recorder, root, GRAPH_LIMIT)
            if too_large:
                continue
            for node_id, value in enumerate(topological_order(graph, root)):
                inputs = graph[id(value)][1]
                if not inputs:
                    continue
                op_index = (recorder.made.get(id(value), 0) >> 20) & 0xFFF
                key = (op_index, recorder.site_of(value))
                group = groups.get(key)
                if group is None:
                    group = groups[key] = {"total": 0, "sample": []}
                group["total"] += 1
                entry = (root_index, node_id, value, [c for c, _ in inputs])
                if len(group["sample"]) < SAMPLE:
                    group["sample"].append(entry)
                else:
                    j = rng.randrange(group["total"])
                    if j < SAMPLE:
                        group["sample"][j] = entry
        results = [_check_group(recorder, op_index, site, group, position_of_code) for (op_index, site), group in groups.items()]
    finally:
        recorder.enabled = was_enabled
    results.sort(key=lambda r: (r["ok"], r["siteId"]))
    return results


def _check_group(recorder, op_index, site, group, position_of_code):
    op = recorder.op_names[op_index] if op_index < len(recorder.op_names) else ""
    sample = group["sample"]
    first = sample[0][2]
    shown = getattr(first, "_op", None)
    name = shown if isinstance(shown, str) and shown else (op or "op")
    result = {"op": name, "siteId": site, "kind": "user", "ok": True, "total": group["total"], "checked": 0, "failed": 0}
    if type(first).__module__ == "gradlens_tutorial_value":
        result["kind"] = "built-in"
    codes = [code for code, index in recorder._op_of_code.items() if index == op_index]
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
    for root_index, node_id, value, children in sample:
        try:
            instance = _check_instance(value, children, op, name, functions)
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
            nodes.append({"root": root_index, "id": node_id})
        if score > worst_score:
            worst_score = score
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


def _analytic(value, children):
    """(local gradients, overwrites) from `_local_grads`, or from calling `_backward` in isolation."""
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
    saved = [(c, c.grad) for c in unique]
    saved_out = value.grad
    try:
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
        for c, g in saved:
            c.grad = g
        value.grad = saved_out
    overwrites = any(abs(added[k] - local[k]) > 1e-9 * max(1.0, abs(local[k])) for k in local)
    # A child listed twice (x*x with tuple children) got both edges' share: split it evenly.
    counts = {}
    for c in children:
        counts[id(c)] = counts.get(id(c), 0) + 1
    return [local[id(c)] / counts[id(c)] for c in children], overwrites


def _forward(value, children, op, functions):
    """A function of the inputs' numbers giving the op's output, checked to reproduce it, or a reason."""
    cls = type(children[0])
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
        for function in functions:
            if function is not method:
                candidates.append(lambda leaves, f=function: f(*leaves))
    if not candidates:
        return "no way to re-run %s: its method or function was not found" % (op or "this op")
    recorded = as_float(value.data)
    inputs = [as_float(c.data) for c in children]
    orders = [list(range(len(children)))]
    if len(children) == 2:
        orders.append([1, 0])  # set-valued children (micrograd) lose the argument order
    for candidate in candidates:
        for order in orders:
            def forward(xs, candidate=candidate, order=order):
                leaves = [cls(xs[j]) for j in order]
                out = candidate(leaves)
                return as_float(getattr(out, "data", math.nan))
            try:
                again = forward(inputs)
            except Exception:  # noqa: BLE001
                continue
            if again == recorded or abs(again - recorded) <= 1e-9 * max(1.0, abs(recorded)):
                return forward
    return "re-running %s did not give its recorded output (its inputs changed after it was made, e.g. by an optimizer step)" % (op or "the op")


def _check_instance(value, children, op, name, functions):
    analytic, overwrites = _analytic(value, children)
    if analytic is None:
        return "the op stores no local gradients and has no _backward"
    forward = _forward(value, children, op, functions)
    if isinstance(forward, str):
        return forward
    inputs = [as_float(c.data) for c in children]
    output = as_float(value.data)
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


def checks_for_run(run):
    """The op checks of a whole run's graphs, in the order `collect` lists its roots."""
    recorder = run.recorder
    roots = [value for value, _ in recorder.backward_roots.values()]
    if not roots and recorder.last_value is not None:
        roots = [recorder.last_value]

    def position_of_code(code):
        chunk = run.chunks.get(code.co_filename)
        return chunk.position(code.co_firstlineno) if chunk is not None else None

    return check_ops(recorder, roots, position_of_code)
