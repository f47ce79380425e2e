"""The per-state memory cap set in lua.conf.xml (`max-memory`, an fsd addition), through the
running daemon: a script allocating without bound is stopped and logged; the daemon, other
scripts and the channel carry on."""

from __future__ import annotations

from fsd.log import ERR
from fsd.testing import wait_until


def test_memory_cap_from_lua_conf_stops_only_that_script(daemon, call, logs):
    entry = daemon.sw.modules.loaded["mod_lua"].state["entry"]
    assert entry.config.max_memory == 24 * 1024 * 1024  # read from lua.conf.xml
    out = daemon.sw.api_execute("lua", "~local t = {} local i = 0 while true do i = i + 1 "
                                "t[i] = string.rep('x', 1024) .. i end")
    assert out == "-ERR Cannot execute script\n"
    assert any(r.level <= ERR and "memory" in r.text for r in logs)
    # below the cap everything works, in the same daemon
    assert daemon.sw.api_execute("lua", "~local t = {} for i = 1, 1000 do t[i] = string.rep('y', 1024) end "
                                 "stream:write(#t)") == "1000"
    # on a call: the script is stopped, the channel stays up and the dialplan goes on
    name, a, b = call('session:answer() R("start", 1) local t = {} local i = 0 '
                      'while true do i = i + 1 t[i] = string.rep("z", 4096) .. i end')
    assert daemon.result(name, "start") == "1"
    assert wait_until(lambda: daemon.sw.api_execute(f"uuid_getvar {b} after_lua") == "1", 10)
    assert daemon.session(b).up()
    assert daemon.sw.api_execute("status").startswith("UP")
