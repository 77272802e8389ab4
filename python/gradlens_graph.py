"""A captured graph (gradlens_capture.py) written out as the columns the TypeScript side turns into a
GraphSnapshot: node ids in topological order (children before parents, the root last). A node's site
and (unless its class names ops) its op are given by its tag, through the run's tag tables.

Numeric columns are little-endian typed arrays (float64 for data, grad and local gradients,
uint16/uint32/int32 for the rest): NaN and infinities need no strings, and a 70,000-node graph is
written in milliseconds instead of the tenth of a second its JSON numbers would cost. They stay
`array`s in the columns until written: raw bytes after the result's JSON (ColumnBlock), base64 in a
streamed JSON line (streamed_json). A local gradient nobody can know is NaN in `localGrad` and its
edge is listed in `unknownLocalGrad`.
"""
import base64
import gc
import json
import math
import numbers
import os
import sys
from array import array
from bisect import bisect_left
from itertools import chain, islice, repeat
from operator import and_, eq, ge, lt

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
    """The column as it is written: little-endian."""
    if sys.byteorder == "big":
        numbers_ = array(numbers_.typecode, numbers_)
        numbers_.byteswap()
    return numbers_


def packed(typecode, make_values):
    """The column of `make_values()` (a function, called again for the careful conversion of values
    that are not plain numbers)."""
    try:
        numbers_ = array(typecode, make_values())
    except (TypeError, OverflowError):
        numbers_ = array(typecode, map(as_float, make_values()))
    return packed_array(numbers_)


_PLACEHOLDER = "gl%s-" % os.urandom(16).hex()  # no text of the user's holds it: placeholders' stand-ins for columns


def streamed_json(obj):
    """The pieces of `obj`'s JSON text (no NaN) for a line streamed while the code runs, its columns as
    base64 strings: json.dumps(obj, default=<a column as base64 text>), without handing megabytes of
    base64 through json's string escaping (base64 needs none). Each column is dumped as a placeholder,
    then its text is put in the placeholder's place."""
    columns = []

    def placeholder(column):
        if not isinstance(column, array):
            raise TypeError("%s is not JSON serializable" % type(column).__name__)
        columns.append(column)
        return "%s%d." % (_PLACEHOLDER, len(columns) - 1)

    text = json.dumps(obj, allow_nan=False, default=placeholder)
    pieces = []
    at = 0
    for k, column in enumerate(columns):
        quoted = '"%s%d."' % (_PLACEHOLDER, k)
        i = text.index(quoted, at)  # in order: json asks for the columns in the order it writes them
        pieces += (text[at:i], '"', base64.b64encode(column).decode("ascii"), '"')
        at = i + len(quoted)
    pieces.append(text[at:])
    return pieces


class ColumnBlock:
    """json's `default` for the result file: each column is written as {"at": offset, "bytes": length}
    into a block of raw bytes that follows the JSON (after its newline, padded to a multiple of 8, each
    column at a multiple of 8), so the reader takes typed arrays of it without decoding text."""

    ALIGN = 8

    def __init__(self):
        self.columns = []
        self.size = 0

    def __call__(self, obj):
        if not isinstance(obj, array):
            raise TypeError("%s is not JSON serializable" % type(obj).__name__)
        at = self.size
        length = len(obj) * obj.itemsize
        self.columns.append(obj)
        self.size += -(-length // self.ALIGN) * self.ALIGN
        return {"at": at, "bytes": length}

    def write_after(self, out, written):
        """Writes the block to the binary file `out`, whose JSON (and newline) took `written` bytes."""
        out.write(bytes(-written % self.ALIGN))
        for column in self.columns:
            out.write(column)
            out.write(bytes(-(len(column) * column.itemsize) % self.ALIGN))


def inputs_of(recorder, taken):
    """Per node (capture order): its inputs that are values, in a stable order, and their positions
    in the node's own container (for lining local gradients up with them)."""
    shapes, sequence_of = recorder.shapes, recorder.sequence_of
    lists = []
    slots = None
    kinds = set(map(type, chain.from_iterable(filter(None, taken.children))))
    all_values = kinds <= shapes.keys()
    if all_values and set(map(type, taken.children)) <= {tuple, list}:
        return list(taken.children), None  # (microgpt's tuples, leaves' empty ones)
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


def _order(recorder, nodes, inputs, kinds, fast_only=False):
    """(node ids: positions into `nodes` in topological order, the node id of a value, each node's
    creation record (0: none) and each edge's input as a position into `nodes`, both in the capture's
    order). Values record when they were made, and a value is made after its inputs: sorting by that
    is the order, unless the graph was edited afterwards (then a depth-first sort, which finds cycles).
    `fast_only`: None instead of the depth-first sort, or when an input is not among the nodes.

    Every edge is checked against that order only when the user's code changed some value's inputs
    (recorder.inputs_changed): a pass over every edge, a tenth of the reading of a big graph. Without
    such a change an input can still come after its value only when a value's record is not its own
    (made without its class's __init__: copy, pickle); the reader checks every edge anyway and then
    puts the nodes in topological order itself (src/runner/python/graphOrder.ts)."""
    made = recorder.made
    keys = list(map(made.get, map(id, nodes)))
    if None not in keys:
        order = array("I", sorted(range(len(nodes)), key=keys.__getitem__))
        sorted_keys = list(map(keys.__getitem__, order))
        if order[-1] == 0 and all(map(lt, sorted_keys, islice(sorted_keys, 1, None))):
            child = _input_positions(recorder, nodes, inputs, order, sorted_keys, kinds)
            if child is not None and not (recorder.inputs_changed and _input_after(order, inputs, child)):
                return order, _Positions(made, sorted_keys), keys, child
            del child
    if fast_only:
        return None
    order = _depth_first(nodes, inputs)
    index = dict(zip(map(id, map(nodes.__getitem__, order)), range(len(order))))
    position = {id(v): i for i, v in enumerate(nodes)}
    child = array("I", map(position.__getitem__, map(id, chain.from_iterable(inputs))))
    return order, index, [0 if k is None else k for k in keys], child


def _input_after(order, inputs, child):
    """Whether some edge's input comes at or after its node in `order` (edges as _order gives them)."""
    rank = array("I", sorted(range(len(order)), key=order.__getitem__))  # position into nodes -> node id
    parents = chain.from_iterable(map(repeat, rank, map(len, inputs)))
    return any(map(ge, map(rank.__getitem__, child), parents))


def _input_positions(recorder, nodes, inputs, order, sorted_keys, kinds):
    """Every edge's input as a position into `nodes`, edges in the capture's order; None when an input
    is not among the nodes. Values that hash by identity are looked up directly in {value: position}
    (no id() or creation record per edge, and the table lives only here); others are found by the
    bisection of their records."""
    edges = chain.from_iterable(inputs)
    if _hash_by_identity(kinds):
        position = dict(zip(nodes, range(len(nodes))))
        try:
            return array("I", map(position.__getitem__, edges))
        except (KeyError, TypeError):
            return None
    try:
        return array("I", map(order.__getitem__, map(bisect_left, repeat(sorted_keys), map(recorder.made.__getitem__, map(id, edges)))))
    except (KeyError, TypeError, IndexError):
        return None


def _hash_by_identity(kinds):
    return all(kind.__hash__ is object.__hash__ and kind.__eq__ is object.__eq__ for kind in kinds)


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
    kinds = taken.kinds if taken.kinds is not None else set(map(type, nodes))
    # Inputs kept in tuples or lists of values that hash by identity are taken as they are: the
    # lookup of every input among the nodes (in _order) is then the check that they are all values.
    ordered = slots = None
    if _hash_by_identity(kinds) and set(map(type, taken.children)) <= {tuple, list}:
        inputs = list(taken.children)
        ordered = _order(recorder, nodes, inputs, kinds, fast_only=True)
    if ordered is None:
        inputs, slots = inputs_of(recorder, taken)
        ordered = _order(recorder, nodes, inputs, kinds)
    order, index, records, child = ordered
    del ordered
    # Per value and per edge, the columns are in the capture's order (each goes from the capture to its
    # packed bytes in one C-level pass, no reordering); `order` gives the node ids, and the reader
    # puts them in node order (src/runner/python/snapshotColumns.ts). No list of a number per node or
    # edge outlives its column: the end of a run is where its memory peaks.
    counts = array("I", map(len, inputs))
    local, unknown = _local_gradients(recorder, taken, inputs, slots, counts, kinds)
    del inputs, slots
    # A node's site, and its op when the class names none, follow from its tag (the (op, site) pair of
    # the method and line that made it): the reader looks them up in the run's tables, per tag.
    tags = packed_array(array("I", map(and_, records, repeat(TAG_MASK))))
    shapes = recorder.shapes
    if any(shapes[k].op for k in kinds):
        ops = list(map(op_of, repeat(recorder), nodes, map(bool, counts)))
        op_names = list(dict.fromkeys(ops))
        if len(op_names) > 0xFFFF:
            raise OverflowError("more than 65,535 different op names in one graph")
        op_index = {name: i for i, name in enumerate(op_names)}
        op_columns = {"opNames": op_names, "op": packed("H", lambda: map(op_index.__getitem__, ops))}
        del ops
    else:
        # The op of the method that made it (its name; "" when no method: "op" if it has inputs), for nodes with inputs.
        op_columns = {"opNames": list(recorder.op_names), "tagOp": packed_array(array("I", recorder.tag_op))}

    labels = {}
    if any(shapes[k].label for k in kinds):
        for i, value in enumerate(map(nodes.__getitem__, order)):
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
        "nodeCount": len(order),
        "order": packed("I", lambda: order),
        **op_columns,
        "data": packed("d", lambda: taken.data),
        "grad": packed("d", lambda: taken.grad),
        "tag": tags,
        "tagSite": packed_array(array("i", recorder.tag_site)),
        "labels": labels,
        "childCount": packed_array(counts),
        "child": packed_array(child),
        "localGrad": local,
        "root": len(order) - 1,
    }
    if unknown:
        columns["unknownLocalGrad"] = unknown
    if recorder.calls is None:
        frames = None
    elif isinstance(index, _Positions):  # its records, in node order, are in creation order
        frames = recorder.calls.frames_for(index.keys, ascending=True)
    else:
        frames = recorder.calls.frames_for(map(and_, map(records.__getitem__, order), repeat(NUMBER_MASK)))
    if frames is not None:
        columns["frames"] = {key: packed_array(v) if isinstance(v, array) else v for key, v in frames.items()}
    return columns, index


def _local_gradients(recorder, taken, inputs, slots, counts, kinds):
    """The packed local gradient of every edge and the edges where it is unknown, edges in the capture's order."""
    nodes = taken.nodes
    read_local_grads(recorder, taken, kinds)
    per_node = _stored_local_grads(taken, inputs, slots)
    shapes = recorder.shapes
    closures = any(shapes[kind].closure for kind in kinds)
    wanted = [bool(inputs[i]) and per_node[i] is None and shapes[type(v)].closure for i, v in enumerate(nodes)] if closures else ()
    if any(wanted):
        recovered = recover_local_grads(nodes, taken.data, taken.grad, inputs, wanted)
        for i, grads in enumerate(recovered):
            if grads is not None:
                per_node[i] = grads
    if None not in per_node:  # every node's local gradients lined up with its inputs (_stored_local_grads checked the lengths)
        try:
            return packed_array(array("d", chain.from_iterable(per_node))), []
        except (TypeError, OverflowError):
            pass  # a gradient that is a Value, None or too large: the careful way
        local = list(chain.from_iterable(per_node))
    else:
        local = list(chain.from_iterable(repeat(None, n) if g is None else g for g, n in zip(per_node, counts)))
    if None not in local:
        return packed("d", lambda: local), []
    unknown = [i for i, g in enumerate(local) if g is None]
    return packed("d", lambda: (math.nan if g is None else g for g in local)), unknown


def _stored_local_grads(taken, inputs, slots):
    """Per node, the local gradients its value stores (`_local_grads`) lined up with its inputs, or None."""
    stored = taken.local_grads
    if stored is None:
        return [None] * len(inputs)
    if slots is None:
        try:
            if len(stored) == len(inputs) and all(map(eq, map(len, stored), map(len, inputs))):
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
