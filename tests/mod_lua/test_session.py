"""§1.2 (lua app, ${lua()}, LUA dialplan), §1.3 (api_hangup_hook env) and §4 (Session)
against a running daemon, driven through loopback calls."""

from __future__ import annotations

from fsd.log import ERR
from fsd.testing import wait_until


def errors(logs):
    return [r.text for r in logs if r.level <= ERR]


# -- §1.2 the lua application -------------------------------------------------------------
def test_app_session_global_argv_and_dialplan_continues(daemon):
    name = daemon.script("""
R("argv0", argv[0]) R("argv1", argv[1]) R("argv2", argv[2]) R("n", #argv)
R("uuid", session:get_uuid())
session:answer()
""")
    a, b = daemon.call(f"args-{name}")
    assert daemon.result(name, "argv0") == f"{name}.lua"
    assert daemon.result(name, "argv1") == "one two"
    assert daemon.result(name, "argv2") == "three four"
    assert daemon.result(name, "n") == "2"
    assert daemon.result(name, "uuid") == b


def test_app_no_auto_hangup_and_next_action_runs(daemon):
    name, a, b = daemon.run('session:answer() R("done", 1)')
    assert daemon.result(name, "done") == "1"
    assert wait_until(lambda: daemon.sw.api_execute(f"uuid_getvar {b} after_lua") == "1")
    assert daemon.session(b) is not None and daemon.session(b).up()
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_app_empty_data_logs_no_args(daemon, logs):
    a, b = daemon.call("noargs")
    assert a
    assert wait_until(lambda: any("no args specified!" in t for t in errors(logs)))
    assert daemon.sw.api_execute(f"uuid_getvar {b} after_lua") == "1"
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_lua_expansion_has_session_stream_and_env(daemon):
    name = daemon.script("""
stream:write(session:get_uuid() .. "|" .. env:getHeader("API-Command") .. "|" .. tostring(argv[0]))
""")
    a, b = daemon.call(f"expand-{name}")
    assert a
    assert daemon.sw.api_execute(f"uuid_getvar {b} expanded") == f"{b}|lua|{name}.lua"
    daemon.sw.api_execute(f"uuid_kill {a}")


# -- §1.3 api_hangup_hook ----------------------------------------------------------------------
def test_api_hangup_hook_env(daemon):
    name = daemon.script("""
R("arg", argv[1])
R("plain", env:getHeader("my_custom_var"))
R("cause", env:getHeader("hangup_cause"))
R("q850", env:getHeader("hangup_cause_q850"))
R("event_name", env:getHeader("Event-Name"))
R("chan_state", env:getHeader("Channel-State"))
R("varhdr", env:getHeader("variable_my_custom_var"))
R("session", type(session))
""")
    a, b = daemon.call(f"hook-{name}")
    daemon.sw.api_execute(f"uuid_kill {b} USER_BUSY")
    assert daemon.result(name, "arg") == "custom42"
    assert daemon.result(name, "plain") == "custom42"
    assert daemon.result(name, "cause") == "USER_BUSY"
    assert daemon.result(name, "q850") == "17"
    assert daemon.result(name, "event_name") == "nil"
    assert daemon.result(name, "chan_state") == "CS_HANGUP"
    assert daemon.result(name, "varhdr") == "custom42"
    assert daemon.result(name, "session") == "nil"


# -- LUA dialplan ------------------------------------------------------------------------------
def test_lua_dialplan_actions(daemon):
    daemon.script("""
ACTIONS = {{"set", "dp_a=1"}, "answer", {"set", "dp_ready=" .. tostring(session:ready())},
           {"park"}}
""", name="dp")
    out = daemon.sw.api_execute("originate loopback/100/dp.lua/LUA &park()")
    assert out.startswith("+OK"), out
    a = out.split()[1].strip()
    b = daemon.sw.api_execute(f"uuid_getvar {a} other_loopback_leg_uuid")
    assert daemon.sw.api_execute(f"uuid_getvar {b} dp_a") == "1"
    # routing: ready() is false there
    assert wait_until(lambda: daemon.sw.api_execute(f"uuid_getvar {b} dp_ready") == "false")
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_lua_dialplan_bad_actions_no_route(daemon, logs):
    daemon.script('ACTIONS = {"answer", 42}', name="dpbad")
    out = daemon.sw.api_execute("originate loopback/100/dpbad.lua/LUA &park()")
    assert not out.startswith("+OK")
    assert any("ACTIONS" in t for t in errors(logs))


# -- §4.1 construction -------------------------------------------------------------------------
def test_empty_session_is_unallocated(daemon, logs):
    name, a, b = daemon.run("""
local s = freeswitch.Session()
R("ready", s:ready()) R("uuid", s:get_uuid()) R("answer", s:answer())
R("getvar", s:getVariable("x")) R("state", s:getState()) R("cause", s:hangupCause())
R("collect", s:collectDigits(10)) R("auto", s:setAutoHangup(true))
session:answer()
""")
    assert daemon.result(name, "ready") == "false"
    assert daemon.result(name, "uuid") == "uninitialized"
    assert daemon.result(name, "answer") == "-1"
    assert daemon.result(name, "getvar") == ""
    assert daemon.result(name, "state") == "ERROR"
    assert daemon.result(name, "cause") == "NONE"
    assert daemon.result(name, "collect") == "-1"
    assert daemon.result(name, "auto") == "-1"
    assert any("session is not initalized" in t for t in errors(logs))
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_originate_through_constructor_sets_s_hup_and_hangs_up_at_end(daemon):
    name, a, b = daemon.run("""
session:answer()
local leg = freeswitch.Session("loopback/parked/t")
R("ready", leg:ready()) R("cause", leg:hangupCause()) R("flags", leg.flags)
R("state", leg:getState()) R("uuid", leg:get_uuid())
R("global", _G[leg:get_uuid()] == leg)
local keep = freeswitch.Session("loopback/parked/t")
keep:setAutoHangup(false)
R("keep", keep:get_uuid())
""")
    assert daemon.result(name, "ready") == "true"
    assert daemon.result(name, "cause") == "SUCCESS"
    assert daemon.result(name, "flags") == "1"
    assert daemon.result(name, "state") == "CS_SOFT_EXECUTE"
    assert daemon.result(name, "global") == "true"
    leg = daemon.result(name, "uuid")
    keep = daemon.result(name, "keep")
    assert daemon.gone(leg)
    assert daemon.session(keep) is not None and daemon.session(keep).up()
    daemon.sw.api_execute(f"uuid_kill {keep}")
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_originate_failure_cause(daemon):
    name, a, b = daemon.run("""
session:answer()
local leg = freeswitch.Session("error/user_busy")
R("ready", leg:ready()) R("cause", leg:hangupCause()) R("uuid", leg:get_uuid())
local leg2 = freeswitch.Session("nosuchtech/x")
R("cause2", leg2:hangupCause())
""")
    assert daemon.result(name, "ready") == "false"
    assert daemon.result(name, "cause") == "USER_BUSY"
    assert daemon.result(name, "uuid") == "uninitialized"
    assert daemon.result(name, "cause2") == "CHAN_NOT_IMPLEMENTED"
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_attach_by_uuid_without_auto_hangup(daemon):
    pa, pb = daemon.call("parked")
    name, a, b = daemon.run(f"""
session:answer()
local s = freeswitch.Session("{pb}")
R("ready", s:ready()) R("flags", s.flags) R("cause", s:hangupCause())
R("var", s:getVariable("uuid"))
""")
    assert daemon.result(name, "ready") == "true"
    assert daemon.result(name, "flags") == "0"
    assert daemon.result(name, "cause") == "NONE"
    assert daemon.result(name, "var") == pb
    assert daemon.session(pb).up()
    daemon.sw.api_execute(f"uuid_kill {pa}")
    daemon.sw.api_execute(f"uuid_kill {a}")


# -- §4.2 methods ------------------------------------------------------------------------------
def test_answer_preanswer_answered_ready(daemon):
    name, a, b = daemon.run("""
R("pre", session:preAnswer())
R("ans", session:answer()) R("ans2", session:answer()) R("answered", session:answered())
R("media", session:mediaReady()) R("bridged", session:bridged())
session:hangup("17")
R("after", session:answer()) R("answered_after", session:answered())
R("ready_after", session:ready()) R("cause_var", session:getVariable("hangup_cause"))
R("mycause", session:hangupCause()) R("state_after", session:getState())
""")
    assert daemon.result(name, "pre") == "1"
    assert daemon.result(name, "ans") == "1"
    assert daemon.result(name, "ans2") == "1"
    assert daemon.result(name, "answered") == "true"
    assert daemon.result(name, "bridged") == "false"
    assert daemon.result(name, "after") == "0"
    assert daemon.result(name, "answered_after") == "true"
    assert daemon.result(name, "ready_after") == "false"
    assert daemon.result(name, "cause_var") == "USER_BUSY"
    assert daemon.result(name, "mycause") == "NONE"
    assert daemon.result(name, "state_after") == "CS_HANGUP"


def test_hangup_unknown_cause_is_normal_clearing(daemon):
    name, a, b = daemon.run('session:answer() session:hangup("no_such_cause") '
                            'R("c", session:getVariable("hangup_cause"))')
    assert daemon.result(name, "c") == "NORMAL_CLEARING"


def test_variables(daemon):
    daemon.sw.globals.set("lua_test_global", "g1")
    name, a, b = daemon.run("""
session:answer()
R("missing", session:getVariable("no_such_var"))
R("global", session:getVariable("lua_test_global"))
R("profile", session:getVariable("destination_number"))
session:setVariable("v1", "x") R("v1", session:getVariable("v1"))
session:setVariable("v1", nil) R("v1b", session:getVariable("v1"))
session:setVariable("v2", "${not_expanded}") R("v2", session:getVariable("v2"))
""")
    assert daemon.result(name, "missing") == "nil"
    assert daemon.result(name, "global") == "g1"
    assert daemon.result(name, "profile") == f"run-{name}"
    assert daemon.result(name, "v1") == "x"
    assert daemon.result(name, "v1b") == "nil"
    assert daemon.result(name, "v2") == "${not_expanded}"
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_execute_and_unknown_app(daemon, logs):
    name, a, b = daemon.run("""
session:answer()
session:execute("set", "from_exec=${destination_number}")
R("set", session:getVariable("from_exec"))
session:execute("no_such_app", "x")
R("ready", session:ready()) R("cause", session:getVariable("hangup_cause"))
""")
    assert daemon.result(name, "set") == f"run-{name}"
    assert daemon.result(name, "ready") == "false"
    assert daemon.result(name, "cause") == "DESTINATION_OUT_OF_ORDER"
    assert any("Invalid Application" in t for t in errors(logs))


def test_getdigits(daemon):
    name, a, b = daemon.run("""
session:answer()
R("ready", 1)
R("d1", session:getDigits(5, "#", 3000))
R("d2", session:getDigits(2, "", 3000))
R("zero", session:getDigits(0, "", 100))
R("timeout", session:getDigits(3, "#", 200))
""")
    assert daemon.result(name, "ready") == "1"
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 12#34")
    assert daemon.result(name, "d1") == "12"
    assert daemon.result(name, "d2") == "34"
    assert daemon.result(name, "zero") == ""
    assert daemon.result(name, "timeout") == ""
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_streamfile_sleep_flush(daemon):
    name, a, b = daemon.run("""
session:answer()
R("stream", session:streamFile("tone_stream://%(100,0,440)"))
R("sleep", session:sleep(50))
R("flushd", session:flushDigits()) R("flushe", session:flushEvents())
R("missing", session:streamFile("/no/such/file.wav"))
""")
    assert daemon.result(name, "stream") == "1"
    assert daemon.result(name, "sleep") == "1"
    assert daemon.result(name, "flushd") == "0"
    assert daemon.result(name, "flushe") == "0"
    assert daemon.result(name, "missing") == "0"
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_set_auto_hangup_needs_boolean(daemon, logs):
    name, a, b = daemon.run("""
session:answer()
local ok, e = pcall(session.setAutoHangup, session, 1)
R("err", e)
R("ok", session:setAutoHangup(false))
""")
    assert daemon.result(name, "err") == ("Error in Session::setAutoHangup (arg 2), expected "
                                          "'bool' got 'number'")
    assert daemon.result(name, "ok") == "0"
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_destroy_with_message_raises(daemon, logs):
    name, a, b = daemon.run("""
session:answer()
local ok, e = pcall(session.destroy, session, "bail out")
R("err", e) R("ready", session:ready()) R("uuid", session:get_uuid())
session:destroy("stop here")
R("after", 1)
""")
    assert daemon.result(name, "err") == "bail out"
    assert daemon.result(name, "ready") == "false"
    assert daemon.result(name, "uuid") == "uninitialized"
    assert wait_until(lambda: any("stop here" in t for t in errors(logs)))
    assert daemon.sw.globals.get(f"{name}_after") is None
    # the script's own channel is not hung up by destroy
    assert daemon.session(b).up()
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_transfer_keeps_running_with_ready_false(daemon):
    name, a, b = daemon.run("""
session:answer()
function hook(s, what) R("hook", what) end
session:setHangupHook("hook")
R("xfer", session:transfer("target", "XML", "t"))
R("ready", session:ready())
R("still", "running")
""")
    assert daemon.result(name, "xfer") == "1"
    assert daemon.result(name, "ready") == "false"
    assert daemon.result(name, "still") == "running"
    assert daemon.result(name, "hook") == "transfer"
    assert wait_until(lambda: daemon.sw.api_execute(f"uuid_getvar {b} reached_target") == "1")
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_attributes_and_xml_cdr(daemon):
    name, a, b = daemon.run("""
session:answer()
R("uuid", session.uuid) R("allocated", session.allocated) R("cause", session.cause)
R("cdr", session:getXMLCDR():find("<cdr") ~= nil)
local e = freeswitch.Event("CUSTOM", "lua::test")
session:setEventData(e)
R("evuuid", e:getHeader("Unique-ID"))
""")
    assert daemon.result(name, "uuid") == b
    assert daemon.result(name, "allocated") == "1"
    assert daemon.result(name, "cause") == "0"
    assert daemon.result(name, "cdr") == "true"
    assert daemon.result(name, "evuuid") == b
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_say_speak_invalid_args(daemon, logs):
    name, a, b = daemon.run("""
session:answer()
session:say("123", "en", "number", nil)
R("speak", session:speak("hello"))
""")
    assert daemon.result(name, "speak") == "1"
    texts = errors(logs)
    assert any("invalid args" in t for t in texts)
    assert any("No TTS engine/voice specified" in t for t in texts)
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_deprecated_originate(daemon, logs):
    name, a, b = daemon.run("""
session:answer()
local s = freeswitch.Session()
R("missing", s:originate(session, "", 10))
R("ok", s:originate(session, "loopback/parked/t", 10))
R("ready", s:ready())
local bad = freeswitch.Session()
R("bad", bad:originate(session, "error/user_busy", 10))
local ok, e = pcall(s.originate, s, session)
R("argc", e)
""")
    assert daemon.result(name, "missing") == "0"
    assert daemon.result(name, "ok") == "0"
    assert daemon.result(name, "ready") == "true"
    assert daemon.result(name, "bad") == "1"
    assert daemon.result(name, "argc") == "Error in Session::originate expected 4..4 args, got 2"
    assert any("Missing destination." in t for t in errors(logs))
    daemon.sw.api_execute(f"uuid_kill {a}")
