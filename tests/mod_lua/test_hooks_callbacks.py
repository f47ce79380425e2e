"""§4.4 hangup hook and §4.5 input callback, on live loopback calls."""

from __future__ import annotations

from fsd.log import ERR
from fsd.testing import wait_until


def errors(logs):
    return [r.text for r in logs if r.level <= ERR]


def test_hook_runs_after_far_end_hangup_during_sleep(daemon):
    name, a, b = daemon.run("""
myarg = "the-arg"
function hook(s, what, arg) R("hook", what) R("arg", arg) R("same", s == session)
  return "ok-value" end
session:setHangupHook("hook", "myarg")
session:answer()
R("sleeping", 1)
session:sleep(20000)
R("after_sleep", session:getVariable("lua_hangup_hook_return_val"))
""")
    assert daemon.result(name, "sleeping") == "1"
    daemon.sw.api_execute(f"uuid_kill {a}")
    assert daemon.result(name, "hook") == "hangup"
    assert daemon.result(name, "arg") == "the-arg"
    assert daemon.result(name, "same") == "true"
    assert daemon.result(name, "after_sleep") == "ok-value"


def test_hook_exit_aborts_script(daemon, logs):
    name, a, b = daemon.run("""
function hook(s, what) R("hook", what) return "Exit" end
session:setHangupHook("hook")
session:answer()
session:hangup()
R("never", 1)
""")
    assert daemon.result(name, "hook") == "hangup"
    assert wait_until(lambda: any("Exit" in t for t in errors(logs)))
    assert daemon.sw.globals.get(f"{name}_never") is None


def test_hook_die_catchable_with_pcall(daemon):
    name, a, b = daemon.run("""
function hook(s, what) return "die" end
session:setHangupHook("hook")
session:answer()
local ok, e = pcall(function() session:hangup() end)
R("e", e) R("ok", ok)
""")
    assert daemon.result(name, "e") == "die"
    assert daemon.result(name, "ok") == "false"


def test_hook_runs_once_and_missing_arg_is_nil(daemon):
    name, a, b = daemon.run("""
count = 0
function hook(s, what, arg) count = count + 1 R("argtype", type(arg)) end
session:setHangupHook("hook", "no_such_global")
session:answer()
session:hangup()
session:setHangupHook("hook")
session:ready() session:sleep(10) session:ready()
R("count", count)
""")
    assert daemon.result(name, "count") == "1"
    assert daemon.result(name, "argtype") == "nil"


def test_hook_not_run_without_session_call(daemon):
    name, a, b = daemon.run("""
function hook(s, what) R("hook", what) end
session:setHangupHook("hook")
session:answer()
R("waiting", 1)
while freeswitch.getGlobalVariable("release_%s") == nil do freeswitch.msleep(10) end
R("done", 1)
""".replace("%s", "x"))
    assert daemon.result(name, "waiting") == "1"
    daemon.sw.api_execute(f"uuid_kill {a}")
    daemon.sw.globals.set("release_x", "1")
    assert daemon.result(name, "done") == "1"
    assert daemon.sw.globals.get(f"{name}_hook") is None


def test_hook_error_is_logged_and_script_continues(daemon, logs):
    name, a, b = daemon.run("""
function hook(s, what) error("hook exploded") end
session:setHangupHook("hook")
session:answer()
session:hangup()
R("continued", 1)
""")
    assert daemon.result(name, "continued") == "1"
    assert any("hook exploded" in t and f"{name}.lua:2" in t for t in errors(logs))


def test_set_hangup_hook_rejects_function_value(daemon):
    name, a, b = daemon.run("""
session:answer()
local ok, e = pcall(session.setHangupHook, session, function() end)
R("e", e)
""")
    assert daemon.result(name, "e") == ("Error in Session::setHangupHook (arg 2), expected "
                                        "'char *' got 'function'")
    daemon.sw.api_execute(f"uuid_kill {a}")


# -- §4.5 ------------------------------------------------------------------------------------
def test_input_callback_dtmf_shape_and_break(daemon):
    name, a, b = daemon.run("""
cbarg = "extra"
function cb(s, kind, obj, arg)
  R("kind", kind) R("digit", obj.digit) R("dur", math.type(obj.duration)) R("arg", arg)
  R("same", s == session)
  return "break"
end
session:answer()
session:setInputCallback("cb", "cbarg")
R("ready", 1)
local t0 = os.time()
R("sleep", session:sleep(20000))
R("quick", os.time() - t0 < 10)
""")
    assert daemon.result(name, "ready") == "1"
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 7")
    assert daemon.result(name, "kind") == "dtmf"
    assert daemon.result(name, "digit") == "7"
    assert daemon.result(name, "dur") == "integer"
    assert daemon.result(name, "arg") == "extra"
    assert daemon.result(name, "same") == "true"
    assert daemon.result(name, "quick") == "true"
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_input_callback_return_values(daemon):
    # each value in turn: continue values keep sleeping, the others stop at once
    name, a, b = daemon.run("""
results = {true, false, "true", "undefined", "", 0}
i = 0
function cb(s, kind, obj) i = i + 1 return results[i] end
session:answer()
session:setInputCallback("cb")
R("ready", 1)
local t0 = os.clock()
session:sleep(1500)
R("i", i)
""")
    assert daemon.result(name, "ready") == "1"
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 123456")
    assert daemon.result(name, "i") == "6"
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_input_callback_event_and_error(daemon, logs):
    name, a, b = daemon.run("""
function cb(s, kind, obj)
  if kind == "event" then R("ev", obj:getHeader("My-Header")) R("evtype", obj:getType())
    return nil end
  error("callback exploded")
end
session:answer()
session:setInputCallback("cb")
local e = freeswitch.Event("CUSTOM", "lua::cb")
e:addHeader("My-Header", "hello")
session:sendEvent(e)
R("ready", 1)
R("sleep", session:sleep(20000))
R("after", 1)
""")
    assert daemon.result(name, "ev") == "hello"
    assert daemon.result(name, "evtype") == "CUSTOM"
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 5")
    assert daemon.result(name, "after") == "1"
    assert any("callback exploded" in t for t in errors(logs))
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_stream_file_interrupted_by_callback_and_not_without(daemon):
    name, a, b = daemon.run("""
function cb(s, kind, obj) R("got", obj.digit) return "stop" end
session:answer()
R("ready", 1)
-- without a callback digits stay queued
R("play1", session:streamFile("tone_stream://%(300,0,440)"))
R("queued", session:getDigits(1, "", 100))
session:setInputCallback("cb")
R("ready2", 1)
R("play2", session:streamFile("tone_stream://%(20000,0,440)"))
R("done", 1)
""")
    assert daemon.result(name, "ready") == "1"
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 4")
    assert daemon.result(name, "queued") == "4"
    assert daemon.result(name, "ready2") == "1"
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 9")
    assert daemon.result(name, "got") == "9"
    assert daemon.result(name, "done", 10) == "1"
    assert daemon.result(name, "play2") == "1"
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_collect_digits_feeds_callback(daemon):
    name, a, b = daemon.run("""
got = ""
function cb(s, kind, obj) got = got .. obj.digit if #got == 3 then return "done" end end
session:answer()
R("nocb", session:collectDigits(100))
session:setInputCallback("cb")
R("ready", 1)
R("rc", session:collectDigits(5000))
R("got", got)
session:unsetInputCallback()
""")
    assert daemon.result(name, "nocb") == "0"
    assert daemon.result(name, "ready") == "1"
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 123")
    assert daemon.result(name, "got") == "123"
    assert daemon.result(name, "rc") == "0"
    daemon.sw.api_execute(f"uuid_kill {a}")
