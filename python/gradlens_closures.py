"""Local gradients of engines that keep none (micrograd's `_backward` closures), recovered exactly.

Each node's own `_backward` is called in isolation, with the numbers as they were at backward(): its
grad set to 1, its inputs' grads saved and set to 0; what the inputs' grads become is the local
gradient of each edge. Everything is put back afterwards. A repeated input in a set (`z*z` has the
one input z) gets the combined local gradient (2z), which is what backpropagation sends along that
one edge; an input listed twice in a tuple gets half of the combined value on each of its edges.
"""
import numbers
from operator import attrgetter

from gradlens_attributes import read

get_data = attrgetter("data")
get_grad = attrgetter("grad")


def _known(x):
    if isinstance(x, numbers.Real):
        return float(x)
    return None


def recover_local_grads(nodes, data, grad, inputs, wanted):
    """[[local gradient or None per input] or None per node] for the nodes where `wanted[i]`."""
    now_data = list(map(get_data, nodes))
    now_grad = list(map(get_grad, nodes))
    found = [None] * len(nodes)
    try:
        for value, d, g in zip(nodes, data, grad):
            value.data = d
            value.grad = g
        for i, value in enumerate(nodes):
            kids = inputs[i]
            if not kids or not wanted[i]:
                continue
            step = read(value, "_backward")
            if not callable(step):
                continue
            found[i] = _local_grads_of(value, kids, step)
    finally:
        for value, d, g in zip(nodes, now_data, now_grad):
            value.data = d
            value.grad = g
    return found


def _local_grads_of(value, kids, step):
    saved = [k.grad for k in kids]
    own = value.grad
    try:
        for k in kids:
            k.grad = 0
        value.grad = 1
        try:
            step()
        except Exception:  # noqa: BLE001 — a closure that fails here: its local gradients are unknown
            return None
        result = [_known(k.grad) for k in kids]
    finally:
        for k, g in zip(kids, saved):
            k.grad = g
        value.grad = own
    if len(set(map(id, kids))) < len(kids):
        times = {}
        for k in kids:
            times[id(k)] = times.get(id(k), 0) + 1
        result = [None if g is None else g / times[id(k)] for k, g in zip(kids, result)]
    return result
