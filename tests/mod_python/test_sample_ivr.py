"""scripts/ivr.py through the default dialplan (extension 5001), as the Lua twin's test."""

from __future__ import annotations

import threading

from fsd.testing import running_switch, wait_until

MODULES = ["mod_commands", "mod_dptools", "mod_loopback", "mod_dialplan_xml", "mod_python",
           "mod_db"]


def test_ivr_py_on_extension_5001(tmp_path):
    with running_switch(tmp_path, MODULES) as sw:
        got = []
        done = threading.Event()

        def on_event(ev):
            got.append(ev)
            done.set()

        sw.events.bind("CUSTOM", "ivr::choice", on_event)
        out = sw.api_execute("originate loopback/5001/default &park()")
        assert out.startswith("+OK"), out
        a = out.split()[1]
        b = sw.api_execute(f"uuid_getvar {a} other_loopback_leg_uuid")
        assert wait_until(lambda: b in sw.sessions and sw.sessions[b].answered())
        sw.api_execute(f"uuid_recv_dtmf {b} 1234#")
        assert done.wait(15)
        assert got[0].get_header("IVR-Digits") == "1234"
        assert got[0].get_header("IVR-Choice") == "operator"
        assert got[0].get_header("Unique-ID") == b
        assert wait_until(lambda: not sw.sessions, 10)
