"""Issue 19: ``fsd -stop`` ends the daemon within its shutdown timeout even when a script
is stuck in a long C call that no hook can interrupt (a backtracking ``string.find``), run
from an ``api lua`` worker; the log names the script it abandoned."""

from __future__ import annotations

import os
import subprocess
import sys

from fsd.testing import prepare_base, wait_until
from fsd.testing_process import daemon_process

STUCK = """
freeswitch.setGlobalVariable("stuck_started", "yes")
local s = string.rep("a", 30000)
stream:write(tostring(string.find(s, ".-.-.-.-b")))
"""

MODULES = ["mod_commands", "mod_event_socket", "mod_lua"]


def _pid(base) -> int | None:
    for p in (base / "run").glob("*.pid"):
        text = p.read_text().strip()
        if text.isdigit():
            return int(text)
    return None


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_stop_abandons_a_script_stuck_in_a_c_call(tmp_path):
    base = tmp_path / "base"
    prepare_base(base, MODULES, extra_files={"scripts/stuck.lua": STUCK},
                 switch_settings={"shutdown-timeout": "5"})
    with daemon_process(base, MODULES) as d:
        from fsd.esl import ESLconnection

        conn = ESLconnection("127.0.0.1", str(d.port), "ClueCon")
        assert conn.connected()
        conn.send("api lua stuck.lua")  # answered never: the worker is stuck
        assert wait_until(lambda: d.api("global_getvar stuck_started") == "yes", 30)
        assert "stuck.lua" in d.api("lua_list")
        assert d.api("status").startswith("UP ")  # the daemon answers others meanwhile
        pid = _pid(base)
        assert pid is not None
        r = subprocess.run([sys.executable, "-m", "fsd.cli", "-stop", "-base", str(base)],
                           capture_output=True, text=True, timeout=60, env=dict(os.environ))
        assert r.returncode == 0, r.stderr
        assert not _alive(pid)
        log = d.log_text()
        assert "stuck.lua" in log and "abandoned" in log, log[-2000:]
        conn.disconnect()
