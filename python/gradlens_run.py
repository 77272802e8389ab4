"""One run of the user's code: limits, hooks, output capture, errors, and the result file.

The result goes only to the file the request names; whatever the user's code prints goes to the real
stdout/stderr (which the extension reads if the run never finishes) and is also recorded with the line
that printed it.
"""
import builtins
import faulthandler
import gc
import json
import linecache
import os
import re
import signal
import sys
import time

from gradlens_errors import describe_exception, error_of, syntax_error_of
from gradlens_graph import as_float, json_number, label_of, op_of, roots_from_heap, snapshot
from gradlens_limits import TimeLimitReached, limit_memory, on_time_limit, seconds_text
from gradlens_messages import message_fields, said
from gradlens_output import Console, Output
from gradlens_sources import BIND_HELPER, EXPRESSION_HELPER, BindingTable, Chunk, instrument, select_context
from gradlens_values import Recorder

DEFAULT_NODE_LIMIT = 200_000


class Run:
    """The chunks of one run, the sites values were made at, bindings, and recorded output."""

    def __init__(self, request):
        self.request = request
        self.markdown = bool(request.get("markdown"))
        main = Chunk(0, request["main"])
        context = [Chunk(i + 1, spec) for i, spec in enumerate(request.get("context", []))]
        self.main = main
        selected = select_context(main.code, main.compile_name, context) if self.markdown else []
        self.context = [chunk for chunk, _ in selected]
        self.chunks = {c.compile_name: c for c in self.context + [main]}
        self.sites = [{"id": 0, "file": "", "line": 0, "column": 0, "endLine": 0, "endColumn": 0, "text": "(library code)"}]
        self._site_ids = {}
        self.bindings = BindingTable()
        self.recorder = Recorder(set(self.chunks), self.site_of_frame)
        self.output = Output(lambda frame: self.position_of_frame(self.recorder.user_frame(frame)))
        for chunk, names in selected:
            # Like a notebook: say which earlier block ran first, and why.
            self.output.note(said("ran the code block at line {0} first (it defines {1})", chunk.line, ", ".join(names)))

    def site_of_frame(self, frame):
        if frame is None:
            return 0
        chunk = self.chunks.get(frame.f_code.co_filename)
        if chunk is None:
            return 0
        line = frame.f_lineno or 0
        statement = chunk.statements.get(line)
        key = (chunk.index, statement.line, statement.offset) if statement else (chunk.index, line, -1)
        site = self._site_ids.get(key)
        if site is None:
            site = len(self.sites)
            if statement is not None:
                entry = statement.site()
            else:  # a line no statement covers (an `else:`): the line itself
                text = chunk.line_text(line)
                indent = len(text) - len(text.lstrip())
                entry = chunk.range(line, indent, line, len(text.encode("utf-8")))
                entry["text"] = text.strip()
            entry["id"] = site
            self.sites.append(entry)
            self._site_ids[key] = site
        return site

    def position_of_frame(self, frame):
        chunk = self.chunks.get(frame.f_code.co_filename) if frame is not None else None
        return chunk.position(frame.f_lineno or 1) if chunk else None


# --- the run -----------------------------------------------------------------------------------------


def execute(run, compiled, request, scope):
    """Runs the chunks; returns an error dict or None."""
    time_limit_ms = request.get("timeLimitMs", 10_000)
    timer = hasattr(signal, "setitimer")
    try:
        if timer:
            signal.signal(signal.SIGALRM, on_time_limit)
            signal.setitimer(signal.ITIMER_REAL, time_limit_ms / 1000)
        try:
            for chunk, code in compiled:
                run.output.recording = chunk is run.main
                exec(code, scope)
        finally:
            if timer:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except SystemExit as exit_request:
        if exit_request.code not in (None, 0):
            return dict(kind="runtime", **message_fields(said("the code called sys.exit({0})", repr(exit_request.code))))
    except TimeLimitReached as error:
        return error_of(run.chunks, error, "timeout", said("stopped after {0} s: the code was still running (an endless loop?)", seconds_text(time_limit_ms)))
    except MemoryError as error:
        return error_of(run.chunks, error, "memory", said("stopped: the code used more than the memory limit of {0} MB", request.get("heapLimitMb", 2048)))
    except BaseException as error:  # noqa: B036 — everything the user's code raises is shown, never re-raised
        message = describe_exception(error, run.markdown)
        return error_of(run.chunks, error, "runtime", message)
    finally:
        run.output.recording = True
    return None


def collect(run, request):
    recorder = run.recorder
    recorder.enabled = False
    node_limit = request.get("nodeLimit") or DEFAULT_NODE_LIMIT
    chosen = []  # (value, reason, site, calls, name)
    for site, (value, calls) in recorder.backward_roots.items():
        chosen.append((value, "backward", site, calls, None))
    if not chosen:
        value = recorder.last_value
        name = None
        if value is not None and recorder.last_binding is not None:
            name = run.bindings.entries[recorder.last_binding]["name"]
        if value is None:
            value = roots_from_heap(recorder)
        if value is not None:
            chosen.append((value, "last-value", recorder.site_of(value), 0, name))
    roots = []
    node_of = {}
    too_large = None
    for value, reason, site, calls, name in chosen:
        graph, index, too_many = snapshot(recorder, value, node_limit)
        root_index = len(roots)
        label = label_of(recorder, value)
        name = label or name or "root #%d" % (root_index + 1)
        if too_many:
            # As for TypeScript: a graph over the node limit is not drawn; the run says so instead.
            if too_large is None:
                message = said("the graph of {0} has more than {1} nodes, the limit", name, format(node_limit, ","))
                too_large = dict(kind="too-large", **message_fields(message))
                if site:
                    too_large["position"] = {key: run.sites[site][key] for key in ("file", "line", "column")}
            continue
        root = {"name": name, "reason": reason, "site": site, "graph": graph}
        if calls > 1:
            root["calls"] = calls
        roots.append(root)
        for key, node in index.items():
            node_of.setdefault(key, [root_index, node])
    bindings = []
    for binding_id, value in recorder.binding_last.items():
        entry = run.bindings.entries[binding_id]
        binding = {
            "name": entry["name"],
            "range": entry["range"],
            "data": json_number(as_float(value.data)),
            "grad": json_number(as_float(value.grad)),
            "op": op_of(recorder, value, bool(getattr(value, "_children", None) or getattr(value, "_prev", None))),
            "count": recorder.binding_counts.get(binding_id, 0),
        }
        node = node_of.get(id(value))
        if node:
            binding["node"] = {"root": node[0], "id": node[1]}
        bindings.append(binding)
    return roots, bindings, too_large


def write_result(path, result):
    temporary = path + ".part"
    # json.dumps, not json.dump: only the one-shot form uses the C encoder.
    text = json.dumps(result, allow_nan=False, ensure_ascii=False)
    with open(temporary, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)


def main(request_path):
    started = time.perf_counter()
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    result_path = request["resultPath"]
    dump = open(request["dumpPath"], "w")
    if hasattr(signal, "SIGUSR1"):
        # When the code does not stop at the timer (stuck in C), the extension asks where it is.
        faulthandler.register(signal.SIGUSR1, file=dump, all_threads=False)
    else:
        faulthandler.dump_traceback_later(request.get("timeLimitMs", 10_000) / 1000 + 0.8, file=dump)

    run = Run(request)
    result = {"roots": [], "bindings": [], "sites": run.sites, "console": run.output.lines, "executable": sys.executable}

    # Compile everything before running anything: a syntax error is reported without side effects.
    compiled = []
    for chunk in run.context + [run.main]:
        try:
            compiled.append((chunk, instrument(chunk, run.bindings)))
        except SyntaxError as error:
            result["error"] = syntax_error_of(chunk, error)
            write_result(result_path, result)
            return
        except ValueError as error:  # e.g. a NUL character in the source
            result["error"] = {"kind": "syntax", "message": str(error), "position": chunk.position(1)}
            write_result(result_path, result)
            return
        if not chunk.compile_name.startswith(os.sep) and not re.match(r"^[A-Za-z]:[\\/]", chunk.compile_name):
            linecache.cache[chunk.compile_name] = (len(chunk.code), None, [l + "\n" for l in chunk.lines], chunk.compile_name)

    recorder = run.recorder
    recorder.install()
    from gradlens_backward_watch import BackwardWatch

    recorder.backward_watch = BackwardWatch(recorder)
    import gradlens_tutorial_value  # made after install(), so its class is recorded like the user's

    builtins.Value = gradlens_tutorial_value.Value  # only seen when the code defines or imports no Value
    setattr(builtins, EXPRESSION_HELPER, recorder.expression)
    names = [e["name"] for e in run.bindings.entries]
    setattr(builtins, BIND_HELPER, recorder.bind_helper(names))

    user_file = request["file"]
    directory = os.path.dirname(user_file) or os.getcwd()
    sys.path[0] = directory
    sys.argv = [user_file]
    try:
        os.chdir(directory)
    except OSError:
        pass
    limit_memory(request.get("heapLimitMb", 2048))
    scope = {"__name__": "__main__", "__file__": user_file, "__builtins__": builtins, "__doc__": None}
    real_stdout, real_stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = Console("stdout", real_stdout, run.output), Console("stderr", real_stderr, run.output)

    error = execute(run, compiled, request, scope)

    sys.stdout, sys.stderr = real_stdout, real_stderr
    run.output.flush()
    if error is not None:
        result["error"] = error
    try:
        if error is not None and error["kind"] in ("memory", "timeout"):
            # Keep what was printed and where it stopped; drawing a graph now could take as long again.
            scope.clear()
            gc.collect()
        else:
            result["roots"], result["bindings"], too_large = collect(run, request)
            if too_large is not None and "error" not in result:
                result["error"] = too_large
            if recorder.backward_watch.warnings:
                result["warnings"] = recorder.backward_watch.warnings
            if request.get("opChecks"):
                from gradlens_opcheck import checks_for_run

                result["opChecks"] = checks_for_run(run)
    except MemoryError:
        scope.clear()
        result["roots"], result["bindings"] = [], []
        gc.collect()
        message = said("stopped: the graph is too large to read back within the memory limit of {0} MB", request.get("heapLimitMb", 2048))
        result["error"] = dict(kind="memory", **message_fields(message))
    except Exception as failure:  # a value class GradLens cannot read; what was printed is still shown
        result["roots"], result["bindings"] = [], []
        message = said("GradLens could not read the values back: {0}", "%s: %s" % (type(failure).__name__, failure))
        result.setdefault("error", dict(kind="internal", **message_fields(message)))
    result["durationMs"] = (time.perf_counter() - started) * 1000
    write_result(result_path, result)
    dump.close()
    sys.stdout.flush()
    # Skip the interpreter's teardown of the user's objects: it can take long on big graphs.
    os._exit(0)
