"""Media clock with file I/O: N ports each playing a WAV file and recording both directions.

bench_media.py plays tones rendered in memory; this one exercises the file path the media
I/O worker serves (open, read ahead, write behind).  For each N: every port has a session
thread playing a 30 s 8 kHz WAV (reopened when it ends) and a ``record_session`` to its own
file; after a warm-up the clock's lateness is measured for ``--secs``.  With ``--stall``
one extra port plays from a FIFO nobody writes to (its open blocks for the whole run), to
show a stalled file does not move the others' figures.

Run: ``python bench/bench_media_io.py [--secs 3] [--levels 50,100,200,300] [--stall]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time

import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from fsd.media.clock import MediaClock  # noqa: E402
from fsd.media.files import AudioReader, register_format  # noqa: E402
from fsd.media.port import MediaPort  # noqa: E402


class _FifoReader(AudioReader):
    def __init__(self, url: str, rate: int) -> None:
        self.path, self.rate = url.split("://", 1)[1], rate
        self._fd = os.open(self.path, os.O_RDONLY)  # blocks: nobody opens the other end

    def read(self, n: int) -> np.ndarray:
        return np.frombuffer(os.read(self._fd, n * 2), dtype="<i2").astype(np.int16)

    def tell(self) -> int:
        return 0

    def close(self) -> None:
        os.close(self._fd)


def level(n: int, secs: float, prompt: str, stall: bool, base: str) -> dict:
    clock = MediaClock(20, name=f"bench-io-{n}")
    d = tempfile.mkdtemp(dir=base)
    ports = [MediaPort(8000, clock=clock, name=f"p{i}") for i in range(n)]
    stop = threading.Event()

    def loop(p: MediaPort) -> None:
        while not stop.is_set() and not p.closed:
            p.play(prompt)

    for i, p in enumerate(ports):
        p.record_session(os.path.join(d, f"r{i}.wav"))
    threads = [threading.Thread(target=loop, args=(p,), daemon=True) for p in ports]
    if stall:
        fifo = os.path.join(d, "stall.fifo")
        os.mkfifo(fifo)
        sp = MediaPort(8000, clock=clock, name="stalled")
        ports.append(sp)
        threads.append(threading.Thread(target=sp.play, args=(f"benchfifo://{fifo}",),
                                        daemon=True))
    for t in threads:
        t.start()
    time.sleep(1.0)
    clock.reset_stats()
    c0, w0 = time.process_time(), time.perf_counter()
    time.sleep(secs)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    st = clock.stats()
    stop.set()
    for p in ports:
        p.close()
    if stall:  # let the blocked open return so its thread can finish
        fd = os.open(fifo, os.O_WRONLY)
        os.close(fd)
    for t in threads:
        t.join(5)
    clock.stop()
    shutil.rmtree(d, ignore_errors=True)
    st["cpu_pct_per_channel"] = 100.0 * cpu / wall / n
    return st


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--secs", type=float, default=3.0)
    ap.add_argument("--levels", default="50,100,200,300")
    ap.add_argument("--stall", action="store_true")
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="fsd-bench-io-")
    prompt = os.path.join(base, "prompt.wav")
    t = np.arange(30 * 8000) / 8000
    sf.write(prompt, (6000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16), 8000,
             subtype="PCM_16")
    register_format("benchfifo", lambda url, rate: _FifoReader(url, rate))
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
          f"{', one extra port stalled on a FIFO' if args.stall else ''}")
    print("ports  late_p50  late_p99  late_max  work/tick  cpu%/chan  overruns")
    try:
        for n in [int(x) for x in args.levels.split(",")]:
            st = level(n, args.secs, prompt, args.stall, base)
            print(f"{n:5d}  {st['late_p50_ms']:7.2f}ms {st['late_p99_ms']:7.2f}ms "
                  f"{st['late_max_ms']:7.2f}ms {st['work_mean_ms']:8.2f}ms "
                  f"{st['cpu_pct_per_channel']:8.3f}  {st['overruns']:6d}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
