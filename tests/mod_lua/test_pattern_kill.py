"""Issue 19: a script in a backtracking string.find/gsub on a huge subject (or a huge
table.move) can be stopped.
Against a running daemon: lua_kill and the cpu-limit stop it while ESL keeps answering, and
the string functions still take the C path for ordinary inputs (told apart by behaviour: a
gsub callback can yield only when the pure-Lua matcher runs it)."""

from __future__ import annotations

import pytest

from fsd.esl import ESLconnection
from fsd.testing import wait_until
from fsd.testing_process import daemon_process

MODULES = ["mod_commands", "mod_event_socket", "mod_lua"]

FIND = """
freeswitch.setGlobalVariable("find_started", argv[1] or "yes")
local r = string.find(string.rep("a", 200000), ".-.-.-.-b")
freeswitch.setGlobalVariable("find_result", tostring(r))
"""

GSUB = """
freeswitch.setGlobalVariable("gsub_started", "yes")
-- every start position scans to the end for a ")" that never comes: 5e9 steps
local r = string.rep("(", 100000):gsub("%b()", "x")
freeswitch.setGlobalVariable("gsub_result", tostring(r))
"""

# which path a gsub took: the C function cannot let its callback yield
PATH_PROBE = ("local co = coroutine.create(function() return string.gsub(S, P, function(x) "
              "coroutine.yield('lua') return x end) end) "
              "local ok, v = coroutine.resume(co) "
              "stream:write(ok and v or (v:find('C%-call boundary') and 'C' or v))")

MOVE = """
freeswitch.setGlobalVariable("move_started", "yes")
table.move({}, 1, 1 << 40, 2)  -- 2^40 element copies in one C call, without the pieces
freeswitch.setGlobalVariable("move_result", "returned")
"""

LUA_CONF_CPU = """<configuration name="lua.conf" description="LUA Configuration">
  <settings>
    <param name="max-memory" value="256m"/>
    <param name="cpu-limit" value="1"/>
  </settings>
</configuration>
"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    base = tmp_path_factory.mktemp("lua-patterns")
    with daemon_process(base, MODULES, extra_files={"scripts/find.lua": FIND,
                                                    "scripts/gsub.lua": GSUB,
                                                    "scripts/move.lua": MOVE}) as d:
        yield d


def _gone(d, name: str) -> bool:
    return name not in d.api("lua_list")


@pytest.mark.parametrize("how", ["luarun", "api lua"])
def test_lua_kill_stops_a_backtracking_find(daemon, how):
    d = daemon
    d.api("global_setvar find_started=no")
    d.api("global_setvar find_result=pending")
    conn = None
    if how == "luarun":
        assert d.api("luarun find.lua luarun").startswith("+OK")
    else:  # an ESL worker thread runs it; its reply comes when the script ends
        conn = ESLconnection("127.0.0.1", str(d.port), "ClueCon")
        assert conn.connected()
        conn.send("api lua find.lua api")
    assert wait_until(lambda: "find.lua" in d.api("lua_list"), 30)
    assert wait_until(lambda: d.api("global_getvar find_started") not in ("", "no"), 30)
    assert d.api("status").startswith("UP ")  # answers while the script matches
    assert d.api("lua_kill all").startswith("+OK")
    assert wait_until(lambda: _gone(d, "find.lua"), 30), "lua_kill did not stop the find"
    assert d.api("global_getvar find_result") == "pending"  # the find never returned
    assert "find.lua stopped: killed by lua_kill" in d.log_text()
    if conn is not None:
        conn.disconnect()


@pytest.mark.parametrize("name", ["gsub", "move"])
def test_lua_kill_stops_a_huge_balanced_gsub_and_table_move(daemon, name):
    d = daemon
    d.api(f"global_setvar {name}_result=pending")
    assert d.api(f"luarun {name}.lua").startswith("+OK")
    assert wait_until(lambda: d.api(f"global_getvar {name}_started") == "yes", 30)
    assert d.api("status").startswith("UP ")
    assert d.api("lua_kill all").startswith("+OK")
    assert wait_until(lambda: _gone(d, f"{name}.lua"), 30)
    assert d.api(f"global_getvar {name}_result") == "pending"


def test_cpu_limit_stops_a_backtracking_find(tmp_path):
    files = {"scripts/find.lua": FIND, "conf/autoload/lua.conf.xml": LUA_CONF_CPU}
    with daemon_process(tmp_path / "base", MODULES, extra_files=files) as d:
        d.api("global_setvar find_result=pending")
        assert d.api("luarun find.lua").startswith("+OK")
        assert wait_until(lambda: d.api("global_getvar find_started") == "yes", 30)
        assert d.api("status").startswith("UP ")
        assert wait_until(lambda: _gone(d, "find.lua"), 60), "the cpu-limit did not stop it"
        assert d.api("global_getvar find_result") == "pending"
        assert "find.lua stopped: CPU limit of 1 s exceeded" in d.log_text()


@pytest.mark.parametrize("subject,pattern,path", [
    ("'12345'", "'^(%d+)$'", "C"),                      # the usual checks stay in C
    ("'key=value; other=thing'", "'(%w+)=(%w+)'", "C"),
    ("string.rep('word ', 2000)", "'%s+'", "C"),         # 10 000 bytes, runs of one space
    # could backtrack for minutes in C (without the final b)
    ("string.rep('a', 3000) .. 'b'", "'.-.-.-b'", "lua"),
    ("string.rep('a', 300000)", "'(a+)'", "lua"),
])
def test_ordinary_calls_take_the_c_path(daemon, subject, pattern, path):
    code = f"local S, P = {subject}, {pattern} " + PATH_PROBE
    assert daemon.api(f"lua ~{code}") == path


def test_results_are_the_same_on_both_paths(daemon):
    # the same question asked of a small subject (C) and of a huge one (pure Lua)
    code = ("local small = 'x(ab)(cd)y' local big = string.rep('-', 400000) .. small "
            "local a = table.concat({small:find('%((%w+)%)()')}, ',') "
            "local b = table.concat({big:find('%((%w+)%)()')}, ',') "
            "local c = select(2, big:gsub('%b()', '')) "
            "local d = {} for w in big:gmatch('%((%a+)%)') do d[#d + 1] = w end "
            "stream:write(a .. ' ' .. b .. ' ' .. c .. ' ' .. table.concat(d, '+'))")
    assert daemon.api(f"lua ~{code}") == "2,5,ab,6 400002,400005,ab,400006 2 ab+cd"


def test_string_rep_is_bounded(daemon):
    # the default lua.conf.xml cap (256m) refuses a huge result at once; an empty string
    # repeated 2^62 times (a C loop of 2^62 empty copies) returns at once
    code = ("local r = {} for _, a in ipairs({{'a', 2^31}, {'a', 2^30}, {'ab', 2^27, ','}}) do "
            "local ok, e = pcall(string.rep, a[1], a[2], a[3]) r[#r + 1] = tostring(ok) .. ':' .. e end "
            "r[#r + 1] = '[' .. string.rep('', 2^62) .. ']' .. ('x'):rep(3, '')"
            " stream:write(table.concat(r, ' '))")
    assert daemon.api(f"lua ~{code}") == ("false:resulting string too large "
                                          "false:not enough memory for buffer allocation "
                                          "false:not enough memory for buffer allocation []xxx")
    assert daemon.api("status").startswith("UP ")
