"""Parameter paths: a name for each value the program keeps, read from its own structure.

Walks the module's globals in the order they were defined, through dicts, lists, tuples and
objects' attributes, down to the values: microgpt's `state_dict['wte'][3][5]`, micrograd's
`model.layers[0].neurons[1].w[0]`. Depth first, so the first path found wins (`state_dict[...]`
before a flat `params[...]` list made from it later). Mirrors src/runner/paramPaths.ts.
"""
import re
import types

MAX_VISITED = 200_000
MAX_ITEMS = 100_000
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SKIP = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType, type, str, bytes, int, float, complex, bool, range)


def _attributes(obj):
    """An object's data attributes, without running user code (no getattr on properties)."""
    found = []
    d = getattr(obj, "__dict__", None)
    if isinstance(d, dict):
        found.extend(d.items())
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in [slots] if isinstance(slots, str) else slots:
            descriptor = cls.__dict__.get(name)
            if descriptor is not None and hasattr(descriptor, "__get__"):
                try:
                    found.append((name, descriptor.__get__(obj, type(obj))))
                except AttributeError:
                    pass  # an empty slot
    return found


def _skipped_kind(kind):
    return kind is type(None) or issubclass(kind, _SKIP)


def find_parameter_paths(scope, is_value, value_types=None):
    """{id(value): (value, path)} for every value reachable from the module's globals. The value is kept
    beside its path: an id alone could later be another value's, once the first is freed.
    `value_types`: a dict whose keys are classes known to be value classes (is_value is True for them,
    as for the recorder's shapes); a list or tuple of
    only those (a matrix row) or only of what the walk skips (names, floats) is read at C speed."""
    paths = {}
    known = value_types.keys() if value_types else set()
    visited = set()
    stack = []
    for name, value in reversed(list(scope.items())):
        if not name.startswith("__"):
            stack.append((value, name))
    while stack and len(visited) < MAX_VISITED:
        value, path = stack.pop()
        if isinstance(value, _SKIP) or value is None:
            continue
        try:
            if is_value(value):
                paths.setdefault(id(value), (value, path))
                continue
        except Exception:
            continue
        key = id(value)
        if key in visited:
            continue
        visited.add(key)
        children = []
        try:
            if isinstance(value, dict):
                for k, item in value.items():
                    children.append((item, "%s[%r]" % (path, k)))
            elif isinstance(value, (list, tuple)):
                items = value[:MAX_ITEMS]
                kinds = set(map(type, items))
                if all(map(_skipped_kind, kinds)):
                    continue  # nothing in it the walk would look into
                if kinds <= known and not any(map(_skipped_kind, kinds)):
                    # Values only: each would be pushed and taken next, in this order, and end there.
                    for i, item in enumerate(items):
                        paths.setdefault(id(item), (item, "%s[%d]" % (path, i)))
                    continue
                for i, item in enumerate(items):
                    if not isinstance(item, _SKIP):
                        children.append((item, "%s[%d]" % (path, i)))
            elif isinstance(value, (set, frozenset)):
                pass  # no keys: members get no path of their own here
            else:
                for name, item in _attributes(value):
                    if not name.startswith("__"):
                        segment = ".%s" % name if _IDENTIFIER.match(name) else "[%r]" % name
                        children.append((item, path + segment))
        except Exception:
            continue  # an exotic object: skipped, never a failure of the run
        stack.extend(reversed(children))
    return paths


_TRAILING_INDICES = re.compile(r"(\[\d+\])+$")


def group_of_path(path):
    """`state_dict['wte'][3][5]` -> `state_dict['wte']`."""
    return _TRAILING_INDICES.sub("", path) or path


def short_group_names(groups):
    """Group names without the prefix they all share, cut at a segment boundary (see paramPaths.ts)."""
    out = {}
    if not groups:
        return out
    prefix = groups[0]
    for g in groups:
        i = 0
        while i < len(prefix) and i < len(g) and prefix[i] == g[i]:
            i += 1
        prefix = prefix[:i]
    cut = len(prefix)
    while cut > 0 and not all(len(g) > cut and g[cut] in ".[" for g in groups):
        cut -= 1
    if re.match(r"\[\d", groups[0][cut:cut + 2]):  # keep the property the indices belong to: `layers[0].w`
        cut = max(0, groups[0].rfind(".", 0, cut))
    for g in groups:
        out[g] = _tidy(g[cut:] if len(groups) > 1 else _last_segment(g))
    return out


_LAST = re.compile(r"(\.[A-Za-z_][A-Za-z0-9_]*|\[[^\]]*\])$")


def _last_segment(name):
    match = _LAST.search(name)
    return match.group(0) if match and match.start() > 0 else name


_QUOTED = re.compile(r"""^\[(["'])(.*?)\1\](.*)$""")


def _tidy(name):
    if name.startswith("."):
        return name[1:]
    match = _QUOTED.match(name)
    if match:
        return match.group(2) + match.group(3)
    return name
