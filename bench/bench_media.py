"""Media engine figures on this machine.

1. Clock capacity: N ports, each with a session thread blocked in ``play()`` on a looping
   prompt and a sink that encodes PCMU (what an RTP endpoint would do).  For each N the
   clock runs a few seconds and reports tick lateness p50/p99/max; the answer is the
   largest N whose p99 stays under 5 ms.  CPU per channel is process CPU time / wall time
   / N, in percent of one core.
2. PCMU encode throughput: our numpy table against the stdlib ``audioop.lin2ulaw`` (the
   raw library call) in the same run, per 20 ms frame and in bulk.

Run: ``python bench/bench_media.py [--secs 3] [--levels 100,250,500,750,1000]``
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from fsd.media.clock import MediaClock  # noqa: E402
from fsd.media.codecs import ulaw_encode  # noqa: E402
from fsd.media.port import MediaPort  # noqa: E402
from fsd.media.sources import BufferSource  # noqa: E402
from fsd.media.tones import parse_tone_spec  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import audioop  # stdlib until 3.12; the audioop-lts package after
    except ImportError:  # pragma: no cover
        audioop = None


def clock_level(n: int, secs: float) -> dict:
    clock = MediaClock(20, name=f"bench-{n}")
    prompt, _ = parse_tone_spec("%(400,200,440,480)", 8000)
    sent = [0]

    def sink(frame: np.ndarray) -> None:
        ulaw_encode(frame)
        sent[0] += 1

    ports = [MediaPort(8000, clock=clock, name=f"p{i}", sink=sink) for i in range(n)]
    threads = []
    for p in ports:
        t = threading.Thread(
            target=p.play, args=(BufferSource(prompt, "bench", loops=-1),), daemon=True
        )
        t.start()
        threads.append(t)
    time.sleep(0.7)  # warm-up: threads started, playbacks active
    clock.reset_stats()
    sent[0] = 0
    c0, w0 = time.process_time(), time.perf_counter()
    time.sleep(secs)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    st = clock.stats()
    for p in ports:
        p.close()
    for t in threads:
        t.join(2)
    clock.stop()
    st["cpu_pct_per_channel"] = 100.0 * cpu / wall / n
    st["frames_per_sec"] = sent[0] / wall
    return st


def codec_bench() -> None:
    rng = np.random.default_rng(1)
    frame = rng.integers(-20000, 20000, 160, dtype=np.int16)
    fb = frame.tobytes()
    reps = 100_000
    t0 = time.perf_counter()
    for _ in range(reps):
        ulaw_encode(frame)
    ours = reps / (time.perf_counter() - t0)
    print(f"PCMU encode, 160-sample frames: fsd numpy table {ours:,.0f} frames/s")
    if audioop is not None:
        t0 = time.perf_counter()
        for _ in range(reps):
            audioop.lin2ulaw(fb, 2)
        raw = reps / (time.perf_counter() - t0)
        print(
            f"                               audioop.lin2ulaw {raw:,.0f} frames/s"
            f"  (fsd/audioop = {ours / raw:.2f})"
        )
    big = rng.integers(-32768, 32767, 8_000_000, dtype=np.int16)
    t0 = time.perf_counter()
    ulaw_encode(big)
    ours_bulk = len(big) / (time.perf_counter() - t0)
    line = f"PCMU encode, bulk 8M samples: fsd {ours_bulk / 1e6:,.1f} Msamples/s"
    if audioop is not None:
        bb = big.tobytes()
        t0 = time.perf_counter()
        audioop.lin2ulaw(bb, 2)
        raw_bulk = len(big) / (time.perf_counter() - t0)
        line += f", audioop {raw_bulk / 1e6:,.1f} Msamples/s (ratio {ours_bulk / raw_bulk:.2f})"
    print(line)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--secs", type=float, default=3.0)
    ap.add_argument("--levels", default="100,250,500,750,1000")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    codec_bench()
    print()
    print("ports  late_p50  late_p99  late_max  work/tick  cpu%/chan  frames/s  overruns")
    best = 0
    for n in [int(x) for x in args.levels.split(",")]:
        st = clock_level(n, args.secs)
        ok = st["late_p99_ms"] < 5.0 and st["overruns"] == 0
        print(
            f"{n:5d}  {st['late_p50_ms']:7.2f}ms {st['late_p99_ms']:7.2f}ms "
            f"{st['late_max_ms']:7.2f}ms {st['work_mean_ms']:8.2f}ms "
            f"{st['cpu_pct_per_channel']:8.3f}  {st['frames_per_sec']:8.0f}  {st['overruns']:6d}"
            f"  {'ok' if ok else 'OVER'}"
        )
        if ok:
            best = n
        else:
            break
    print(f"\nmost concurrent playbacks with tick lateness p99 < 5 ms: {best}")


if __name__ == "__main__":
    main()
