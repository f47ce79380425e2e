"""Concurrent loopback calls with playback, through the real switch.

Each call is ``originate loopback/bench/b &park()``: the b-leg answers and runs
``endless_playback`` of a 1 s prompt; its audio goes through the loopback link to the
parked a-leg, whose park loop keeps servicing it.  So every call is two sessions (two
threads, two media ports on the shared 20 ms clock).

For each level the calls are set up, the clock's lateness statistics are reset, and the
clock runs for ``--secs``: printed are tick lateness p50/p99/max, clock work per tick, and
CPU per channel (process CPU time / wall time / channels, in percent of one core).  The
baseline, measured in the same run at the same level, is the same number of calls parked
without playback (b-leg parked too): the ratio is what playback adds.  The answer is the
largest level whose p99 stays under 5 ms.

Run: ``python bench/bench_media_calls.py [--secs 3] [--levels 50,100,200,300,400,500]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from fsd.media.clock import get_clock  # noqa: E402
from fsd.testing import running_switch, wait_until  # noqa: E402

DIALPLAN = """<include><context name="b">
  <extension name="bench"><condition field="destination_number" expression="^bench$">
    <action application="answer"/>
    <action application="endless_playback" data="${bench_file}"/>
  </condition></extension>
  <extension name="idle"><condition field="destination_number" expression="^idle$">
    <action application="answer"/>
    <action application="park"/>
  </condition></extension>
</context></include>
"""


def cpu() -> float:
    t = os.times()
    return t.user + t.system


def measure(sw, ext: str, n: int, prompt: str, secs: float) -> dict:
    for _ in range(n):
        out = sw.api_execute(f"originate {{bench_file={prompt}}}loopback/{ext}/b &park()")
        if not out.startswith("+OK"):
            raise SystemExit(f"originate failed at call {_}: {out.strip()}")
    wait_until(lambda: len(sw.sessions) >= 2 * n, 30)
    time.sleep(0.5)
    clock = get_clock(20)
    clock.reset_stats()
    c0, w0 = cpu(), time.perf_counter()
    time.sleep(secs)
    c1, w1 = cpu(), time.perf_counter()
    st = clock.stats()
    sw.hangup_all("NORMAL_CLEARING", wait=30)
    wait_until(lambda: not sw.sessions, 30)
    time.sleep(0.3)
    channels = 2 * n
    st["cpu_per_channel_pct"] = 100.0 * (c1 - c0) / (w1 - w0) / channels
    st["channels"] = channels
    return st


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--secs", type=float, default=3.0)
    ap.add_argument("--levels", default="50,100,200,300,400,500")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    base = tempfile.mkdtemp(prefix="fsd-bench-media-")
    prompt = os.path.join(base, "prompt.wav")
    t = np.arange(8000) / 8000
    sf.write(prompt, (6000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16), 8000,
             subtype="PCM_16")
    settings = {"max-sessions": "10000", "sessions-per-second": "100000", "loglevel": "err"}
    mods = ["mod_commands", "mod_dptools", "mod_loopback", "mod_dialplan_xml"]
    print(f"{'calls':>6} {'chans':>6} | {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'work ms':>8} {'cpu/ch %':>9} | idle p99 {'idle work':>9} {'work x':>7}")
    best = 0
    with running_switch(base, mods, extra_files={"conf/dialplan/b.xml": DIALPLAN},
                        switch_settings=settings) as sw:
        for n in levels:
            idle = measure(sw, "idle", n, prompt, args.secs)
            play = measure(sw, "bench", n, prompt, args.secs)
            ratio = play["work_mean_ms"] / idle["work_mean_ms"] if idle["work_mean_ms"] else 0
            ok = play["late_p99_ms"] < 5.0
            if ok:
                best = n
            print(f"{n:>6} {play['channels']:>6} | {play['late_p50_ms']:>7.2f} "
                  f"{play['late_p99_ms']:>7.2f} {play['late_max_ms']:>7.2f} "
                  f"{play['work_mean_ms']:>8.2f} {play['cpu_per_channel_pct']:>9.3f} | "
                  f"{idle['late_p99_ms']:>8.2f} {idle['work_mean_ms']:>9.2f} {ratio:>7.2f}"
                  f"{'' if ok else '  (p99 over 5 ms)'}")
            if not ok:
                break
    print(f"\nmost concurrent calls with playback and tick p99 < 5 ms: {best} "
          f"({2 * best} channels) on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
