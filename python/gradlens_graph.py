"""Reading a graph of values back after the run, as columns the TypeScript side turns into a
GraphSnapshot (node ids in topological order: children before parents, the root last)."""
import gc
import math

from gradlens_values import children_attribute, is_number


def as_float(x):
    kind = type(x)
    if kind is float:
        return x
    try:
        if kind is not int and kind is not bool and not is_number(x):
            x = getattr(x, "data", x)  # a local gradient kept as a Value
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf
    except Exception:
        return math.nan


def json_number(x):
    """JSON has no NaN or infinities; they travel as strings."""
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def inputs_of(recorder, value):
    """[(child, local gradient or NaN)] in the order the value lists them."""
    children = children_attribute(value)
    if not children:
        return []
    value_types, is_value = recorder.value_types, recorder.is_value
    if isinstance(children, (set, frozenset)):
        # micrograd keeps inputs in a set: order them by when they were made, for a stable drawing.
        items = sorted((c for c in children if type(c) in value_types or is_value(c)), key=recorder.sequence_of)
        return [(c, math.nan) for c in items]
    try:
        items = list(children)
    except TypeError:
        return []
    grads = getattr(value, "_local_grads", None)
    try:
        grads = list(grads) if grads is not None else None
    except TypeError:
        grads = None
    if grads is None or len(grads) != len(items):
        grads = [math.nan] * len(items)  # unknown local derivatives are not guessed
    return [(c, as_float(g)) for c, g in zip(items, grads) if type(c) in value_types or is_value(c)]


def read_graph(recorder, root, limit):
    """{id(value): (value, inputs)} for every value that leads to `root`, read breadth-first so
    that when there are more than `limit`, the second result says so."""
    graph = {id(root): (root, inputs_of(recorder, root))}
    frontier = [root]
    while frontier:
        following = []
        for value in frontier:
            for child, _ in graph[id(value)][1]:
                key = id(child)
                if key in graph:
                    continue
                if len(graph) >= limit:
                    return graph, True
                graph[key] = (child, inputs_of(recorder, child))
                following.append(child)
        frontier = following
    return graph, False


def topological_order(graph, root):
    """Children before parents, the root last (iterative: graphs can be deeper than the recursion limit)."""
    order = []
    done = set()
    stack = [(root, False)]
    while stack:
        value, children_done = stack.pop()
        if children_done:
            order.append(value)
            continue
        if id(value) in done:
            continue
        done.add(id(value))
        stack.append((value, True))
        for child, _ in reversed(graph[id(value)][1]):
            if id(child) not in done:
                stack.append((child, False))
    return order


def op_of(recorder, value, has_inputs):
    op = getattr(value, "_op", None)
    if isinstance(op, str) and op:
        return op
    if not has_inputs:
        return ""
    return recorder.op_hint(value) or "op"


def label_of(recorder, value):
    label = getattr(value, "label", None)
    if isinstance(label, str) and label:
        return label
    return recorder.labels.get(id(value))


def snapshot(recorder, root, node_limit):
    """The graph of `root` as columns, {id(value): node id} for finding bound values in it, and
    whether it has more than `node_limit` nodes (then the columns are empty)."""
    graph, too_large = read_graph(recorder, root, node_limit)
    if too_large:
        return None, {}, True
    order = topological_order(graph, root)
    index = {id(v): i for i, v in enumerate(order)}
    op_names, op_index = [], {}
    ops, data, grad, site, child_start, child, local_grad = [], [], [], [], [], [], []
    labels = {}
    for i, value in enumerate(order):
        inputs = graph[id(value)][1]
        name = op_of(recorder, value, bool(inputs))
        k = op_index.get(name)
        if k is None:
            k = op_index[name] = len(op_names)
            op_names.append(name)
        ops.append(k)
        data.append(json_number(as_float(value.data)))
        grad.append(json_number(as_float(value.grad)))
        site.append(recorder.site_of(value))
        label = label_of(recorder, value)
        if label:
            labels[str(i)] = label
        child_start.append(len(child))
        for c, g in inputs:
            child.append(index[id(c)])
            local_grad.append(json_number(g))
    child_start.append(len(child))
    columns = {
        "nodeCount": len(order), "opNames": op_names, "op": ops, "data": data, "grad": grad, "site": site,
        "labels": labels, "childStart": child_start, "child": child, "localGrad": local_grad, "root": len(order) - 1,
    }
    return columns, index, False


def roots_from_heap(recorder):
    """When no backward() call or bound value says what to draw: the most recently made value
    that no other value uses, preferring one whose grad is 1 (backward ran on it)."""
    values = [obj for obj in gc.get_objects() if recorder.is_value(obj)]
    used = set()
    for value in values:
        for child, _ in inputs_of(recorder, value):
            used.add(id(child))
    candidates = [(i, v) for i, v in enumerate(values) if id(v) not in used and inputs_of(recorder, v)]
    if not candidates:
        return None
    _, best = max(candidates, key=lambda item: (as_float(item[1].grad) == 1.0, recorder.sequence_of(item[1]), item[0]))
    return best
