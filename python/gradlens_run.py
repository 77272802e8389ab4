"""One run of the user's code: limits, hooks, output capture, errors, and the result file.

The result goes only to the file the request names; whatever the user's code prints goes to the real
stdout/stderr (which the extension reads if the run never finishes) and is also recorded with the line
that printed it.
"""
import builtins
import faulthandler
import gc
import json
import os
import re
import shutil
import signal
import sys
import threading
import time

import gradlens_code_cache as code_cache
from gradlens_backward_watch import BackwardWatch
from gradlens_checkpoint import Checkpoints
from gradlens_capture import capture
from gradlens_frames import CallRecorder
from gradlens_errors import describe_exception, describe_op_error, error_of, file_lines_in, syntax_error_of
from gradlens_graph import ColumnBlock, GraphCycle, as_float, json_number, label_of, op_of, roots_from_heap, snapshot
from gradlens_limits import TimeLimitReached, limit_memory, on_time_limit, seconds_text
from gradlens_messages import message_fields, said
from gradlens_output import Console, Output
from gradlens_sources import (
    BIND_HELPER, ENTER_HELPER, EXPRESSION_HELPER, HERE_HELPER, IDS_HELPER, LEAVE_HELPER, LINK_HELPER, ON_HELPER, OP_HELPER, PLACES_HELPER, POW_HELPER, TOPO_HELPER,
    BindingTable, Chunk, instrument, select_context, uses_undefined_value,
)
from gradlens_values import OP_OF_METHOD, STATEMENT_MASK, Recorder, RecordingLimit

DEFAULT_NODE_LIMIT = 200_000
_bytecode_cache = None  # the folder gradlens_trace.py compiles GradLens's own modules into (None: none)


def import_own(name):
    """One of GradLens's own modules that only some runs use, imported when needed and read from the
    same bytecode cache as the first ones (under -B it would be compiled again on every run). The
    settings the user's code runs with are put back after."""
    saved = sys.pycache_prefix, sys.dont_write_bytecode
    if _bytecode_cache is not None:
        sys.pycache_prefix, sys.dont_write_bytecode = _bytecode_cache, False
    try:
        return __import__(name)
    finally:
        sys.pycache_prefix, sys.dont_write_bytecode = saved


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
        self.functions = []  # the user's functions whose calls are reported: (qualified name, position)
        self.recorder = Recorder(set(self.chunks), self.site_of_frame)
        self.recorder.node_limit = request.get("nodeLimit") or DEFAULT_NODE_LIMIT
        self.recorder.site_of_statement = self.site_of_statement
        self._statements = [None]  # statement key -> (chunk, Statement); 0: no statement
        self._statement_keys = {}
        self.output = Output(lambda frame: self.position_of_frame(self.recorder.user_frame(frame)))
        self.notes = []  # what the editor shows beside the result (the console has them too)
        self.relinks = {}  # id(value) -> site where the user's code changed its inputs
        for chunk, names in selected:
            # Like a notebook: say which earlier block ran first, and why.
            self.note("context", said("ran the code block at line {0} first (it defines {1})", chunk.line, ", ".join(names)))

    def note(self, kind, message, first=False):
        """A note for the editor, also a line of GradLens's own in the output (`first`: before the
        code's output, after the earlier notes)."""
        self.output.note(message, len(self.notes) if first else None)
        entry = {"kind": kind}
        entry.update(message_fields(message))
        self.notes.append(entry)

    def linked(self, value):
        """Called after the user's code changed `value`'s inputs (`a._children = …`)."""
        self.relinks[id(value)] = self.site_of_frame(sys._getframe(1))

    # For the rewrite (gradlens_sources.py): the key a statement stores when it runs, and the op bits of a method.

    def statement_key(self, statement):
        key = self._statement_keys.get(id(statement))
        if key is None:
            key = self._statement_keys[id(statement)] = len(self._statements)
            if key > STATEMENT_MASK:
                raise SyntaxError("more statements than GradLens can tell apart")
            self._statements.append((self.chunks[statement.chunk.compile_name], statement))
        return key

    def op_bits(self, name):
        return self.recorder.op_bits(name)

    def site_of_statement(self, key):
        entry = self._statements[key] if 0 < key < len(self._statements) else None
        if entry is None:
            return 0
        chunk, statement = entry
        return self._site_of(chunk, statement, statement.line)

    def site_of_frame(self, frame):
        if frame is None:
            return 0
        chunk = self.chunks.get(frame.f_code.co_filename)
        if chunk is None:
            return 0
        line = frame.f_lineno or 0
        return self._site_of(chunk, chunk.statements.get(line), line)

    def _site_of(self, chunk, statement, line):
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

    def position_of_site(self, site):
        return {key: self.sites[site][key] for key in ("file", "line", "column")}

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
            # The host counts the limit from the process's start; this process's start-up (imports, the
            # rewrite) is not the code's time, but counting from here would leave it less of the stop's grace.
            deadline = request.get("deadlineMs")
            seconds = time_limit_ms / 1000 if deadline is None else deadline / 1000 - time.time()
            signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
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
    except RecordingLimit as error:
        return error_of(run.chunks, error, "internal", error.args[0])
    except MemoryError as error:
        return error_of(run.chunks, error, "memory", said("stopped: the code used more than the memory limit of {0} MB", request.get("heapLimitMb", 1024)))
    except BaseException as error:  # noqa: B036 — everything the user's code raises is shown, never re-raised
        op_message = describe_op_error(error, run.recorder.engine_codes, OP_OF_METHOD)
        if op_message is not None:
            return error_of(run.chunks, error, "runtime", op_message, outside=run.recorder.engine_codes)
        message = describe_exception(error, run.markdown)
        for chunk in run.chunks.values():
            message = file_lines_in(message, chunk) if chunk.compile_name in str(error) else message
        return error_of(run.chunks, error, "runtime", message)
    finally:
        run.output.recording = True
    return None


def collect(run, request, op_checks=None):
    recorder = run.recorder
    recorder.enabled = False
    try:
        recorder.sync()
    except RecordingLimit:
        pass  # said already by the run (its values were made while the code ran)
    # Reading a graph makes many small objects and no garbage cycles: the collector would only
    # walk the whole heap again and again.
    gc.disable()
    node_limit = recorder.node_limit
    chosen = []  # (capture, reason, site, calls, name)
    for site, (taken, calls) in recorder.backward_roots.items():
        chosen.append((taken, "backward", site, calls, None))
    if not chosen:
        value = recorder.last_value
        name = None
        if value is not None and recorder.last_binding is not None:
            name = run.bindings.entries[recorder.last_binding]["name"]
        if value is None:
            value = roots_from_heap(recorder)
        if value is not None:
            chosen.append((capture(recorder, value, node_limit), "last-value", recorder.site_of(value), 0, name))
    roots = []
    # Which node of which root each bound variable's last value is (looked up per root, then dropped:
    # a dictionary over every node of every root would cost more than the graphs' own columns).
    bound = {}
    for binding_id, value in recorder.binding_last.items():
        bound.setdefault(id(value), []).append(binding_id)
    node_of = {}
    problem = None
    for taken, reason, site, calls, name in chosen:
        value = taken.root
        root_index = len(roots)
        label = label_of(recorder, value)
        name = label or name or "root #%d" % (root_index + 1)
        if taken.too_large:
            # As for TypeScript: a graph over the node limit is not drawn; the run says so instead.
            if problem is None:
                message = said("the graph of {0} has more than {1} nodes, the limit", name, format(node_limit, ","))
                problem = dict(kind="too-large", **message_fields(message))
                if site:
                    problem["position"] = run.position_of_site(site)
            continue
        try:
            graph, index = snapshot(recorder, taken)
        except GraphCycle as cycle:
            if problem is None:
                problem = cycle_error(run, cycle, name, site)
            continue
        if graph is None:
            continue
        root = {"name": name, "reason": reason, "site": site, "graph": graph}
        if calls > 1:
            root["calls"] = calls
        roots.append(root)
        if op_checks is not None:
            op_checks.add_root(root_index, taken, index)
        for key in bound:
            node = index.get(key)
            if node is not None:
                node_of.setdefault(key, [root_index, node])
        del graph, index
    bindings = []
    for binding_id, value in recorder.binding_last.items():
        entry = run.bindings.entries[binding_id]
        shape = recorder.shapes.get(type(value))
        children = getattr(value, shape.children, None) if shape else None
        binding = {
            "name": entry["name"],
            "range": entry["range"],
            "data": json_number(as_float(getattr(value, "data", None))),
            "grad": json_number(as_float(getattr(value, "grad", None))),
            "op": op_of(recorder, value, bool(children)),
            "count": recorder.binding_counts.get(binding_id, 0),
        }
        node = node_of.get(id(value))
        if node:
            binding["node"] = {"root": node[0], "id": node[1]}
        bindings.append(binding)
    return roots, bindings, problem


def write_checkpoint(run, request, result):
    """The result as it would be if the run ended now, written beside the result file
    (gradlens_checkpoint.py); the run goes on as if nothing happened."""
    recorder = run.recorder
    if recorder._setup is not None and recorder.log_ids:
        # Fold the creation log keeping only what can be asked for, as a long log is at a backward():
        # collect()'s sync() would fold all of it, a record for every value made since the last fold
        # (≈ 15–20 MB more peak memory on a 20-step microgpt-shaped run).
        recorder._fold_kept()
    enabled, collecting = recorder.enabled, gc.isenabled()
    streams = sys.stdout, sys.stderr
    with open(os.devnull, "w") as quiet:
        sys.stdout = sys.stderr = quiet  # reading a value may run the user's code (a property that prints)
        try:
            roots, bindings, _ = collect(run, request)
        finally:
            recorder.enabled = enabled
            if collecting:
                gc.enable()
            sys.stdout, sys.stderr = streams
    write_result(request["checkpointPath"], dict(result, roots=roots, bindings=bindings, console=list(run.output.lines)))


def cycle_error(run, cycle, name, site):
    """A value among its own inputs: an error at the line that changed the inputs to make it so."""
    recorder = run.recorder
    at = next((run.relinks[id(v)] for v in cycle.nodes if id(v) in run.relinks), 0)
    if not at:
        at = next((recorder.site_of(v) for v in cycle.nodes if recorder.site_of(v)), site)
    message = said("the graph of {0} has a cycle: a value is among its own inputs (through {1} values), so it cannot be drawn and backward() cannot be right", name, len(cycle.nodes))
    error = dict(kind="runtime", **message_fields(message))
    if at:
        error["position"] = run.position_of_site(at)
    return error


def tutorial_value_used():
    """Whether values of the tutorial's class exist (a method fragment that only mentions `Value`
    never made one, and plain Python would not have stopped there either)."""
    tutorial = import_own("gradlens_tutorial_value").Value
    return any(type(obj) is tutorial for obj in gc.get_objects())


def write_result(path, result):
    """One line of JSON, then the graphs' columns as raw bytes (gradlens_graph.ColumnBlock): the JSON
    holds only where each column is, so it stays small and the columns are never turned into text."""
    temporary = path + ".part"
    block = ColumnBlock()
    # No indent: JSON's own text then holds no newline, and the first one ends it.
    text = (json.dumps(result, allow_nan=False, ensure_ascii=False, default=block) + "\n").encode("utf-8")
    with open(temporary, "wb") as out:
        out.write(text)
        block.write_after(out, len(text))
    os.replace(temporary, path)


def watch_parent(temporary_folder):
    """GradLens holds the other end of the pipe GRADLENS_PARENT_FD names and never writes to it: at its
    end, GradLens is gone (the editor or the CLI closed or died), and the run goes too, with its
    temporary folder and every process of its group."""
    fd = os.environ.pop("GRADLENS_PARENT_FD", None)
    if fd is None or not fd.isdigit():
        return
    fd = int(fd)
    try:
        os.set_inheritable(fd, False)  # not held open by what the user's code starts
    except OSError:
        return

    def wait():
        try:
            while os.read(fd, 1024):
                pass
        except OSError:
            pass
        if os.path.basename(temporary_folder).startswith("gradlens-python-"):
            shutil.rmtree(temporary_folder, ignore_errors=True)
        try:
            os.killpg(os.getpgrp(), signal.SIGKILL)
        finally:
            os._exit(1)

    threading.Thread(target=wait, name="gradlens-parent-watch", daemon=True).start()


def main(request_path, bytecode_cache=None):
    global _bytecode_cache
    started, started_at = time.perf_counter(), time.time()
    _bytecode_cache = bytecode_cache
    watch_parent(os.path.dirname(os.path.abspath(request_path)))
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
    # The code as instrumented by an earlier run of the very same chunks, when there was one.
    cache_folder = code_cache.folder_beside(bytecode_cache)
    cache_key = cached = None
    if cache_folder is not None:
        try:
            cache_key = code_cache.key_of(run.context + [run.main])
            entry = code_cache.load(cache_folder, cache_key)
            if entry is not None:
                cached = code_cache.replay(entry, run.context + [run.main], run.bindings, run.functions, run)
        except (OSError, code_cache.ReplayMismatch):
            cache_key = None  # instrumented again below, and not stored over
            if cached is None:
                run = Run(request)  # a replay that went wrong part way leaves nothing behind
    result = {"roots": [], "bindings": [], "sites": run.sites, "console": run.output.lines, "notes": run.notes, "executable": sys.executable}

    # Compile everything before running anything: a syntax error is reported without side effects.
    compiled = []
    places = run if cached is not None or cache_key is None else code_cache.Recording(run)
    before = (len(run.bindings.entries), len(run.functions))
    for chunk in run.context + [run.main]:
        try:
            if cached is not None:
                compiled.append(cached[len(compiled)])
            else:
                compiled.append((chunk, instrument(chunk, run.bindings, run.functions, places)))
        except SyntaxError as error:
            result["error"] = syntax_error_of(chunk, error)
            write_result(result_path, result)
            return
        except ValueError as error:  # e.g. a NUL character in the source
            result["error"] = {"kind": "syntax", "message": str(error), "position": chunk.position(1)}
            write_result(result_path, result)
            return
        if not chunk.compile_name.startswith(os.sep) and not re.match(r"^[A-Za-z]:[\\/]", chunk.compile_name):
            import linecache  # only for code without a file of its own (imported by every traceback anyway)

            linecache.cache[chunk.compile_name] = (len(chunk.code), None, [l + "\n" for l in chunk.lines], chunk.compile_name)
    if cached is None and cache_key is not None:
        code_cache.store(cache_folder, cache_key, compiled, places, run.bindings, run.functions, before)

    # What only some runs use is imported for those (before install(): GradLens's own classes are not the user's).
    OpChecks = Training = None
    if request.get("opChecks"):
        OpChecks = import_own("gradlens_opcheck").OpChecks
    if request.get("training"):
        Training = import_own("gradlens_training").Training
    recorder = run.recorder
    recorder.user_codes = [code for _, code in compiled]
    recorder.install()
    backward_watch = BackwardWatch(recorder)
    # Made after install(), so its class is recorded like the user's.
    builtins.Value = import_own("gradlens_tutorial_value").Value  # only seen when the code defines or imports no Value
    setattr(builtins, EXPRESSION_HELPER, recorder.expression)
    names = [e["name"] for e in run.bindings.entries]
    setattr(builtins, BIND_HELPER, recorder.bind_helper(names))
    setattr(builtins, LINK_HELPER, run.linked)
    for name, helper in ((HERE_HELPER, recorder.here), (OP_HELPER, recorder.op_now), (ON_HELPER, recorder._state), (IDS_HELPER, recorder.log_ids.append), (PLACES_HELPER, recorder.log_places.append), (POW_HELPER, recorder.pow_bits), (TOPO_HELPER, recorder.backward_walked)):
        setattr(builtins, name, helper)
    calls = recorder.calls = CallRecorder(recorder.next_number, recorder.site_of_call, recorder.here, recorder.op_now)
    for name, position in run.functions:
        calls.define(name, position, recorder.op_bits(name.rsplit(".", 1)[-1]))
    setattr(builtins, ENTER_HELPER, calls.enter)
    setattr(builtins, LEAVE_HELPER, calls.leave)

    user_file = request["file"]
    directory = os.path.dirname(user_file) or os.getcwd()
    sys.path[0] = directory
    sys.argv = [user_file]
    try:
        os.chdir(directory)
    except OSError:
        pass
    limit_memory(request.get("heapLimitMb", 1024))
    scope = {"__name__": "__main__", "__file__": user_file, "__builtins__": builtins, "__doc__": None}
    if Training is not None:
        recorder.training = Training(dict(request["training"], nodeLimit=request.get("nodeLimit")), recorder, scope, started, run.sites)
    real_stdout, real_stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = Console("stdout", real_stdout, run.output), Console("stderr", real_stderr, run.output)

    checkpoints = Checkpoints(request, started, lambda: write_checkpoint(run, request, result))
    recorder.backward_listeners.append(checkpoints.after_backward)
    error = execute(run, compiled, request, scope)
    recorder.backward_listeners.remove(checkpoints.after_backward)  # the checks and the reading below are not the run
    checkpoints.close()
    if error is not None and "stop" in error:
        # How long the run showed no progress before the stop: only a quiet run may be an endless loop.
        # The host counts from the spawn (request deadlineMs): its start-up before `started` is quiet time too.
        deadline = request.get("deadlineMs")
        spawned = started if deadline is None else started - max(0.0, started_at - (deadline - request.get("timeLimitMs", 10_000)) / 1000)
        error["stop"]["quietMs"] = (time.perf_counter() - max(spawned, checkpoints.last_backward, run.output.last_write)) * 1000
    if request.get("checks") is not None and (error is None or error["kind"] == "runtime"):
        # "check" mode: gradient checks of the user's functions (gradlens_check.py)
        result["checks"] = import_own("gradlens_check").run_checks(request, scope, run)

    sys.stdout, sys.stderr = real_stdout, real_stderr
    run.output.flush()
    if "Value" not in scope and uses_undefined_value([chunk for chunk, _ in compiled]) and tutorial_value_used():
        run.note("tutorial-value", said("this code uses Value without defining or importing it: GradLens supplied the tutorial's Value class (plain Python would stop with NameError: name 'Value' is not defined)"), first=True)
    if error is not None:
        result["error"] = error
    if recorder.training is not None:
        try:
            result["training"] = recorder.training.finish()
        except Exception as failure:  # the records so far were streamed; the run's own result still counts
            run.output.note("training records: %s: %s" % (type(failure).__name__, failure))
        recorder.training = None
    try:
        if error is not None and error["kind"] == "memory":
            # Free what the code held (the graphs taken at backward() keep their values) before reading.
            scope.clear()
            gc.collect()
        # A closure engine's backward steps are called again to read local gradients: quietly.
        op_checks = OpChecks(run) if OpChecks is not None else None
        sys.stdout = sys.stderr = open(os.devnull, "w")
        try:
            result["roots"], result["bindings"], problem = collect(run, request, op_checks)
            if op_checks is not None:
                result["opChecks"] = op_checks.results()
        finally:
            sys.stdout, sys.stderr = real_stdout, real_stderr
        if problem is not None and "error" not in result:
            result["error"] = problem
        if backward_watch.warnings:
            result["warnings"] = backward_watch.warnings
    except MemoryError:
        scope.clear()
        result["roots"], result["bindings"] = [], []
        gc.collect()
        message = said("stopped: the graph is too large to read back within the memory limit of {0} MB", request.get("heapLimitMb", 1024))
        result["error"] = dict(kind="memory", **message_fields(message))
    except Exception as failure:  # a value class GradLens cannot read; what was printed is still shown
        result["roots"], result["bindings"] = [], []
        message = said("GradLens could not read the values back: {0}", "%s: %s" % (type(failure).__name__, failure))
        result.setdefault("error", dict(kind="internal", **message_fields(message)))
    for kind, problem in run.recorder.problems.items():
        if kind not in run.recorder.shapes:
            run.note("unreadable-class", said("the values of the class {0} cannot be read, so they are not drawn: reading an attribute raised {1}", kind.__name__, problem))
    result["durationMs"] = (time.perf_counter() - started) * 1000
    # The process's own CPU time, start-up included (a benchmark compares it with plain python's).
    result["cpuMs"] = time.process_time() * 1000
    write_result(result_path, result)
    dump.close()
    sys.stdout.flush()
    # Skip the interpreter's teardown of the user's objects: it can take long on big graphs.
    os._exit(0)
