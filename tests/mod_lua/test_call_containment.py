"""Containment on live calls: runaway scripts stopped through their channel and the API,
os.exit, errors in consumers, many failing scripts at once."""

from __future__ import annotations

import threading

from fsd_modules.mod_lua.runtime import REGISTRY

from fsd.log import ERR
from fsd.testing import wait_until


def errors(logs):
    return [r.text for r in logs if r.level <= ERR]


def _running(name):
    return [c for c in REGISTRY.list() if c.name == f"{name}.lua"]


def test_uuid_kill_hangs_up_but_leaves_a_looping_script_to_lua_kill(daemon):
    """FreeSWITCH: uuid_kill only hangs the channel up; a script that never touches its
    session again keeps running until lua_kill stops it."""
    name, a, b = daemon.run('session:answer() R("loop", 1) while true do end')
    assert daemon.result(name, "loop") == "1"
    core = daemon.session(b)
    assert daemon.sw.api_execute(f"uuid_kill {b}") == "+OK\n"
    assert wait_until(lambda: not core.up())
    assert daemon.gone(a)
    runs = _running(name)
    assert runs, "uuid_kill must not stop the script"
    assert daemon.sw.api_execute(f"lua_kill {runs[0].id}") == "+OK\n"
    assert wait_until(lambda: not _running(name), 2)
    assert daemon.gone(b)


def test_uuid_kill_during_streamfile_runs_hook_and_cleanup(daemon, tmp_path):
    out = tmp_path / "cdr.txt"
    name, a, b = daemon.run(f"""
function hook(s, what) R("hook", what) end
session:setHangupHook("hook")
session:answer()
R("playing", 1)
while session:ready() do
  session:streamFile("tone_stream://%(30000,0,440)")
end
local f = io.open("{out}", "w") f:write("ready=" .. tostring(session:ready())) f:close()
R("after", 1)
""")
    assert daemon.result(name, "playing") == "1"
    assert daemon.sw.api_execute(f"uuid_kill {b}") == "+OK\n"
    assert daemon.result(name, "hook") == "hangup"
    assert daemon.result(name, "after") == "1"
    assert out.read_text() == "ready=false"
    assert wait_until(lambda: not _running(name), 5)
    assert daemon.gone(b) and daemon.gone(a)


def test_endless_loop_stopped_by_lua_kill(daemon):
    name, a, b = daemon.run('session:answer() R("loop", 1) while true do end')
    assert daemon.result(name, "loop") == "1"
    runs = _running(name)
    assert runs
    listing = daemon.sw.api_execute("lua_list")
    assert f"{runs[0].id},{name}.lua,{b}," in listing
    assert daemon.sw.api_execute(f"lua_kill {runs[0].id}") == "+OK\n"
    assert wait_until(lambda: not _running(name), 2)
    # the dialplan goes on after the stopped script
    assert wait_until(lambda: daemon.sw.api_execute(f"uuid_getvar {b} after_lua") == "1")
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_kill_ends_a_script_blocked_in_getdigits_and_sleep(daemon):
    name, a, b = daemon.run("""
session:answer() R("wait", 1) session:getDigits(5, "", 600000) R("never", 1)""")
    assert daemon.result(name, "wait") == "1"
    daemon.sw.api_execute(f"lua_kill {_running(name)[0].id}")
    assert wait_until(lambda: not _running(name), 2)
    assert daemon.sw.globals.get(f"{name}_never") is None
    name2, a2, b2 = daemon.run('session:answer() R("wait", 1) session:sleep(600000) R("never", 1)')
    assert daemon.result(name2, "wait") == "1"
    daemon.sw.api_execute(f"lua_kill {_running(name2)[0].id}")
    assert wait_until(lambda: not _running(name2), 2)
    assert daemon.sw.globals.get(f"{name2}_never") is None
    daemon.sw.api_execute(f"uuid_kill {a}")
    daemon.sw.api_execute(f"uuid_kill {a2}")


def test_os_exit_only_logs(daemon, logs):
    name, a, b = daemon.run('session:answer() os.exit(1) R("alive", 1)')
    assert daemon.result(name, "alive") == "1"
    assert any("Surely you jest! exiting is a bad plan...." in t for t in errors(logs))
    assert daemon.sw.api_execute("status").startswith("UP")
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_error_in_event_consumer_loop(daemon, logs):
    name, a, b = daemon.run("""
session:answer()
local c = freeswitch.EventConsumer("CUSTOM", "lua::loop")
local e = freeswitch.Event("CUSTOM", "lua::loop") e:fire()
while true do
  local ev = c:pop(1, 2000)
  R("popped", ev and ev:getHeader("Event-Subclass"))
  ev:noSuchMethod()
end
""")
    assert daemon.result(name, "popped") == "lua::loop"
    assert wait_until(lambda: any(f"{name}.lua:8" in t for t in errors(logs)))
    assert wait_until(lambda: not _running(name), 2)
    assert wait_until(lambda: daemon.sw.api_execute(f"uuid_getvar {b} after_lua") == "1")
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_far_end_hangup_during_dbh_query_and_stream(daemon):
    name, a, b = daemon.run("""
function hook(s, what) R("hook", what) end
session:setHangupHook("hook")
session:answer()
local dbh = freeswitch.Dbh("sqlite://lua_hang")
R("playing", 1)
session:streamFile("tone_stream://%(30000,0,440)")
R("q", dbh:query("select 1"))
R("after", session:ready())
""")
    assert daemon.result(name, "playing") == "1"
    daemon.sw.api_execute(f"uuid_kill {a}")
    assert daemon.result(name, "hook") == "hangup"
    assert daemon.result(name, "q") == "true"
    assert daemon.result(name, "after") == "false"
    assert daemon.gone(b)


def test_hundred_failing_scripts_at_once(daemon, logs):
    name = daemon.script('error("boom " .. session:get_uuid())')
    outs = []

    def one():
        outs.append(daemon.sw.api_execute(f"originate loopback/err-{name}/t &park()"))

    threads = [threading.Thread(target=one) for _ in range(100)]
    for t in threads:
        t.start()
    assert daemon.sw.api_execute("status").startswith("UP")
    for t in threads:
        t.join(30)
    assert len(outs) == 100 and all(o.startswith("-ERR") for o in outs)
    assert wait_until(lambda: not daemon.sw.sessions, 10)
    assert wait_until(lambda: not _running(name), 5)
    assert not [t for t in threading.enumerate() if t.name.startswith("session-")]
    assert len([t for t in errors(logs) if "boom" in t]) == 100
    assert daemon.sw.api_execute("status").startswith("UP")


def test_a_core_kill_of_the_channel_does_not_stop_its_script(daemon):
    """Session.kill (what uuid_kill calls) is a hangup for the script: the code after its
    blocking call runs."""
    name, a, b = daemon.run('session:answer() R("up", 1) session:sleep(60000) R("done", 1)')
    assert daemon.result(name, "up") == "1"
    daemon.session(b).kill("NORMAL_CLEARING")
    assert daemon.result(name, "done") == "1"
    assert wait_until(lambda: not _running(name), 2)
