"""The graph of a root as it is at one moment (when its backward() returned): every value that leads
to it, with the data and grad each had then. Later updates (`p.data -= lr * p.grad`, `p.grad = 0`)
do not reach the copy.

Taken on every backward() call. From the second call at a call site on, a capture is usually *lazy*
(`lazy`): it keeps the list backward() walked and copies nothing; the first write user code makes to a
value afterwards saves that value's numbers (gradlens_values.Recorder.write_helper), and the numbers are
read when the capture is — per call site only the last call's ever is, so a training loop no longer pays
a copy of its whole graph at every step (the rule that keeps this exact: Recorder.lazy_blocked). The
copies that remain are kept to C-speed steps (set algebra, `map` with attribute getters): a graph of
~70,000 values costs a few tens of milliseconds. Only references and numbers are copied; the structure
(inputs, local gradients) is read from the values' own containers when the graph is written out
(gradlens_graph.py).
"""
from itertools import chain, compress
from operator import attrgetter, not_

from gradlens_attributes import read

get_data = attrgetter("data")
get_grad = attrgetter("grad")


class Capture:
    """Parallel lists over `nodes` (the root first; any order): what each value was at capture time
    (`local_grads` only once read_local_grads has read them).

    A capture taken from the list the root's backward() walked may be *unchecked*: its columns were
    copied when backward() returned (so they are exact), but whether that list is exactly the graph is
    checked only when the capture is first read (`settle`). Per call site only the last backward()'s
    capture is kept, so most captures are replaced before anyone reads them, and the check is paid once."""

    __slots__ = ("root", "_nodes", "_data", "_grad", "_children", "local_grads", "kinds", "_too_large", "written", "_unchecked", "walked", "saved", "saved_grad", "site")

    def __init__(self, root):
        self.root = root
        self._nodes = [root]
        self._data = self._grad = self._children = self.local_grads = None
        self.kinds = None  # the nodes' classes (or more), when the capture found them: a pass over every node less when it is written
        self._too_large = False
        self._unchecked = None  # the recorder, while the walked list is not yet checked (or the capture is lazy)
        self.written = None  # gradlens_graph.snapshot's result, kept: the run's root and a training step can be one capture
        # A lazy capture (see `lazy`): the list backward() walked (or None), and {id: data} and {id: grad}
        # of the values user code wrote to since, as they were before that write (None once the numbers are copied).
        self.walked = self.saved = self.saved_grad = None
        self.site = 0

    def settle(self):
        recorder, self._unchecked = self._unchecked, None
        if recorder is not None:
            if self.saved is not None:
                _materialise(recorder, self)
            else:
                _settle_walked(recorder, self)
        return self

    def _column(name):  # noqa: N805 — builds the properties below
        slot = "_" + name

        def get(self):
            if self._unchecked is not None:
                self.settle()
            return getattr(self, slot)

        def set_(self, value):
            setattr(self, slot, value)

        return property(get, set_)

    nodes, data, grad, children, too_large = map(_column, ("nodes", "data", "grad", "children", "too_large"))
    del _column


def capture(recorder, root, limit, walked=None, check=True):
    """`walked`: the list the root's own backward() walked (root last), used as the nodes when it is
    exactly the graph: no value twice, every input of every value in it, nothing else. `check` False:
    that is checked when the capture is first read (see Capture); the numbers are copied now either way."""
    taken = Capture(root)
    if not recorder.is_value(root):
        return taken
    nodes = kinds = None
    if walked is not None:
        if not check and len(walked) <= limit:
            copied = _walked_copy(recorder, walked)
            if copied is not None:
                taken._nodes, taken._children, taken._data, taken._grad = copied
                taken._unchecked = recorder
                return taken
        checked = _walked_graph(recorder, walked, limit)
        if checked is not None:
            nodes, kinds, children = checked
            if nodes is False:
                taken.too_large = True
                return taken
            taken.nodes = nodes
            return _numbers(recorder, taken, kinds, children)
    nodes, kinds = reachable(recorder, root, limit)
    if nodes is None:
        taken.too_large = True
        return taken
    taken.nodes = nodes
    return _numbers(recorder, taken, kinds or set(map(type, nodes)))


def lazy(recorder, root, walked, site):
    """A capture that copies nothing yet: the graph's values are kept by reference (the walked list, or
    the root), and their numbers are read when the capture is first read (`settle`), each value's as
    saved before the first write user code made to it since (`saved`, filled by the recorder's write
    helper) or, when it was not written to, as it is. Exact as long as every write is seen: the rule is
    in gradlens_values.Recorder.lazy_blocked."""
    taken = Capture(root)
    taken.walked = walked
    taken.saved = {}
    taken.saved_grad = {}
    taken.site = site
    taken._unchecked = recorder
    taken._nodes = None
    return taken


def _materialise(recorder, taken):
    """The numbers of a lazy capture, as they were at its backward()."""
    saved, saved_grad, walked = taken.saved, taken.saved_grad, taken.walked
    taken.saved = taken.saved_grad = taken.walked = None
    recorder.lazy_settled(taken)
    # The list is the program's: checked as it is now (it may have changed since; the numbers do not depend on it).
    copied = _walked_copy(recorder, walked) if walked and walked[-1] is taken.root and len(walked) <= recorder.node_limit else None
    if copied is not None:
        taken._nodes, taken._children, taken._data, taken._grad = copied
    else:
        full = capture(recorder, taken.root, recorder.node_limit)
        taken._nodes, taken._children, taken._data, taken._grad, taken._too_large = full._nodes, full._children, full._data, full._grad, full._too_large
    if saved and taken._data is not None:
        ids = list(map(id, taken._nodes))
        taken._data = list(map(saved.get, ids, taken._data))
        taken._grad = list(map(saved_grad.get, ids, taken._grad))
    if copied is not None:
        _settle_walked(recorder, taken)


def _walked_copy(recorder, walked):
    """(nodes root first, their inputs, data, grad) of the walked list as it is now, at C speed, when
    it holds every value of the root's graph (no value twice, every input of every value in it);
    else None. Whether it holds more than the graph is left to `settle`: those values' numbers are
    copied too, so the graph is exact either way."""
    try:
        nodes = walked[::-1]
        children = list(map(attrgetter(recorder.shapes[type(nodes[0])].children), nodes))
        members = set(nodes)
        if len(members) != len(nodes) or not members.issuperset(chain.from_iterable(children)):
            return None
        return nodes, children, list(map(get_data, nodes)), list(map(get_grad, nodes))
    except Exception:  # noqa: BLE001 — numbers in the list, another value class, unhashable values, a raising __getattr__
        return None


def _settle_walked(recorder, taken):
    """Checks an unchecked capture: its list is the graph when it has nothing else (every value but the
    root an input of another) and only value classes; else the graph is walked from the root over the
    inputs as they were at backward(), every value of it in the list (so its numbers are of that moment)."""
    nodes, children = taken._nodes, taken._children
    inputs = set(chain.from_iterable(children))
    if len(inputs) == len(nodes) - 1 and nodes[0] not in inputs:
        kinds = set(map(type, nodes))
        if kinds <= recorder.shapes.keys():
            taken.kinds = kinds
            return
    position = {id(v): i for i, v in enumerate(nodes)}
    keep = []
    seen = set()
    pending = [0]
    while pending:
        i = pending.pop()
        if i in seen:
            continue
        seen.add(i)
        keep.append(i)
        # .get: an input added to a mutable container (a set) after backward() was not there then.
        pending.extend(j for j in map(position.get, map(id, children[i])) if j is not None)
    keep.sort()  # the root (0) first, the list's order otherwise
    pick = lambda column: [column[i] for i in keep]  # noqa: E731
    taken._nodes, taken._children, taken._data, taken._grad = pick(nodes), pick(children), pick(taken._data), pick(taken._grad)


def reachable(recorder, root, limit):
    """(the values of the root's graph, root first; their classes when all are value classes, else None);
    (None, None) past `limit`."""
    try:
        nodes = _reachable_one_kind(recorder, root, limit)
        if nodes is None:
            return None, None
        kinds = set(map(type, nodes))
        if kinds <= recorder.shapes.keys():
            return nodes, kinds
    except Exception:  # noqa: BLE001 — numbers among the inputs, several value classes, a raising __getattr__
        pass
    try:
        nodes = _reachable_fast(recorder, root, limit)
    except TypeError:  # unhashable values (a class with __eq__ but no __hash__), odd containers
        nodes = _reachable_slow(recorder, root, limit)
    return nodes, None


def leaf_grads(recorder, root, limit):
    """(leaf, its grad now) for the values of the root's graph that have no inputs, in the capture's
    order; None past `limit` or when the root is no value. Reads only the leaves' grads: what
    gradlens_backward_watch.py needs before a backward(), without a copy of every value's numbers."""
    if not recorder.is_value(root):
        return None
    nodes, kinds = reachable(recorder, root, limit)
    if nodes is None:
        return None
    leaves = list(compress(nodes, map(not_, _children_of(recorder, nodes, kinds or set(map(type, nodes))))))
    try:
        return list(zip(leaves, list(map(get_grad, leaves))))
    except Exception:  # noqa: BLE001 — a __getattr__ of the user's that raises
        return [(v, read(v, "grad")) for v in leaves]


def _walked_graph(recorder, walked, limit):
    """(nodes root first, kinds, inputs per node) when `walked` holds exactly the root's graph; (False, …)
    past `limit`; None when it is not the graph (the capture then walks it itself)."""
    try:
        kinds = set(map(type, walked))
        shapes = recorder.shapes
        if not kinds <= shapes.keys():
            return None
        names = {shapes[kind].children for kind in kinds}
        if len(names) != 1:
            return None
        nodes = walked[::-1]
        children = list(map(attrgetter(names.pop()), nodes))
        members = set(nodes)
        inputs = set(chain.from_iterable(children))
        # Every input in the list, and every value in it but the root an input: the root's graph, no more.
        if len(members) != len(nodes) or len(inputs) != len(nodes) - 1 or not inputs <= members or nodes[0] in inputs:
            return None
    except Exception:  # noqa: BLE001 — unhashable values, a raising __getattr__: the careful walk
        return None
    if len(nodes) > limit:
        return False, None, None
    return nodes, kinds, children


def _numbers(recorder, taken, kinds, children=None):
    """Fills the capture's columns for its nodes."""
    nodes = taken.nodes
    try:
        taken.data = list(map(get_data, nodes))
        taken.grad = list(map(get_grad, nodes))
    except Exception:  # noqa: BLE001 — a __getattr__ of the user's that raises
        taken.data = [read(v, "data") for v in nodes]
        taken.grad = [read(v, "grad") for v in nodes]
    taken.children = children if children is not None else _children_of(recorder, nodes, kinds)
    taken.kinds = kinds
    return taken


def _children_of(recorder, nodes, kinds):
    """Each node's inputs container, as it is (a tuple, a set, …)."""
    names = {recorder.shapes[kind].children for kind in kinds}
    if len(names) == 1:
        return list(map(attrgetter(names.pop()), nodes))
    return [read(v, recorder.shapes[type(v)].children) for v in nodes]


def read_local_grads(recorder, taken, kinds=None):
    """The nodes' stored local gradients (`_local_grads`), read when the graph is written out: like the
    inputs, they are set when a value is made and never change, so backward() need not copy them.
    `kinds`: the nodes' types, when the caller has them (a pass over every node less)."""
    if taken.local_grads is None and taken.data is not None:
        nodes = taken.nodes
        shapes = {recorder.shapes[kind] for kind in (kinds if kinds is not None else set(map(type, nodes)))}
        if all(s.local_grads for s in shapes):
            taken.local_grads = list(map(attrgetter("_local_grads"), nodes))
        elif any(s.local_grads for s in shapes):
            taken.local_grads = [read(v, "_local_grads") if recorder.shapes[type(v)].local_grads else None for v in nodes]
    return taken.local_grads


def _children_getter(recorder, kinds):
    names = {recorder.shapes[kind].children for kind in kinds}
    if len(names) == 1:
        return attrgetter(names.pop())
    return lambda v: read(v, recorder.shapes[type(v)].children) or ()


def _reachable_one_kind(recorder, root, limit):
    """The usual case, at C speed: every input is a value whose inputs are under the root's attribute
    name. Raises AttributeError (or TypeError) when that is not so; None past `limit`."""
    get_children = attrgetter(recorder.shapes[type(root)].children)
    seen = {root}
    nodes = [root]
    frontier = [root]
    while frontier:
        found = set(chain.from_iterable(map(get_children, frontier)))
        found -= seen
        if not found:
            break
        seen |= found
        nodes.extend(found)
        if len(nodes) > limit:
            return None
        frontier = found
    return nodes


def _reachable_fast(recorder, root, limit):
    """Breadth-first by whole levels with set algebra; None when there are more than `limit`."""
    shapes = recorder.shapes
    kinds = {type(root)}
    get_children = _children_getter(recorder, kinds)
    seen = {root}
    nodes = [root]
    frontier = [root]
    while frontier:
        found = set(chain.from_iterable(map(get_children, frontier)))
        found -= seen
        if not found:
            break
        found_kinds = set(map(type, found))
        if not found_kinds <= kinds:
            if not found_kinds <= shapes.keys():
                found = {v for v in found if recorder.is_value(v)}  # numbers kept among the inputs
                found_kinds = set(map(type, found))
            if not found_kinds <= kinds:
                kinds |= found_kinds
                get_children = _children_getter(recorder, kinds)
        seen |= found
        nodes.extend(found)
        if len(nodes) > limit:
            return None
        frontier = found
    return nodes


def _reachable_slow(recorder, root, limit):
    seen = {id(root)}
    nodes = [root]
    frontier = [root]
    while frontier:
        following = []
        for value in frontier:
            for child in read(value, recorder.shapes[type(value)].children) or ():
                if id(child) not in seen and recorder.is_value(child):
                    seen.add(id(child))
                    nodes.append(child)
                    following.append(child)
        if len(nodes) > limit:
            return None
        frontier = following
    return nodes
