"""Per-step records of a training loop, recorded at each backward() of the user's own Value class.

The Python twin of src/runner/training/stepRecorder.ts (same definitions): parameters are the
leaves that persist from one step to the next (or that a parameter path names), grads are read
right after backward() returns — before the optimizer zeroes them — and a step's update ratio
|Δp|/|p| is completed at the next backward() (or at the end of the run). Records are appended to
a JSON-lines file a few times a second, so the editor can draw them while the program runs.
"""
import ast
import gc
import math
import os
import time
from bisect import bisect_left
from functools import reduce
from itertools import compress
from operator import add, attrgetter, itemgetter, mul, not_, sub

from gradlens_capture import _walked_graph, capture
from gradlens_graph import as_float, json_number, label_of, snapshot, streamed_json
from gradlens_params import find_parameter_paths, group_of_path, short_group_names
from gradlens_values import children_attribute

BATCH_SECONDS = 0.1
STOP_CHECK_SECONDS = 0.05
# While the run goes, a recent step's graph is taken this often at most, and never more than
# 1/LIVE_GRAPH_SHARE of the run's time (as in workerTraining.ts).
LIVE_GRAPH_SECONDS = 10.0
LIVE_GRAPH_SHARE = 50
MAX_KEPT_STEPS = 4000  # src/protocol/stepLog.ts


class StepLog:
    """The bounded list of step records (the twin of src/protocol/stepLog.ts, same rule): every step up
    to the cap, then every stride-th (the stride doubles), plus the first non-finite and the last step."""

    def __init__(self, cap=MAX_KEPT_STEPS):
        self.cap = cap
        self.records = []
        self.stride = 1
        self.first_non_finite = None
        self.last_step = None

    def keeps(self, record):
        return (record["step"] - 1) % self.stride == 0 or (record["nonFinite"] and self.first_non_finite is None)

    def add(self, record):
        if record["nonFinite"] and self.first_non_finite is None:
            self.first_non_finite = record["step"]
        self.records.append(record)
        if len(self.records) > self.cap:
            self.stride *= 2
            k, keep = self.stride, (self.first_non_finite, self.last_step)
            self.records = [r for r in self.records if (r["step"] - 1) % k == 0 or r["step"] in keep]

    def add_last(self, record):
        self.last_step = record["step"]
        self.add(record)


def loop_bound(source):
    """The training loop's bound, read from the source (the twin of src/runner/training/loopBound.ts):
    a top-level `for step in range(num_steps)` (a number or a module-level `num_steps = 1000`) that calls
    backward() itself, else the last such loop that calls a function by its name. None when none qualifies."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    constants = {}
    loops = []

    def number(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name):
            return constants.get(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Add, ast.Sub)):
            a, b = number(node.left), number(node.right)
            if a is None or b is None:
                return None
            return a * b if isinstance(node.op, ast.Mult) else a + b if isinstance(node.op, ast.Add) else a - b
        return None

    def visit(statements):
        for s in statements:
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
                value = number(s.value)
                if value is not None:
                    constants[s.targets[0].id] = value
            elif isinstance(s, ast.For) and isinstance(s.iter, ast.Call) and isinstance(s.iter.func, ast.Name) and s.iter.func.id == "range" and not s.iter.keywords:
                args = [number(a) for a in s.iter.args]
                if not args or len(args) > 2 or None in args:
                    continue
                count = args[0] if len(args) == 1 else args[1] - args[0]
                if count <= 0:
                    continue
                calls = [n for n in ast.walk(ast.Module(body=s.body, type_ignores=[])) if isinstance(n, ast.Call)]
                backward = any(isinstance(c.func, ast.Attribute) and c.func.attr == "backward" for c in calls)
                loops.append((count, backward, any(isinstance(c.func, ast.Name) for c in calls)))
            elif isinstance(s, ast.FunctionDef) and s.name == "main":
                visit(s.body)
            elif isinstance(s, ast.If):  # `if __name__ == "__main__":`
                visit(s.body)

    visit(tree.body)
    for count, backward, _ in loops:
        if backward:
            return count
    via_call = [count for count, _, calls in loops if calls]
    return via_call[-1] if via_call else None


class StopTraining(SystemExit):
    """Ends the user's program at a backward() when the run is asked to stop: a clean exit (code 0)."""

    def __init__(self):
        super().__init__(0)


def should_scan(step):
    """The steps that walk their whole graph (as in stepRecorder.ts: a leaf in two consecutive walks is a parameter):
    the first two, then pairs at 16, 32, 64, … and every 1,024."""
    k = step - 1 if step % 2 == 1 else step  # a pair (k, k + 1)
    return step <= 2 or (k >= 16 and (k & (k - 1) == 0 or k % 1024 == 0))


def _finite(x):
    return x - x == 0


_GETTERS = {"data": attrgetter("data"), "grad": attrgetter("grad")}


def _floats(values, name):
    """[float(v.<name>)] at C speed when the numbers are plain; else as_float one by one (Values kept as
    grads, huge ints)."""
    numbers = list(map(_GETTERS[name], values))
    try:
        return list(map(float, numbers))
    except (TypeError, ValueError, OverflowError):
        return [as_float(x) for x in numbers]


_PLAIN_NUMBERS = {float, int, bool}


def _as_floats(values, name):
    """[as_float(v.<name>)], at C speed when the numbers are plain floats, ints or bools (float() then
    gives what as_float gives)."""
    numbers = list(map(_GETTERS[name], values))
    if set(map(type, numbers)) <= _PLAIN_NUMBERS:
        try:
            return list(map(float, numbers))
        except OverflowError:
            pass  # an int too large for a float: as_float makes it an infinity
    return list(map(as_float, numbers))


class Training:
    def __init__(self, spec, recorder, scope, started, sites):
        self.sites = sites  # the run's site table: a parameter no path names is grouped by its line
        self.recorder = recorder
        self.scope = scope
        self.started = started
        self.progress_path = spec["progressPath"]
        self.stop_path = spec.get("stopPath")
        self.max_steps = spec.get("maxSteps")
        self.node_limit = spec.get("nodeLimit") or 200_000
        self.total_steps = spec.get("totalSteps")
        if self.total_steps is None:
            self.total_steps = self._loop_bound(scope.get("__file__"))
        if self.max_steps is not None:
            self.total_steps = min(self.total_steps or self.max_steps, self.max_steps)
        self.params = []  # the parameter values (kept alive here, so their ids stay theirs)
        self.param_index = {}  # id(value) -> index into params
        self.param_group = []
        self.group_members = []  # per group: its parameters' indices, increasing
        self.groups = []
        self.group_index = {}
        self.short = {}
        self.paths = None
        self.path_groups = set()  # groups named by a path (the others are source lines)
        self.previous_candidates = {}
        self.open = None
        self.steps = 0
        self.records = StepLog(spec.get("maxKeptSteps") or MAX_KEPT_STEPS)
        self.batch = []
        self.announced = 0
        self.last_flush = 0.0
        self.last_stop_check = 0.0
        self.graphs = []
        self.new_graphs = []  # kept since the last batch (streamed with it)
        self.live_step = None  # the step of the live recent graph in graphs (replaced by a newer one)
        self.next_live_graph = LIVE_GRAPH_SECONDS
        self.non_finite_kept = False
        self.recent = None
        self.stopped_after = None
        self.relus = [0, 0]
        self.patched_relu = set()
        self.out = open(self.progress_path, "a", encoding="utf-8")

    # the hooks

    def before_backward(self):
        done = self.steps
        if self.max_steps is not None and done >= self.max_steps:
            self.stopped_after = done
            raise StopTraining()
        now = time.perf_counter()
        if self.stop_path and now - self.last_stop_check >= STOP_CHECK_SECONDS:
            self.last_stop_check = now
            if os.path.exists(self.stop_path):
                self.stopped_after = done
                raise StopTraining()

    def after_backward(self, root):
        self.recorder.enabled = False  # our own reads make no values of the user's class
        # Our reads make many short-lived objects and no garbage cycles: the collections they would
        # start walk the user's whole heap (as in gradlens_run.collect). The program's own are untouched.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._after_backward(root)
        finally:
            self.recorder.enabled = True
            if collecting:
                gc.enable()

    def _after_backward(self, root):
        self.steps += 1
        step = self.steps
        if step == 1:
            self._patch_relu()
        taken = self._taken_of(root)
        scan = self._scan(root, taken) if should_scan(step) else None
        # The program's structure is read at the first two steps: a leaf it holds at both is a
        # parameter (inputs a variable happens to hold at one step are not), used in this graph or not.
        named = self._read_paths() if step <= 2 else {}
        # Each leaf once, in the order first met (the named ones, then the graph's): the parameters are
        # numbered and the candidates kept in that order (the update ratios' sums follow it).
        met = {id(value): value for value, _path in named.values()}
        if scan is not None:
            met.update(zip(map(id, scan[0]), scan[0]))
        fresh = list(compress(met.values(), map(not_, map(self.param_index.__contains__, met))))
        del met
        previous = self.previous_candidates
        held = list(map(previous.__contains__, map(id, fresh)))  # held there, so the id is still this value's
        for leaf in compress(fresh, held):
            self._add_param(leaf)
        new = list(compress(fresh, map(not_, held)))
        candidates = dict(zip(map(id, new), zip(new, _as_floats(new, "data"), _as_floats(new, "grad"))))
        del fresh, held, new
        self.previous_candidates = candidates if should_scan(step + 1) else {}
        if step == 2:
            self.short = short_group_names([g for g in self.groups if g in self.path_groups])
        data = _floats(self.params, "data")
        grad = _floats(self.params, "grad")
        finite = _finite(sum(data) + sum(grad)) if data else True
        loss = as_float(root.data)
        if self.relus[0] > 0:
            calls, dead = self.relus
        elif scan is not None:
            calls, dead = scan[1], scan[2]
        else:
            calls, dead = 0, 0
        self.relus[0] = self.relus[1] = 0  # in place: the patched relu holds this list
        non_finite = not _finite(loss) or not finite
        if self.open is not None:
            self._push(self._complete(self.open))
        self.open = {
            "step": step, "loss": loss, "deadReluFraction": dead / calls if calls else None, "nonFinite": non_finite,
            "timeMs": (time.perf_counter() - self.started) * 1000, "data": data, "grad": grad, "candidates": candidates,
        }
        if step == 1 or (non_finite and not self.non_finite_kept):
            self._keep(root, step, taken=taken)
        if non_finite:
            self.non_finite_kept = True
        self.recent = (root, step, data, grad)
        now = time.perf_counter()
        if step > 1 and now - self.started >= self.next_live_graph:
            self._keep_live(root, step, now, taken)
        if now - self.last_flush >= BATCH_SECONDS:
            self._flush(now)

    def _keep_live(self, root, step, now, taken):
        """A recent step's graph, taken now (exact at its backward()), replacing the previous live one."""
        kept = self._keep(root, step, taken=taken)
        cost = time.perf_counter() - now
        self.next_live_graph = now - self.started + max(LIVE_GRAPH_SECONDS, cost * LIVE_GRAPH_SHARE)
        if kept is None:
            return
        if self.live_step is not None:
            self.graphs = [g for g in self.graphs if g is kept or g["step"] != self.live_step]
        self.live_step = step

    @staticmethod
    def _loop_bound(path):
        try:
            with open(path, encoding="utf-8") as f:
                return loop_bound(f.read())
        except (OSError, TypeError, ValueError):
            return None

    def finish(self):
        """Completes the last step, keeps the last step's graph, and returns the run's training summary."""
        # As in after_backward: reading the last graph makes many objects and no garbage cycles.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._finish()
        finally:
            if collecting:
                gc.enable()

    def _finish(self):
        self.recorder.enabled = False
        final = self.open is not None
        if final:
            last = self._complete(self.open)
            self.records.add_last(last)
            self.batch.append(last)
            self.open = None
        self.new_graphs = []  # the summary carries every graph
        self._flush(time.perf_counter(), final)
        self.out.close()
        if self.live_step is not None and (self.recent is None or self.recent[1] != self.live_step):
            self.graphs = [g for g in self.graphs if g["step"] != self.live_step]  # stood in for the last step's
        kept = {g["step"] for g in self.graphs}
        if self.recent is not None and self.recent[1] not in kept:
            root, step, data, grad = self.recent
            taken = self._taken_of(root)  # still the tracer's capture of that backward(): exact as it is
            if taken is not None:
                self._keep(root, step, taken=taken)
            else:
                self._keep(root, step, data, grad)
        self.graphs.sort(key=lambda g: g["step"])
        summary = {"steps": self.records.records, "groups": self.group_names(), "graphs": self.graphs}
        if self.stopped_after is not None:
            summary["stoppedAfter"] = self.stopped_after
        if self.total_steps is not None:
            summary["totalSteps"] = self.total_steps
        if self.records.stride > 1:
            summary["thinned"] = {"every": self.records.stride, "steps": self.steps}
        return summary

    # parameters and groups

    def _read_paths(self):
        """{id: (value, path)} of the leaves the program's globals hold now."""
        try:
            found = find_parameter_paths(self.scope, self.recorder.is_value, self.recorder.shapes)
        except Exception:
            found = {}
        # Only leaves can be parameters (a global `loss` or a list of last step's outputs is not).
        self.paths = {key: entry for key, entry in found.items() if not children_attribute(entry[0])}
        return self.paths

    def _group_number(self, group):
        g = self.group_index.get(group)
        if g is None:
            g = self.group_index[group] = len(self.groups)
            self.groups.append(group)
            self.group_members.append([])
        return g

    def _add_param(self, value):
        entry = (self.paths or {}).get(id(value))
        if entry is not None and entry[0] is value:
            group = group_of_path(entry[1])
            self.path_groups.add(group)
        else:
            site = self.recorder.site_of(value)
            group = "line %d" % self.sites[site]["line"] if 0 < site < len(self.sites) else "?"
        g = self._group_number(group)
        self.param_index[id(value)] = len(self.params)
        self.group_members[g].append(len(self.params))
        self.params.append(value)
        self.param_group.append(g)

    def group_names(self):
        return [self.short.get(g, g) for g in self.groups]

    def _patch_relu(self):
        """Counts ReLUs as they are made (cheaper than finding them in each graph): `relu` of each value class."""
        for cls in list(self.recorder.value_types):
            self.patch_relu_of(cls)

    def patch_relu_of(self, cls):
        """Also called as a value class is made (gradlens_values.py patch_class), so that step 1's
        forward pass is counted too and its graph need not be walked in Python."""
        relu = cls.__dict__.get("relu")
        if not callable(relu) or cls in self.patched_relu:
            return
        counts = self.relus

        def counted(self, *args, _relu=relu, **kwargs):
            counts[0] += 1
            try:
                if self.data <= 0:
                    counts[1] += 1
            except Exception:
                pass
            return _relu(self, *args, **kwargs)

        try:
            cls.relu = counted
            self.patched_relu.add(cls)
        except (TypeError, AttributeError):
            pass

    # one step

    def _taken_of(self, root):
        """The tracer's own capture of this backward() (gradlens_values.py record_backward), if it kept one."""
        for entry in self.recorder.backward_roots.values():
            taken = entry[0]
            if taken.root is root:
                # An unchecked capture has its numbers already; reading them would check it now, for nothing.
                return taken if taken._unchecked is not None or (taken.data is not None and not taken.too_large) else None
        return None

    def _scan(self, root, taken=None):
        """(leaves, relus, dead relus) of the graph under `root`."""
        if taken is not None and self.relus[0] > 0:
            # The tracer's capture already holds every node: its leaves come at C speed; ReLUs are counted by the patched relu.
            leaves = self._lazy_leaves(taken)
            if leaves is not None:
                return leaves, 0, 0
            if taken.children is not None:
                return [v for v, c in zip(taken.nodes, taken.children) if not c], 0, 0
        leaves = []
        relus = dead = 0
        visited = {id(root)}
        stack = [root]
        op_hint = self.recorder.op_hint
        while stack:
            v = stack.pop()
            children = children_attribute(v)
            if not children:
                leaves.append(v)
                continue
            op = getattr(v, "_op", None)
            if op is None:
                op = op_hint(v)
            if op in ("relu", "ReLU"):
                relus += 1
                for c in children:
                    if as_float(c.data) <= 0:
                        dead += 1
                    break
            for c in children:
                key = id(c)
                if key not in visited:
                    visited.add(key)
                    stack.append(c)
        return leaves, relus, dead

    def _lazy_leaves(self, taken):
        """The leaves of a lazy capture (gradlens_capture.lazy) read from the list its backward() walked,
        as settling it would give them (same values, same order), without copying every value's numbers:
        those are read, if ever, when the capture is (per call site only the last one's is). None when the
        capture is not lazy or that list is not exactly the graph (then settling it walks the graph)."""
        walked = taken.walked if taken._unchecked is not None and taken.saved is not None else None
        if not walked or walked[-1] is not taken.root:
            return None
        nodes, _kinds, children = _walked_graph(self.recorder, walked, self.node_limit) or (None, None, None)
        if not nodes:
            return None
        return list(compress(nodes, map(not_, children)))

    def _complete(self, open_step):
        n_groups = len(self.groups)
        grad_sq = [0.0] * n_groups
        data_sq = [0.0] * n_groups
        delta_sq = [0.0] * n_groups
        params, groups_of = self.params, self.param_group

        def add_one(j, data, grad):
            g = groups_of[j]
            delta = as_float(params[j].data) - data
            grad_sq[g] += grad * grad
            data_sq[g] += data * data
            delta_sq[g] += delta * delta

        data, grad = open_step["data"], open_step["grad"]
        if data:
            # The parameters the step read, group by group at C speed (the same sums, in the same order).
            now = _floats(params[: len(data)], "data")
            delta = list(map(sub, now, data))
            for g, members in enumerate(self.group_members):
                members = members[: bisect_left(members, len(data))]
                if members:
                    pick = itemgetter(*members) if len(members) > 1 else (lambda xs, j=members[0]: (xs[j],))
                    grad_sq[g] += reduce(add, map(mul, pick(grad), pick(grad)), 0.0)
                    data_sq[g] += reduce(add, map(mul, pick(data), pick(data)), 0.0)
                    delta_sq[g] += reduce(add, map(mul, pick(delta), pick(delta)), 0.0)
        for key, (leaf, d, g) in open_step["candidates"].items():
            j = self.param_index.get(key)
            if j is not None and j >= len(data) and params[j] is leaf:
                add_one(j, d, g)
        names = self.group_names()
        groups = {}
        total = 0.0
        for g in range(n_groups):
            total += grad_sq[g]
            groups[names[g]] = {"gradNorm": json_number(math.sqrt(grad_sq[g])), "updateRatio": json_number(math.sqrt(delta_sq[g] / data_sq[g]) if data_sq[g] > 0 else 0.0)}
        return {
            "step": open_step["step"], "loss": json_number(open_step["loss"]), "gradNorm": json_number(math.sqrt(total)), "groups": groups,
            "deadReluFraction": open_step["deadReluFraction"], "nonFinite": open_step["nonFinite"], "timeMs": open_step["timeMs"],
        }

    def _push(self, record):
        if self.records.keeps(record):
            self.records.add(record)
            self.batch.append(record)

    def _flush(self, now, final=False):
        self.last_flush = now
        names = self.group_names()
        if not self.batch and len(names) == self.announced and not self.new_graphs:
            return
        line = {"steps": self.batch, "newGroups": names[self.announced:]}
        if self.new_graphs:
            line["graphs"] = self.new_graphs
            line["graphSteps"] = [g["step"] for g in self.graphs]
            line["sites"] = self.sites
        if self.records.stride > 1:
            line["stride"] = self.records.stride
        if final:
            line["final"] = True
        if self.total_steps is not None:
            line["totalSteps"] = self.total_steps
        self.announced = len(names)
        self.batch = []
        self.new_graphs = []
        self.out.writelines(streamed_json(line))
        self.out.write("\n")
        self.out.flush()

    def _keep(self, root, step, data=None, grad=None, taken=None):
        """A full graph of the step, from the tracer's capture of it when there is one (`taken`, not
        changed here); else captured now, `data`/`grad` putting back the parameters' numbers of that backward()."""
        try:
            if taken is None:
                taken = capture(self.recorder, root, self.node_limit)
            if taken.too_large or taken.data is None:
                return None
            if data is not None:
                position = {id(v): k for k, v in enumerate(taken.nodes)}
                for j, p in enumerate(self.params[: len(data)]):
                    k = position.get(id(p))
                    if k is not None:
                        taken.data[k] = data[j]
                        taken.grad[k] = grad[j]
            graph, index = snapshot(self.recorder, taken)
        except Exception:
            return None
        if graph is None:
            return None
        paths = {}
        for key, (value, path) in (self.paths or {}).items():
            i = index.get(key)
            if i is not None:
                paths[str(i)] = path
        kept = {"step": step, "name": label_of(self.recorder, root) or "loss", "site": self.recorder.site_of(root), "graph": graph, "paths": paths}
        self.graphs.append(kept)
        self.new_graphs.append(kept)
        return kept
