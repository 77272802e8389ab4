"""Where things are in the user's code.

A chunk is one piece of user code GradLens compiles: a whole .py file, a selection, or a fenced code
block of a Markdown file. This module maps a chunk's lines and columns to the file the user sees,
finds the statement each line belongs to (the "site" a value was made at), works out which names a
chunk uses and defines (so a Markdown block can borrow definitions from earlier blocks), and rewrites
the chunk's syntax tree so every assignment reports the value it binds.
"""
import ast
import builtins
import re
import symtable
import sys

MAX_SITE_TEXT = 80
BIND_HELPER = "_gradlens_bind"
EXPRESSION_HELPER = "_gradlens_expr"
LINK_HELPER = "_gradlens_linked"
ENTER_HELPER = "_gradlens_enter"  # a user function starts and ends (gradlens_frames.py)
LEAVE_HELPER = "_gradlens_leave"
# Where values are made, kept without a Python call per value (gradlens_values.py, the creation log):
# every statement of the user's code stores its key in HERE_HELPER[0]; a value class's methods store
# their op in OP_HELPER[0]; the class's own __init__ appends id(self) and both to the log.
HERE_HELPER = "_gradlens_here"
OP_HELPER = "_gradlens_op"
ON_HELPER = "_gradlens_on"
IDS_HELPER = "_gradlens_ids"
PLACES_HELPER = "_gradlens_places"
POW_HELPER = "_gradlens_powop"
TOPO_HELPER = "_gradlens_topo"  # a value class's backward() hands over its locals: its own topological order
# A graph captured at backward() copies its numbers only when read (gradlens_capture.lazy): the user's
# writes to a value after it go through WRITE_HELPER (which saves the value's numbers first) or, for its
# inputs, RELINK_HELPER; the value classes' own methods test DIRTY_HELPER[0] before they write and call
# SETTLE_HELPER when it is set (the rule: gradlens_values.Recorder.lazy_blocked).
WRITE_HELPER = "_gradlens_w"
RELINK_HELPER = "_gradlens_wx"
DIRTY_HELPER = "_gradlens_dirty"
SETTLE_HELPER = "_gradlens_settle"
_NUMBER_NAMES = ("data", "grad")
_OP_SAVED = "_gradlens_opsaved"
_CALL_TOKEN = "_gradlens_call"
_INPUT_NAMES = ("_children", "_prev")
WRITTEN_NAMES = _NUMBER_NAMES + _INPUT_NAMES
# Methods that change an inputs container in place (`x._prev.add(y)`).
_CHANGING_METHODS = frozenset((
    "add", "append", "extend", "insert", "remove", "discard", "pop", "clear", "update", "sort", "reverse",
    "__setitem__", "__delitem__", "__iadd__", "__ior__", "difference_update", "intersection_update", "symmetric_difference_update",
))

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def utf16_length(text):
    """Editors count columns in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class Chunk:
    def __init__(self, index, spec):
        self.index = index
        self.code = spec["code"]
        self.file = spec["file"]
        self.line = spec.get("line", 1)
        # Columns removed from (or before) the chunk's lines: the first line may start mid-line.
        self.first_line_shift = spec.get("firstLineShift", 0)
        self.shift = spec.get("shift", 0)
        self.compile_name = spec["compileName"]
        self.lines = _LINE_BREAK.split(self.code)
        self.tree = None
        self.statements = {}  # line -> Statement (innermost statement covering it)

    def column(self, line, byte_offset):
        """1-based editor column of a 0-based UTF-8 byte offset on a 1-based chunk line."""
        column = 1
        if byte_offset is not None and 1 <= line <= len(self.lines):
            prefix = self.lines[line - 1].encode("utf-8")[: max(0, byte_offset)]
            column = utf16_length(prefix.decode("utf-8", "replace")) + 1
        return column + (self.first_line_shift if line == 1 else self.shift)

    def position(self, line, byte_offset=None):
        return {"file": self.file, "line": self.line + line - 1, "column": self.column(line, byte_offset)}

    def range(self, line, byte_offset, end_line, end_byte_offset):
        start = self.position(line, byte_offset)
        start["endLine"] = self.line + end_line - 1
        start["endColumn"] = self.column(end_line, end_byte_offset)
        return start

    def line_text(self, line):
        return self.lines[line - 1] if 1 <= line <= len(self.lines) else ""


class Statement:
    """The statement a line belongs to: where values made on that line are said to be made."""

    def __init__(self, chunk, node, function_name, header_only):
        self.chunk = chunk
        self.line = node.lineno
        if header_only:
            # A compound statement's own code is its header (`for v in values:`), not its body.
            self.end_line = max(node.lineno, _first_body_line(node) - 1)
            self.end_offset = len(chunk.line_text(self.end_line).encode("utf-8"))
        else:
            self.end_line = node.end_lineno or node.lineno
            self.end_offset = node.end_col_offset
        self.offset = node.col_offset
        self.function_name = function_name
        self.binding = _single_target_name(node)
        text = " ".join(chunk.line_text(n).strip() for n in range(self.line, self.end_line + 1))
        if not header_only and self.line == self.end_line and self.end_offset is not None:
            source = chunk.line_text(self.line).encode("utf-8")[self.offset : self.end_offset]
            text = source.decode("utf-8", "replace").strip()
        self.text = text if len(text) <= MAX_SITE_TEXT else text[: MAX_SITE_TEXT - 1] + "…"

    def site(self):
        site = self.chunk.range(self.line, self.offset, self.end_line, self.end_offset)
        site["text"] = self.text
        if self.binding:
            site["binding"] = self.binding
        if self.function_name:
            site["functionName"] = self.function_name
        return site


def _first_body_line(node):
    body = getattr(node, "body", None)
    if body and isinstance(body, list) and hasattr(body[0], "lineno"):
        first = body[0]
        # Decorated definitions start at their first decorator.
        decorators = getattr(first, "decorator_list", None)
        return min([first.lineno] + [d.lineno for d in decorators or []])
    return node.lineno + 1


def _single_target_name(node):
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def index_statements(chunk):
    """Fill chunk.statements: every line maps to the innermost statement that covers it."""
    found = []  # (span, Statement, lines)

    def visit(node, function_name):
        for child in ast.iter_child_nodes(node):
            inner_function = function_name
            if isinstance(child, ast.stmt):
                body = getattr(child, "body", None)
                compound = isinstance(body, list) and bool(body) and isinstance(body[0], ast.stmt)
                statement = Statement(chunk, child, function_name, compound)
                child._gradlens_statement = statement  # for the rewrite's per-statement site key
                found.append((statement.end_line - statement.line, statement))
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    inner_function = child.name if not function_name else function_name + "." + child.name
            visit(child, inner_function)

    visit(chunk.tree, None)
    # Wider statements first, so the innermost statement of a line is written last.
    found.sort(key=lambda item: -item[0])
    for _, statement in found:
        for line in range(statement.line, statement.end_line + 1):
            chunk.statements[line] = statement


# --- names a chunk uses and defines (for Markdown blocks that build on earlier blocks) ---------------

_BUILTIN_NAMES = set(dir(builtins))


def _bound_at_module_level(table):
    names = set()
    for symbol in table.get_symbols():
        if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace():
            names.add(symbol.get_name())
    for child in table.get_children():
        for symbol in child.get_symbols():
            if symbol.is_declared_global() and symbol.is_assigned():
                names.add(symbol.get_name())
    return names


def names_of(code, compile_name):
    """(free, bound): global names the code reads but does not define, and names it defines."""
    top = symtable.symtable(code, compile_name, "exec")
    bound = _bound_at_module_level(top)
    used = set()

    def visit(table, is_module):
        for symbol in table.get_symbols():
            if symbol.is_referenced() and (is_module or symbol.is_global()):
                used.add(symbol.get_name())
        for child in table.get_children():
            visit(child, False)

    visit(top, True)
    return used - bound - _BUILTIN_NAMES, bound


def select_context(main_code, main_name, context_chunks, partial=("Value",)):
    """The earlier chunks that define names the main chunk uses, as [(chunk, names it provides)] in
    document order; searched nearest first. A chapter shows `Value` in pieces (a class with only its
    `__init__`, methods alone), so only a block that defines the whole class (one with a `backward()`
    method: the full listing, a learner's own class) pulls it in; without one, the tutorial's is provided."""
    try:
        needed, _ = names_of(main_code, main_name)
    except SyntaxError:
        return []
    selected = []
    for chunk in reversed(context_chunks):
        if not needed:
            break
        try:
            free, bound = names_of(chunk.code, chunk.compile_name)
        except (SyntaxError, ValueError):
            continue
        provided = {name for name in needed & bound if name not in partial or _defines_whole_class(chunk.code, name)}
        if provided:
            selected.append((chunk, sorted(provided)))
            needed = (needed - bound) | free
    selected.reverse()
    return selected


def _defines_whole_class(code, name):
    """Whether the code defines the class `name` at its top level with a `backward()` method."""
    for node in ast.parse(code).body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return any(isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "backward" for item in node.body)
    return False


# --- the rewrite that reports bindings -------------------------------------------------------------


class BindingTable:
    """Variables whose values are recorded for hovers: one entry per (scope, name), at its first
    assignment, shared by every chunk of a run."""

    def __init__(self):
        self.entries = []  # {"name", "range"}
        self._ids = {}

    def id_for(self, scope, name, chunk, node):
        key = (scope, name)
        if key not in self._ids:
            self._ids[key] = len(self.entries)
            self.entries.append({"name": name, "range": chunk.range(node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)})
        return self._ids[key]


class _Instrument(ast.NodeTransformer):
    def __init__(self, chunk, bindings, functions, places=None):
        self.chunk = chunk
        self.bindings = bindings
        self.functions = functions  # (qualified name, position) per reported function; its index is its id
        self.places = places  # statement_key(statement) and op_bits(method name), or None: no creation log
        self.scopes = []  # (qualified name, names declared global there)

    # scopes

    def _visit_scope(self, node, name):
        declared = set()
        for inner in ast.walk(node):
            if isinstance(inner, ast.Global):
                declared.update(inner.names)
        qualified = name if not self.scopes else self.scopes[-1][0] + "." + name
        self.scopes.append((qualified, declared))
        self.generic_visit(node)
        self.scopes.pop()
        return node

    def visit_FunctionDef(self, node):
        self._visit_scope(node, node.name)
        if self.functions is not None and not _is_generator(node):
            self._report_call(node)
        return node

    def _report_call(self, node):
        """`_gradlens_call = _gradlens_enter(ID); try: <body> finally: _gradlens_leave(_gradlens_call)`,
        after the docstring. Generators are left alone: their body runs in pieces, interleaved with
        their caller's."""
        qualified = node.name if not self.scopes else self.scopes[-1][0] + "." + node.name
        function_id = len(self.functions)
        self.functions.append((qualified, self.chunk.position(node.lineno)))
        body = node.body
        head = body[:1] if ast.get_docstring(node, clean=False) is not None else []
        rest = body[len(head):]
        if not rest:
            return
        at = rest[0]
        enter = ast.Assign(
            targets=[ast.Name(id=_CALL_TOKEN, ctx=ast.Store())],
            value=ast.Call(func=ast.Name(id=ENTER_HELPER, ctx=ast.Load()), args=[ast.Constant(value=function_id)], keywords=[]),
        )
        leave = ast.Expr(value=ast.Call(func=ast.Name(id=LEAVE_HELPER, ctx=ast.Load()), args=[ast.Name(id=_CALL_TOKEN, ctx=ast.Load())], keywords=[]))
        guarded = ast.Try(body=rest, handlers=[], orelse=[], finalbody=[ast.copy_location(leave, at)])
        node.body = head + [ast.copy_location(enter, at), ast.copy_location(guarded, at)]

    def visit_AsyncFunctionDef(self, node):
        return self._visit_scope(node, node.name)

    def visit_ClassDef(self, node):
        if _is_value_class(node):
            # The engine's own temporaries (`other`, `out`) are not what a learner hovers; its methods
            # only say which op they make, and its __init__ logs each value.
            _guard_writes(node)
            if self.places is not None:
                _log_values_of_class(node, self.places)
            return node
        return self._visit_scope(node, node.name)

    def visit_Lambda(self, node):
        self.generic_visit(node)  # no statements; only writes to values (a comprehension's target)
        return node

    # writes to values (see WRITE_HELPER)

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            if node.attr in _NUMBER_NAMES:
                node.value = _helper_call(WRITE_HELPER, node.value)
            elif node.attr in _INPUT_NAMES:
                node.value = _helper_call(RELINK_HELPER, node.value)
        elif node.attr in _CHANGING_METHODS and isinstance(node.value, ast.Attribute) and node.value.attr in _INPUT_NAMES:
            node.value.value = _helper_call(RELINK_HELPER, node.value.value)
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, (ast.Store, ast.Del)) and isinstance(node.value, ast.Attribute) and node.value.attr in _INPUT_NAMES:
            node.value.value = _helper_call(RELINK_HELPER, node.value.value)
        return node

    def _binding_spec(self, target):
        if isinstance(target, ast.Name):
            scope = ""
            if self.scopes and target.id not in self.scopes[-1][1]:
                scope = self.scopes[-1][0]
            return self.bindings.id_for(scope, target.id, self.chunk, target)
        if isinstance(target, (ast.Tuple, ast.List)) and all(isinstance(e, (ast.Name, ast.Tuple, ast.List)) for e in target.elts):
            return tuple(self._binding_spec(e) for e in target.elts)
        return None

    def _bind_call(self, value, spec, at, label=True):
        # Loop variables are recorded for hovers but do not name values: `for p in params` would
        # otherwise call every parameter "p".
        args = [value, ast.Constant(value=spec)] + ([] if label else [ast.Constant(value=False)])
        call = ast.Call(func=ast.Name(id=BIND_HELPER, ctx=ast.Load()), args=args, keywords=[])
        return ast.copy_location(call, at)

    # statements

    def _relinked(self, node, target):
        """After `a._children = …` (or `a._prev.add(…)`) outside a value class: a report of where
        `a`'s inputs were changed, the line named when that change closes a cycle."""
        changed = target.value if isinstance(target, ast.Attribute) else None
        if isinstance(changed, ast.Call) and isinstance(changed.func, ast.Name) and changed.func.id == RELINK_HELPER:
            changed = changed.args[0]  # the write's own rewrite (visit_Attribute)
        if isinstance(target, ast.Attribute) and target.attr in _INPUT_NAMES and isinstance(changed, ast.Name):
            call = ast.Call(func=ast.Name(id=LINK_HELPER, ctx=ast.Load()), args=[ast.Name(id=changed.id, ctx=ast.Load())], keywords=[])
            return ast.copy_location(ast.Expr(value=ast.copy_location(call, node)), node)
        return None

    def _bound_after(self, target, spec, at, label=True):
        """`if NAME.__class__ not in _gradlens_bind.not_values: _gradlens_bind(NAME, spec)` for each name of
        a target (a name, or a tuple of them) once it is bound: the class test (what bind() would test
        first) spares a Python call for every number, list, … the program binds."""
        if isinstance(target, ast.Name):
            test = ast.Compare(
                left=ast.Attribute(value=_name(target.id), attr="__class__", ctx=ast.Load()),
                ops=[ast.NotIn()],
                comparators=[ast.Attribute(value=_name(BIND_HELPER), attr="not_values", ctx=ast.Load())],
            )
            call = ast.Expr(value=self._bind_call(_name(target.id), spec, at, label))
            return [ast.copy_location(ast.If(test=test, body=[ast.copy_location(call, at)], orelse=[]), at)]
        return [statement for element, inner in zip(target.elts, spec) for statement in self._bound_after(element, inner, at, label)]

    def visit_Assign(self, node):
        self.generic_visit(node)
        links = [r for r in (self._relinked(node, t) for t in node.targets) if r is not None]
        if links:
            return [node] + links
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            spec = self._binding_spec(node.targets[0])
            return [node] + self._bound_after(node.targets[0], spec, node)
        for target in node.targets:
            spec = self._binding_spec(target)
            if spec is not None:
                node.value = self._bind_call(node.value, spec, node.value)
                break
        return node

    def visit_AnnAssign(self, node):
        self.generic_visit(node)
        if node.value is not None and isinstance(node.target, ast.Name):
            node.value = self._bind_call(node.value, self._binding_spec(node.target), node.value)
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        link = self._relinked(node, node.target)
        if link is not None:
            return [node, link]
        if not isinstance(node.target, ast.Name):
            return node
        return [node] + self._bound_after(node.target, self._binding_spec(node.target), node)

    def _visit_loop(self, node):
        self.generic_visit(node)
        spec = self._binding_spec(node.target)
        if spec is not None:
            node.body[:0] = [ast.copy_location(statement, node.body[0]) for statement in self._bound_after(node.target, spec, node.target, label=False)]
        return node

    def visit_For(self, node):
        return self._visit_loop(node)

    def visit_AsyncFor(self, node):
        return self._visit_loop(node)

    def visit_Expr(self, node):
        self.generic_visit(node)
        call = node.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Attribute):
            link = self._relinked(node, call.func.value)  # a._prev.add(b), a._children.append(b)
            if link is not None:
                return [node, link]
        # Top-level expressions (`z`, `x * y`) may be the value the learner wants drawn.
        if not self.scopes and not isinstance(node.value, ast.Constant):
            node.value = ast.copy_location(ast.Call(func=ast.Name(id=EXPRESSION_HELPER, ctx=ast.Load()), args=[node.value], keywords=[]), node.value)
        return node


def _helper_call(helper, value):
    return ast.copy_location(ast.Call(func=_name(helper), args=[value], keywords=[]), value)


def _guard_writes(node):
    """A value class of the user's: before each statement of its methods (and of functions nested in them)
    that writes a value's data, grad or inputs, `if _gradlens_dirty[0]: _gradlens_settle()` (a flag test;
    the hot path, `_backward` closures, pays only that), except `__init__`'s writes to its own new value;
    backward() tests it once as it starts (it runs recorded, the flag then off)."""
    for inner in node.body:
        if not isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        arguments = inner.args.posonlyargs + inner.args.args
        if inner.name == "backward":
            head, rest = _body_after_docstring(inner)
            if rest:
                _guard_nested(rest)
                inner.body = head + [_guard_at(rest[0])] + rest
        else:
            own = arguments[0].arg if inner.name == "__init__" and arguments else None
            inner.body = _guarded(inner.body, own)


def _guard_nested(statements):
    """The functions defined in backward()'s body (not the body itself: its loop is the hot path)."""
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                node.body = _guarded(node.body, None)


def _guard_at(statement):
    """`if _gradlens_dirty[0]: _gradlens_settle()`, at the statement's place."""
    call = ast.Expr(value=ast.Call(func=_name(SETTLE_HELPER), args=[], keywords=[]))
    guard = ast.If(test=_slot(DIRTY_HELPER), body=[call], orelse=[])
    for n in ast.walk(guard):
        ast.copy_location(n, statement)
    return guard


def _guarded(statements, own):
    """The statements, each that writes a value (_writes_values) after a flag test (_guard_at)."""
    out = []
    for statement in statements:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            statement.body = _guarded(statement.body, None)
        elif isinstance(statement, ast.ClassDef):
            for inner in statement.body:
                if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    inner.body = _guarded(inner.body, None)
        else:
            for field in ("body", "orelse", "finalbody"):
                value = getattr(statement, field, None)
                if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                    setattr(statement, field, _guarded(value, own))
            for handler in getattr(statement, "handlers", None) or ():
                handler.body = _guarded(handler.body, own)
            for case in getattr(statement, "cases", None) or ():
                case.body = _guarded(case.body, own)
            if _writes_values(statement, own):
                out.append(_guard_at(statement))
        out.append(statement)
    return out


def _writes_values(statement, own):
    """Whether a statement itself (not the statements in its body) writes a value's data, grad or inputs
    (other than those of `own`, the new value of an __init__)."""
    for field, value in ast.iter_fields(statement):
        if field in ("body", "orelse", "finalbody", "handlers", "cases"):
            continue
        for part in value if isinstance(value, list) else [value]:
            if not isinstance(part, ast.AST):
                continue
            for node in ast.walk(part):
                target = None
                if isinstance(node, ast.Attribute):
                    if isinstance(node.ctx, (ast.Store, ast.Del)) and node.attr in WRITTEN_NAMES:
                        target = node.value
                    elif node.attr in _CHANGING_METHODS and isinstance(node.value, ast.Attribute) and node.value.attr in _INPUT_NAMES:
                        target = node.value.value
                elif isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)) and isinstance(node.value, ast.Attribute) and node.value.attr in _INPUT_NAMES:
                    target = node.value.value
                if target is not None and not (own is not None and isinstance(target, ast.Name) and target.id == own):
                    return True
    return False


def _name(id_, ctx=ast.Load):
    return ast.Name(id=id_, ctx=ctx())


def _slot(name, ctx=ast.Load):
    """`name[0]`"""
    zero = ast.Constant(value=0)
    return ast.Subscript(value=_name(name), slice=zero if sys.version_info >= (3, 9) else ast.Index(value=zero), ctx=ctx())


def _body_after_docstring(function):
    body = function.body
    head = body[:1] if ast.get_docstring(function, clean=False) is not None else []
    return head, body[len(head):]


def _log_values_of_class(node, places):
    """A value class of the user's: each of its methods stores its op while it runs, and `__init__`
    appends the value to the creation log, with the op and the statement of the moment. Functions
    nested in a method (backward()'s `visit`, micrograd's `_backward` closures) store nothing: they
    run once per node in backward(), and a value one of them makes is said to be made by the method
    running then (the one that defined it, or backward())."""
    for inner in node.body:
        if not isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) or _is_generator(inner):
            continue
        head, rest = _body_after_docstring(inner)
        if not rest:
            continue
        at = rest[0]
        arguments = inner.args.posonlyargs + inner.args.args
        if inner.name == "__init__" and arguments:
            # if _gradlens_on[0]: _gradlens_ids(id(self)); _gradlens_places(_gradlens_op[0] | _gradlens_here[0])
            own = arguments[0].arg
            log = ast.If(
                test=_slot(ON_HELPER),
                body=[
                    ast.Expr(value=ast.Call(func=_name(IDS_HELPER), args=[ast.Call(func=_name("id"), args=[_name(own)], keywords=[])], keywords=[])),
                    ast.Expr(value=ast.Call(func=_name(PLACES_HELPER), args=[ast.BinOp(left=_slot(OP_HELPER), op=ast.BitOr(), right=_slot(HERE_HELPER))], keywords=[])),
                ],
                orelse=[],
            )
            if _returns(inner):
                inner.body = head + [ast.copy_location(ast.Try(body=rest, handlers=[], orelse=[], finalbody=[log]), at)]
            else:
                # No `return` to get past: the log after the body (an __init__ that raises makes no value to log).
                inner.body = head + rest + [ast.copy_location(log, rest[-1])]
            continue
        if inner.name == "__init__":
            continue
        if inner.name == "__pow__" and len(arguments) >= 2:
            op = ast.Call(func=_name(POW_HELPER), args=[_name(arguments[1].arg)], keywords=[])
        else:
            op = ast.Constant(value=places.op_bits(inner.name))
        save = ast.Assign(targets=[_name(_OP_SAVED, ast.Store)], value=_slot(OP_HELPER))
        store = ast.Assign(targets=[_slot(OP_HELPER, ast.Store)], value=op)
        restore = ast.Assign(targets=[_slot(OP_HELPER, ast.Store)], value=_name(_OP_SAVED))
        finally_ = [restore]
        if inner.name == "backward" and inner in node.body and arguments:
            # _gradlens_topo(self, locals()): the list backward() walked, if it kept one (gradlens_capture.py checks it)
            report = ast.Call(func=_name(TOPO_HELPER), args=[_name(arguments[0].arg), ast.Call(func=_name("locals"), args=[], keywords=[])], keywords=[])
            finally_.insert(0, ast.Expr(value=report))
        guarded = ast.Try(body=rest, handlers=[], orelse=[], finalbody=finally_)
        inner.body = head + [ast.copy_location(x, at) for x in (save, store, guarded)]


_NO_SITE = (ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal)


def _mark_statements(tree, places):
    """Before every statement of the user's code (not inside value classes): `_gradlens_here[0] = KEY`,
    the statement values made now are said to be made at. A `while` test stores it again each time."""

    def key_of(statement):
        return ast.Constant(value=places.statement_key(statement._gradlens_statement))

    def mark(statements):
        out = []
        for statement in statements:
            walk(statement)
            if hasattr(statement, "_gradlens_statement") and not isinstance(statement, _NO_SITE):
                is_docstring = isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
                is_future = isinstance(statement, ast.ImportFrom) and statement.module == "__future__"
                if not is_docstring and not is_future:
                    store = ast.Assign(targets=[_slot(HERE_HELPER, ast.Store)], value=key_of(statement))
                    out.append(ast.copy_location(store, statement))
                    if isinstance(statement, ast.While):
                        # (_gradlens_here.__setitem__(0, KEY) or test)
                        again = ast.Call(func=ast.Attribute(value=_name(HERE_HELPER), attr="__setitem__", ctx=ast.Load()), args=[ast.Constant(value=0), key_of(statement)], keywords=[])
                        statement.test = ast.copy_location(ast.BoolOp(op=ast.Or(), values=[again, statement.test]), statement.test)
            out.append(statement)
        return out

    def walk(node):
        if isinstance(node, ast.ClassDef) and _is_value_class(node):
            return
        for field in ("body", "orelse", "finalbody"):
            value = getattr(node, field, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                setattr(node, field, mark(value))
        for handler in getattr(node, "handlers", None) or ():
            handler.body = mark(handler.body)
        for case in getattr(node, "cases", None) or ():  # match statements
            case.body = mark(case.body)

    walk(tree)


def _is_value_class(node):
    """A class that keeps `grad` and `_children` or `_prev` (set in its methods, or declared as fields
    or slots): a Value class, by its shape."""
    stored = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Attribute) and isinstance(inner.ctx, ast.Store):
            stored.add(inner.attr)
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            stored.add(statement.target.id)  # dataclass fields
        elif isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__slots__" for t in statement.targets):
            stored.update(c.value for c in ast.walk(statement.value) if isinstance(c, ast.Constant) and isinstance(c.value, str))
    return "grad" in stored and ("_children" in stored or "_prev" in stored)


def _returns(function):
    """Whether a function's own body (not a nested function's) has a `return`."""
    pending = list(function.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Return):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        pending.extend(ast.iter_child_nodes(node))
    return False


def _is_generator(function):
    """Whether a function's own body (not a nested function's) yields."""
    pending = list(function.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom, ast.Await)):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        pending.extend(ast.iter_child_nodes(node))
    return False


def uses_undefined_value(chunks):
    """Whether the code reads a global `Value` that none of the chunks defines or imports."""
    used = bound = False
    for chunk in chunks:
        try:
            free, names = names_of(chunk.code, chunk.compile_name)
        except (SyntaxError, ValueError):
            continue
        used = used or "Value" in free
        bound = bound or "Value" in names
    return used and not bound


def instrument(chunk, bindings, functions=None, places=None):
    """Parse, index and rewrite a chunk; returns its code object. Raises SyntaxError. `functions`:
    a list the user's functions are added to, as (qualified name, position), when their calls are reported.
    `places` (statement_key, op_bits): also keep where values are made in the creation log."""
    chunk.tree = ast.parse(chunk.code, chunk.compile_name, "exec")
    index_statements(chunk)
    tree = _Instrument(chunk, bindings, functions, places).visit(chunk.tree)
    if places is not None:
        _mark_statements(tree, places)
    ast.fix_missing_locations(tree)
    return compile(tree, chunk.compile_name, "exec", dont_inherit=True)
