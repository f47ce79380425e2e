"""Script escapes from issue 19, run through the event socket against a running daemon:
each is stopped by lua_kill (or never takes hold), and the daemon answers throughout."""

from __future__ import annotations

import time

import pytest

UPVALUE_ESCAPE = """
-- look for the real debug.sethook among the upvalues of coroutine.create
local real
if debug.getupvalue then
  for i = 1, 20 do
    local name, value = debug.getupvalue(coroutine.create, i)
    if name == nil then break end
    if name == "debug_sethook" then real = value end
  end
end
if real then real() end  -- would remove the kill hook
freeswitch.setGlobalVariable("escape_ready", real and "escaped" or "contained")
while true do end
"""

REGISTRY_ESCAPE = """
local ok = pcall(function() return debug.getregistry() end)
freeswitch.setGlobalVariable("registry_ready", ok and "open" or "closed")
while true do end
"""

GC_FREEZE = """
setmetatable({}, {__gc = function() while true do end end})
stream:write("gc script done")
"""

GC_KEEPS_METATABLE = """
local mt = {__gc = function() end, __index = {answer = 42}}
local t = setmetatable({}, mt)
stream:write(tostring(getmetatable(t) == mt and t.answer == 42 and rawget(mt, "__gc") ~= nil))
"""


@pytest.fixture(scope="module")
def lua_daemon(esl, tmp_path_factory):
    base = tmp_path_factory.mktemp("esl-escapes")
    files = {"scripts/upvalue.lua": UPVALUE_ESCAPE, "scripts/registry.lua": REGISTRY_ESCAPE,
             "scripts/gcfreeze.lua": GC_FREEZE}
    with esl.esl_daemon(base, modules=["mod_commands", "mod_event_socket", "mod_lua"],
                        extra_files=files) as (sw, port):
        yield sw, port


def api(c, command: str) -> bytes:
    c.send(f"api {command}\n\n")
    headers, body, _ = c.frame()
    assert headers["Content-Type"] == "api/response"
    return body


def wait_for(pred, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    return pred()


def kill_running(c) -> None:
    listing = wait_for(lambda: (body := api(c, "lua_list")) and b".lua" in body and body)
    assert listing, "the script never showed up in lua_list"
    assert api(c, "lua_kill all").startswith(b"+OK")
    assert wait_for(lambda: b".lua" not in api(c, "lua_list")), "lua_kill did not stop it"


@pytest.mark.parametrize("script,var,contained", [
    ("upvalue.lua", "escape_ready", b"contained"),
    ("registry.lua", "registry_ready", b"closed"),
])
def test_debug_escapes_are_closed_and_lua_kill_stops_the_loop(esl, lua_daemon, script, var, contained):
    sw, port = lua_daemon
    with esl.RawClient(port) as c:
        c.auth()
        assert api(c, f"luarun {script}").startswith(b"+OK")
        assert wait_for(lambda: api(c, f"global_getvar {var}").strip() == contained)
        assert api(c, "status").startswith(b"UP ")
        kill_running(c)
        assert api(c, "status").startswith(b"UP ")


def test_endless_gc_metamethod_cannot_freeze_the_daemon(esl, lua_daemon):
    sw, port = lua_daemon
    with esl.RawClient(port) as c:
        c.auth()
        c.sock.settimeout(30)
        assert api(c, "lua gcfreeze.lua") == b"gc script done"
        assert api(c, "status").startswith(b"UP ")
        assert b".lua" not in api(c, "lua_list")


def test_metatables_with_gc_still_work_as_metatables(esl, lua_daemon):
    sw, port = lua_daemon
    with esl.RawClient(port) as c:
        c.auth()
        code = GC_KEEPS_METATABLE.replace("\n", " ")
        assert api(c, f"lua ~{code}") == b"true"
