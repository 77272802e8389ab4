"""Gradient checks of the user's Python functions, with the user's own Value class.

For each function the request names (with the point GradLens chose: the @gradcheck values or seeded
random ones), the inputs are made with the user's class, the output's own backward() gives backprop's
gradient, and the central difference (f(x+eps) - f(x-eps)) / 2eps the numeric one. The tolerances,
verdicts and notes are those of GradLens's TypeScript checker (src/engine/gradcheck.ts): an input
passes when |analytic - numeric| <= atol + rtol*|numeric|; a failure where a ReLU flips between the
two sides of the step is a "kink", not a mismatch.
"""
import builtins
import math
import typing

from gradlens_errors import describe_exception, error_of
from gradlens_graph import as_float, json_number
from gradlens_messages import message_fields, said
from gradlens_values import children_attribute
from gradlens_opcheck import check_function_graph

KINK_OPS = ("relu", "ReLU", "Relu")
ROUNDING = 64 * 2.220446049250313e-16  # as src/engine/gradcheck.ts
SWEEP_STEPS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)  # SWEEP_STEPS there
MAX_SWEPT = 8


def run_checks(request, scope, run):
    """The results of every check of the request, as the TypeScript runner reports them."""
    options = request["gradcheck"]
    recorder = run.recorder
    # The checks' own backward() calls are not roots of the run's graph; values are still recorded, so
    # the op a value was made by is known where its class does not name ops (for kinks).
    recorder.record_backward = lambda value, caller, site=None, copy=False: None
    # A check calls the user's function many times, and its assignments are bound like any other: the
    # hovers (and the last value, the graph of a run with no backward()) must stay the program's own.
    # The binding helper holds these dicts themselves, so they are put back in place.
    counts, last = dict(recorder.binding_counts), dict(recorder.binding_last)
    last_value, last_binding = recorder.last_value, recorder.last_binding
    try:
        return [_json_ready(check_one(spec, scope, options, run)) for spec in request["checks"]]
    finally:
        del recorder.record_backward
        recorder.binding_counts.clear()
        recorder.binding_counts.update(counts)
        recorder.binding_last.clear()
        recorder.binding_last.update(last)
        recorder.last_value, recorder.last_binding = last_value, last_binding


def check_one(spec, scope, options, run):
    name = spec["name"]
    params = spec["params"]
    point = spec["point"]
    result = {"name": name, "point": point, "pointSource": spec.get("pointSource", "random"), "ok": False, "maxRelError": 0, "inputs": []}
    if spec.get("note"):
        result["note"] = spec["note"]
    fn = scope.get(name)
    if not callable(fn):
        result["error"] = dict(kind="runtime", **message_fields(said("{0} could not be found when the file ran", name)))
        return result
    try:
        value_class = _value_class(fn, params, scope)
        out = _check(fn, value_class, params, point, options, result, run.recorder)
        # The local gradients of the ops the function's graph used: a failing check names the wrong op.
        ops = check_function_graph(run, out)
        if ops is not None:
            result["ops"] = ops
            if any(not op["ok"] for op in ops):
                result["ok"] = False
    except BaseException as error:  # noqa: B036 - the user's function raised: shown at its line
        result["error"] = error_of(run.chunks, error, "runtime", describe_exception(error, run.markdown))
    return result


def _value_class(fn, params, scope):
    """The class the parameters are hinted with, else the file's `Value`, else the tutorial's."""
    hints = {}
    try:
        hints = typing.get_type_hints(fn, scope)
    except Exception:
        hints = getattr(fn, "__annotations__", {}) or {}
    for p in params:
        hint = hints.get(p["name"])
        args = typing.get_args(hint) if hint is not None else ()
        candidate = args[0] if p["kind"] == "array" and args else hint
        if isinstance(candidate, type):
            return candidate
    return scope.get("Value") or builtins.Value


def _check(fn, value_class, params, point, options, result, recorder):
    eps = options["eps"]
    atol = options["atol"]
    rtol = options["rtol"]
    names = [p["name"] for p in params]
    is_array = [p["kind"] == "array" for p in params]
    base_point = [list(point[n]) if a else [point[n]] for n, a in zip(names, is_array)]

    def evaluate(at, with_grads):
        leaves = [[value_class(x) for x in xs] for xs in at]
        args = [vs if a else vs[0] for vs, a in zip(leaves, is_array)]
        out = fn(*args)
        if not (hasattr(out, "data") and hasattr(out, "grad")):
            kind = type(out).__name__
            raise TypeError("%s must return a Value to be checked, but it returned %s" % (fn.__name__, kind))
        if with_grads:
            out.backward()
        return as_float(out.data), leaves, out

    output, leaves, out = evaluate(base_point, True)
    analytic = [[as_float(v.grad) for v in vs] for vs in leaves]
    op_of = lambda v: getattr(v, "_op", None) or recorder.op_hint(v)  # noqa: E731
    base_kinks = _kink_pattern(out, op_of)
    checks = []
    swept = 0
    for a, xs in enumerate(base_point):
        for k, x in enumerate(xs):
            def moved(delta):
                return [[y + delta if (b == a and j == k) else y for j, y in enumerate(ys)] for b, ys in enumerate(base_point)]

            plus, _, plus_out = evaluate(moved(eps), False)
            minus, _, minus_out = evaluate(moved(-eps), False)
            numeric = (plus - minus) / (2 * eps)
            g = analytic[a][k]
            name = "%s[%d]" % (names[a], k) if is_array[a] else names[a]
            scale = max(abs(plus), abs(minus), abs(output))
            check = {"name": name, **_compare(g, numeric, atol, rtol, ROUNDING * scale / eps), "verdict": "ok"}
            ok = check["ok"]
            if not math.isfinite(g) or not math.isfinite(numeric):
                check["ok"] = False
                check["verdict"] = "non-finite"
                check["note"] = "gradient is not finite here (backprop %s, numeric %s)" % (_js(g), _js(numeric))
            elif not ok and (_kink_pattern(plus_out, op_of) != base_kinks or _kink_pattern(minus_out, op_of) != base_kinks):
                check["ok"] = True
                check["verdict"] = "kink"
                check["note"] = (
                    "%s sits on a kink (a relu argument is within ε of 0): the derivative is undefined there; "
                    "backprop uses relu'(0) = 0, the central difference averages both sides" % name
                )
            elif not ok:
                check["verdict"] = "mismatch"
                check["note"] = "backprop says %s, numerical differentiation says %s" % (_js(g), _js(numeric))
                if swept < MAX_SWEPT:
                    swept += 1

                    def numeric_at(h):
                        return (evaluate(moved(h), False)[0] - evaluate(moved(-h), False)[0]) / (2 * h)

                    _sweep(check, numeric_at, lambda n, h: _compare(g, n, atol, rtol, ROUNDING * scale / h)["ok"])
            elif check.get("undecided"):
                check["note"] = "|gradient| is below the rounding noise of the difference (%s): the check cannot tell" % _precision2(ROUNDING * scale / eps)
            elif check["weak"]:
                check["note"] = "|gradient| is small next to atol = %s: judged by relative error (%s) instead" % (_js(atol), _precision2(check["relError"]))
            checks.append(check)
    result["ok"] = all(c["ok"] for c in checks)
    result["output"] = output
    result["inputs"] = checks
    finite = [c["relError"] for c in checks if math.isfinite(c["relError"])]
    result["maxRelError"] = max(finite) if finite else 0
    return out


def _compare(analytic, numeric, atol, rtol, noise):
    """As compare() in src/engine/gradcheck.ts: |a - n| <= atol + rtol*|n|, and which term decided; a
    weak check (|grad| below atol, or passing only thanks to atol) is judged by the relative term."""
    abs_error = abs(analytic - numeric)
    relative = rtol * abs(numeric)
    tolerance = atol + relative
    out = {
        "analytic": analytic, "numeric": numeric, "absError": abs_error, "relError": _relative_error(analytic, numeric),
        "ok": abs_error <= tolerance, "tolerance": tolerance, "decidedBy": "atol" if atol >= relative else "rtol", "weak": False,
    }
    if not math.isfinite(abs_error):
        return out
    size = max(abs(analytic), abs(numeric))
    if size < atol or (out["ok"] and abs_error > relative + noise):
        out["weak"] = True
        if size <= noise:
            out["ok"] = True
            out["undecided"] = True
            return out
        out["ok"] = abs_error <= relative + noise
    return out


def _sweep(check, numeric_at, agrees):
    """As sweepInput() in src/engine/gradcheck.ts: a wrong gradient stays wrong at every step of
    1e-2 ... 1e-8; a poor difference at the default step agrees somewhere in between."""
    sweep = []
    for h in SWEEP_STEPS:
        try:
            n = numeric_at(h)
        except (ArithmeticError, ValueError):
            n = math.nan
        sweep.append({"eps": h, "numeric": n, "absError": abs(check["analytic"] - n)})
    check["sweep"] = sweep
    agreeing = [p for p in sweep if math.isfinite(p["numeric"]) and agrees(p["numeric"], p["eps"])]
    if not agreeing:
        check["sweepVerdict"] = "wrong-gradient"
        best = min(p["absError"] for p in sweep)
        check["note"] = "backprop says %s, numerical differentiation says %s; at every step from 1e-2 to 1e-8 the error stays (at least %s): the gradient is wrong" % (
            _js(check["analytic"]), _js(check["numeric"]), _precision2(best))
        return
    best = min(agreeing, key=lambda p: p["absError"])
    check["sweepVerdict"] = "poor-difference"
    check["ok"] = True
    check["verdict"] = "ok"
    check["note"] = "a poor finite difference, not a wrong gradient: at step %s numerical differentiation gives %s, which agrees (the error shrinks, then grows)" % (
        _js(best["eps"]), _js(best["numeric"]))


def _precision2(x):
    """JavaScript's x.toPrecision(2)."""
    if not math.isfinite(x):
        return _js(x)
    if x == 0:
        return "0.0"
    mantissa, exponent = ("%.1e" % x).split("e")
    e = int(exponent)
    if e < -6 or e >= 2:
        return "%se%s%d" % (mantissa, "+" if e >= 0 else "-", abs(e))
    return "%.*f" % (1 - e, x)


def _relative_error(analytic, numeric):
    """|a - n| / |n|, or the absolute error where the numeric value is 0."""
    difference = abs(analytic - numeric)
    return difference if numeric == 0 else difference / abs(numeric)


def _kink_pattern(root, op_of):
    """Which side of 0 each ReLU's input is on, over the graph of `root`."""
    pattern = []
    seen = set()
    stack = [root]
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        children = children_attribute(v) or ()
        try:
            children = list(children)
        except TypeError:
            children = []
        if children and op_of(v) in KINK_OPS:
            pattern.append("1" if as_float(children[0].data) > 0 else "0")
        stack.extend(children)
    return "".join(pattern)


def _json_ready(result):
    """JSON has no NaN or infinities: they travel as strings, as in the graph."""
    for key in ("output", "maxRelError"):
        if key in result:
            result[key] = json_number(as_float(result[key]))
    for check in result["inputs"]:
        for key in ("analytic", "numeric", "absError", "relError", "tolerance"):
            check[key] = json_number(check[key])
        for point in check.get("sweep", ()):
            for key in ("numeric", "absError"):
                point[key] = json_number(point[key])
    return result


def _js(x):
    """A number as JavaScript's String(x) writes it, so notes read as the TypeScript checker's do
    (the same shortest digits as repr, but JavaScript's rules for when to use an exponent)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    text = repr(abs(float(x)))
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + int(exponent or 0) - (len(whole + fraction) - len((whole + fraction).lstrip("0")))
    digits = digits.rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        out = (digits if k == 1 else digits[0] + "." + digits[1:]) + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return ("-" if x < 0 else "") + out
