"""Finding the user's Value objects, whatever class made them, and remembering where each was made.

A value is any object with numeric `data` and `grad` and its inputs in `_children` (the tutorial's
and microgpt's Value, local derivatives in `_local_grads`) or `_prev` (micrograd's, op name in `_op`).
Classes are recognised when they are created (a wrapper around `__build_class__`): a class whose
`__init__` sets those attributes gets an `__init__` that records the creating line, and a `backward`
that records the root.
"""
import builtins
import functools
import numbers
import sys

# The op a value gets from the method that made it, when its class does not name ops (no `_op`).
OP_OF_METHOD = {
    "__add__": "+", "__radd__": "+", "__iadd__": "+",
    "__mul__": "*", "__rmul__": "*", "__imul__": "*",
    "__sub__": "-", "__rsub__": "-", "__truediv__": "/", "__rtruediv__": "/",
    "__neg__": "neg",
}
MAX_RECORDED = 4_000_000
MAX_BACKWARD_SITES = 16


def is_number(x):
    return isinstance(x, numbers.Real)


def children_attribute(obj):
    try:
        children = obj._children
    except AttributeError:
        try:
            children = obj._prev
        except AttributeError:
            return None
    return children


class Recorder:
    def __init__(self, user_files, site_of_frame):
        self.user_files = user_files  # compile names of the user's chunks
        self.site_of_frame = site_of_frame  # frame -> site id (0 when unknown)
        self.value_types = set()
        self.other_types = set()
        # id(value) -> (sequence << 32) | (op index << 20) | site; overwritten when an id is reused.
        self.made = {}
        self.sequence = 0
        self.op_names = [""]
        self._op_index = {"": 0}
        self._op_of_code = {}  # code object of the method that made a value -> op index
        self._site_of_line = {}  # (code object, line) -> site id
        self.engine_codes = set()  # code objects of the value classes' methods
        self.labels = {}  # id(value) -> the first name it was bound to
        self.backward_roots = {}  # site -> [value, calls]
        self.binding_counts = {}
        self.binding_last = {}
        self.last_value = None
        self.last_binding = None
        self.enabled = True
        self.backward_watch = None

    # shape

    def is_value(self, obj):
        kind = type(obj)
        if kind in self.value_types:
            return True
        if kind in self.other_types or isinstance(obj, (int, float, str, bytes, tuple, list, dict, set)):
            return False
        try:
            ok = is_number(obj.data) and is_number(obj.grad) and children_attribute(obj) is not None
        except Exception:
            ok = False
        (self.value_types if ok else self.other_types).add(kind)
        if ok and self.enabled:
            self.patch_found_class(kind)
        return ok

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
        return "data" in names and "grad" in names and ("_children" in names or "_prev" in names)

    def patch_class(self, cls):
        # The class's own methods are engine code: a value made inside `__add__` is said to be made
        # where the user's code called it (`z = x * y + w`), even when the class is in the user's file.
        for member in cls.__dict__.values():
            function = getattr(member, "__func__", member)  # staticmethod / classmethod
            code = getattr(function, "__code__", None)
            if code is not None:
                self.engine_codes.add(code)
        init = cls.__dict__.get("__init__")
        if callable(init) and not getattr(init, "_gradlens", False):
            recorder = self

            @functools.wraps(init)
            def __init__(self, *args, **kwargs):
                init(self, *args, **kwargs)
                if recorder.enabled:
                    recorder.record_made(self, sys._getframe(1))

            __init__._gradlens = True
            cls.__init__ = __init__
        backward = cls.__dict__.get("backward")
        if callable(backward) and not getattr(backward, "_gradlens", False):
            recorder = self

            @functools.wraps(backward)
            def backward_recorded(self, *args, **kwargs):
                if recorder.enabled:
                    recorder.record_backward(self, sys._getframe(1))
                return backward(self, *args, **kwargs)

            backward_recorded._gradlens = True
            cls.backward = backward_recorded

    def install(self):
        original = builtins.__build_class__
        recorder = self

        def build_class(func, name, *bases, **kwargs):
            cls = original(func, name, *bases, **kwargs)
            try:
                if isinstance(cls, type) and recorder.looks_like_value_class(cls):
                    recorder.patch_class(cls)
            except Exception:
                pass  # a class GradLens cannot patch still runs; it is then found by the heap scan
            return cls

        builtins.__build_class__ = build_class

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

    def record_made(self, value, caller):
        # Runs for every value made: kept to dictionary look-ups (op per code object, site per line).
        made = self.made
        if len(made) >= MAX_RECORDED:
            made.clear()  # keep recording the newest values; older ones lose their line
        self.sequence += 1
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
        key = id(value)
        made[key] = (self.sequence << 32) | (op_index << 20) | (site & 0xFFFFF)
        if key in self.labels:
            del self.labels[key]

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
            op_index = len(self.op_names) if len(self.op_names) < 4095 else 0
            if op_index:
                self.op_names.append(op)
                self._op_index[op] = op_index
        if cacheable:
            self._op_of_code[code] = op_index
        return op_index

    def record_backward(self, value, caller):
        site = self.site_of_frame(self.making_frame(caller))
        if self.backward_watch is not None:
            self.backward_watch.before(value, site)  # gradlens_backward_watch.py
        entry = self.backward_roots.get(site)
        if entry is not None:
            entry[0] = value
            entry[1] += 1
        elif len(self.backward_roots) < MAX_BACKWARD_SITES:
            self.backward_roots[site] = [value, 1]

    def bind_helper(self, names):
        """The function the rewritten code calls as `_gradlens_bind(value, spec[, label])`: records
        the value a variable was bound to. A closure over plain locals, as it runs on every assignment."""
        recorder = self
        value_types, is_value = self.value_types, self.is_value
        counts, last, labels = self.binding_counts, self.binding_last, self.labels

        def bind(value, spec, label=True):
            if spec.__class__ is int:
                if type(value) in value_types or is_value(value):
                    counts[spec] = counts.get(spec, 0) + 1
                    last[spec] = value
                    if label:
                        # Loop variables (label False) neither name values nor become "the last value".
                        if id(value) not in labels:
                            labels[id(value)] = names[spec]
                        recorder.last_value = value
                        recorder.last_binding = spec
            elif spec.__class__ is tuple and value.__class__ in (tuple, list) and len(value) == len(spec):
                for item, inner in zip(value, spec):
                    bind(item, inner, label)
            return value

        return bind

    def expression(self, value):
        if self.is_value(value):
            self.last_value = value
            self.last_binding = None
        return value

    # reading back

    def sequence_of(self, value):
        return self.made.get(id(value), 0) >> 32

    def site_of(self, value):
        return self.made.get(id(value), 0) & 0xFFFFF

    def op_hint(self, value):
        return self.op_names[(self.made.get(id(value), 0) >> 20) & 0xFFF]


def _exponent_text(frame):
    # The exponent is the method's second parameter, whatever it is called.
    code = frame.f_code
    if code.co_argcount < 2:
        return ""
    exponent = frame.f_locals.get(code.co_varnames[1])
    if isinstance(exponent, float) and exponent.is_integer():
        exponent = int(exponent)
    return str(exponent) if is_number(exponent) else ""
