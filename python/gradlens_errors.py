"""Errors from the user's code as a learner reads them: a sentence, the line of the user's code
(of the .py file or the Markdown file), and the user's own frames for the log."""
import re
import sys
import traceback

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


def user_frames(chunks, tb):
    """(FrameSummary, chunk) for each frame of the user's own code, outermost first."""
    frames = []
    for summary in traceback.extract_tb(tb):
        chunk = chunks.get(summary.filename)
        if chunk is not None:
            frames.append((summary, chunk))
    return frames


def error_of(chunks, error, kind, message):
    frames = user_frames(chunks, error.__traceback__)
    position = None
    if frames:
        summary, chunk = frames[-1]
        position = chunk.position(summary.lineno or 1, getattr(summary, "colno", None))
        if kind in ("timeout", "memory"):
            message += said(" — last at line {0}", position["line"])
    result = {"kind": kind}
    result.update(message_fields(message))
    if position is not None:
        result["position"] = position
        result["stack"] = "\n".join(
            "%s:%d in %s: %s" % (chunk.file, chunk.line + (s.lineno or 1) - 1, s.name, (s.line or "").strip()) for s, chunk in frames
        )
    return result


def syntax_error_of(chunk, error):
    message = "%s: %s" % (type(error).__name__, error.msg) if getattr(error, "msg", None) else str(error)
    result = {"kind": "syntax", "message": message}
    if error.lineno:
        # SyntaxError.offset counts characters from 1; Chunk.column wants a UTF-8 byte offset.
        text = chunk.line_text(error.lineno)
        byte_offset = len(text[: max(0, (error.offset or 1) - 1)].encode("utf-8"))
        result["position"] = chunk.position(error.lineno, byte_offset)
    return result
