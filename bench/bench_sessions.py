"""Session lifecycle figures (issue 11).

1. null-leg churn: originate a null leg (answered by its own thread), hang it up, wait for
   CS_DESTROY — one at a time; median and p99 per call, channels per second.
2. the stress scenario of tests/sessions/test_stress.py (answer, hangups from both sides,
   uuid_kill, bridge, unbridge, transfer and start-versus-hangup racing over N calls with a
   fixed seed, 8 calls at a time): wall time and channels per second until the sessions
   table is empty again.

Runs an in-process switch on a temporary base (ephemeral ports only).
Usage: python bench/bench_sessions.py [calls]"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "sessions"))

from test_stress import DIALPLAN, MODULES, Ledger, _call  # noqa: E402

from fsd.originate import originate  # noqa: E402
from fsd.session import Session  # noqa: E402
from fsd.testing import running_switch  # noqa: E402


def churn(sw, n: int) -> None:
    times = []
    start = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        res = originate(sw, "null/bench")
        s = res.session
        assert s is not None, res.cause
        s.hangup()
        s.destroyed.wait(5)
        times.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - start
    times.sort()
    print(f"null-leg originate+hangup+destroy: median {statistics.median(times):.2f} ms, "
          f"p99 {times[int(len(times) * 0.99) - 1]:.2f} ms over {n} ({n / total:.0f} channels/s)")


def races(sw, calls: int) -> None:
    ledger = Ledger()
    original = Session.create.__func__

    def create(cls, switch, **kwargs):
        s = original(cls, switch, **kwargs)
        ledger.track(s)
        return s

    Session.create = classmethod(create)  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            for f in [pool.submit(_call, sw, ledger, i) for i in range(calls)]:
                f.result()
        with sw.sessions_changed:
            while sw.sessions:
                sw.sessions_changed.wait(30)
        total = time.perf_counter() - start
    finally:
        Session.create = classmethod(original)  # type: ignore[method-assign]
    n = len(ledger.sessions)
    print(f"racing calls: {calls} calls, {n} channels torn down in {total:.2f} s "
          f"({n / total:.0f} channels/s)")


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as base, \
            running_switch(base, MODULES, extra_files={"conf/dialplan/stress.xml": DIALPLAN},
                           switch_settings={"sessions-per-second": "0",
                                            "max-sessions": "100000"}) as sw:
        churn(sw, 300)
        races(sw, calls)


if __name__ == "__main__":
    main()
