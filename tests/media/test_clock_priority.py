"""The media clock's scheduling priority: FreeSWITCH's -rp/-hp (default), -np, -lp.

Realtime is asked for the clock threads only (SCHED_RR), and where the system refuses it
the clock says so once and runs at normal priority.  Checked on a real daemon by reading
each thread's scheduling policy from /proc, and in-process for the refused case.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from pathlib import Path

import pytest

from fsd.media import clock as clock_mod
from fsd.testing import wait_until
from fsd.testing_process import daemon_process

MODULES = ["mod_commands", "mod_event_socket", "mod_dptools", "mod_loopback", "mod_say_en"]
SCHED_RR = 2  # /proc/<pid>/task/<tid>/stat field 41


def _policies(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            rest = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        out.append(int(rest[41 - 3]))  # fields after "(comm)" start at field 3
    return out


def _realtime_permitted() -> bool:
    got = []

    def probe() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(1))
            got.append(True)
        except OSError:
            got.append(False)

    t = threading.Thread(target=probe)
    t.start()
    t.join()
    return got[0]


def _with_a_call(d) -> str:
    out = d.api("originate null/prio &park()")
    assert out.startswith("+OK"), out
    assert wait_until(lambda: "port(s)" in d.api("status"), 10)
    return out.split()[1]


def _daemon_pid(d) -> int:
    return int((d.base / "run" / "fsd.pid").read_text())


def test_the_daemon_runs_its_clock_at_realtime_priority_by_default(tmp_path):
    with daemon_process(tmp_path / "base", MODULES) as d:
        uuid = _with_a_call(d)
        status = d.api("status")
        policies = _policies(_daemon_pid(d))
        if _realtime_permitted():
            assert re.search(r"media clock 20 ms: .* priority realtime", status), status
            # the clock thread, and only it: scripts and the loop stay at normal priority
            assert policies.count(SCHED_RR) == 1, policies
        else:  # a container without CAP_SYS_NICE: said once, normal priority
            assert "priority normal" in status
            assert "cannot run at realtime priority" in d.log_text()
            assert SCHED_RR not in policies
        d.api(f"uuid_kill {uuid}")


def test_np_keeps_the_clock_at_normal_priority(tmp_path):
    with daemon_process(tmp_path / "base", MODULES,
                        cmd=[sys.executable, "-m", "fsd.cli", "-np"]) as d:
        uuid = _with_a_call(d)
        assert re.search(r"media clock 20 ms: .* priority normal", d.api("status"))
        assert SCHED_RR not in _policies(_daemon_pid(d))
        d.api(f"uuid_kill {uuid}")


def test_a_refused_priority_is_logged_once_and_the_clock_runs(monkeypatch):
    from fsd import log as fsd_log

    def refuse(*_a):
        raise PermissionError(1, "Operation not permitted")

    lines = []
    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    monkeypatch.setattr(clock_mod, "_priority_warned", False)
    monkeypatch.setattr(clock_mod, "log", lambda level, msg, **kw: lines.append((level, msg)))
    clock_mod.set_priority("realtime")
    clocks = [clock_mod.MediaClock(20, name=f"test-clock-{i}") for i in range(2)]
    try:
        for c in clocks:
            c.start()
        assert wait_until(lambda: all(c.ticks > 2 for c in clocks), 5)
        assert [c.priority for c in clocks] == ["normal", "normal"]
        warned = [m for lvl, m in lines if lvl == fsd_log.WARNING]
        assert len(warned) == 1 and "cannot run at realtime priority" in warned[0]
    finally:
        clock_mod.set_priority("normal")
        for c in clocks:
            c.stop()


def test_unknown_priority_is_refused():
    with pytest.raises(ValueError, match="not one of"):
        clock_mod.set_priority("turbo")
