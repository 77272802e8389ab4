"""Checkpoints: now and then, right after a recorded backward(), the result so far is written beside
the result file. A run stopped before it can write its own result still shows its last graph: a
time limit whose grace is too short to write a big graph (a microgpt step's 77,000 nodes take longer
than the grace), a call stuck in C, the memory limit, a kill.

As in the TypeScript runner (worker.ts checkpointIfDue): the first one once the run has gone on for
the request's `checkpointIntervalMs`, each next one late enough that checkpoints take at most
1/`checkpointShare` of the run's time (src/protocol/limits.ts holds both numbers)."""

import signal
import time

import gradlens_limits


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

    def after_backward(self, taken, site, calls):
        """A recorder.backward_listeners entry: writes a checkpoint when one is due."""
        now = self.last_backward = time.perf_counter()
        if self.path is None:
            return
        if now - self.last < self.gap:
            return
        with deferred_time_limit():
            try:
                self._write()
                self.written += 1
            except Exception:  # noqa: BLE001 — a checkpoint that fails (a value class that raises on reading) must not end the user's run
                pass
        self.last = time.perf_counter()
        self.gap = max(self.interval, (self.last - now) * self.share)


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
