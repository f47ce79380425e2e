"""No disk I/O on the media clock (issue 11): a stalled file degrades only its own call.

Measured on the clock's own counters (lateness histogram since reset), not on wall time.
The slow "disks" are file formats registered like a module would: ``FifoReader`` reads raw
8 kHz int16 from a real FIFO (opening blocks in the kernel until someone opens the other
end, each read until that someone writes); ``GateWriter`` writes a real WAV file but each
write waits for a gate to open.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import soundfile as sf

from fsd.media import port as port_mod
from fsd.media.errors import MediaError
from fsd.media.files import (
    AudioReader,
    AudioWriter,
    SndfileWriter,
    register_format,
    unregister_format,
)
from fsd.media.sources import UNDERRUN, Source
from fsd.media.stream import ReadAhead
from fsd.testing import wait_until


class FifoReader(AudioReader):
    instances: list[FifoReader] = []

    def __init__(self, url: str, rate: int) -> None:
        self.path = url.split("://", 1)[1]
        self.rate = rate
        self.reads = 0  # read() calls started (the next one blocks once the data is used)
        self.closed = threading.Event()
        self._pos = 0
        FifoReader.instances.append(self)
        self._fd = os.open(self.path, os.O_RDONLY)  # blocks until a writer opens

    def read(self, n: int) -> np.ndarray:
        self.reads += 1
        want, buf = n * 2, b""
        while len(buf) < want:
            got = os.read(self._fd, want - len(buf))  # blocks until written
            if not got:
                break
            buf += got
        buf = buf[: len(buf) - len(buf) % 2]
        self._pos += len(buf) // 2
        return np.frombuffer(buf, dtype="<i2").astype(np.int16)

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        os.close(self._fd)
        self.closed.set()


class GateWriter(AudioWriter):
    gate = threading.Event()
    blocked = threading.Event()  # set while a write waits at the gate

    def __init__(self, path: str, rate: int) -> None:
        self.path = path
        self.rate = rate
        self._w = SndfileWriter(path, rate, "wav")

    def write(self, frame: np.ndarray) -> None:
        if not GateWriter.gate.is_set():
            GateWriter.blocked.set()
            GateWriter.gate.wait()
        self._w.write(frame)
        self.samples = self._w.samples

    def close(self) -> None:
        self._w.close()


class FifoFeeder:
    """The FIFO's writing end, in a thread: opens it (unblocking the reader's open),
    writes ``head``, waits for ``release``, writes ``tail`` and closes."""

    def __init__(self, path: str, head: np.ndarray, tail: np.ndarray) -> None:
        self.path = path
        self.release = threading.Event()
        self._head, self._tail = head, tail
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> FifoFeeder:
        self.thread.start()
        return self

    def _run(self) -> None:
        fd = os.open(self.path, os.O_WRONLY)
        try:
            os.write(fd, self._head.astype("<i2").tobytes())
            self.release.wait()
            os.write(fd, self._tail.astype("<i2").tobytes())
        finally:
            os.close(fd)


OTHERS = 50
LATE_LIMIT_MS = 200  # the stall lasts 2000 ms; a clock that waited on it is far past this


def run(fn, *a, **kw):
    box: dict = {}

    def go() -> None:
        try:
            box["r"] = fn(*a, **kw)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            box["e"] = exc

    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t, box


@pytest.fixture
def fifo_format():
    FifoReader.instances.clear()
    register_format("fifotest", lambda url, rate: FifoReader(url, rate))
    yield
    unregister_format("fifotest")


@pytest.fixture
def gate_format():
    GateWriter.gate.clear()
    GateWriter.blocked.clear()
    register_format("gatewav", None, lambda path, rate: GateWriter(path, rate))
    yield
    GateWriter.gate.set()
    unregister_format("gatewav")


def noise(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).integers(-8000, 8000, n).astype(np.int16)
    x[x == 0] = 1  # no zero sample: the played part is found exactly in a recording
    return x


def find_exact(rec: np.ndarray, ref: np.ndarray) -> int:
    """Where ``ref`` sits in ``rec`` sample for sample (-1 when it does not)."""
    nz = np.flatnonzero(rec)
    if not len(nz):
        return -1
    i = int(nz[0])
    return i if np.array_equal(rec[i : i + len(ref)], ref) else -1


def test_stalled_file_delays_only_its_own_call(make_port, clock, tmp_path, fifo_format):
    rate = 8000
    # The stalled call: 1 s arrives, then the FIFO stays silent for 100 clock ticks (2 s).
    head, tail = noise(rate, 1), noise(2 * rate, 2)
    fifo = str(tmp_path / "slow.fifo")
    os.mkfifo(fifo)
    feeder = FifoFeeder(fifo, head, tail).start()
    slow = make_port(rate, name="slow")
    slow.record_session(str(tmp_path / "slow-rec.wav"))
    slow_t, slow_box = run(slow.play, f"fifotest://{fifo}")
    # The worker has used the 1 s and is inside a read that cannot complete.
    assert wait_until(lambda: FifoReader.instances and FifoReader.instances[0].reads >= 3, 10)

    ref = [noise(int(2.5 * rate), 10 + i) for i in range(OTHERS)]
    paths = []
    for i, r in enumerate(ref):
        p = tmp_path / f"in{i}.wav"
        sf.write(str(p), r, rate, subtype="PCM_16")
        paths.append(str(p))
    ports = [make_port(rate, name=f"call{i}") for i in range(OTHERS)]
    for i, p in enumerate(ports):
        p.record_session(str(tmp_path / f"rec{i}.wav"))
    clock.reset_stats()
    t0 = clock.ticks
    plays = [run(p.play, paths[i]) for i, p in enumerate(ports)]
    # The stall spans 100 ticks of the clock while the 50 calls play.
    assert wait_until(lambda: clock.ticks >= t0 + 100, 30)
    assert FifoReader.instances[0].reads == 3 and slow_t.is_alive()
    feeder.release.set()

    for t, _ in plays:
        t.join(30)
    slow_t.join(30)
    stalled = clock.lateness()
    assert stalled["ticks"] >= 100
    assert stalled["max_ms"] < LATE_LIMIT_MS, stalled
    assert clock.errors == 0

    for i, (p, (_, box)) in enumerate(zip(ports, plays, strict=True)):
        assert box["r"].status == "done" and box["r"].samples == len(ref[i])
        assert box["r"].underruns == 0
        writer = p._session_recorders[0].writer
        assert p.stop_record_session() == 1 and writer.closed
        assert writer.dropped == 0 and writer.written == writer.samples
        got, sr = sf.read(str(tmp_path / f"rec{i}.wav"), dtype="int16")
        # Every frame the clock produced reached the file, and the played file is in it
        # sample for sample (no underrun gap, nothing lost or reordered).
        assert sr == rate and len(got) == writer.samples
        assert find_exact(got, ref[i]) >= 0, f"call {i}"

    # The stalled call recovered: everything played, in order, after a silent gap.
    res = slow_box["r"]
    assert res.status == "done" and res.samples == len(head) + len(tail)
    assert res.underruns >= 25
    assert slow.stop_record_session() == 1
    got, _ = sf.read(str(tmp_path / "slow-rec.wav"), dtype="int16")
    start = find_exact(got, head)
    assert start >= 0
    after = got[start + len(head):]
    gap = int(np.flatnonzero(after)[0])
    assert gap >= rate // 2  # silence while the FIFO was empty (at least 25 frames)
    assert np.array_equal(after[gap : gap + len(tail)], tail)
    feeder.thread.join(10)
    assert FifoReader.instances[0].closed.is_set()


def test_hangup_while_the_open_is_stalled(make_port, tmp_path, fifo_format):
    fifo = str(tmp_path / "never.fifo")
    os.mkfifo(fifo)
    p = make_port(8000)
    t, box = run(p.play, f"fifotest://{fifo}")
    # The worker is blocked in open(2): no writer exists.  (The port waits for the first
    # chunk, so the session thread is parked on the port's condition.)
    assert wait_until(lambda: t.is_alive() and p.clock.ticks > 5, 10)
    p.close()
    t.join(10)
    assert not t.is_alive() and box["r"].status == "hangup"
    # Let the open complete: the worker then closes the file it no longer needs.
    feeder = FifoFeeder(fifo, np.zeros(0, np.int16), np.zeros(0, np.int16)).start()
    feeder.release.set()
    assert wait_until(lambda: FifoReader.instances and FifoReader.instances[0].closed.is_set(), 10)
    feeder.thread.join(10)


def test_hangup_while_a_read_is_stalled(make_port, tmp_path, fifo_format):
    fifo = str(tmp_path / "half.fifo")
    os.mkfifo(fifo)
    feeder = FifoFeeder(fifo, noise(4000, 3), noise(4000, 4)).start()
    p = make_port(8000)
    t, box = run(p.play, f"fifotest://{fifo}")
    assert wait_until(lambda: FifoReader.instances and FifoReader.instances[0].reads >= 2, 10)
    # The 0.5 s that arrived has played; the port now plays silence for the missing data.
    assert wait_until(lambda: getattr(p._playback, "underruns", 0) > 0, 10)
    p.close()
    t.join(10)
    assert not t.is_alive() and box["r"].status == "hangup"
    feeder.release.set()
    assert wait_until(lambda: FifoReader.instances[0].closed.is_set(), 10)
    feeder.thread.join(10)


def test_recording_behind_a_stalled_disk_survives_hangup(
    make_port, clock, tmp_path, gate_format, monkeypatch
):
    monkeypatch.setattr(port_mod, "CLOSE_WAIT_SECS", 0.05)
    p = make_port(8000)
    path = str(tmp_path / "cut.gatewav")
    p.record_session(path)
    writer = p._session_recorders[0].writer
    tone = np.full(8000, 3000, np.int16)
    t, box = run(p.play_samples, tone)
    assert GateWriter.blocked.wait(10)  # the worker is stuck in a write
    clock.reset_stats()
    t0 = clock.ticks
    assert wait_until(lambda: clock.ticks >= t0 + 50, 10)
    assert clock.lateness()["max_ms"] < LATE_LIMIT_MS  # the clock kept going
    t.join(10)
    assert box["r"].status == "done"
    p.close()  # hangup: returns although the disk has not answered
    assert not writer.closed
    GateWriter.gate.set()
    assert p.wait_io(10) and writer.closed and writer.error is None
    got, sr = sf.read(path, dtype="int16")
    assert sr == 8000 and len(got) == writer.samples and writer.dropped == 0
    assert np.count_nonzero(got == 3000) == 8000  # the whole tone, nothing lost


def test_recordfile_returns_a_complete_file(make_port, tmp_path):
    """record() waits for its file to reach the disk before returning (scripts read it)."""
    p = make_port(8000)
    path = str(tmp_path / "r.wav")
    res = p.record(path, max_secs=0.5)
    assert res.reason == "max"
    got, _ = sf.read(path, dtype="int16")
    assert len(got) == res.samples == 4000


# -- bad input: errors from the worker reach the caller --------------------------------------

class _Boom(Source):
    name = "boom"

    def read(self, n: int) -> np.ndarray:
        raise OSError("disk on fire")


def test_reader_that_raises_on_open_is_a_media_error(make_port):
    def bad(url: str, rate: int):
        raise RuntimeError("no such device")

    register_format("brokenfmt", bad)
    try:
        p = make_port(8000)
        with pytest.raises(MediaError, match="no such device"):
            p.play("brokenfmt://x")
        assert p.play("silence_stream://40").status == "done"
    finally:
        unregister_format("brokenfmt")


def test_read_error_ends_playback_cleanly(make_port, logs):
    p = make_port(8000)
    res = p.play(_Boom())
    assert res.status == "done" and res.samples == 0
    assert logs.has("disk on fire")


def test_writer_that_raises_is_a_media_error(make_port, tmp_path):
    def bad(path: str, rate: int):
        raise OSError("read-only file system")

    register_format("rofmt", None, bad)
    try:
        p = make_port(8000)
        with pytest.raises(MediaError, match="read-only"):
            p.record(str(tmp_path / "x.rofmt"), 1)
        with pytest.raises(MediaError, match="read-only"):
            p.record_session(str(tmp_path / "y.rofmt"))
        assert p.wait_io(5)
    finally:
        unregister_format("rofmt")


def test_read_ahead_seek_and_tell(wav, tmp_path):
    from fsd.media.resolve import open_source

    ref = noise(8000, 5)
    path = wav("s.wav", ref, 8000)
    ra = ReadAhead(lambda: open_source(path, 8000), path, 8000)
    assert wait_until(lambda: ra.primed, 10)
    assert ra.seekable and ra.length == 8000
    assert np.array_equal(ra.read(160), ref[:160]) and ra.tell() == 160
    assert ra.seek(4000) == 4000 and ra.tell() == 4000
    assert wait_until(lambda: ra.buffered > 0, 10)
    assert np.array_equal(ra.read(160), ref[4000:4160]) and ra.tell() == 4160
    assert ra.seek(99999) == 8000  # clamped to the end
    assert wait_until(lambda: ra.read(160) is not UNDERRUN, 10)  # the end, not "no data yet"
    assert len(ra.read(160)) == 0
    ra.close()
    assert ra.closed.wait(10)


def test_lateness_histogram_since_reset(clock, make_port):
    make_port(8000)
    assert wait_until(lambda: clock.ticks >= 10, 10)
    clock.reset_stats()
    assert wait_until(lambda: clock.lateness()["ticks"] >= 10, 10)
    late = clock.lateness()
    assert sum(c for _, c in late["histogram"]) == late["ticks"]
    assert late["histogram"][-1][0] is None and late["max_ms"] >= 0
    assert clock.ticks_later_than(100) <= late["ticks"]
    with pytest.raises(ValueError):
        clock.ticks_later_than(123)


def test_file_string_and_start_sample_through_the_worker(make_port, wav, tmp_path):
    a, b = noise(4000, 6), noise(2000, 7)
    pa, pb = wav("a.wav", a, 8000), wav("b.wav", b, 8000)
    p = make_port(8000)
    res = p.play(f"file_string://{pa}!{tmp_path}/missing.wav!{pb}")
    assert res.status == "done" and res.samples == 6000 and res.underruns == 0
    assert any("missing.wav" in e for e in res.errors)
    res = p.play(pa, start_sample=3000)
    assert res.status == "done" and res.samples == 1000


def test_truncate_while_recording_behind(make_port, tmp_path):
    """§4.5 truncate reaches the file in order with the frames queued before it."""
    p = make_port(8000)
    path = str(tmp_path / "t.wav")
    t, box = run(p.record, path, 5, on_dtmf=lambda d: "truncate")
    assert wait_until(lambda: p._recorders and p._recorders[0].samples >= 8000, 10)
    p.queue_dtmf("1")
    t.join(10)
    res = box["r"]
    assert res.reason == "break"
    got, rate = sf.read(path, dtype="int16")
    assert len(got) < rate * 0.3


def test_io_worker_grows_past_a_blocked_job_and_stays_small(logs):
    from fsd.media.io_worker import IOWorker

    w = IOWorker(max_threads=3, name="test-io")
    gate, entered = threading.Event(), threading.Event()

    def stuck() -> None:
        entered.set()
        gate.wait()

    w.submit(stuck)
    assert entered.wait(10)
    done: list[int] = []
    for i in range(20):
        w.submit(lambda i=i: done.append(i))
    w.submit(lambda: 1 / 0)  # a job's error is counted and logged; the thread lives on
    assert wait_until(lambda: len(done) == 20 and w.errors == 1, 10)
    assert logs.has("ZeroDivisionError") and w.stats()["threads"] <= 3
    assert not w.drain(0.05)  # the stuck job still runs
    gate.set()
    assert w.drain(10) and w.stats()["busy"] == 0
