"""scripts/ivr.lua through the default dialplan (extension 5000)."""

from __future__ import annotations

import threading

from fsd.testing import running_switch, wait_until

DAEMON_MODULES = ["mod_commands", "mod_dptools", "mod_loopback", "mod_dialplan_xml", "mod_lua",
                  "mod_db", "mod_email"]


def test_ivr_lua_on_extension_5000(tmp_path):
    with running_switch(tmp_path, DAEMON_MODULES) as sw:
        got = []
        done = threading.Event()

        def on_event(ev):
            got.append(ev)
            done.set()

        sw.events.bind("CUSTOM", "ivr::choice", on_event)
        out = sw.api_execute("originate loopback/5000/default &park()")
        assert out.startswith("+OK"), out
        a = out.split()[1]
        b = sw.api_execute(f"uuid_getvar {a} other_loopback_leg_uuid")
        assert wait_until(lambda: b in sw.sessions and sw.sessions[b].answered())
        sw.api_execute(f"uuid_recv_dtmf {b} 2#")
        assert done.wait(15)
        assert got[0].get_header("IVR-Digits") == "2"
        assert got[0].get_header("IVR-Choice") == "support"
        assert wait_until(lambda: not sw.sessions, 10)
