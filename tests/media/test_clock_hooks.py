"""MediaClock hooks: before the ports, after them, and as the clock thread exits; the
deadline a tick belongs to; waking a little after the deadline (wake_after)."""

from __future__ import annotations

import threading
import time

import pytest

from fsd.media.clock import MediaClock
from fsd.testing import wait_until


def test_hooks_run_in_order_in_the_clock_thread_and_stop_hooks_at_exit():
    clock = MediaClock(20, name="test-hooks")
    seen: list[tuple[str, str, float]] = []

    def hook(kind: str):
        return lambda: seen.append((kind, threading.current_thread().name, clock.deadline))

    clock.add_tick_hook(hook("end"), when="end")
    clock.add_tick_hook(hook("start"))
    clock.add_tick_hook(hook("stop"), when="stop")
    try:
        assert wait_until(lambda: len(seen) >= 6, timeout=2)
    finally:
        clock.stop()
    kinds = [k for k, _t, _d in seen]
    assert kinds[:4] == ["start", "end", "start", "end"]
    assert kinds[-1] == "stop" and kinds.count("stop") == 1
    assert {t for _k, t, _d in seen} == {"test-hooks"}
    # start and end of one tick see the same deadline; the next tick's is one ptime on
    deadlines = [d for k, _t, d in seen if k != "stop"]
    assert deadlines[0] == deadlines[1]
    assert deadlines[2] - deadlines[0] == pytest.approx(0.02, abs=1e-9)


def test_a_removed_hook_no_longer_runs_and_a_bad_kind_is_refused():
    clock = MediaClock(20, name="test-hooks-remove")
    calls: list[int] = []

    def hook() -> None:
        calls.append(1)

    clock.add_tick_hook(hook, when="end")
    try:
        assert wait_until(lambda: calls, timeout=2)
        clock.remove_tick_hook(hook)
        time.sleep(0.05)
        n = len(calls)
        time.sleep(0.1)
        assert len(calls) == n
        with pytest.raises(ValueError, match="start, end or stop"):
            clock.add_tick_hook(hook, when="later")
    finally:
        clock.stop()


def test_wake_after_moves_the_tick_start_not_the_deadlines():
    clock = MediaClock(20, name="test-wake-after")
    clock.wake_after = 0.004
    starts: list[tuple[float, float]] = []
    clock.add_tick_hook(lambda: starts.append((time.perf_counter(), clock.deadline)))
    try:
        assert wait_until(lambda: len(starts) >= 10, timeout=2)
    finally:
        clock.stop()
    late = sorted(t - d for t, d in starts[2:])
    assert late[len(late) // 2] >= 0.004  # woke after deadline + wake_after
    deadlines = [d for _t, d in starts]
    assert all(b - a == pytest.approx(0.02, abs=1e-9) for a, b in zip(deadlines, deadlines[1:],
                                                                       strict=False))
