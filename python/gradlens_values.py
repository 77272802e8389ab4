"""Finding the user's Value objects, whatever class made them, and remembering where each was made.

A value is any object with `data` and `grad` and its inputs in `_children` (the tutorial's and
microgpt's Value, local derivatives in `_local_grads`) or `_prev` (micrograd's, op name in `_op`,
backward steps in `_backward` closures). Classes are recognised by that shape when they are created
(a wrapper around `__build_class__`), or when a value of theirs is first met; their `backward` is
wrapped to take the graph as it is when backward() returns (gradlens_capture.py). Patching is done on
the class, so `__slots__` classes work.

Where each value was made costs no Python call per value for a class in the user's code: the rewrite
(gradlens_sources.py) has every statement store its key and the class's methods their op, and the
class's own `__init__` append `id(self)` and that place to the creation log (two C appends), folded
into `made` at C speed when the records are read (Recorder.sync). Classes from elsewhere (an imported
engine, the tutorial's) get an `__init__` wrapper that finds the place from the caller's frame.
"""
import builtins
import functools
import gc
import numbers
import os
import struct
import sys
from array import array
from itertools import compress
from operator import or_
from types import FunctionType

from gradlens_attributes import has, peek
from gradlens_capture import capture, lazy, reachable
from gradlens_messages import said
from gradlens_sources import DIRTY_HELPER, RELINK_HELPER, SETTLE_HELPER, WRITE_HELPER, WRITTEN_NAMES

# The op a value gets from the method that made it, when its class does not name ops (no `_op`).
OP_OF_METHOD = {
    "__add__": "+", "__radd__": "+", "__iadd__": "+",
    "__mul__": "*", "__rmul__": "*", "__imul__": "*",
    "__sub__": "-", "__rsub__": "-", "__truediv__": "/", "__rtruediv__": "/",
    "__neg__": "neg",
}
MAX_RECORDED = 4_000_000
MAX_BACKWARD_SITES = 16
# made[id(value)] = number | tag (number: the creation counter, a multiple of 1 << TAG_BITS), where a tag names one (op, site) pair. The sequence
# has no limit (Python integers grow); more distinct (op, site) pairs than fit is an error, not a wrap.
TAG_BITS = 32
# The creation log (see Recorder.sync) holds, per value, its id and its place: `op bits | statement key`
# (gradlens_sources.py's inline hooks), or WRAPPED | tag (the __init__ wrappers of other classes).
STATEMENT_BITS = 24
WRAPPED = 1 << 62
LOG_SYNC_SIZE = 1 << 20
# Log entries past which a backward() folds the log, dropping the records of values that are gone
# (tests set it lower: the variable is taken out of the environment the user's code sees).
PRUNE_AT = int(os.environ.pop("GRADLENS_PRUNE_AT", "") or 300_000)  # entries (16 bytes each) the log may hold before a backward() folds it in
CHILDREN_NAMES = ("_children", "_prev")


class RecordingLimit(BaseException):
    """More distinct (op, line) pairs than a record can hold: said, never silently wrapped. A
    BaseException, so the user's `except Exception` does not swallow it."""


def is_number(x):
    return isinstance(x, numbers.Real)


class Shape:
    """How to read one value class: where its inputs are, and what else it keeps."""

    __slots__ = ("children", "local_grads", "op", "closure", "label")

    def __init__(self, sample, problems):
        self.children = next(name for name in CHILDREN_NAMES if has(sample, name, problems))
        self.local_grads = has(sample, "_local_grads", problems)
        self.op = has(sample, "_op", problems)
        self.closure = has(sample, "_backward", problems) and not self.local_grads
        self.label = has(sample, "label", problems)


def children_attribute(obj):
    for name in CHILDREN_NAMES:
        try:
            return peek(obj, name)
        except Exception:  # noqa: BLE001
            continue
    return None


class Recorder:
    def __init__(self, user_files, site_of_frame):
        self.user_files = user_files  # compile names of the user's chunks
        self.site_of_frame = site_of_frame  # frame -> site id (0 when unknown)
        self.shapes = {}  # value class -> Shape
        # Classes whose objects are no values (bind() skips them; the rewritten code tests this set itself).
        self.other_types = {int, float, bool, str, bytes, list, tuple, dict, set, type(None), type}  # type: a class is no value (`Value.grad = 0`)
        self.problems = {}  # class -> what its attribute access raised
        self.made = {}  # id(value) -> creation number | tag; overwritten when an id is reused (see sync)
        # The creation log: appended to as values are made, folded into `made` when it is read (sync).
        self.log_ids = array("q")
        self.log_places = array("q")
        self._log_base = 0  # entries folded so far: the next entry's creation number is (base + 1) << TAG_BITS
        self.here = [0]  # the statement key of the user's statement running now (0: none)
        self.op_now = [0]  # op bits of the value class method running now
        self._place_tags = _PlaceTags(self)
        self._pow_bits = {}
        self.site_of_statement = lambda key: 0  # statement key -> site id (gradlens_run.py sets it)
        self.tag_op = [0]  # tag -> op index
        self.tag_site = [0]  # tag -> site id
        self._tags = {(0, 0): 0}
        self._tag_of_place = {}  # (method code or None, making code, instruction offset) -> tag
        self.op_names = [""]
        self._op_index = {"": 0}
        self._op_of_code = {}  # code object of the method that made a value -> op index
        self._site_of_line = {}  # (code object, line) -> site id
        self.engine_codes = set()  # code objects of the value classes' methods (and their closures)
        self.user_codes = []  # the compiled chunks (their functions are found in them by codes_of_op)
        self.patched = set()  # value classes whose methods are wrapped
        self.labels = {}  # id(value) -> (its record then, the first name it was bound to)
        # Whether the user's code changed some value's inputs after it was made (`a._children = …`,
        # `a._prev.add(…)`): until then every input was made before the values it feeds (gradlens_graph._order).
        self.inputs_changed = False
        # Names bound since the log was last folded, as (id, binding, values made by then): a value's
        # record may still be in the log; they are settled into `labels` when it is folded (_settle_labels).
        self.pending_labels = []
        self.binding_names = []
        self.backward_roots = {}  # site -> [Capture, calls]
        self.backward_listeners = []  # f(capture, site, calls) after each recorded backward()
        self.backward_start_listeners = []  # f(value, site) right before each recorded backward() runs
        self.binding_counts = {}
        self.binding_last = {}
        self.last_value = None
        self.last_binding = None
        self.training = None  # a gradlens_training.Training during a training run
        self.node_limit = 200_000
        self._in_backward = 0
        self._walked = None  # (root, the list its backward() walked), handed over by backward_walked
        self._setup = None  # the records as the first backward() found them
        self._prune_at = PRUNE_AT  # log entries past which a backward() folds it (_fold_kept)
        self._state = [True]  # recording on (a list: read by the generated __init__ wrappers)
        self._code_kinds = {}  # id(code object) of the value classes' methods -> METHOD, POWER or INIT
        self._kept_codes = []  # the code objects those ids are of, kept alive so ids are not reused
        self.calls = None  # a gradlens_frames.CallRecorder once the run is set up
        # The one capture still lazy (gradlens_capture.lazy), if any: the last backward()'s, its numbers not copied yet.
        self._lazy = None
        # Its saved numbers, filled by the write helper: [{id: data}, {id: grad}] ([None, None]: no lazy
        # capture). Two dicts of numbers, not one of tuples: they hold no object the collector tracks.
        self.lazy_saved = [None, None]
        self.lazy_dirty = [False]  # a lazy capture and no backward() running: the value classes' own writes settle it first
        self._lazy_key = None  # (value classes, modules) lazy_blocked's answer was worked out for
        self._lazy_block = None  # its answer: once a reason, it stays
        self._checked_modules = set(sys.modules)  # loaded before the user's code: GradLens's and the interpreter's
        self._class_blocks = {}  # value class -> why its writes cannot all be seen (None: they can)
        self._code_block = None  # the same for the user's code ("": nothing)
        self.record_made = self._record  # (value, the frame that made it)

    # the creation log

    def next_number(self):
        """A creation number of its own (gradlens_frames.py numbers calls by the values' counter): an empty log entry."""
        ids = self.log_ids
        ids.append(0)
        self.log_places.append(0)
        if len(ids) >= LOG_SYNC_SIZE:
            self.sync()
            return self._log_base << TAG_BITS
        return (self._log_base + len(ids)) << TAG_BITS

    def sync(self):
        """Folds the creation log into `made`, at C speed: entry i gets the number (base + i + 1) << TAG_BITS
        and its place's tag. A later entry for an id wins: the value alive now with that id is the last one made there."""
        ids, places = self.log_ids, self.log_places
        n = len(ids)
        if not n:
            self._settle_labels()
            return
        made = self.made
        if len(made) >= MAX_RECORDED:
            made.clear()  # keep recording the newest values; older ones lose their line
        step = 1 << TAG_BITS
        start = (self._log_base + 1) << TAG_BITS
        try:
            made.update(zip(ids, map(or_, range(start, start + n * step, step), map(self._place_tags.__getitem__, places))))
        finally:
            self._log_base += n
            del ids[:]
            del places[:]
            made.pop(0, None)  # the entries of gradlens_frames.py's calls
        self._settle_labels()

    def _settle_labels(self):
        """The names bound since the last fold: a name belongs to the value that has the id now if that
        value was made before the name was bound (else it was an earlier value's, gone since); the first
        name a value was bound to is its label."""
        pending = self.pending_labels
        if not pending:
            return
        made, labels, names = self.made, self.labels, self.binding_names
        for key, spec, made_by_then in pending:
            record = made.get(key)
            if record is not None and record >> TAG_BITS > made_by_then:
                continue
            entry = labels.get(key)
            if entry is None or entry[0] != record:
                labels[key] = (record, names[spec])
        del pending[:]  # in place: the bind helper holds this list

    def record_of(self, value):
        """The record `value` has, or will have once the log is folded (None: made unrecorded), without
        folding the log: its id's last entry in the log (at C speed), else `made`'s."""
        key = id(value)
        ids = self.log_ids
        n = len(ids)
        if n:
            needle = _ID_FORMAT.pack(key)
            # A root is usually among the last values made: the log's tail first, the whole log if not there.
            start = max(0, n - _RECENT_ENTRIES)
            for first in (start, 0) if start else (0,):
                raw = ids[first:].tobytes() if first else ids.tobytes()
                at = raw.rfind(needle)
                while at >= 0 and at % _ID_SIZE:
                    at = raw.rfind(needle, 0, at + _ID_SIZE - 1)
                if at >= 0:
                    i = first + at // _ID_SIZE
                    return ((self._log_base + i + 1) << TAG_BITS) | self._place_tags[self.log_places[i]]
        return self.made.get(key)

    def _fold_kept(self):
        """Folds the log keeping only what can still be asked for (once the model is known, at a
        backward()): the model's records, and those of the kept graphs' values, the bound values, the
        training's parameters and the names bound since. The other entries are dropped unread: most are
        of graphs an older backward() made, which a later call at their site replaced. (A value made
        after the first backward() that none of these holds loses its line, as it did when the records
        were pruned after folding everything.)"""
        if self._lazy is not None and self._lazy.walked is None:
            self.settle_lazy()
        keep = [v for taken, _ in self.backward_roots.values() for v in (taken._nodes or taken.walked or ())]  # unchecked lists as they are
        keep.extend(self.binding_last.values())
        if self.training is not None:
            keep.extend(self.training.params)
        wanted = set(map(id, keep))
        wanted.update(key for key, _, _ in self.pending_labels)
        made = self.made
        keys = list(wanted & made.keys())
        records = list(map(made.__getitem__, keys))
        made.clear()
        made.update(self._setup)
        made.update(zip(keys, records))
        ids, places = self.log_ids, self.log_places
        n = len(ids)
        picks = list(compress(range(n), map(wanted.__contains__, ids)))
        # The last entry of each id (a later one wins, as in sync()): the records are made for those only.
        last = dict(zip(map(ids.__getitem__, picks), picks))
        del picks
        step = 1 << TAG_BITS
        start = (self._log_base + 1) << TAG_BITS
        try:
            entries = last.values()
            numbers = map(start.__add__, map(step.__mul__, entries))
            tags = map(self._place_tags.__getitem__, map(places.__getitem__, entries))
            made.update(zip(last.keys(), map(or_, numbers, tags)))
        finally:
            self._log_base += n
            del ids[:]
            del places[:]
            made.pop(0, None)
        self._settle_labels()

    def op_bits(self, name):
        """The place bits of the op a value class's method named `name` makes."""
        op = OP_OF_METHOD.get(name)
        if op is None:
            op = name if not name.startswith("<") else ""
        return self._op_index_named(op) << STATEMENT_BITS

    def pow_bits(self, exponent):
        """The op bits of `** exponent` (the exponent is part of the op's name)."""
        try:
            return self._pow_bits[exponent]
        except (KeyError, TypeError):
            pass
        if isinstance(exponent, float) and exponent.is_integer():
            text = str(int(exponent))
        else:
            text = str(exponent) if is_number(exponent) else ""
        bits = self._op_index_named("**" + text) << STATEMENT_BITS
        try:
            self._pow_bits[exponent] = bits
        except TypeError:
            pass
        return bits

    def codes_of_op(self, op_index):
        """The code objects that make values of an op: those seen making them (the __init__ wrappers),
        else, for values logged by the class itself, the value classes' methods and the user's functions
        whose name is that op, preferring those that name a value class (they make the value; `__radd__`
        that says `self + other` does not)."""
        codes = [code for code, index in self._op_of_code.items() if index == op_index]
        if codes:
            return codes
        found = []
        seen = set()
        pending = list(self.engine_codes) + list(self.user_codes)
        while pending:
            code = pending.pop()
            if id(code) in seen:
                continue
            seen.add(id(code))
            pending.extend(c for c in code.co_consts if hasattr(c, "co_code"))
            name = code.co_name
            op = OP_OF_METHOD.get(name)
            if op is None:
                op = name if not name.startswith("<") else ""
            if op and self._op_index.get(op) == op_index:
                found.append(code)
        classes = {kind.__name__ for kind in self.shapes}
        makers = [code for code in found if classes & set(code.co_names)]
        return makers or found

    def _op_index_named(self, op):
        op_index = self._op_index.get(op)
        if op_index is None:
            op_index = len(self.op_names)
            self.op_names.append(op)
            self._op_index[op] = op_index
        return op_index

    @property
    def enabled(self):
        return self._state[0]

    @enabled.setter
    def enabled(self, on):
        self._state[0] = on

    # shape

    @property
    def value_types(self):
        return self.shapes

    def shape_of(self, kind):
        return self.shapes.get(kind)

    def is_value(self, obj):
        kind = type(obj)
        if kind in self.shapes:
            return True
        if kind in self.other_types or isinstance(obj, (int, float, str, bytes, tuple, list, dict, set)):
            return False
        problems = self.problems
        ok = has(obj, "data", problems) and has(obj, "grad", problems) and any(has(obj, n, problems) for n in CHILDREN_NAMES)
        if not ok:
            self.other_types.add(kind)
            return False
        # The class is a value class by its shape; one `Value(None)` does not make it something else.
        self.shapes[kind] = Shape(obj, problems)
        if self.enabled:
            self.patch_found_class(kind)
        return True

    def patch_found_class(self, kind):
        """A value class missed when it was created (a dataclass gets its __init__ after the class
        statement; `type()` makes classes without one): patch it now, so later values get lines."""
        for attribute in ("__init__", "backward"):
            for cls in kind.__mro__:
                if attribute in cls.__dict__:
                    if cls is not object:
                        try:
                            self.patch_class(cls)
                        except (TypeError, AttributeError):
                            pass  # a built-in or extension type cannot be patched
                    break

    # classes

    def looks_like_value_class(self, cls):
        init = cls.__dict__.get("__init__")
        code = getattr(init, "__code__", None)
        names = set(code.co_names) if code is not None else set()
        slots = cls.__dict__.get("__slots__", ())
        names.update([slots] if isinstance(slots, str) else slots)
        return "data" in names and "grad" in names and any(n in names for n in CHILDREN_NAMES)

    def _add_engine_code(self, code):
        self.engine_codes.add(code)
        self._kept_codes.append(code)
        self._code_kinds[id(code)] = INIT if code.co_name == "__init__" else POWER if code.co_name == "__pow__" else METHOD
        for const in code.co_consts:  # closures (`_backward`) and helpers defined in the methods
            if hasattr(const, "co_code"):
                self._add_engine_code(const)

    def patch_class(self, cls):
        self.patched.add(cls)
        # The class's own methods are engine code: a value made inside `__add__` is said to be made
        # where the user's code called it (`z = x * y + w`), even when the class is in the user's file.
        for member in cls.__dict__.values():
            function = getattr(member, "__func__", member)  # staticmethod / classmethod
            code = getattr(function, "__code__", None)
            if code is not None and not getattr(function, "_gradlens", False):
                self._add_engine_code(code)
        init = cls.__dict__.get("__init__")
        logs_itself = IDS_NAME in getattr(getattr(init, "__code__", None), "co_names", ())
        if callable(init) and not getattr(init, "_gradlens", False) and not logs_itself:
            wrapped = self.recording_init(init)
            wrapped._gradlens = True
            cls.__init__ = wrapped
        backward = cls.__dict__.get("backward")
        if callable(backward) and not getattr(backward, "_gradlens", False):
            recorder = self

            @functools.wraps(backward)
            def backward_recorded(self, *args, **kwargs):
                if not recorder.enabled or recorder._in_backward:
                    if not recorder._in_backward and recorder._lazy is not None:
                        recorder.settle_lazy()  # an unrecorded backward() writes grads a lazy capture may hold
                    return backward(self, *args, **kwargs)  # a backward() that calls backward()
                training = recorder.training
                if training is not None:
                    training.before_backward()  # may end the program here (Stop, --steps N)
                caller = sys._getframe(1)
                site = recorder.site_of_frame(recorder.making_frame(caller))
                if recorder.backward_start_listeners:
                    recorder.backward_started(self, site)
                recorder.backward_starts(site)
                recorder._in_backward += 1
                try:
                    result = backward(self, *args, **kwargs)
                except Exception:
                    # The numbers as they were when it raised: the graph shows how far it got.
                    recorder._in_backward -= 1
                    recorder.record_backward(self, caller, site)
                    raise
                except BaseException:
                    recorder._in_backward -= 1  # a stop (time limit, exit): the last complete call stays
                    recorder.backward_stopped(self, site)
                    raise
                recorder._in_backward -= 1
                recorder.record_backward(self, caller, site)
                if training is not None:
                    training.after_backward(self)  # gradlens_training.py: this step's record
                return result

            backward_recorded._gradlens = True
            cls.backward = backward_recorded
        if self.training is not None:
            self.training.patch_relu_of(cls)

    def install(self):
        original = builtins.__build_class__
        recorder = self

        def build_class(func, name, *bases, **kwargs):
            cls = original(func, name, *bases, **kwargs)
            try:
                # A subclass of a value class is one too, whatever its own __init__ says.
                if isinstance(cls, type) and (recorder.looks_like_value_class(cls) or any(base in recorder.patched for base in cls.__mro__[1:])):
                    recorder.patch_class(cls)
            except Exception:
                pass  # a class GradLens cannot patch still runs; it is then found by its values
            return cls

        builtins.__build_class__ = build_class
        for name, helper in ((WRITE_HELPER, self.write_helper()), (RELINK_HELPER, self.relink_helper()), (DIRTY_HELPER, self.lazy_dirty), (SETTLE_HELPER, self.settle_lazy)):
            setattr(builtins, name, helper)
        original_import = builtins.__import__
        modules = sys.modules

        def import_(name, globals=None, locals=None, fromlist=(), level=0):
            # A module not loaded yet runs code that is not rewritten: a lazy capture is copied first (lazy_blocked).
            if recorder._lazy is not None and (level or name not in modules or any(not hasattr(modules[name], f) for f in fromlist or () if f != "*")):
                recorder.settle_lazy()
            return original_import(name, globals, locals, fromlist, level)

        builtins.__import__ = import_

    # events

    def making_frame(self, frame):
        """The innermost frame of the user's code outside the value classes' methods (else the
        innermost of the user's code at all, else None)."""
        user_files, engine_codes = self.user_files, self.engine_codes
        fallback = None
        while frame is not None:
            code = frame.f_code
            if code.co_filename in user_files:
                if code not in engine_codes:
                    return frame
                if fallback is None:
                    fallback = frame
            frame = frame.f_back
        return fallback

    def user_frame(self, frame):
        while frame is not None and frame.f_code.co_filename not in self.user_files:
            frame = frame.f_back
        return frame

    def recording_init(self, init):
        """`init` followed by recording where the value was made. Runs for every value, so its steps
        are few: the usual case (a method of the class, possibly through others like `__sub__` →
        `__add__`, called from the user's line; or `Value(2.0)` on the user's line) is one look-up by
        (method, user code, instruction). The wrapper has `init`'s own parameters where it can (no
        *args/**kwargs packing)."""
        namespace = {
            "_init": init, "_getframe": sys._getframe, "_state": self._state, "_kinds": self._code_kinds,
            "_user_files": self.user_files, "_places": self._tag_of_place, "_ids": self.log_ids.append,
            "_log": self.log_places.append, "_tag_of": self._tag_of, "_record": self._record, "_WRAPPED": WRAPPED,
        }
        parameters, arguments = _signature_text(init, namespace)
        source = RECORDING_INIT.format(parameters=parameters, arguments=arguments)
        exec(compile(source, "<gradlens recording __init__>", "exec"), namespace)
        return functools.wraps(init)(namespace["__init__"])

    def _record(self, value, caller):
        """The general case of recording_init's steps (and what it does when a step is not simple)."""
        if not self._state[0]:
            return
        code = caller.f_code
        kind = self._code_kinds.get(id(code))
        if kind == INIT:
            return  # super().__init__ of a subclass: the subclass's wrapper records it
        tag = self._tag_of(caller)
        self.log_ids.append(id(value))
        self.log_places.append(WRAPPED | tag)

    def _tag_of(self, caller):
        code = caller.f_code
        op_index = self._op_of_code.get(code)
        if op_index is None:
            op_index = self._op_index_of(code, caller)
        frame = self.making_frame(caller)
        site = 0
        if frame is not None:
            line_key = (frame.f_code, frame.f_lineno)
            site = self._site_of_line.get(line_key)
            if site is None:
                site = self._site_of_line[line_key] = self.site_of_frame(frame)
        return self._tag_for(op_index, site)

    def _tag_for(self, op_index, site):
        pair = (op_index, site)
        tag = self._tags.get(pair)
        if tag is None:
            tag = len(self.tag_op)
            if tag >> TAG_BITS:
                raise RecordingLimit(said("GradLens can record at most {0} different (operation, line) pairs in one run", format((1 << TAG_BITS) - 1, ",")))
            self._tags[pair] = tag
            self.tag_op.append(op_index)
            self.tag_site.append(site)
        return tag

    def _op_index_of(self, code, caller):
        name = code.co_name
        op = OP_OF_METHOD.get(name)
        cacheable = True
        if op is None:
            if name == "__pow__":
                op = "**" + _exponent_text(caller)
                cacheable = False  # the exponent differs from call to call
            elif not name.startswith("<"):
                op = name
            else:
                op = ""
        op_index = self._op_index.get(op)
        if op_index is None:
            op_index = len(self.op_names)
            self.op_names.append(op)
            self._op_index[op] = op_index
        if cacheable:
            self._op_of_code[code] = op_index
        return op_index

    def site_of_call(self, frame):
        """The site of the line a frame is at (a call expression), 0 outside the user's code."""
        if frame is None or frame.f_code.co_filename not in self.user_files:
            return 0
        line_key = (frame.f_code, frame.f_lineno)
        site = self._site_of_line.get(line_key)
        if site is None:
            site = self._site_of_line[line_key] = self.site_of_frame(frame)
        return site

    def backward_started(self, value, site):
        """Tells the start listeners (the grads are still as the program left them)."""
        for listener in self.backward_start_listeners:
            listener(value, site)

    def backward_walked(self, value, names):
        """Called as a value class's backward() ends (gradlens_sources.py) with its locals: a list that
        ends with the root is its topological order, which saves the capture a walk of the graph."""
        if not self._state[0] or not self._in_backward:
            return
        for local in names.values():
            if local.__class__ is list and local and local[-1] is value:
                self._walked = (value, local)
                return

    # lazy captures: a graph's numbers are saved as user code first writes them, not copied at backward()

    def lazy_blocked(self):
        """Why the graph of a backward() must be copied when it returns (None: it may stay lazy).

        The rule: a lazy capture (gradlens_capture.lazy) is exact when every write to a value's `data`,
        `grad` or inputs made after its backward() is seen before it happens:
        - the user's code outside value classes: the rewrite (gradlens_sources.py) hands the value of each
          `x.data = …`, `x.grad op= …`, `del x.grad` to the write helper, which saves its numbers, and a
          change of `x._children`/`x._prev` (a store, `x._prev.add(…)`) settles the capture first;
        - the value classes' own methods (not rewritten that way: `_backward` closures and backward()
          are the hot path): before each of their writes, a flag test settles the capture if it is still
          lazy and no backward() runs (a method the user calls after backward(), `o._backward()` called
          by hand, `__iadd__` writing `self.data`); backward() tests it once as it starts;
        - a recorded backward() (which writes grads of its graph: a shared parameter, the same graph
          again) settles a lazy capture of another call site before it runs; one of its own site it
          replaces (backward_stopped: if it stops midway);
        - an unrecorded backward() (recording off, nested) settles it first; so does an import of a
          module not loaded yet (its code is not rewritten).
        Writes GradLens cannot see make every capture of the run a copy, as it was taken before: names
        that write attributes or run code by other means in the user's code (setattr, vars, __dict__,
        exec, …), a module loaded from outside the standard library (the user's own engine.py or nn.py,
        numpy: not rewritten), a value class whose methods come from such a module and write values,
        and `data`/`grad` as properties or other descriptors (their setters may write elsewhere)."""
        key = (len(self.shapes), len(sys.modules))
        if key != self._lazy_key:
            self._lazy_key = key
            if self._lazy_block is None:
                self._lazy_block = self._why_copied()
        return self._lazy_block

    def _why_copied(self):
        if self._code_block is None:
            self._code_block = _unseen_writes(self.user_codes) or ""
        if self._code_block:
            return self._code_block
        for name in sys.modules.keys() - self._checked_modules:
            self._checked_modules.add(name)
            if not _seen_module(sys.modules.get(name)):
                return "module " + name
        for kind in list(self.shapes):
            why = self._class_blocks.get(kind, False)
            if why is False:
                why = self._class_blocks[kind] = _class_block(kind, self.user_files)
            if why:
                return why
        return None

    def backward_starts(self, site):
        """Before a recorded backward() runs (it writes grads of its graph: a shared parameter, the same
        graph again): a lazy capture of another call site gets its numbers now; one of this site stays
        lazy, replaced when this backward() returns (see backward_stopped)."""
        self.lazy_dirty[0] = False
        taken = self._lazy
        if taken is not None and taken.site != site:
            taken.settle()

    def backward_stopped(self, value, site):
        """A backward() stopped midway (time limit, exit): the capture of its site it would have replaced
        stays when none of that capture's values it could have written (its graph's) is one whose numbers
        were not saved since; else that capture cannot be told apart from the half-run one, and the
        stopped backward()'s graph is kept instead, its numbers of that moment (as when backward() raises)."""
        taken = self._lazy
        if taken is None:
            return
        if taken.site == site:
            try:
                nodes = reachable(self, value, self.node_limit)[0]
                held = taken.walked if taken.walked is not None else reachable(self, taken.root, self.node_limit)[0]
                safe = set(map(id, nodes)).intersection(map(id, held)) <= taken.saved.keys()
            except Exception:  # noqa: BLE001 — past the node limit (None), a value class GradLens cannot read
                safe = False
            if not safe:
                self._drop_lazy()
                self.record_backward(value, None, site, copy=True)
                return
        self.lazy_dirty[0] = True

    def settle_lazy(self):
        """The lazy capture's numbers, copied now: before a write the write helper cannot save value by value."""
        taken = self._lazy
        if taken is not None:
            taken.settle()

    def lazy_settled(self, taken):
        """Called by gradlens_capture once a lazy capture has its numbers."""
        if self._lazy is taken:
            self._drop_lazy()

    def _drop_lazy(self):
        self._lazy = None
        self.lazy_saved[0] = self.lazy_saved[1] = None
        self.lazy_dirty[0] = False

    def write_helper(self):
        """`_gradlens_w(x)`, which the rewritten code calls before it writes `x.data` or `x.grad`: the first
        write to a value after a lazy capture's backward() saves its numbers of then. Runs for every such
        write (an optimizer writes every parameter at every step), so it does little."""
        recorder, saved_now, shapes, other_types, is_value = self, self.lazy_saved, self.shapes, self.other_types, self.is_value

        def before_write(value):
            saved = saved_now[0]
            if saved is not None:
                kind = value.__class__
                if kind in shapes or (kind not in other_types and is_value(value)):
                    key = id(value)
                    if key not in saved:
                        try:
                            data, grad = value.data, value.grad
                        except Exception:  # noqa: BLE001 — an unset slot, a raising __getattr__: copy everything as it is
                            recorder.settle_lazy()
                        else:
                            saved[key] = data
                            saved_now[1][key] = grad
            return value

        return before_write

    def relink_helper(self):
        """`_gradlens_wx(x)`, called before the rewritten code changes `x._children`/`x._prev`: the lazy capture is copied first."""
        saved_now, settle = self.lazy_saved, self.settle_lazy

        def before_relink(value):
            self.inputs_changed = True
            if saved_now[0] is not None:
                settle()
            return value

        return before_relink

    def record_backward(self, value, caller, site=None, copy=False):
        """The graph of `value` as backward() left it, kept per call site (the last call's). GradLens's
        own temporaries start no collection of the user's heap (the program's collections stay as
        in plain Python, run from its own allocations)."""
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._record_backward(value, caller, site, copy)
        finally:
            if collecting:
                gc.enable()

    def _record_backward(self, value, caller, site, copy):
        walked, self._walked = self._walked, None
        if site is None:
            site = self.site_of_frame(self.making_frame(caller))
        entry = self.backward_roots.get(site)
        if entry is None and len(self.backward_roots) >= MAX_BACKWARD_SITES:
            return
        if self._setup is None:
            self.sync()  # the model's records are taken below
        # The first call at a site checks its walked list now; later ones when (if ever) they are read:
        # each replaces the one before, so usually only the last is (gradlens_capture.Capture).
        walked = walked[1] if walked is not None and walked[0] is value else None
        if entry is not None and not copy and self.lazy_blocked() is None and (walked is None or len(walked) <= self.node_limit):
            # Nothing copied now: the first write after this backward() saves a value's numbers (see lazy_blocked).
            taken = lazy(self, value, walked, site)
            self._lazy = taken
            self.lazy_saved[0], self.lazy_saved[1] = taken.saved, taken.saved_grad
            self.lazy_dirty[0] = True
        else:
            if self._lazy is not None and self._lazy.site == site:
                self._drop_lazy()  # replaced below
            taken = capture(self, value, self.node_limit, walked, check=entry is None)
        if entry is not None:
            entry[0] = taken
            entry[1] += 1
        else:
            entry = self.backward_roots[site] = [taken, 1]
        if self._setup is None:
            # What the program made before its first backward() (its model), without that graph's
            # inner values (kept with the graph while it is kept).
            made = self.made
            if taken.children is not None:
                kept = made.keys() - set(map(id, compress(taken.nodes, taken.children)))
                self._setup = dict(zip(kept, map(made.__getitem__, kept)))
            else:
                self._setup = made.copy()
        elif len(self.log_ids) >= self._prune_at:
            self._fold_kept()
        for listener in self.backward_listeners:
            listener(taken, site, entry[1])

    def bind_helper(self, names):
        """The function the rewritten code calls as `_gradlens_bind(value, spec[, label])`: records
        the value a variable was bound to. A closure over plain locals, as it runs on every assignment."""
        recorder = self
        value_types, is_value, other_types = self.shapes, self.is_value, self.other_types
        counts, last = self.binding_counts, self.binding_last
        self.binding_names = names
        ids, pending = self.log_ids, self.pending_labels
        def bind(value, spec, label=True):
            if spec.__class__ is int:
                kind = value.__class__
                if kind in value_types or (kind not in other_types and is_value(value)):
                    counts[spec] = counts.get(spec, 0) + 1
                    last[spec] = value
                    if label:
                        # Loop variables (label False) neither name values nor become "the last value".
                        # Which value the name is of is settled when the log is next folded (_settle_labels).
                        pending.append((id(value), spec, recorder._log_base + len(ids)))
                        recorder.last_value = value
                        recorder.last_binding = spec
            elif spec.__class__ is tuple and value.__class__ in (tuple, list) and len(value) == len(spec):
                for item, inner in zip(value, spec):
                    bind(item, inner, label)
            return value

        bind.not_values = other_types  # only ever grows: a class found to be no value class stays one (is_value)
        return bind

    def expression(self, value):
        if self.is_value(value):
            self.last_value = value
            self.last_binding = None
        return value

    # reading back

    def sequence_of(self, value):
        if self.log_ids or self.pending_labels:
            self.sync()
        return self.made.get(id(value), 0) >> TAG_BITS

    def site_of(self, value):
        if self.log_ids or self.pending_labels:
            self.sync()
        return self.tag_site[self.made.get(id(value), 0) & TAG_MASK]

    def label_of(self, key):
        """The name a value (by id) was first bound to, if that value is still the one with this id."""
        if self.log_ids or self.pending_labels:
            self.sync()
        entry = self.labels.get(key)
        return entry[1] if entry is not None and entry[0] == self.made.get(key) else None

    def op_hint(self, value):
        if self.log_ids or self.pending_labels:
            self.sync()
        return self.op_names[self.tag_op[self.made.get(id(value), 0) & TAG_MASK]]


TAG_MASK = (1 << TAG_BITS) - 1
_ID_FORMAT = struct.Struct("=q")  # an entry of the log's ids (array "q"), as bytes
_ID_SIZE = _ID_FORMAT.size
_RECENT_ENTRIES = 4096  # the log's tail record_of looks in first
NUMBER_MASK = ~TAG_MASK  # a record's creation number (a multiple of 1 << TAG_BITS)
STATEMENT_MASK = (1 << STATEMENT_BITS) - 1
METHOD, POWER, INIT = 1, 2, 3
IDS_NAME = "_gradlens_ids"  # gradlens_sources.IDS_HELPER: an __init__ that names it logs its values itself


class _PlaceTags(dict):
    """place -> tag, filled as places are first met (at C speed afterwards)."""

    def __init__(self, recorder):
        super().__init__()
        self.recorder = recorder

    def __missing__(self, place):
        if place & WRAPPED:
            tag = place & TAG_MASK
        elif place == 0:
            tag = 0
        else:
            recorder = self.recorder
            tag = recorder._tag_for(place >> STATEMENT_BITS, recorder.site_of_statement(place & STATEMENT_MASK))
        self[place] = tag
        return tag

# The body of every value class's recording __init__ (see Recorder.recording_init).
RECORDING_INIT = """
def __init__({parameters}):
    _init({arguments})
    if not _state[0]:
        return
    caller = _getframe(1)
    kind = _kinds.get(id(caller.f_code))
    if kind is None:
        frame = caller
    elif kind == 1:
        frame = caller.f_back
        while frame is not None and id(frame.f_code) in _kinds:
            frame = frame.f_back
    else:
        _record(self, caller)
        return
    if frame is None or frame.f_code.co_filename not in _user_files:
        _record(self, caller)
        return
    place = (kind and id(caller.f_code), id(frame.f_code), frame.f_lasti)
    tag = _places.get(place)
    if tag is None:
        tag = _places[place] = _tag_of(caller)
    _ids(id(self))
    _log(_WRAPPED | tag)
"""


_NO_DEFAULT = object()
_PACKING = 0x04 | 0x08  # CO_VARARGS | CO_VARKEYWORDS


def _plain_parameters(function):
    """[(name, default or _NO_DEFAULT)] of a plain function read from its code object (what
    inspect.signature would say, without importing inspect on every run); None when only
    inspect.signature can tell: a wrapper (__wrapped__), a __signature__, anything not a function."""
    if type(function) is not FunctionType or "__wrapped__" in function.__dict__ or "__signature__" in function.__dict__:
        return None
    code = function.__code__
    if code.co_flags & _PACKING or code.co_kwonlyargcount or code.co_posonlyargcount:
        return False  # not plain: the packing form
    names = code.co_varnames[: code.co_argcount]
    defaults = function.__defaults__ or ()
    firsts = len(names) - len(defaults)
    return [(name, defaults[i - firsts] if i >= firsts else _NO_DEFAULT) for i, name in enumerate(names)]


def _inspected_parameters(function):
    import inspect

    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return False
    if not all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in parameters):
        return False
    return [(p.name, _NO_DEFAULT if p.default is inspect.Parameter.empty else p.default) for p in parameters]


def _signature_text(function, namespace):
    """("self, data, children=_d0", "self, data, children") for a plain signature; the packing form
    for anything with *args, **kwargs, keyword-only or positional-only parameters."""
    parameters = _plain_parameters(function)
    if parameters is None:
        parameters = _inspected_parameters(function)
    plain = parameters and parameters[0][0] == "self"
    if not plain or any(not name.isidentifier() or name.startswith("_") and name in namespace for name, _ in parameters):
        return "self, *args, **kwargs", "self, *args, **kwargs"
    texts = []
    for i, (name, default) in enumerate(parameters):
        if default is _NO_DEFAULT:
            texts.append(name)
        else:
            namespace["_default%d" % i] = default
            texts.append("%s=_default%d" % (name, i))
    return ", ".join(texts), ", ".join(name for name, _ in parameters)


def _exponent_text(frame):
    # The exponent is the method's second parameter, whatever it is called.
    code = frame.f_code
    if code.co_argcount < 2:
        return ""
    exponent = frame.f_locals.get(code.co_varnames[1])
    if isinstance(exponent, float) and exponent.is_integer():
        exponent = int(exponent)
    return str(exponent) if is_number(exponent) else ""


# What a lazy capture cannot see being written (Recorder.lazy_blocked): names in code that write
# attributes or run code GradLens did not rewrite.
UNSEEN_WRITERS = frozenset(("setattr", "delattr", "vars", "__dict__", "__setattr__", "__delattr__", "__set__", "__delete__", "exec", "eval", "import_module", "__import__"))
_SEEN_DIRECTORIES = None


def _codes_in(code):
    pending = [code]
    while pending:
        code = pending.pop()
        yield code
        pending.extend(c for c in code.co_consts if hasattr(c, "co_code"))


def _unseen_writes(codes):
    """What in the user's (rewritten) code writes in ways the rewrite cannot see, if anything."""
    for code in codes:
        for inner in _codes_in(code):
            found = UNSEEN_WRITERS.intersection(inner.co_names)
            if found:
                return "the code uses " + min(found)
    return None


def _seen_module(module):
    """Whether a module loaded while the user's code ran is the standard library's or GradLens's (or has no file)."""
    global _SEEN_DIRECTORIES
    path = getattr(module, "__file__", None)
    if not path:
        return True
    if _SEEN_DIRECTORIES is None:
        import sysconfig

        paths = sysconfig.get_paths()
        library = {os.path.abspath(paths[k]) for k in ("stdlib", "platstdlib") if k in paths}
        installed = {os.path.abspath(paths[k]) for k in ("purelib", "platlib") if k in paths}
        _SEEN_DIRECTORIES = (library, installed, os.path.dirname(os.path.abspath(__file__)))
    library, installed, own = _SEEN_DIRECTORIES
    path = os.path.abspath(path)
    inside = lambda folders: any(path.startswith(folder + os.sep) for folder in folders)  # noqa: E731
    return os.path.dirname(path) == own or (inside(library) and not inside(installed))


def _class_block(kind, user_files):
    """Why a value class's own writes cannot all be seen, if they cannot: `data`/`grad` as a property or
    another descriptor, or a method from outside the user's code (not given the rewrite's flag tests)
    that writes `data`, `grad` or the inputs (other than `__init__`, which writes its new value, and
    GradLens's own wrappers: backward() runs recorded)."""
    import dis

    for cls in kind.__mro__:
        if cls is object:
            continue
        for name in ("data", "grad"):
            attribute = cls.__dict__.get(name)
            if attribute is not None and hasattr(type(attribute), "__set__") and type(attribute).__name__ != "member_descriptor":
                return "%s.%s is a descriptor" % (kind.__name__, name)
        for name, member in cls.__dict__.items():
            functions = (member.fget, member.fset, member.fdel) if isinstance(member, property) else (getattr(member, "__func__", member),)
            for function in functions:
                code = getattr(function, "__code__", None)
                if code is None or name == "__init__" or getattr(function, "_gradlens", False) or code.co_filename in user_files:
                    continue
                for inner in _codes_in(code):
                    if UNSEEN_WRITERS.intersection(inner.co_names):
                        return "%s.%s" % (kind.__name__, name)
                    for instruction in dis.get_instructions(inner):
                        if instruction.opname in ("STORE_ATTR", "DELETE_ATTR") and instruction.argval in WRITTEN_NAMES:
                            return "%s.%s writes %s" % (kind.__name__, name, instruction.argval)
    return None
