"""Checkpoints: now and then, right after a recorded backward(), the result so far is written beside
the result file. A run stopped before it can write its own result still shows its last graph: a
time limit whose grace is too short to write a big graph (a microgpt step's 77,000 nodes take longer
than the grace), a call stuck in C, the memory limit, a kill.

As in the TypeScript runner (worker.ts checkpointIfDue): the first one once the run has gone on for
the request's `checkpointIntervalMs`, each next one late enough that checkpoints take at most
1/`checkpointShare` of the run's time (src/protocol/limits.ts holds both numbers).

On Linux a checkpoint is written by a forked copy of the process: the copy holds the program's values
exactly as they were at that backward(), and the run goes on at once (writing a microgpt step's graph
takes a few hundred milliseconds, which the run no longer waits for). One copy at a time; it is ended
before the run writes its own result. Elsewhere (no fork, or macOS, where a forked copy of a process
that used the system's frameworks may crash) the run writes it itself."""

import os
import signal
import sys
import time
import warnings

import gradlens_limits

FORKED = sys.platform.startswith("linux") and hasattr(os, "fork")


class Checkpoints:
    def __init__(self, request, started, write):
        """`write()` writes the checkpoint (gradlens_run.write_checkpoint); `started`: perf_counter() at the run's start."""
        self.path = request.get("checkpointPath")
        self.interval = request.get("checkpointIntervalMs", 2000) / 1000
        self.share = request.get("checkpointShare", 50)
        self.gap = self.interval
        self.last = started
        self.last_backward = started  # perf_counter() at the last recorded backward(): a sign of progress
        self.written = 0
        self._write = write
        self._child = None  # (pid, perf_counter() at the fork) of the copy writing a checkpoint

    def after_backward(self, taken, site, calls):
        """A recorder.backward_listeners entry: writes a checkpoint when one is due."""
        now = self.last_backward = time.perf_counter()
        if self.path is None:
            return
        if self._child is not None and not self._reaped():
            return
        if now - self.last < self.gap:
            return
        if FORKED and self._fork(now):
            return
        with deferred_time_limit():
            try:
                self._write()
                self.written += 1
            except Exception:  # noqa: BLE001 — a checkpoint that fails (a value class that raises on reading) must not end the user's run
                pass
        self.last = time.perf_counter()
        self.gap = max(self.interval, (self.last - now) * self.share)

    def _fork(self, now):
        """Starts a copy of the process that writes the checkpoint and ends; False when none could start."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # Python 3.12+: "this process is multi-threaded" (the copy runs only GradLens's code)
                pid = os.fork()
        except OSError:
            return False
        if pid == 0:
            status = 1
            try:
                self._write()
                status = 0
            finally:
                # No atexit handlers, no flushing of the program's buffers (they are the run's to print).
                os._exit(status)
        self._child = (pid, now)
        self.last = now
        return True

    def _reaped(self):
        """Whether the copy writing the last checkpoint has ended (then the next gap follows from how long it took)."""
        pid, forked = self._child
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # the program reaped it itself (os.wait())
            done, status = pid, 0
        if done == 0:
            return False
        self._child = None
        if status == 0:
            self.written += 1
        self.last = time.perf_counter()
        self.gap = max(self.interval, (self.last - forked) * self.share)
        return True

    def close(self):
        """Ends a copy still writing a checkpoint: the run writes its own result now."""
        if self._child is None:
            return
        pid, _ = self._child
        self._child = None
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:  # ended and reaped already
            pass


class deferred_time_limit:  # noqa: N801 — used as a statement (`with deferred_time_limit():`)
    """The time limit waits while the block runs, then stops the run as it would have: a checkpoint cut
    short would be lost, and the run's own end reuses its graph (gradlens_graph.snapshot keeps it)."""

    def __enter__(self):
        self.fired = False
        self.previous = None
        if hasattr(signal, "SIGALRM") and signal.getsignal(signal.SIGALRM) is gradlens_limits.on_time_limit:
            self.previous = signal.signal(signal.SIGALRM, self._note)
        return self

    def _note(self, signum, frame):
        self.fired = True

    def __exit__(self, kind, error, trace):
        if self.previous is not None:
            signal.signal(signal.SIGALRM, self.previous)
            if self.fired:
                gradlens_limits.on_time_limit(signal.SIGALRM, None)
        return False
