"""A captured graph (gradlens_capture.py) written out as the columns the TypeScript side turns into a
GraphSnapshot: node ids in topological order (children before parents, the root last).

Numeric columns travel as base64 of little-endian typed arrays (float64 for data, grad and local
gradients, uint32/int32 for the rest): NaN and infinities need no strings, and a 70,000-node graph is
written in milliseconds instead of the tenth of a second its JSON numbers would cost. A local
gradient nobody can know is NaN in `localGrad` and its edge is listed in `unknownLocalGrad`.
"""
import base64
import gc
import math
import numbers
import sys
from array import array
from bisect import bisect_left
from itertools import accumulate, chain, islice, repeat
from operator import ge, lt

from gradlens_attributes import read
from gradlens_capture import read_local_grads
from gradlens_closures import recover_local_grads
from gradlens_values import NUMBER_MASK, TAG_MASK, is_number


class GraphCycle(Exception):
    """A value is among its own inputs; `nodes` are the values around the cycle."""

    def __init__(self, nodes):
        super().__init__("cycle")
        self.nodes = nodes


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
    except Exception:  # noqa: BLE001
        return math.nan


def json_number(x):
    """JSON has no NaN or infinities; they travel as strings."""
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def packed_array(numbers_):
    if sys.byteorder == "big":
        numbers_ = array(numbers_.typecode, numbers_)
        numbers_.byteswap()
    return base64.b64encode(numbers_.tobytes()).decode("ascii")


def packed(typecode, values):
    values = values if isinstance(values, list) else list(values)
    try:
        numbers_ = array(typecode, values)
    except (TypeError, OverflowError):
        numbers_ = array(typecode, map(as_float, values))
    if sys.byteorder == "big":
        numbers_.byteswap()
    return base64.b64encode(numbers_.tobytes()).decode("ascii")


def inputs_of(recorder, taken):
    """Per node (capture order): its inputs that are values, in a stable order, and their positions
    in the node's own container (for lining local gradients up with them)."""
    shapes, sequence_of = recorder.shapes, recorder.sequence_of
    lists = []
    slots = None
    kinds = set(map(type, chain.from_iterable(filter(None, taken.children))))
    all_values = kinds <= shapes.keys()
    for container in taken.children:
        if not container:
            lists.append(())
        elif isinstance(container, (set, frozenset)):
            # micrograd keeps inputs in a set: order them by when they were made, for a stable drawing.
            lists.append(sorted((c for c in container if type(c) in shapes), key=sequence_of))
        elif all_values:
            lists.append(container)
        else:
            lists.append(None)
    if not all_values:
        slots = []
        for i, container in enumerate(taken.children):
            if lists[i] is None:
                try:
                    items = list(container)
                except TypeError:
                    items = []
                kept = [(j, c) for j, c in enumerate(items) if type(c) in shapes or recorder.is_value(c)]
                lists[i] = [c for _, c in kept]
                slots.append([j for j, _ in kept])
            else:
                slots.append(None)
    return lists, slots


class _Positions:
    """{id(value): node id} without a dictionary over every node: node ids are ranks of the values'
    (unique, increasing) records, found by bisection."""

    def __init__(self, made, sorted_keys):
        self.made = made
        self.keys = sorted_keys

    def get(self, key):
        record = self.made.get(key)
        if record is None:
            return None
        i = bisect_left(self.keys, record)
        return i if i < len(self.keys) and self.keys[i] == record else None


def _order(recorder, nodes, inputs):
    """(positions into `nodes` in topological order, node id of a value, inputs per node, inputs' node
    ids). Values record when they were made, and a value is made after its inputs: sorting by that is
    the order, unless the graph was edited afterwards (then a depth-first sort, which finds cycles)."""
    made = recorder.made
    keys = list(map(made.get, map(id, nodes)))
    if None not in keys:
        order = array("I", sorted(range(len(nodes)), key=keys.__getitem__))
        sorted_keys = list(map(keys.__getitem__, order))
        del keys
        if order[-1] == 0 and all(map(lt, sorted_keys, islice(sorted_keys, 1, None))):
            counts = array("I", map(len, map(inputs.__getitem__, order)))
            edges = chain.from_iterable(map(inputs.__getitem__, order))
            child = array("I", map(bisect_left, repeat(sorted_keys), map(made.__getitem__, map(id, edges))))
            parent = array("I", chain.from_iterable(map(repeat, range(len(order)), counts)))
            if not any(map(ge, child, parent)):
                return order, _Positions(made, sorted_keys), counts, child
            del parent, child
    order = _depth_first(nodes, inputs)
    index = dict(zip(map(id, map(nodes.__getitem__, order)), range(len(order))))
    counts = array("I", map(len, map(inputs.__getitem__, order)))
    child = array("I", map(index.__getitem__, map(id, chain.from_iterable(map(inputs.__getitem__, order)))))
    return order, index, counts, child


def _depth_first(nodes, inputs):
    position = {id(v): i for i, v in enumerate(nodes)}
    kids = [[position[id(c)] for c in cs] for cs in inputs]
    state = [0] * len(nodes)  # 0 new, 1 on the path, 2 done
    order = []
    stack = [(0, 0)]
    path = []
    while stack:
        i, next_child = stack.pop()
        if next_child == 0:
            if state[i] == 2:
                continue
            state[i] = 1
            path.append(i)
        if next_child < len(kids[i]):
            stack.append((i, next_child + 1))
            j = kids[i][next_child]
            if state[j] == 1:
                around = path[path.index(j):]
                raise GraphCycle([nodes[k] for k in around])
            if state[j] == 0:
                stack.append((j, 0))
            continue
        state[i] = 2
        path.pop()
        order.append(i)
    return order


def op_of(recorder, value, has_inputs, shape=None):
    shape = shape or recorder.shapes.get(type(value))
    if shape is not None and shape.op:
        op = read(value, "_op")
        if isinstance(op, str) and op:
            return op
    if not has_inputs:
        return ""
    return recorder.op_hint(value) or "op"


def label_of(recorder, value):
    shape = recorder.shapes.get(type(value))
    if shape is not None and shape.label:
        label = read(value, "label")
        if isinstance(label, str) and label:
            return label
    return recorder.label_of(id(value))


def snapshot(recorder, taken):
    """(columns, {id(value): node id}) of a capture. Raises GraphCycle."""
    if taken.written is None:
        taken.written = _snapshot(recorder, taken)
    return taken.written


def _snapshot(recorder, taken):
    recorder.sync()
    nodes = taken.nodes
    if taken.data is None:  # a root that is not a value after all
        return None, {}
    inputs, slots = inputs_of(recorder, taken)
    order, index, counts, child = _order(recorder, nodes, inputs)
    ordered = list(map(nodes.__getitem__, order))
    child_start = packed_array(array("I", accumulate(counts, initial=0)))
    child = packed_array(child)

    local, unknown = _local_gradients(recorder, taken, inputs, slots, order, counts)

    made = recorder.made
    # The sort by records already read them, in this order, when it gave the order.
    records = index.keys if isinstance(index, _Positions) else list(map(made.get, map(id, ordered), repeat(0)))
    tags = [k & TAG_MASK for k in records]
    site = list(map(recorder.tag_site.__getitem__, tags))
    shapes = recorder.shapes
    named = any(shapes[k].op for k in set(map(type, ordered)))
    hint_names = recorder.op_names
    op_names_of_tags = list(map(hint_names.__getitem__, map(recorder.tag_op.__getitem__, tags)))
    if named:
        ops = [op_of(recorder, v, n > 0) for v, n in zip(ordered, counts)]
    else:
        ops = [(hint or "op") if n else "" for hint, n in zip(op_names_of_tags, counts)]
    op_names = list(dict.fromkeys(ops))
    if len(op_names) > 0xFFFF:
        raise OverflowError("more than 65,535 different op names in one graph")
    op_index = {name: i for i, name in enumerate(op_names)}

    labels = {}
    if any(shapes[k].label for k in set(map(type, ordered))):
        for i, value in enumerate(ordered):
            label = label_of(recorder, value)
            if label:
                labels[str(i)] = label
    else:
        for key in list(recorder.labels):
            i = index.get(key)
            name = recorder.label_of(key)
            if i is not None and name is not None:
                labels[str(i)] = name

    columns = {
        "nodeCount": len(ordered),
        "opNames": op_names,
        "op": packed("H", map(op_index.__getitem__, ops)),
        "data": packed("d", map(taken.data.__getitem__, order)),
        "grad": packed("d", map(taken.grad.__getitem__, order)),
        "site": packed("i", site),
        "labels": labels,
        "childStart": child_start,
        "child": child,
        "localGrad": packed("d", local),
        "root": len(ordered) - 1,
    }
    if unknown:
        columns["unknownLocalGrad"] = unknown
    frames = recorder.calls.frames_for([k & NUMBER_MASK for k in records]) if recorder.calls is not None else None
    if frames is not None:
        columns["frames"] = {key: packed_array(v) if isinstance(v, array) else v for key, v in frames.items()}
    return columns, index


def _local_gradients(recorder, taken, inputs, slots, order, counts):
    """The local gradient of every edge, in edge order, and the edges where it is unknown."""
    nodes = taken.nodes
    read_local_grads(recorder, taken)
    per_node = _stored_local_grads(taken, inputs, slots)
    shapes = recorder.shapes
    closures = any(shapes[kind].closure for kind in set(map(type, nodes)))
    wanted = [bool(inputs[i]) and per_node[i] is None and shapes[type(v)].closure for i, v in enumerate(nodes)] if closures else ()
    if any(wanted):
        recovered = recover_local_grads(nodes, taken.data, taken.grad, inputs, wanted)
        for i, grads in enumerate(recovered):
            if grads is not None:
                per_node[i] = grads
    in_order = map(per_node.__getitem__, order)
    if None in per_node:
        local = list(chain.from_iterable(repeat(None, n) if g is None else g for g, n in zip(in_order, counts)))
    else:  # every node's local gradients lined up with its inputs (_stored_local_grads checked the lengths)
        local = list(chain.from_iterable(in_order))
    if None not in local:
        return local, []
    unknown = [i for i, g in enumerate(local) if g is None]
    return [math.nan if g is None else g for g in local], unknown


def _stored_local_grads(taken, inputs, slots):
    """Per node, the local gradients its value stores (`_local_grads`) lined up with its inputs, or None."""
    stored = taken.local_grads
    if stored is None:
        return [None] * len(inputs)
    if slots is None:
        try:
            if list(map(len, stored)) == list(map(len, inputs)):
                return list(stored)
        except TypeError:
            pass
    per_node = [None] * len(inputs)
    for i, grads in enumerate(stored):
        if not inputs[i] or grads is None:
            continue
        try:
            grads = list(grads)
        except TypeError:
            continue
        if slots is not None and slots[i] is not None:
            if len(grads) != len(taken.children[i]):
                continue
            grads = [grads[j] for j in slots[i]]
        if len(grads) == len(inputs[i]):
            per_node[i] = grads
    return per_node


def roots_from_heap(recorder):
    """When no backward() call or bound value says what to draw: the most recently made value
    that no other value uses, preferring one whose grad is 1 (backward ran on it)."""
    values = [obj for obj in gc.get_objects() if recorder.is_value(obj)]
    used = set()
    makers = []
    for i, value in enumerate(values):
        children = read(value, recorder.shapes[type(value)].children) or ()
        try:
            children = [c for c in children if recorder.is_value(c)]
        except TypeError:
            children = []
        used.update(map(id, children))
        if children:
            makers.append((i, value))
    candidates = [(i, v) for i, v in makers if id(v) not in used]
    if not candidates:
        return None
    _, best = max(candidates, key=lambda item: (as_float(read(item[1], "grad")) == 1.0, recorder.sequence_of(item[1]), item[0]))
    return best
