"""Sound files read ahead and recordings written behind, so the media clock never waits on
a disk.

:class:`ReadAhead` is a playback :class:`~fsd.media.sources.Source` whose ``read`` (called
by the clock every tick) only takes samples from an in-memory buffer.  The I/O worker
opens the real source (file lookup, header parsing, decoding, ``file_string://`` parts)
and keeps ``AHEAD_SECS`` of audio buffered, topping up when less than ``LOW_SECS`` is
left, in ``CHUNK_SECS`` reads.  When the buffer is empty before the file has ended (the
disk is slower than real time, or stalled) the clock gets :data:`UNDERRUN` and the port
plays silence for that frame; the file position does not move, so playback resumes where
it was when data arrives again.  Seeks (§4.5 ``seek``/``restart``, ``start_sample``) drop
the buffer and are carried out by the worker.

:class:`WriteBehind` is an :class:`~fsd.media.files.AudioWriter` whose ``write`` (called by
the clock) only appends the frame to a queue; the worker opens the real writer, writes
the queue in batches of ``FLUSH_SECS`` and, after ``close()``, writes what is left and
closes the file (libsndfile fixes the WAV header then), so a recording cut by hangup is
complete.  The queue holds at most ``MAX_QUEUE_SECS``; frames beyond that (a disk stalled
for longer than that) are dropped and counted in ``dropped``.

Lock order: the owning port's lock, then a stream's own ``_lock``.  The worker never holds
a stream lock during I/O, and calls ``on_ready`` (which takes the port lock) only after
releasing it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

import numpy as np

from fsd.log import ERR, WARNING, log
from fsd.media.errors import MediaError
from fsd.media.files import AudioWriter
from fsd.media.io_worker import IOWorker, get_io_worker
from fsd.media.sources import EMPTY, UNDERRUN, Source

AHEAD_SECS = 2.0  # read-ahead target per playing port
LOW_SECS = 1.0  # refill when less than this is buffered
CHUNK_SECS = 0.5  # one read by the worker
FLUSH_SECS = 0.2  # the worker is woken when this much recording is queued
MAX_QUEUE_SECS = 30.0  # recording queued behind a stalled disk before frames are dropped

Notify = Callable[[], None]


def _call(cb: Notify | None) -> None:
    if cb is not None:
        try:
            cb()
        except Exception as exc:  # pragma: no cover - a port's wake never raises
            log(ERR, f"media stream notify failed: {exc!r}")


class ReadAhead(Source):
    """A playback source opened, read and seeked by the I/O worker (see module doc)."""

    def __init__(
        self,
        opener: Callable[[], Source],
        name: str,
        rate: int,
        *,
        worker: IOWorker | None = None,
        on_ready: Notify | None = None,
        ahead_secs: float = AHEAD_SECS,
        low_secs: float = LOW_SECS,
        chunk_secs: float = CHUNK_SECS,
    ) -> None:
        self.name = name
        self.rate = rate
        self._opener = opener
        self._worker = worker or get_io_worker()
        self.on_ready = on_ready
        self._ahead = max(1, int(rate * ahead_secs))
        self._low = max(1, int(rate * low_secs))
        self._chunk = max(1, int(rate * chunk_secs))
        self._lock = threading.Lock()
        self._chunks: deque[list] = deque()  # [start position, samples, offset taken]
        self._buffered = 0
        self._next_pos = 0  # position after the last buffered sample (or a seek target)
        self._seek_to: int | None = None
        self._gen = 0  # bumped by seek: a read in flight for an older position is dropped
        self._inner: Source | None = None
        self._opened = False
        self._eof = False
        self._closing = False
        self._queued = False
        self.error: str | None = None
        self.primed = False  # opened and (data buffered, ended or failed)
        self.underruns = 0  # frames the clock asked for while the buffer was empty
        self.closed = threading.Event()  # the inner source is closed (or never opened)
        self._kick()  # open and fill at once

    # -- what the clock and the session thread call -------------------------------------
    def read(self, n: int) -> np.ndarray:
        """Up to ``n`` buffered samples; EMPTY at the end; UNDERRUN when none are ready."""
        with self._lock:
            if not self._buffered:
                if self._eof or self.error is not None or self._closing:
                    return EMPTY
                self.underruns += 1
                self._kick_locked()
                return UNDERRUN
            parts = []
            want = n
            while want and self._chunks:
                c = self._chunks[0]
                data, off = c[1], c[2]
                take = min(want, len(data) - off)
                parts.append(data[off : off + take])
                c[2] = off + take
                want -= take
                if c[2] >= len(data):
                    self._chunks.popleft()
            got = n - want
            self._buffered -= got
            if self._buffered < self._low and not self._eof:
                self._kick_locked()
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    @property
    def seekable(self) -> bool:  # type: ignore[override]
        inner = self._inner
        return True if inner is None else bool(inner.seekable)

    @property
    def length(self) -> int | None:  # type: ignore[override]
        inner = self._inner
        return None if inner is None else inner.length

    @property
    def errors(self) -> list[str]:
        return list(getattr(self._inner, "errors", []) or [])

    def seek(self, pos: int) -> int:
        pos = max(0, int(pos))
        length = self.length
        if length is not None:
            pos = min(pos, length)
        with self._lock:
            self._gen += 1
            self._chunks.clear()
            self._buffered = 0
            self._eof = False
            self._seek_to = pos
            self._next_pos = pos
            self._kick_locked()
        return pos

    def tell(self) -> int:
        with self._lock:
            if self._chunks:
                c = self._chunks[0]
                return c[0] + c[2]
            return self._next_pos

    def close(self) -> None:
        """Stop reading; the worker closes the file (after a read in flight returns)."""
        with self._lock:
            self._closing = True
            self._chunks.clear()
            self._buffered = 0
            self._kick_locked()

    @property
    def buffered(self) -> int:
        return self._buffered

    # -- the worker's side ---------------------------------------------------------------
    def _kick(self) -> None:
        with self._lock:
            self._kick_locked()

    def _kick_locked(self) -> None:
        if not self._queued and not self.closed.is_set():
            self._queued = True
            self._worker.submit(self._service)

    def _service(self) -> None:
        while True:
            with self._lock:
                if self._closing:
                    inner, self._inner = self._inner, None
                    break
                if not self._opened:
                    action = "open"
                elif self._seek_to is not None:
                    action, target = "seek", self._seek_to
                    self._seek_to = None
                elif self._eof or self.error is not None or self._buffered >= self._ahead:
                    self._queued = False
                    return
                else:
                    action = "read"
                gen = self._gen
            if action == "open":
                self._open()
            elif action == "seek":
                self._do_seek(target, gen)
            else:
                self._read(gen)
        # closing: release the file outside the lock
        if inner is not None:
            try:
                inner.close()
            except Exception as exc:
                log(WARNING, f"closing {self.name}: {exc!r}")
        with self._lock:
            self._queued = False
        self.closed.set()
        _call(self.on_ready)

    def _open(self) -> None:
        try:
            inner = self._opener()
        except MediaError as exc:
            err: str | None = str(exc)
            inner = None
        except Exception as exc:  # a format module's reader raising anything else
            err = f"cannot open {self.name}: {exc!r}"
            inner = None
        else:
            err = None
        with self._lock:
            self._opened = True
            if inner is None:
                self.error = err
                self.primed = True
            else:
                self._inner = inner
                self.name = inner.name or self.name
                if self._seek_to is None:
                    self._next_pos = inner.tell()
        if inner is None:
            _call(self.on_ready)

    def _do_seek(self, target: int, gen: int) -> None:
        inner = self._inner
        pos = target
        if inner is not None and inner.seekable:
            try:
                pos = inner.seek(target)
            except Exception as exc:  # a source that cannot seek there keeps its place
                log(WARNING, str(exc) if isinstance(exc, MediaError)
                    else f"cannot seek in {self.name}: {exc!r}")
                told = self._tell_safe(inner)
                pos = target if told is None else told
        with self._lock:
            if gen == self._gen:
                self._next_pos = pos

    @staticmethod
    def _tell_safe(inner: Source) -> int | None:
        try:
            return inner.tell()
        except Exception:
            return None

    def _read(self, gen: int) -> None:
        inner = self._inner
        assert inner is not None
        err = None
        try:
            data = inner.read(self._chunk)
            end = inner.tell()
        except Exception as exc:  # a read error ends the playback, as a short file would
            data, end = EMPTY, 0
            err = str(exc) if isinstance(exc, MediaError) else f"error reading {self.name}: {exc!r}"
        first = False
        with self._lock:
            if gen != self._gen or self._closing:
                return  # a seek (or close) came in while reading: this data is stale
            if err is not None:
                log(WARNING, err)
                self._eof = True
            elif len(data) == 0:
                self._eof = True
            else:
                data = np.asarray(data, dtype=np.int16)
                self._chunks.append([end - len(data), data, 0])
                self._buffered += len(data)
                self._next_pos = end
            if not self.primed:
                self.primed = first = True
        if first:
            _call(self.on_ready)


class WriteBehind(AudioWriter):
    """A recording whose frames the clock queues and the I/O worker writes (see module doc)."""

    def __init__(
        self,
        opener: Callable[[], AudioWriter],
        path: str,
        rate: int,
        *,
        worker: IOWorker | None = None,
        on_ready: Notify | None = None,
        flush_secs: float = FLUSH_SECS,
        max_queue_secs: float = MAX_QUEUE_SECS,
    ) -> None:
        self.path = path
        self.rate = rate
        self.samples = 0  # accepted from the clock (queued or written)
        self.written = 0  # handed to the real writer
        self.dropped = 0  # refused because the queue was full
        self._opener = opener
        self._worker = worker or get_io_worker()
        self.on_ready = on_ready
        self._flush = max(1, int(rate * flush_secs))
        self._max = max(1, int(rate * max_queue_secs))
        self._lock = threading.Lock()
        self._queue: list[np.ndarray] = []
        self._queued_samples = 0
        self._truncate = False
        self._closing = False
        self._queued = False
        self._inner: AudioWriter | None = None
        self._after_close: list[Notify] = []
        self.error: str | None = None
        self.opened = threading.Event()  # the real writer is open, or opening failed
        self.closed_event = threading.Event()  # the file is complete (or failed)
        self._kick()

    # -- what the clock and the session thread call -------------------------------------
    def write(self, frame: np.ndarray) -> None:
        with self._lock:
            if self._closing or self.error is not None:
                return
            n = len(frame)
            if self._queued_samples + n > self._max:
                if not self.dropped:
                    log(WARNING, f"recording {self.path}: the disk is {self._max // self.rate}"
                                 " s behind, dropping audio until it catches up")
                self.dropped += n
                return
            self._queue.append(frame)
            self._queued_samples += n
            self.samples += n
            if self._queued_samples >= self._flush:
                self._kick_locked()

    def truncate(self) -> None:
        """§4.5 ``truncate``: forget what was recorded so far (done in order by the worker)."""
        with self._lock:
            self._queue.clear()
            self._queued_samples = 0
            self.samples = 0
            self._truncate = True
            self._kick_locked()

    def close(self) -> None:
        """Write what is queued and close the file, in the worker; returns at once."""
        with self._lock:
            self._closing = True
            self._kick_locked()

    def wait_closed(self, timeout: float | None) -> bool:
        return self.closed_event.wait(timeout)

    def when_closed(self, cb: Notify) -> None:
        """Run ``cb`` (in the worker) once the file is complete; at once if it is."""
        with self._lock:
            if not self.closed_event.is_set():
                self._after_close.append(cb)
                return
        _call(cb)

    @property
    def closed(self) -> bool:
        return self.closed_event.is_set()

    @property
    def queued(self) -> int:
        return self._queued_samples

    # -- the worker's side ---------------------------------------------------------------
    def _kick(self) -> None:
        with self._lock:
            self._kick_locked()

    def _kick_locked(self) -> None:
        if not self._queued and not self.closed_event.is_set():
            self._queued = True
            self._worker.submit(self._service)

    def _service(self) -> None:
        if not self.opened.is_set():
            self._open()
        while True:
            with self._lock:
                batch, self._queue = self._queue, []
                self._queued_samples = 0
                trunc, self._truncate = self._truncate, False
                closing = self._closing
                if not batch and not trunc and not closing:
                    self._queued = False
                    return
            inner = self._inner
            if inner is not None and self.error is None:
                try:
                    if trunc:
                        inner.truncate()
                        self.written = 0
                    if batch:
                        data = batch[0] if len(batch) == 1 else np.concatenate(batch)
                        inner.write(data)
                        self.written += len(data)
                except Exception as exc:
                    self._fail(f"error writing {self.path}: {exc}")
            if closing:
                with self._lock:
                    if self._queue or self._truncate:
                        continue  # raced with a last write before close: go round once more
                break
        if inner is not None:
            try:
                inner.close()
            except Exception as exc:
                self._fail(f"error closing {self.path}: {exc}")
        with self._lock:
            self._queued = False
            self.closed_event.set()
            after, self._after_close = self._after_close, []
        _call(self.on_ready)
        for cb in after:
            _call(cb)

    def _open(self) -> None:
        try:
            self._inner = self._opener()
        except MediaError as exc:
            self.error = str(exc)
        except Exception as exc:
            self.error = f"cannot record to {self.path}: {exc!r}"
        self.opened.set()
        _call(self.on_ready)

    def _fail(self, message: str) -> None:
        if self.error is None:
            log(ERR, message)
            self.error = message
