"""A cache of the user's instrumented code: parsing, rewriting and compiling a 150-line training
script costs 30–45 ms of every run (gradlens_sources.instrument), and most runs are of code that
has not changed since the last one.

An entry is the run's code objects plus everything instrumenting the chunks did besides (the
statements each line belongs to, the statement keys and op bits handed out in their order, the
bound variables, the reported functions), replayed in the same order on a hit, so the run is the
one an uncached run would be. It is found by the chunks' text and places, the Python version and
the tracer's own files (size and modification time, as Python's bytecode cache does), all stored
in the entry and compared in full: a file name's checksum that collides is only a miss. Entries are
written to a temporary file and renamed into place, so two runs at once each read whole entries.
"""
import marshal
import os
import sys
import zlib

from gradlens_sources import Statement

FORMAT = 1
MAX_ENTRIES = 32
_TRACER_FOLDER = os.path.dirname(os.path.abspath(__file__))


class ReplayMismatch(Exception):
    """A replayed step did not give what it gave when the entry was made: the run instruments again."""


def folder_beside(bytecode_cache):
    """The cache's folder, beside the tracer's bytecode cache (None: no cache)."""
    return os.path.join(os.path.dirname(bytecode_cache), "instrumented") if bytecode_cache else None


def _tracer_stamp():
    stamp = []
    for name in sorted(os.listdir(_TRACER_FOLDER)):
        if name.startswith("gradlens_") and name.endswith(".py"):
            info = os.stat(os.path.join(_TRACER_FOLDER, name))
            stamp.append((name, info.st_size, info.st_mtime_ns))
    return tuple(stamp)


def key_of(chunks):
    chunk_keys = tuple((c.index, c.code, c.file, c.line, c.first_line_shift, c.shift, c.compile_name) for c in chunks)
    return (FORMAT, sys.version, sys.implementation.cache_tag, _tracer_stamp(), chunk_keys)


def _path(folder, key):
    return os.path.join(folder, "%08x.bin" % zlib.crc32(marshal.dumps(key)))


class Recording:
    """Stands in for the run (`places`) while chunks are instrumented, noting what it is asked in order."""

    def __init__(self, places):
        self.places = places
        self.calls = []  # (0, statement index, key) | (1, method name, bits)
        self.statements = []  # distinct Statement objects, as first seen
        self._index = {}

    def index_of(self, statement):
        i = self._index.get(id(statement))
        if i is None:
            i = self._index[id(statement)] = len(self.statements)
            self.statements.append(statement)
        return i

    def statement_key(self, statement):
        key = self.places.statement_key(statement)
        self.calls.append((0, self.index_of(statement), key))
        return key

    def op_bits(self, name):
        bits = self.places.op_bits(name)
        self.calls.append((1, name, bits))
        return bits


def store(folder, key, compiled, recording, bindings, functions, before):
    """Writes the entry of a run whose chunks all compiled. `before`: (binding entries, functions) before."""
    chunk_position = {id(chunk): k for k, (chunk, _) in enumerate(compiled)}
    lines = []
    for chunk, _ in compiled:
        lines.append({line: recording.index_of(statement) for line, statement in chunk.statements.items()})
    statements = [
        (chunk_position[id(s.chunk)], s.line, s.end_line, s.end_offset, s.offset, s.function_name, s.binding, s.text)
        for s in recording.statements
    ]
    n_bindings, n_functions = before
    entry = (
        key,
        [code for _, code in compiled],
        statements,
        lines,
        recording.calls,
        n_bindings,
        bindings.entries[n_bindings:],
        list(bindings._ids.items())[n_bindings:],
        n_functions,
        functions[n_functions:],
    )
    path = _path(folder, key)
    temporary = "%s.%d.part" % (path, os.getpid())
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        with open(temporary, "wb") as out:
            out.write(marshal.dumps(entry))
        os.replace(temporary, path)
        _evict(folder)
    except (OSError, ValueError):
        try:
            os.unlink(temporary)
        except OSError:
            pass


def _evict(folder):
    names = [n for n in os.listdir(folder) if n.endswith(".bin")]
    if len(names) <= MAX_ENTRIES:
        return
    aged = []
    for name in names:
        try:
            aged.append((os.stat(os.path.join(folder, name)).st_mtime_ns, name))
        except OSError:
            pass
    aged.sort()
    for _, name in aged[: len(aged) - MAX_ENTRIES]:
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            pass


def load(folder, key):
    """The entry for `key`, or None."""
    try:
        with open(_path(folder, key), "rb") as f:
            entry = marshal.loads(f.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(entry, tuple) or len(entry) != 10 or entry[0] != key:
        return None
    return entry


def replay(entry, chunks, bindings, functions, places):
    """[(chunk, code)] as instrumenting `chunks` would give, with its side effects done again in order.
    Raises ReplayMismatch (the run's state may then be partly changed: the caller starts it again)."""
    _, codes, statements, lines, calls, n_bindings, new_entries, new_ids, n_functions, new_functions = entry
    if len(codes) != len(chunks) or len(bindings.entries) != n_bindings or len(functions) != n_functions:
        raise ReplayMismatch()
    made = []
    for position, line, end_line, end_offset, offset, function_name, binding, text in statements:
        statement = Statement.__new__(Statement)
        statement.chunk = chunks[position]
        statement.line, statement.end_line, statement.end_offset, statement.offset = line, end_line, end_offset, offset
        statement.function_name, statement.binding, statement.text = function_name, binding, text
        made.append(statement)
    for chunk, chunk_lines in zip(chunks, lines):
        chunk.statements = {line: made[i] for line, i in chunk_lines.items()}
    for kind, what, answer in calls:
        given = places.statement_key(made[what]) if kind == 0 else places.op_bits(what)
        if given != answer:
            raise ReplayMismatch()
    bindings.entries.extend(new_entries)
    bindings._ids.update(new_ids)
    functions.extend(new_functions)
    return list(zip(chunks, codes))
