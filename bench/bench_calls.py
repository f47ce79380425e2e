"""Loopback call figures (issue 3).

1. originate-to-answer latency: `originate loopback/answer_park/bench &park()` answered by the
   dialplan (median and p99 over N calls, one at a time).
2. concurrent parked loopback calls: how many the daemon holds, with threads and RSS memory
   per call (a loopback call is two channels).  Target: 1 000 calls, < 200 KB per call.

Runs an in-process switch on a temporary base (ephemeral ports only).
Baseline in the same run: the cost of one `status` API call (the API path alone)."""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time

import psutil

from fsd.testing import running_switch, wait_until

DIALPLAN = """<include><context name="bench">
  <extension name="answer_park"><condition field="destination_number" expression="^answer_park$">
    <action application="answer"/><action application="park"/>
  </condition></extension>
</context></include>"""
MODULES = ["mod_commands", "mod_dptools", "mod_loopback", "mod_dialplan_xml"]


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p))]


def main(latency_calls: int = 200, concurrent: int = 1000) -> None:
    with tempfile.TemporaryDirectory() as d, running_switch(
        d, MODULES, extra_files={"conf/dialplan/bench.xml": DIALPLAN},
        switch_settings={"max-sessions": "100000", "sessions-per-second": "100000",
                         "loglevel": "err"},
    ) as sw:
        api = []
        for _ in range(200):
            t0 = time.perf_counter()
            sw.api_execute("status")
            api.append(time.perf_counter() - t0)
        lat = []
        for _ in range(latency_calls):
            t0 = time.perf_counter()
            out = sw.api_execute("originate loopback/answer_park/bench &park()")
            lat.append(time.perf_counter() - t0)
            assert out.startswith("+OK"), out
            sw.api_execute(f"uuid_kill {out.split()[1]}")
        wait_until(lambda: not sw.sessions, 10)
        print(f"API baseline (status): median {statistics.median(api) * 1e3:.3f} ms")
        print(f"originate-to-answer, loopback: median {statistics.median(lat) * 1e3:.2f} ms, "
              f"p99 {pct(lat, 0.99) * 1e3:.2f} ms over {latency_calls} calls")

        proc = psutil.Process()
        time.sleep(0.5)
        rss0, threads0 = proc.memory_info().rss, threading.active_count()
        t0 = time.perf_counter()
        made = 0
        for _ in range(concurrent):
            out = sw.api_execute("originate loopback/answer_park/bench &park()")
            if not out.startswith("+OK"):
                print(f"originate failed after {made} calls: {out.strip()}")
                break
            made += 1
        setup = time.perf_counter() - t0
        wait_until(lambda: sum(1 for s in list(sw.sessions.values()) if s.running_state == "CS_PARK") >= 2 * made, 30)
        time.sleep(1.0)
        rss1, threads1 = proc.memory_info().rss, threading.active_count()
        per_call = (rss1 - rss0) / max(1, made)
        print(f"concurrent parked loopback calls held: {made} ({len(sw.sessions)} channels), "
              f"set up in {setup:.1f} s ({made / setup:.0f} calls/s)")
        print(f"threads: {threads1 - threads0} new ({(threads1 - threads0) / max(1, made):.1f} per call)")
        print(f"memory: {per_call / 1024:.0f} KB RSS per call (target < 200 KB)")
        t0 = time.perf_counter()
        sw.api_execute("hupall")
        wait_until(lambda: not sw.sessions, 60)
        print(f"hupall of {made} calls: {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    a = sys.argv[1:]
    main(int(a[0]) if a else 200, int(a[1]) if len(a) > 1 else 1000)
