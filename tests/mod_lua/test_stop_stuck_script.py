"""Issue 19: ``fsd -stop`` ends the daemon within its shutdown timeout.  A script in a
backtracking ``string.find`` on a huge string (run from an ``api lua`` worker) is stopped
by the kill like any loop (the sandbox runs such calls in the pure-Lua matcher); a script
blocked in a C call no hook can interrupt (luasocket's ``socket.sleep``) is named in the
log and abandoned."""

from __future__ import annotations

import os
import subprocess
import sys

from fsd.esl import ESLconnection
from fsd.testing import prepare_base, wait_until
from fsd.testing_process import daemon_process

BACKTRACK = """
freeswitch.setGlobalVariable("stuck_started", "yes")
local s = string.rep("a", 200000)
stream:write(tostring(string.find(s, ".-.-.-.-b")))
"""

SLEEP_IN_C = """
local socket = require("socket")
freeswitch.setGlobalVariable("stuck_started", "yes")
socket.sleep(600)
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


def _stop_while_running(tmp_path, script: str) -> str:
    """Start `api lua stuck.lua` over ESL, stop the daemon meanwhile; the log."""
    base = tmp_path / "base"
    prepare_base(base, MODULES, extra_files={"scripts/stuck.lua": script},
                 switch_settings={"shutdown-timeout": "5"})
    with daemon_process(base, MODULES) as d:
        conn = ESLconnection("127.0.0.1", str(d.port), "ClueCon")
        assert conn.connected()
        conn.send("api lua stuck.lua")  # answered when the script ends
        assert wait_until(lambda: d.api("global_getvar stuck_started") == "yes", 30)
        assert "stuck.lua" in d.api("lua_list")
        assert d.api("status").startswith("UP ")  # the daemon answers others meanwhile
        pid = _pid(base)
        assert pid is not None
        r = subprocess.run([sys.executable, "-m", "fsd.cli", "-stop", "-base", str(base)],
                           capture_output=True, text=True, timeout=60, env=dict(os.environ))
        assert r.returncode == 0, r.stderr
        assert not _alive(pid)
        conn.disconnect()
        return d.log_text()


def test_stop_ends_a_backtracking_find_without_abandoning_it(tmp_path):
    log = _stop_while_running(tmp_path, BACKTRACK)
    assert "stuck.lua stopped: module unloading" in log, log[-2000:]
    assert "abandoned" not in log, log[-2000:]


def test_stop_abandons_a_script_stuck_in_a_c_call(tmp_path):
    log = _stop_while_running(tmp_path, SLEEP_IN_C)
    assert "stuck.lua" in log and "abandoned" in log, log[-2000:]
