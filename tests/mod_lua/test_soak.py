"""Issue 19's leak check, short: 3 rounds of 50 concurrent IVR calls (Lua getDigits on
loopback calls) with a real ESL consumer attached (bench/bench_soak.py, whose full run is
10 rounds of 200).  Threads and open fds show no growth from round to round, every
call's event reaches the consumer with the digits sent.  (RSS figures go to the bench.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "bench" / "bench_soak.py"
_spec = importlib.util.spec_from_file_location("bench_soak", _PATH)
bench_soak = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench_soak  # dataclasses look their module up there
_spec.loader.exec_module(bench_soak)


def test_three_rounds_of_fifty_ivr_calls_leak_no_threads_or_fds(tmp_path):
    lines: list[str] = []
    res = bench_soak.run_soak(3, 50, base=str(tmp_path), report=lines.append)
    assert res.failed_originates == 0, lines
    assert res.calls == 150
    assert res.events_received == 150 and res.digits_ok == 150, lines
    first, last = res.rounds[0], res.rounds[-1]
    # no trend: the last round holds no more threads or fds than the first
    assert last.threads <= first.threads, lines
    assert last.fds <= first.fds, lines
    assert all(r.threads <= first.threads + 2 and r.fds <= first.fds + 2 for r in res.rounds), lines
