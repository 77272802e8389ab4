"""backward() called twice on the same graph without zeroing, or a training loop that never resets
the grads: both show as leaves that already hold a grad when backward() starts (as in the TypeScript
runner, src/runner/backwardWarnings.ts, which also words the message). A start listener of the
recorder (`backward_start_listeners`): the captures are taken when backward() returns, too late to see
the grads it found. Only the first few calls per call site are looked at: each costs a walk of the graph (and a read of
the leaves' grads only)."""
import gc
from itertools import chain, compress
from operator import attrgetter, not_

from gradlens_capture import get_grad, leaf_grads
from gradlens_graph import as_float, json_number, label_of

CALLS_WATCHED_PER_SITE = 3
GRAPH_LIMIT = 200_000


class BackwardWatch:
    def __init__(self, recorder):
        self.recorder = recorder
        self.warnings = []
        # The roots seen, by their creation record (unique in a run, unlike ids): holding the roots
        # themselves would keep every step's whole graph alive.
        self._seen = set()
        self._unrecorded = {}  # id -> value, for roots made before recording (kept so ids stay unique)
        self._calls = {}
        self._warned = set()
        self._any = False
        recorder.backward_start_listeners.append(self.before)

    def before(self, value, site):
        collecting = gc.isenabled()
        gc.disable()  # the watch's own objects start no collection of the user's heap (see gradlens_training)
        try:
            self._before(value, site)
        finally:
            if collecting:
                gc.enable()

    def _before(self, value, site):
        calls = self._calls.get(site, 0)
        self._calls[site] = calls + 1
        record = self.recorder.record_of(value)  # without folding the log: this runs at every backward()
        if record is None:
            again = id(value) in self._unrecorded
            self._unrecorded[id(value)] = value
        else:
            again = record in self._seen
            self._seen.add(record)
        first = not self._any
        self._any = True
        if first or calls >= CALLS_WATCHED_PER_SITE:
            return
        try:
            self._look(value, site, again)
        except Exception:  # noqa: BLE001 — a value class GradLens cannot read: no warning, the run goes on
            pass

    def _look(self, value, site, again):
        stale = stale_leaves(self.recorder, value, GRAPH_LIMIT)
        if stale is None:
            stale = leaf_grads(self.recorder, value, GRAPH_LIMIT)  # the general walk
        for node, grad in stale or ():
            grad = as_float(grad)
            if grad != 0:
                kind = "double-backward" if again else "grads-not-reset"
                if (kind, site) in self._warned:
                    return
                self._warned.add((kind, site))
                self.warnings.append({"kind": kind, "siteId": site, "name": label_of(self.recorder, node) or "", "grad": json_number(grad)})
                return


_PLAIN_NUMBERS = {float, int, bool}


def stale_leaves(recorder, root, limit):
    """What leaf_grads gives, in its order, for the usual graph (one value class, inputs under one
    attribute, plain-number grads) but only the leaves whose grad is not 0 — usually none — found in one
    walk that reads each value's inputs once; () past `limit` (leaf_grads' None: nothing to warn about).
    None when the graph is not the usual kind: the caller then asks leaf_grads."""
    shapes = recorder.shapes
    shape = shapes.get(type(root))
    if shape is None:
        return None
    try:
        get_children = attrgetter(shape.children)
        seen = {root}
        frontier = [root]
        leaves = []  # per level, in the order leaf_grads lists the level's values
        while frontier:
            inputs = list(map(get_children, frontier))
            leaves.append(compress(frontier, map(not_, inputs)))
            found = set(chain.from_iterable(inputs))
            del inputs
            found -= seen
            if not found:
                break
            seen |= found
            if len(seen) > limit:
                return ()
            frontier = found
        kinds = set(map(type, seen))
        if not kinds <= shapes.keys() or len({shapes[kind].children for kind in kinds}) != 1:
            return None
        del seen
        leaves = list(chain.from_iterable(leaves))
        grads = list(map(get_grad, leaves))
    except Exception:  # noqa: BLE001 — numbers among the inputs, unhashable values, a raising __getattr__
        return None
    if not set(map(type, grads)) <= _PLAIN_NUMBERS:
        return list(zip(leaves, grads))  # grads kept as Values and the like: each is read as_float
    return list(compress(zip(leaves, grads), grads))  # a plain number is not 0 exactly when it is true
