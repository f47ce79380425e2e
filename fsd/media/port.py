"""MediaPort: one channel's media, advanced by the media clock, waited on by its session.

Each tick the clock calls :meth:`MediaPort._tick`, which

* takes the frame that arrived on the **read side** (``feed()`` by the endpoint, a pull
  source, or silence when nothing came), runs inband DTMF detection when enabled, and
  hands the frame to recorders;
* produces the **write side** frame: the active playback, else the bridged peer's last
  read frame (resampled when rates differ), else the caller's own frame when echoing,
  else silence; mixes read+write into ``record_session`` files;
* passes the write frame to the ``sink`` (the endpoint's send; a loopback endpoint feeds
  it to the peer port's read side).

The session thread calls :meth:`play`, :meth:`record`, :meth:`sleep`, :meth:`echo`,
:meth:`get_dtmf` …; these only set state and wait on the port's condition.  Input
callbacks (``on_dtmf``) therefore always run in the session thread, never in the clock.

Events go to ``on_event(name, headers)``: PLAYBACK_START/STOP, RECORD_START/STOP and DTMF
(fired when a digit is taken off the queue, as FreeSWITCH does).  ``on_event`` must not
block (the event bus's ``fire`` never does).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from fsd.log import ERR, WARNING, log
from fsd.media import files
from fsd.media.clock import MediaClock, get_clock
from fsd.media.codecs import get_codec
from fsd.media.dtmf import DTMF, DTMFDetector
from fsd.media.errors import MediaError
from fsd.media.files import AudioWriter
from fsd.media.record import Recorder, SessionRecorder
from fsd.media.resample import (
    DEFAULT_PTIME,
    FrameResampler,
    check_ptime,
    check_rate,
    samples_per_frame,
)
from fsd.media.resolve import URL_SEPARATOR, open_source, split_params
from fsd.media.sources import BufferSource, FileHandle, Source
from fsd.media.stream import ReadAhead, WriteBehind

DTMFCallback = Callable[[DTMF], "str | None"]
Poll = Callable[[], "str | None"]

# How long a waiting session thread sleeps at most before re-checking readiness.  Every
# change a wait must see wakes it at once (hangup, transfer, break, kill, a queued event
# or digit, playback end); the slice is only the safety net.  Each wake-up takes the GIL:
# at 0.25 s, 500 waiting calls woke 2 000 times a second and those turns, taken while
# the media clock sent its packets, put 2-4 ms into the stream gaps (bench_sip --rtp 500:
# p99 22-48 ms at 0.25 s, 21-21.8 ms at 2 s).
_WAIT_SLICE = 2.0
_INBOUND_MAX = 10  # frames kept when the endpoint delivers faster than the clock reads
# How long stop/hangup wait for a recording to reach the disk before going on without it
# (the I/O worker still finishes it): long enough for any healthy disk, short enough that
# a stalled one cannot hold a hangup.
CLOSE_WAIT_SECS = 2.0
# Schemes whose sources are rendered in memory when opened (no disk): played directly.
_IN_MEMORY_SCHEMES = ("silence_stream", "tone_stream")


@dataclass
class PlaybackResult:
    """How a playback ended.  ``status``: done, break or hangup."""

    status: str
    digit: str = ""  # first digit, when the playback was asked to capture one
    terminator: str = ""  # the playback terminator that stopped it
    samples: int = 0
    name: str = ""
    errors: list[str] = field(default_factory=list)
    underruns: int = 0  # frames of silence played because the file's disk was behind

    @property
    def ok(self) -> bool:
        return self.status in ("done", "break")


@dataclass
class RecordResult:
    """How a recording ended.  ``reason``: max, silence, break, terminator, hangup."""

    reason: str
    path: str
    samples: int = 0
    terminator: str = ""

    @property
    def ended_normally(self) -> bool:
        """recordFile returns 1 only for the time limit or silence."""
        return self.reason in ("max", "silence")


class MediaPort:
    """One channel's media.  See the module docstring."""

    def __init__(
        self,
        rate: int = 8000,
        ptime: int = DEFAULT_PTIME,
        *,
        clock: MediaClock | None = None,
        name: str = "",
        uuid: str = "",
        codec: str = "L16",
        sink: Callable[[np.ndarray], None] | None = None,
        on_event: Callable[[str, dict], None] | None = None,
        detect_inband: bool = False,
        sound_prefix: str | None = None,
        base_dir: str = "",
        ready_check: Callable[[], bool] | None = None,
    ) -> None:
        self.rate = check_rate(rate)
        self.ptime = check_ptime(ptime)
        self.n = samples_per_frame(rate, ptime)
        self.name = name or uuid or f"port-{id(self):x}"
        self.uuid = uuid
        self.codec = get_codec(codec, rate if codec.upper() == "L16" else None)
        self.sink = sink
        self.on_event = on_event
        self.sound_prefix = sound_prefix
        self.base_dir = base_dir
        self.ready_check = ready_check
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._silence = np.zeros(self.n, dtype=np.int16)
        self._inbound: deque[np.ndarray] = deque(maxlen=_INBOUND_MAX)
        self._pull: Callable[[], np.ndarray | None] | None = None
        self._dtmf: deque[DTMF] = deque()
        self._detector = DTMFDetector(rate) if detect_inband else None
        self._recorders: list[Recorder] = []
        self._session_recorders: list[SessionRecorder] = []
        #: ``f(frame) -> frame`` applied to what the channel sends, each tick (displace,
        #: three_way); must be cheap and never block: it runs on the clock
        self._out_mixers: list[Callable[[np.ndarray], np.ndarray | None]] = []
        self._playback: FileHandle | None = None
        self._break = False
        self._echo = False
        self._peer: MediaPort | None = None
        self._peer_resampler: FrameResampler | None = None
        self.last_read = self._silence
        self.last_write = self._silence
        self.frames_in = 0
        self.frames_out = 0
        self.closed = False
        self._writers: list[WriteBehind] = []  # recordings not yet complete on disk
        self.clock = clock or get_clock(ptime)
        if self.clock.ptime != ptime:
            raise MediaError(f"port ptime {ptime} ms does not match the clock's {self.clock.ptime}")
        self.clock.register(self)

    # ------------------------------------------------------------------ endpoint side
    def feed(self, frame: np.ndarray) -> None:
        """A frame arrived from the endpoint (RTP, loopback peer).  Any thread."""
        if len(frame) != self.n:
            frame = _fit(frame, self.n)
        with self._lock:
            self._inbound.append(frame)

    def feed_payload(self, payload: bytes) -> None:
        """An encoded payload in this port's codec arrived."""
        self.feed(self.codec.decode(payload))

    def encode(self, frame: np.ndarray) -> bytes:
        return self.codec.encode(frame)

    def set_pull_source(self, pull: Callable[[], np.ndarray | None] | None) -> None:
        """Read side pulled each tick instead of pushed (returns a frame or None)."""
        with self._lock:
            self._pull = pull

    def add_out_mixer(self, mix: Callable[[np.ndarray], np.ndarray | None]) -> None:
        """Mix into (or replace) what this channel sends: ``mix(frame)`` each tick."""
        with self._lock:
            self._out_mixers.append(mix)

    def remove_out_mixer(self, mix: Callable[[np.ndarray], np.ndarray | None]) -> bool:
        with self._lock:
            if mix in self._out_mixers:
                self._out_mixers.remove(mix)
                return True
            return False

    def set_inband_detection(self, on: bool) -> None:
        with self._lock:
            self._detector = DTMFDetector(self.rate) if on else None

    # ------------------------------------------------------------------ the clock's tick
    def _tick(self) -> None:
        sink = None
        out = self._silence
        with self._lock:
            if self.closed:
                return
            notify = False
            if self._inbound:
                frame = self._inbound.popleft()
                self.frames_in += 1
            elif self._pull is not None:
                got = self._pull()
                frame = _fit(got, self.n) if got is not None else self._silence
            else:
                frame = self._silence
            self.last_read = frame
            if self._detector is not None:
                for d in self._detector.feed(frame):
                    self._dtmf.append(d)
                    notify = True
            if self._recorders:
                for rec in self._recorders:
                    if rec.on_frame(frame):
                        notify = True
            pb = self._playback
            if pb is not None:
                got = pb.next_frame(self.n)
                if got is None:
                    notify = True
                else:
                    out = got
            if pb is None or out is self._silence:
                peer = self._peer
                if peer is not None:
                    src = peer.last_read
                    out = self._peer_resampler.process(src) if self._peer_resampler else src
                    if len(out) != self.n:
                        out = _fit(out, self.n)
                elif self._echo:
                    out = frame
            for mix in self._out_mixers:
                try:
                    mixed = mix(out)
                except Exception as exc:  # a broken mixer must not stop the clock
                    log(ERR, f"output mixer of {self.name} failed: {exc!r}", uuid=self.uuid)
                    mixed = None
                if mixed is not None:
                    out = _fit(mixed, self.n) if len(mixed) != self.n else mixed
            if self._out_mixers:  # a mixer that finished says so with ``done``
                self._out_mixers = [m for m in self._out_mixers if not getattr(m, "done", False)]
            self.last_write = out
            for sr in self._session_recorders:
                sr.on_frames(frame, out)
            self.frames_out += 1
            if notify:
                self._cond.notify_all()
            sink = self.sink
        if sink is not None:
            try:
                sink(out)
            except Exception as exc:
                log(ERR, f"media sink of {self.name} failed: {exc!r}", uuid=self.uuid)

    # ------------------------------------------------------------------ readiness
    def ready(self) -> bool:
        if self.closed:
            return False
        if self.ready_check is not None:
            try:
                return bool(self.ready_check())
            except Exception:
                return False
        return True

    def wake(self) -> None:
        """Wake whatever the session thread waits on (state changed, event queued)."""
        with self._lock:
            self._cond.notify_all()

    def _emit(self, name: str, headers: dict) -> None:
        cb = self.on_event
        if cb is None:
            return
        try:
            cb(name, headers)
        except Exception as exc:
            log(ERR, f"media event handler failed for {name}: {exc!r}", uuid=self.uuid)

    # ------------------------------------------------------------------ DTMF queue
    def queue_dtmf(self, digit: DTMF | str, duration: int = 0, source: str = "APP") -> None:
        """Queue one digit or a string of digits (invalid characters are skipped)."""
        items: list[DTMF] = []
        if isinstance(digit, DTMF):
            items.append(digit)
        else:
            for ch in str(digit):
                try:
                    items.append(DTMF(ch, duration, source))
                except ValueError:
                    log(WARNING, f"ignoring invalid DTMF {ch!r}", uuid=self.uuid)
        with self._lock:
            self._dtmf.extend(items)
            self._cond.notify_all()

    def has_dtmf(self) -> bool:
        return bool(self._dtmf)

    def flush_dtmf(self) -> int:
        with self._lock:
            n = len(self._dtmf)
            self._dtmf.clear()
        return n

    def _dequeue_dtmf(self) -> DTMF | None:
        with self._lock:
            d = self._dtmf.popleft() if self._dtmf else None
        if d is not None:
            self._emit(
                "DTMF",
                {"DTMF-Digit": d.digit, "DTMF-Duration": str(d.duration), "DTMF-Source": d.source},
            )
        return d

    def wait_dtmf(self, timeout: float | None) -> bool:
        """Wait until a digit is queued (True), or timeout / not ready (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while not self._dtmf:
                if self.closed:
                    return False
                left = (
                    _WAIT_SLICE
                    if deadline is None
                    else min(_WAIT_SLICE, deadline - time.monotonic())
                )
                if left <= 0:
                    return False
                self._cond.wait(left)
                if not self._dtmf and self.ready_check is not None and not self.ready():
                    return False
            return True

    def get_dtmf(self, timeout: float | None = 0) -> DTMF | None:
        """Take the next digit, waiting up to ``timeout`` seconds (None: forever)."""
        if timeout != 0 and not self.wait_dtmf(timeout):
            return None
        return self._dequeue_dtmf()

    # ------------------------------------------------------------------ waiting helper
    def _wait_loop(
        self,
        finished: Callable[[], str | None],
        deadline: float | None,
        want_dtmf: bool,
        poll: Poll | None,
    ) -> str:
        """Wait until ``finished()`` gives a status, a digit is wanted, time runs out.

        Returns the status, ``"dtmf"`` when a digit waits, or ``"timeout"``.
        """
        while True:
            with self._lock:
                while True:
                    if self.closed:
                        return "hangup"
                    st = finished()
                    if st:
                        return st
                    if self._break:
                        self._break = False
                        return "break"
                    if want_dtmf and self._dtmf:
                        return "dtmf"
                    left = _WAIT_SLICE
                    if deadline is not None:
                        left = min(left, deadline - time.monotonic())
                        if left <= 0:
                            return "timeout"
                    self._cond.wait(left)
                    break
            if not self.ready():
                return "hangup"
            if poll is not None:
                res = poll()
                if res:
                    return res

    def _serve_digits(
        self,
        finished: Callable[[], str | None],
        handle: FileHandle,
        on_dtmf: DTMFCallback | None,
        stop_digit: Callable[[str], bool] | None,
        poll: Poll | None,
        after_command: Callable[[], None] | None = None,
    ) -> tuple[str, str]:
        """Wait for ``finished`` while digits arrive: each goes to ``on_dtmf`` (its result
        applied to ``handle`` as a §4.5 command), or, without a callback, a digit that
        ``stop_digit`` accepts ends the wait.  Returns (status, the digit that stopped it)."""
        want = on_dtmf is not None or stop_digit is not None
        while True:
            st = self._wait_loop(finished, None, want, poll)
            if st != "dtmf":
                return st, ""
            d = self._dequeue_dtmf()
            if d is None:
                continue
            if on_dtmf is not None:
                res = _call(on_dtmf, d, self)
                with self._lock:
                    go_on = handle.command(res)
                    if after_command is not None:
                        after_command()
                if not go_on:
                    return "break", ""
            elif stop_digit is not None and stop_digit(d.digit):
                return "break", d.digit

    def break_media(self) -> None:
        """uuid_break: end the current playback / sleep / echo (status "break")."""
        with self._lock:
            self._break = True
            self._cond.notify_all()

    # ------------------------------------------------------------------ playback
    def open(self, name: str) -> Source:
        """Open a playback source by FreeSWITCH file name rules (raises MediaError)."""
        return open_source(name, self.rate, self.sound_prefix, self.base_dir)

    def play(
        self,
        source: Source | str,
        *,
        on_dtmf: DTMFCallback | None = None,
        capture_digit: bool = False,
        terminators: str = "",
        start_sample: int = 0,
        poll: Poll | None = None,
    ) -> PlaybackResult:
        """Play to the caller and wait for the end.

        Digits: with ``on_dtmf`` each one goes to the callback, whose result is processed
        as §4.5 says; with ``capture_digit`` the first digit stops playback and is returned;
        with ``terminators`` a listed digit stops playback (others are consumed); with none
        of these digits stay queued.  ``poll`` is called on every wake-up (to deliver
        session events); a non-empty result stops playback with that status.
        """
        source = self._playback_source(source)
        if start_sample and source.seekable:
            source.seek(start_sample)
        with self._lock:
            if self.closed:
                source.close()
                return PlaybackResult("hangup", name=source.name)
            self._break = False
        if isinstance(source, ReadAhead):
            # The I/O worker opens the file and reads the first chunk; hangup, a break or
            # the poll end the wait at once even when the disk does not answer.
            ra = source
            st = self._wait_loop(lambda: "primed" if ra.primed else None, None, False, poll)
            if st != "primed":
                source.close()
                return PlaybackResult(st, name=source.name)
            if source.error is not None:
                source.close()
                raise MediaError(source.error)  # nothing started, as with a synchronous open
        handle = FileHandle(source, self.rate)
        errors = list(getattr(source, "errors", []))
        with self._lock:
            if self.closed:
                source.close()
                return PlaybackResult("hangup", name=source.name)
            self._playback = handle
        self._emit("PLAYBACK_START", {"Playback-File-Path": source.name})
        digit, term = "", ""
        stop_digit = ((lambda c: True) if capture_digit
                      else (lambda c: c in terminators) if terminators else None)
        try:
            status, pressed = self._serve_digits(
                lambda: "done" if handle.done else None, handle, on_dtmf, stop_digit, poll)
            if pressed:
                if capture_digit:
                    digit = pressed
                else:
                    term = pressed
        finally:
            with self._lock:
                if self._playback is handle:
                    self._playback = None
                handle.done = True
            source.close()
        errors += [e for e in getattr(source, "errors", []) if e not in errors]
        for e in errors:
            log(WARNING, e, uuid=self.uuid)
        if handle.underruns:
            log(WARNING, f"playback of {source.name}: {handle.underruns} frame(s) of silence"
                         " while the disk was behind", uuid=self.uuid)
        self._emit(
            "PLAYBACK_STOP",
            {
                "Playback-File-Path": source.name,
                "Playback-Status": "done" if status == "done" else "break",
            },
        )
        return PlaybackResult(status, digit, term, handle.samples_played, source.name, errors,
                              handle.underruns)

    def _playback_source(self, source: Source | str) -> Source:
        """What the clock will read: in-memory sources as they are, anything that may touch
        a disk behind a :class:`ReadAhead` the I/O worker opens and fills."""
        if isinstance(source, str):
            name = source
            _, rest = split_params(name)
            scheme = rest.split(URL_SEPARATOR, 1)[0].lower() if URL_SEPARATOR in rest else ""
            if scheme in _IN_MEMORY_SCHEMES:
                return self.open(name)  # MediaError propagates: nothing started
            if not name or not name.strip():
                raise MediaError("no file name given")
            return ReadAhead(lambda: self.open(name), rest, self.rate, on_ready=self.wake)
        if source.in_memory or isinstance(source, ReadAhead):
            return source
        src = source
        return ReadAhead(lambda: src, src.name, self.rate, on_ready=self.wake)

    def play_samples(self, samples: np.ndarray, name: str = "buffer", **kw) -> PlaybackResult:
        """Play samples at the port's rate (inband DTMF from send_dtmf, generated audio)."""
        return self.play(BufferSource(samples, name), **kw)

    # ------------------------------------------------------------------ sleep / echo
    def sleep(
        self, ms: int, *, on_dtmf: DTMFCallback | None = None, poll: Poll | None = None
    ) -> str:
        """Keep reading media for ``ms``; with a callback, digits go to it and may break.

        Returns "done", "break" or "hangup".
        """
        deadline = time.monotonic() + max(0, ms) / 1000.0
        while True:
            st = self._wait_loop(lambda: None, deadline, on_dtmf is not None, poll)
            if st == "timeout":
                return "done"
            if st != "dtmf":
                return st
            d = self._dequeue_dtmf()
            if d is not None and not _continues(_call(on_dtmf, d, self)):
                return "break"

    def start_echo(self) -> None:
        with self._lock:
            self._echo = True

    def stop_echo(self) -> None:
        with self._lock:
            self._echo = False

    def echo(self, *, on_dtmf: DTMFCallback | None = None, poll: Poll | None = None) -> str:
        """Send the caller's audio back until hangup or break."""
        self.start_echo()
        try:
            while True:
                st = self._wait_loop(lambda: None, None, on_dtmf is not None, poll)
                if st != "dtmf":
                    return st
                d = self._dequeue_dtmf()
                if d is not None and not _continues(_call(on_dtmf, d, self)):
                    return "break"
        finally:
            self.stop_echo()

    # ------------------------------------------------------------------ recording
    def record(
        self,
        path: str,
        max_secs: float = 0,
        silence_thresh: float = 0,
        silence_secs: float = 0,
        *,
        on_dtmf: DTMFCallback | None = None,
        terminators: str = "",
        poll: Poll | None = None,
    ) -> RecordResult:
        """Record the caller to ``path`` until a limit, silence, a digit or hangup."""
        writer = self._open_writer(path)
        if writer is None:
            return RecordResult("hangup", path)
        rec = Recorder(writer, self.rate, self.n, max_secs, silence_thresh, silence_secs)
        handle = FileHandle(_NullSource(path), self.rate, writer=writer)
        with self._lock:
            if self.closed:
                writer.close()
                return RecordResult("hangup", path)
            self._break = False
            self._recorders.append(rec)
        self._emit("RECORD_START", {"Record-File-Path": path})
        def sync_pause() -> None:
            rec.paused = handle.paused

        try:
            reason, term = self._serve_digits(
                lambda: rec.done, handle, on_dtmf,
                (lambda c: c in terminators) if terminators else None, poll, sync_pause)
            if term:
                reason = "terminator"
        finally:
            with self._lock:
                if rec in self._recorders:
                    self._recorders.remove(rec)
                rec.close()
            # The caller (recordFile's script) reads the file next: let it reach the disk.
            self._finish_writer(writer)
        self._emit(
            "RECORD_STOP",
            {"Record-File-Path": path, "Record-Completion-Cause": reason},
        )
        return RecordResult(reason, path, rec.samples, term)

    def record_session(self, path: str) -> None:
        """Start recording both directions mixed into ``path`` (runs until stopped)."""
        writer = self._open_writer(path)
        with self._lock:
            if writer is None or self.closed:
                if writer is not None:
                    writer.close()
                raise MediaError(f"cannot record {path}: channel is gone")
            self._session_recorders.append(SessionRecorder(writer))
        self._emit("RECORD_START", {"Record-File-Path": path})

    def stop_record_session(self, path: str = "all") -> int:
        """Stop ``path`` (or all); returns how many were stopped."""
        with self._lock:
            stop = [r for r in self._session_recorders if path in ("all", r.path)]
            for r in stop:
                self._session_recorders.remove(r)
                r.close()
        for r in stop:
            self._finish_writer(r.writer)
            self._emit("RECORD_STOP", {"Record-File-Path": r.path})
        return len(stop)

    def _open_writer(self, path: str) -> WriteBehind | None:
        """A recording the I/O worker opens and writes; waits for the open (so a bad path
        raises MediaError here, nothing started).  None when the channel hung up first."""
        rate = self.rate
        writer = WriteBehind(lambda: files.open_writer(path, rate), path, rate,
                             on_ready=self.wake)
        with self._lock:
            while not writer.opened.is_set():
                if self.closed:
                    break
                self._cond.wait(_WAIT_SLICE)
            hung_up = self.closed and not writer.opened.is_set()
            if not hung_up:
                self._writers = [w for w in self._writers if not w.closed]
                self._writers.append(writer)
        if hung_up:
            writer.close()  # the worker closes it once the open returns
            return None
        if writer.error is not None:
            writer.close()
            raise MediaError(writer.error)
        return writer

    def _finish_writer(self, writer: AudioWriter) -> None:
        """Wait (bounded) until a closed recording is complete on disk.  Never on the
        clock thread; never holding the port lock."""
        if isinstance(writer, WriteBehind) and not self._on_clock_thread():
            if not writer.wait_closed(CLOSE_WAIT_SECS):
                log(WARNING, f"recording {writer.path} is still being written (slow disk)",
                    uuid=self.uuid)

    def _on_clock_thread(self) -> bool:
        return self.clock._thread is threading.current_thread()

    def wait_io(self, timeout: float | None = None) -> bool:
        """Wait until every recording this port closed is complete on disk (True)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for w in list(self._writers):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not w.closed_event.wait(left):
                return False
        return True

    def insert_file(self, orig: str, insert: str, sample_pos: int) -> None:
        files.insert_file(orig, insert, sample_pos, self.rate)

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Hangup: finalise every recording, end playback, wake waiters, leave the clock."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            recs = list(self._recorders)
            srecs = list(self._session_recorders)
            self._session_recorders.clear()
            for r in recs:
                r.close()
            for r in srecs:
                r.close()
            if self._playback is not None:
                self._playback.done = True
            peer = self._peer
            self._cond.notify_all()
        self.clock.unregister(self)
        if peer is not None:
            unbridge(self)
        # Hangup hooks may read the recordings: give the disk a bounded moment (a stalled
        # one cannot hold the hangup; the worker still completes the files).
        for r in srecs:
            self._finish_writer(r.writer)
        for r in srecs:
            self._emit("RECORD_STOP", {"Record-File-Path": r.path})

    def __repr__(self) -> str:
        return f"MediaPort({self.name}, {self.rate} Hz, {self.ptime} ms)"


class _NullSource(Source):
    def __init__(self, name: str) -> None:
        self.name = name

    def read(self, n: int) -> np.ndarray:
        return np.zeros(0, dtype=np.int16)


def _fit(frame: np.ndarray, n: int) -> np.ndarray:
    frame = np.asarray(frame, dtype=np.int16)
    if len(frame) == n:
        return frame
    if len(frame) > n:
        return frame[:n]
    return np.concatenate((frame, np.zeros(n - len(frame), dtype=np.int16)))


def _call(cb: DTMFCallback | None, d: DTMF, port: MediaPort) -> str | None:
    if cb is None:
        return None
    try:
        return cb(d)
    except Exception as exc:
        # A failing callback stops the operation, like a Lua error ("SCRIPT_ERROR").
        log(ERR, f"input callback failed: {exc!r}", uuid=port.uuid)
        return "SCRIPT_ERROR"


def _continues(res: str | None) -> bool:
    return res is None or res in ("", "true", "undefined")


def bridge(a: MediaPort, b: MediaPort) -> None:
    """Each port sends what the other receives; rates are converted as needed.

    Codec transcoding (PCMU <-> PCMA <-> L16) is implicit: frames inside are linear and
    each endpoint encodes with its own codec.
    """
    if a is b:
        raise MediaError("cannot bridge a channel to itself")
    if a.closed or b.closed:
        raise MediaError("cannot bridge: a channel is gone")
    if a.ptime != b.ptime:
        raise MediaError(f"cannot bridge {a.ptime} ms and {b.ptime} ms packet times")
    for me, other in ((a, b), (b, a)):
        with me._lock:
            me._peer = other
            me._peer_resampler = (
                FrameResampler(other.rate, me.rate, me.n)
                if other.rate != me.rate or other.n != me.n
                else None
            )


def unbridge(a: MediaPort) -> None:
    """Stop the bridge ``a`` is in (both directions)."""
    with a._lock:
        b = a._peer
        a._peer = None
        a._peer_resampler = None
    if b is not None:
        with b._lock:
            if b._peer is a:
                b._peer = None
                b._peer_resampler = None
