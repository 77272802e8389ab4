"""The user's function calls that were running when each value was made, for grouping a graph by call
stack (MLP.__call__ → Layer.__call__ → Neuron.__call__), in the shape the TypeScript runner writes
(src/runner/callFrames.ts, `CallFrames` in src/protocol/result.ts).

Nothing is done per value: every user function (`def`, rewritten by gradlens_sources.py) reports when it
starts and ends, taking a number from the same counter that numbers the values as they are made. The
timeline of those numbers is cut into segments, each owned by the innermost call open during it, so a
node's call is found from its creation number alone, by bisection, when a graph is written out.
"""
import sys
from array import array
from bisect import bisect_left, bisect_right
from itertools import chain, compress, islice, repeat
from operator import sub

# Calls recorded before the record is compacted (a training loop makes a graph's worth per step):
# the earliest (where a model makes its parameters) and the open ones stay; the values of dropped
# calls count as their caller's.
MAX_CALLS = 500_000
KEEP_EARLIEST = MAX_CALLS // 4


class CallRecorder:
    def __init__(self, next_number, site_of_caller, here=None, op_now=None):
        self._next = next_number  # the values' creation counter (numbers only grow)
        self._site_of_caller = site_of_caller  # frame -> site id of the call expression in it
        # The recorder's "statement running now" and "op being made now" (gradlens_values.py): a call
        # sets the op of its function's name, and its end gives the caller back both.
        self._here = here if here is not None else [0]
        self._op_now = op_now if op_now is not None else [0]
        self._saved = []  # per open call: (statement key, op bits) of its caller
        self._op_of_function = []
        self.functions = []  # {"name", "file", "line"}, by the id gradlens_sources.py gave the function
        self.parent = []  # per call
        self.fn = []
        self.call_site = []
        self.starts = [0]  # segment starts (creation numbers), increasing
        self.owner = [-1]  # per segment: the innermost open call, -1 for top-level code
        self.stack = []
        self.enabled = True

    def define(self, name, position, op_bits=0):
        self.functions.append({"name": name, "file": position["file"], "line": position["line"]})
        self._op_of_function.append(op_bits)

    def enter(self, function_id):
        """Called first thing in every user function; returns the token `leave` takes."""
        depth = len(self.stack)
        if not self.enabled:
            return depth
        if len(self.parent) >= MAX_CALLS:
            self._compact()
        call = len(self.parent)
        self.parent.append(self.stack[-1] if depth else -1)
        self.fn.append(function_id)
        self.call_site.append(self._site_of_caller(sys._getframe(2)))
        self.stack.append(call)
        self.starts.append(self._next())
        self.owner.append(call)
        op_now = self._op_now
        self._saved.append((self._here[0], op_now[0]))
        op_now[0] = self._op_of_function[function_id] if function_id < len(self._op_of_function) else 0
        return depth

    def leave(self, token):
        stack = self.stack
        if len(stack) <= token:
            return
        saved = self._saved
        if len(saved) > token:
            self._here[0], self._op_now[0] = saved[token]
            del saved[token:]
        del stack[token:]
        self.starts.append(self._next())
        self.owner.append(stack[-1] if stack else -1)

    def _compact(self):
        keep = set(range(KEEP_EARLIEST)) | set(self.stack)
        renumber = {}
        parent, fn, site = [], [], []
        for k in sorted(keep):
            renumber[k] = len(parent)
            parent.append(renumber.get(self.parent[k], -1))
            fn.append(self.fn[k])
            site.append(self.call_site[k])

        def kept(k):
            while k >= 0 and k not in renumber:
                k = self.parent[k]
            return renumber.get(k, -1)

        starts, owner = [], []
        for start, k in zip(self.starts, self.owner):
            k = kept(k)
            if owner and owner[-1] == k:
                continue
            starts.append(start)
            owner.append(k)
        self.parent, self.fn, self.call_site = parent, fn, site
        self.starts, self.owner = starts, owner
        self.stack = [renumber[k] for k in self.stack]

    def frames_for(self, numbers, ascending=False):
        """The CallFrames of a graph whose nodes (in graph order) were made with these creation
        numbers (0: unknown; any iterable, read once), or None when no node was made inside a call.
        `ascending`: `numbers` is a list in increasing order, of numbers or of records that add below
        one number step (the values' `made` records); then each segment's first node is found by
        bisection, not each node's segment."""
        if not self.parent:
            return None
        starts, owner = self.starts, self.owner
        if ascending:
            # Nodes [first[j], first[j + 1]) are in segment j, owned by ([-1] + owner)[j].
            first = [0, *map(bisect_left, repeat(numbers), starts), len(numbers)]
            lengths = list(map(sub, islice(first, 1, None), first))
            segment_owner = [-1, *owner]
            used = set(compress(segment_owner, lengths))
            node = None  # made from the segments once the calls are renumbered
        else:
            segment = map(bisect_right, repeat(starts), numbers)
            node = array("i", map([-1, *owner].__getitem__, segment))  # segment j is owned by owner[j - 1]; 0: before any
            used = set(node)
        used.discard(-1)
        if not used:
            return None
        # Only the calls that hold a node, and their callers, numbered callers first (calls are
        # numbered in the order they started, so a caller's number is below its callees').
        keep = set()
        for k in used:
            while k >= 0 and k not in keep:
                keep.add(k)
                k = self.parent[k]
        kept = sorted(keep)
        renumber = {k: i for i, k in enumerate(kept)}
        parent = array("i", (renumber.get(self.parent[k], -1) for k in kept))
        fn = array("i", (self.fn[k] for k in kept))
        call_site = array("i", (self.call_site[k] for k in kept))
        renumber[-1] = -1
        if node is None:
            node = array("i", chain.from_iterable(map(repeat, map(renumber.get, segment_owner, repeat(-1)), lengths)))
        else:
            node = array("i", map(renumber.__getitem__, node))
        return {"functions": list(self.functions), "parent": parent, "fn": fn, "callSite": call_site, "node": node}
