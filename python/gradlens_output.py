"""What the user's code prints: passed through to the real stdout/stderr (which the extension reads
if the run never finishes) and recorded line by line with the line of code that printed it."""
import io
import sys
import time

from gradlens_messages import message_fields, said

MAX_CONSOLE_LINES = 2000
MAX_CONSOLE_CHARS = 200_000


class Output:
    def __init__(self, locate):
        self.locate = locate  # frame -> position of the user's line, or None
        self.lines = []
        self.recording = True
        self._chars = 0
        self._full = False
        self._pending = {}  # stream -> [text so far, position of its first write]
        self.last_write = 0.0  # perf_counter() of the last print: a run that prints is making progress

    def note(self, text, index=None):
        """A line from GradLens itself (on stderr, as the TypeScript runner's notes), at the end or
        at `index`."""
        line = {"stream": "stderr"}
        line.update(message_fields(said("GradLens: ") + text, "text"))
        self.lines.insert(len(self.lines) if index is None else index, line)

    def record(self, stream, text, frame):
        self.last_write = time.perf_counter()
        if not self.recording or self._full:
            return
        pending = self._pending.get(stream)
        if pending is None:
            pending = self._pending[stream] = ["", self.locate(frame)]
        pending[0] += text
        while "\n" in pending[0]:
            line, rest = pending[0].split("\n", 1)
            self._add(stream, line, pending[1])
            pending[0] = rest
            pending[1] = self.locate(frame)
        if not pending[0]:
            del self._pending[stream]

    def flush(self):
        for stream, (text, position) in list(self._pending.items()):
            if text:
                self._add(stream, text, position)
        self._pending.clear()

    def _add(self, stream, text, position):
        if self._full:
            return
        if len(self.lines) >= MAX_CONSOLE_LINES or self._chars + len(text) > MAX_CONSOLE_CHARS:
            self._full = True
            line = {"stream": "stderr"}
            line.update(message_fields(said("… more output was cut off"), "text"))
            self.lines.append(line)
            return
        self._chars += len(text)
        line = {"stream": stream, "text": text}
        if position:
            line["position"] = position
        self.lines.append(line)


class Console(io.TextIOBase):
    """Stands in for sys.stdout / sys.stderr."""

    def __init__(self, stream, passthrough, output):
        super().__init__()
        self.stream = stream
        self.passthrough = passthrough
        self.output = output

    @property
    def encoding(self):
        return "utf-8"

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self.passthrough.fileno()  # for libraries that write to the descriptor (not recorded)

    @property
    def buffer(self):
        return self.passthrough.buffer  # bytes written here pass through unrecorded

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not " + type(text).__name__)
        try:
            self.passthrough.write(text)
            self.passthrough.flush()
        except Exception:
            pass
        try:
            self.output.record(self.stream, text, sys._getframe(1))
        except Exception:
            pass  # recording must never break the user's print()
        return len(text)

    def flush(self):
        try:
            self.passthrough.flush()
        except Exception:
            pass
