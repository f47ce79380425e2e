"""The media I/O worker: a small pool of threads that does every sound-file read and write.

Why: the media clock moves a frame for every port each 20 ms in one thread.  If that
thread opened, read or wrote files itself, one slow or stalled disk (an NFS mount, a FIFO
nobody writes to, a full device) would delay every call's audio.  So the clock only moves
frames in memory — :class:`~fsd.media.stream.ReadAhead` buffers and
:class:`~fsd.media.stream.WriteBehind` queues — and the jobs that fill and drain those
buffers run here.

The pool is small and shared, not a thread per call: it starts one thread and adds one
(up to ``max_threads``) whenever a job is queued while no thread is idle, so a stream
whose read blocks holds one thread and the others keep serving everyone else.  Threads
above ``min_threads`` that stay idle for ``idle_secs`` leave.  New threads are started
by a small spawner thread, never by ``submit``: ``Thread.start()`` waits for the new
thread to run, which took up to 40 ms here with another Python thread busy — too long
for the clock to wait.  Each stream submits at most
one job at a time (the stream keeps that flag), so jobs for one file never run in
parallel and the queue length is bounded by the number of open streams.

``submit`` never blocks on I/O; it is called from the clock thread (under a port lock)
and from session threads.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections import deque
from collections.abc import Callable

from fsd.log import ERR, log

Job = Callable[[], None]


class IOWorker:
    """A pool of daemon threads running short file-I/O jobs in submission order."""

    def __init__(
        self,
        max_threads: int = 8,
        min_threads: int = 1,
        idle_secs: float = 30.0,
        name: str = "media-io",
    ) -> None:
        self.max_threads = max(1, max_threads)
        self.min_threads = max(1, min(min_threads, self.max_threads))
        self.idle_secs = idle_secs
        self.name = name
        self._jobs: deque[Job] = deque()
        self._cond = threading.Condition()
        self._threads: set[threading.Thread] = set()
        self._idle = 0
        self._busy = 0
        self._serial = 0
        self.jobs_done = 0
        self.errors = 0
        self.max_queued = 0  # the most jobs ever waiting at once (a disk falling behind)
        self._to_spawn = self.min_threads  # threads the spawner is to start
        self._spawn_needed = threading.Event()
        self._spawn_needed.set()
        threading.Thread(target=self._spawner, name=f"{name}-spawner", daemon=True).start()

    # -- submitting --------------------------------------------------------------------
    def submit(self, job: Job) -> None:
        """Queue ``job``; start a thread when none is idle (up to ``max_threads``)."""
        with self._cond:
            self._jobs.append(job)
            queued = len(self._jobs)
            if queued > self.max_queued:
                self.max_queued = queued
            if (queued > self._idle + self._to_spawn
                    and len(self._threads) + self._to_spawn < self.max_threads):
                self._to_spawn += 1
                self._spawn_needed.set()
            self._cond.notify()

    def _spawner(self) -> None:
        while True:
            self._spawn_needed.wait()
            self._spawn_needed.clear()
            with self._cond:
                new = []
                for _ in range(self._to_spawn):
                    self._serial += 1
                    new.append(threading.Thread(target=self._run, daemon=True,
                                                name=f"{self.name}-{self._serial}"))
                self._to_spawn = 0
                self._threads.update(new)
            for t in new:
                t.start()

    # -- the threads -------------------------------------------------------------------
    def _run(self) -> None:
        me = threading.current_thread()
        while True:
            with self._cond:
                self._idle += 1
                while not self._jobs:
                    woke = self._cond.wait(self.idle_secs)
                    if not woke and not self._jobs and len(self._threads) > self.min_threads:
                        self._idle -= 1
                        self._threads.discard(me)
                        return
                self._idle -= 1
                self._busy += 1
                job = self._jobs.popleft()
            try:
                job()
            except Exception as exc:  # a job's own errors are its business; never die
                self.errors += 1
                log(ERR, f"media I/O job failed: {exc!r}")
            finally:
                with self._cond:
                    self._busy -= 1
                    self.jobs_done += 1
                    if not self._jobs and not self._busy:
                        self._cond.notify_all()  # drain() waiters

    # -- figures and shutdown ----------------------------------------------------------
    def drain(self, timeout: float) -> bool:
        """Wait until no job is queued or running (True), or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._jobs or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def stats(self) -> dict[str, int]:
        with self._cond:
            return {
                "threads": len(self._threads),
                "idle": self._idle,
                "busy": self._busy,
                "queued": len(self._jobs),
                "max_queued": self.max_queued,
                "jobs_done": self.jobs_done,
                "errors": self.errors,
            }


_worker: IOWorker | None = None
_worker_lock = threading.Lock()


def get_io_worker() -> IOWorker:
    """The process-wide media I/O pool (created on first use)."""
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = IOWorker()
        return _worker


def _flush_at_exit() -> None:
    # Recordings queued behind must reach the disk before the process ends.
    w = _worker
    if w is not None:
        w.drain(5.0)


atexit.register(_flush_at_exit)
