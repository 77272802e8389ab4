"""Errors from the user's code as a learner reads them: a sentence, the line of the user's code
(of the .py file or the Markdown file), and the user's own frames for the log."""
import re
import sys

from gradlens_messages import message_fields, said


def describe_exception(error, markdown):
    name = type(error).__name__
    message = str(error)
    if isinstance(error, NameError):
        missing = getattr(error, "name", None)
        if not missing:
            found = re.search(r"name '([^']+)'", message)
            missing = found.group(1) if found else None
        if missing:
            text = said("'{0}' is not defined", missing)
            if markdown:
                text += said(" — this code block uses a name that neither it nor an earlier block of the file defines (is it a fragment of a larger program?)")
            return text
    if isinstance(error, RecursionError):
        return said("RecursionError: the recursion went too deep. A recursive topological sort in backward() fails on deep graphs; an iterative one (with a stack) does not")
    if isinstance(error, ValueError) and "math domain error" in message:
        return said("math domain error: a math function got a number outside its domain (for example log(0), log of a negative number, or sqrt(-1))")
    if isinstance(error, ZeroDivisionError):
        return said("ZeroDivisionError: {0} (Python raises where JavaScript would give Infinity)", message)
    if isinstance(error, OverflowError):
        return said("OverflowError: the number got too large ({0})", message)
    if isinstance(error, ModuleNotFoundError):
        return said("the module '{0}' is not installed for this Python ({1}); install it, or choose another interpreter with the gradlens.pythonPath setting", error.name, sys.executable)
    if isinstance(error, EOFError):
        return said("EOFError: input() has nothing to read — GradLens runs the code without a keyboard")
    return "%s: %s" % (name, message) if message else name


# What JavaScript (and GradLens's TypeScript engine) gives where Python raises inside an op.
_INFIX = {"+", "-", "*", "/"}


def _number(x):
    data = getattr(x, "data", x)
    return data if isinstance(data, (int, float)) and not isinstance(data, bool) else None


def _javascript_result(op, inputs, error):
    x = inputs[0] if inputs else None
    y = inputs[1] if len(inputs) > 1 else None
    if op in ("log", "ln") and x is not None:
        return "-Infinity" if x == 0 else "NaN"
    if op in ("sqrt",) and x is not None:
        return "NaN"
    if op.startswith("**") and x is not None:
        exponent = y if y is not None else _parsed(op[2:])
        if x == 0 and exponent is not None and exponent < 0:
            return "Infinity"
        if isinstance(error, OverflowError):
            odd = exponent is not None and float(exponent).is_integer() and int(exponent) % 2 == 1
            return "-Infinity" if x < 0 and odd else "Infinity"
    if op == "/" and y == 0 and x is not None:
        return "NaN" if x == 0 or x != x else ("Infinity" if x > 0 else "-Infinity")
    if isinstance(error, ZeroDivisionError):
        return "Infinity"
    if isinstance(error, OverflowError):
        return "Infinity"
    return "NaN"


def _parsed(text):
    try:
        return float(text)
    except ValueError:
        return None


def _shown(x):
    return repr(float(x)) if isinstance(x, float) else str(x)


def describe_op_error(error, engine_codes, op_of_method):
    """When Python raised inside a Value op (ValueError: math domain error in log, OverflowError in
    exp, ZeroDivisionError in a division or a power): which op, its inputs, and what JavaScript would
    have given, as a NaN or infinity would be reported in TypeScript. None for other errors."""
    if not isinstance(error, (ValueError, OverflowError, ZeroDivisionError)):
        return None
    if isinstance(error, ValueError) and "domain" not in str(error):
        return None
    tb = error.__traceback__
    frame = None
    while tb is not None:
        if tb.tb_frame.f_code in engine_codes:
            frame = tb.tb_frame
        tb = tb.tb_next
    if frame is None:
        return None
    code = frame.f_code
    local = frame.f_locals
    if code.co_argcount >= 1 and code.co_varnames[0] in local:
        # A method: `self` and, for a binary op, the other operand.
        names = code.co_varnames[: code.co_argcount]
        inputs = [_number(local.get(n)) for n in names[:2]]
        name = code.co_name
        op = op_of_method.get(name) or ("**" if name == "__pow__" else name.strip("_"))
    else:
        # A backward closure (`_backward`): the node it belongs to and that node's inputs.
        out = local.get("out")
        op = getattr(out, "_op", "") if out is not None else ""
        inputs = [_number(local.get(n)) for n in ("self", "other") if n in local]
        op = op if isinstance(op, str) and op else "backward step"
    inputs = [x for x in inputs if x is not None]
    shown = [_shown(x) for x in inputs]
    if op in _INFIX or op == "**":
        expression = (" %s " % op).join(shown) if len(shown) == 2 else "%s(%s)" % (op, ", ".join(shown))
    else:
        expression = "%s(%s)" % (op, ", ".join(shown))
    js = _javascript_result(op, inputs, error)
    return said("{0} raised {1} in Python ({2}); JavaScript, and GradLens's TypeScript engine, would give {3}", expression, type(error).__name__, str(error), js)


def user_frames(chunks, tb):
    """(FrameSummary, chunk) for each frame of the user's own code, outermost first."""
    import traceback  # only when there is an error to place (with linecache and tokenize, ~8 ms of every run's start)

    frames = []
    for summary in traceback.extract_tb(tb):
        chunk = chunks.get(summary.filename)
        if chunk is not None:
            frames.append((summary, chunk))
    return frames


def error_of(chunks, error, kind, message, outside=None):
    """`outside`: code objects (the value classes' methods) whose lines are not the one to show: the
    user's line that called into them is."""
    frames = user_frames(chunks, error.__traceback__)
    position = None
    if frames:
        summary, chunk = frames[-1]
        if outside:
            codes = [tb.tb_frame.f_code for tb in _tracebacks(error.__traceback__) if tb.tb_frame.f_code.co_filename in chunks]
            for (candidate, candidate_chunk), code in reversed(list(zip(frames, codes))):
                if code not in outside:
                    summary, chunk = candidate, candidate_chunk
                    break
        position = chunk.position(summary.lineno or 1, getattr(summary, "colno", None))
        if kind in ("timeout", "memory"):
            message += said(" — last at line {0}", position["line"])
    result = {"kind": kind}
    if kind in ("timeout", "memory"):
        # The host words a stop as for TypeScript (src/runner/stopMessages.ts): the functions it was in,
        # innermost first; a module's top level, a generator expression or a lambda has no name to show.
        result["stop"] = {"functions": [None if s.name.startswith("<") else s.name for s, _ in reversed(frames)]}
    result.update(message_fields(message))
    if position is not None:
        result["position"] = position
        result["stack"] = "\n".join(
            "%s:%d in %s: %s" % (chunk.file, chunk.line + (s.lineno or 1) - 1, s.name, (s.line or "").strip()) for s, chunk in frames
        )
    return result


def _tracebacks(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


_LINE_IN_MESSAGE = re.compile(r"\b(on line|line) (\d+)\b")


def file_lines_in(message, chunk):
    """Python's own "on line 3" in a message about a chunk, as the line of the user's file."""
    if chunk.line == 1:
        return message
    return _LINE_IN_MESSAGE.sub(lambda m: "%s %d" % (m.group(1), chunk.line + int(m.group(2)) - 1), message)


def syntax_error_of(chunk, error):
    message = "%s: %s" % (type(error).__name__, error.msg) if getattr(error, "msg", None) else str(error)
    message = file_lines_in(message, chunk)
    result = {"kind": "syntax", "message": message}
    if error.lineno:
        # SyntaxError.offset counts characters from 1; Chunk.column wants a UTF-8 byte offset.
        text = chunk.line_text(error.lineno)
        byte_offset = len(text[: max(0, (error.offset or 1) - 1)].encode("utf-8"))
        result["position"] = chunk.position(error.lineno, byte_offset)
    return result
