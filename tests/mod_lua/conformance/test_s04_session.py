"""Behaviour reference §4.1–§4.3 — `freeswitch.Session`: construction, every method of the
§4.2 table, lifetime; on loopback calls of the running daemon (DTMF with uuid_recv_dtmf).
Hooks and input callbacks (§4.4, §4.5) are in test_s04_hooks_callbacks.py."""

from __future__ import annotations

import os
import time

import soundfile as sf

from fsd.log import ERR
from fsd.testing import wait_until

NOT_INIT = "session is not initalized"


def has_log(logs, text, level=None):
    return any(text in r.text and (level is None or r.level <= level) for r in logs)


# -- §4.1 Construction -----------------------------------------------------------------------
def test_4_1_successful_originate_sets_s_hup_soft_execute_success(daemon):
    """§4.1 A successful originate: allocated, S_HUP set, the leg waits in CS_SOFT_EXECUTE,
    hangupCause() is "SUCCESS"."""
    name = daemon.script('local s = freeswitch.Session("loopback/answer/c") '
                         'R("r", s.flags .. "|" .. s:getState() .. "|" .. s:hangupCause() .. "|" .. tostring(s:ready()) .. "|" .. s.allocated) '
                         'R("u", s:get_uuid())')
    daemon.sw.api_execute("lua", f"{name}.lua")
    assert daemon.result(name, "r") == "1|CS_SOFT_EXECUTE|SUCCESS|true|1"


def test_4_1_failed_originate_cause(daemon):
    """§4.1 On failure the object stays unallocated, ready() is false and hangupCause() is
    the originate failure cause (USER_BUSY, NO_ANSWER on timeout…)."""
    name = daemon.script('local s = freeswitch.Session("loopback/busy/c") '
                         'R("busy", tostring(s:ready()) .. "|" .. s:hangupCause() .. "|" .. s:get_uuid()) '
                         'local t = freeswitch.Session("{originate_timeout=1}loopback/wait-5000/c") '
                         'R("noans", t:hangupCause()) '
                         'local u = freeswitch.Session("nosuchendpoint/x") R("bad", u:hangupCause())')
    daemon.sw.api_execute("lua", f"{name}.lua")
    assert daemon.result(name, "busy") == "false|USER_BUSY|uninitialized"
    assert daemon.result(name, "noans") == "NO_ANSWER"
    assert daemon.result(name, "bad") not in ("SUCCESS", "NONE", "")


def test_4_1_registration_uuid_global(call, daemon):
    """§4.1 Every allocated Session object is also the Lua global named by its UUID (the
    script's own session included)."""
    name, a, b = call('local s = freeswitch.Session("loopback/answer/c") '
                      'R("g", tostring(_G[s:get_uuid()] == s) .. tostring(_G[session:get_uuid()] == session))')
    assert daemon.result(name, "g") == "truetrue"


def test_4_1_table_empty_session(lua, logs):
    """§4.1 table: freeswitch.Session() is empty and unallocated; ready() false."""
    out = lua('local s = freeswitch.Session() stream:write(tostring(s:ready()) .. s:get_uuid() .. s.allocated '
              '.. s:answer() .. s:getState())')
    assert out == "falseuninitialized0-1ERROR"
    assert has_log(logs, NOT_INIT, ERR)


def test_4_1_table_attach_by_uuid_without_auto_hangup(daemon, call):
    """§4.1 table: Session(uuid) of an existing channel attaches to it, without auto-hangup
    (it is not hung up when the object dies)."""
    name, a, b = call('R("up", 1) session:answer() session:sleep(5000)')
    assert daemon.result(name, "up") == "1"
    other = daemon.script(f'local s = freeswitch.Session("{b}") R("r", s.flags .. "|" .. s:get_uuid() .. "|" .. s:hangupCause())')
    daemon.sw.api_execute("lua", f"{other}.lua")
    assert daemon.result(other, "r") == f"0|{b}|NONE"
    time.sleep(0.1)
    assert daemon.session(b) is not None and daemon.session(b).up()


def test_4_1_table_originate_with_aleg(call, daemon):
    """§4.1 table: Session(dialstr, aleg) originates with `aleg` as the originating leg
    (originate rules: variable inheritance, originator)."""
    name, a, b = call('session:setVariable("export_vars", "c41_exported") session:setVariable("c41_exported", "yes") '
                      'local s = freeswitch.Session("loopback/answer/c", session) '
                      'R("r", s:getVariable("originator") == session:get_uuid()) R("e", s:getVariable("c41_exported"))')
    assert daemon.result(name, "r") == "true"
    assert daemon.result(name, "e") == "yes"


# -- §4.2 methods ----------------------------------------------------------------------------
def test_4_2_answer_return_values(call, daemon):
    """§4.2 answer(): 1 ok (also when already answered, and for outbound channels), 0 once
    hanging up, -1 on an unallocated object."""
    name, a, b = call('R("a1", session:answer()) R("a2", session:answer()) '
                      'local o = freeswitch.Session("loopback/answer/c") R("out", o:answer()) '
                      'session:hangup() R("a3", session:answer()) R("inv", freeswitch.Session():answer())')
    assert [daemon.result(name, k) for k in ("a1", "a2", "out", "a3", "inv")] == ["1", "1", "1", "0", "-1"]


def test_4_2_preAnswer(call, daemon):
    """§4.2 preAnswer(): early media; 1/0/-1."""
    name, a, b = call('R("p", session:preAnswer()) R("ans", session:answered()) '
                      'R("early", session:getVariable("endpoint_disposition") or session:mediaReady()) '
                      'R("inv", freeswitch.Session():preAnswer())')
    assert daemon.result(name, "p") == "1"
    assert daemon.result(name, "ans") == "false"
    assert daemon.result(name, "inv") == "-1"


def test_4_2_answered_stays_true_after_hangup(call, daemon):
    """§4.2 answered(): true once answered, and it stays true after hangup."""
    name, a, b = call('R("before", session:answered()) session:answer() R("after", session:answered()) '
                      'session:hangup() R("hung", session:answered())')
    assert [daemon.result(name, k) for k in ("before", "after", "hung")] == ["false", "true", "true"]


def test_4_2_mediaReady(call, daemon):
    """§4.2 mediaReady(): ready and (answered or early media) and codecs set."""
    name, a, b = call('R("m0", session:mediaReady()) session:answer() R("m1", session:mediaReady()) '
                      'session:hangup() R("m2", session:mediaReady())')
    assert [daemon.result(name, k) for k in ("m0", "m1", "m2")] == ["false", "true", "false"]


def test_4_2_ready_rules_and_runs_pending_hook(call, daemon):
    """§4.2 ready(): false without a channel, during transfer and after hangup; answering is
    not required; it runs a pending hangup hook."""
    name, a, b = call('R("r0", session:ready()) '
                      'function h(s, w) R("hook", w) end session:setHangupHook("h") '
                      'R("go", 1) W("hup") R("r1", session:ready())')
    assert daemon.result(name, "r0") == "true"
    assert daemon.result(name, "go") == "1"
    daemon.sw.api_execute(f"uuid_kill {a}")  # the far end hangs up
    daemon.go(name, "hup")
    assert daemon.result(name, "hook") == "hangup"
    assert daemon.result(name, "r1") == "false"


def test_4_2_bridged(call, daemon):
    """§4.2 bridged(): channel up and flagged bridged."""
    name, a, b = call('session:answer() R("b0", session:bridged()) '
                      'local leg = freeswitch.Session("loopback/answer/c") R("leg", leg:get_uuid()) '
                      'freeswitch.bridge(session, leg) R("b2", session:bridged())')
    assert daemon.result(name, "b0") == "false"
    leg = daemon.result(name, "leg")
    assert wait_until(lambda: daemon.session(b).bridged())
    daemon.sw.api_execute(f"uuid_kill {leg}")
    assert daemon.result(name, "b2") == "false"


def test_4_2_hangup_causes(call, daemon):
    """§4.2 hangup([cause]): default NORMAL_CLEARING; names any case; a leading digit is a
    number; an unknown name gives NORMAL_CLEARING."""
    causes = {}
    for arg, want in (("", "NORMAL_CLEARING"), ('"user_busy"', "USER_BUSY"), ('"17"', "USER_BUSY"),
                      ('"NO_SUCH_CAUSE"', "NORMAL_CLEARING"), ('"21"', "CALL_REJECTED")):
        name, a, b = call(f'session:answer() session:hangup({arg}) R("c", session:getVariable("hangup_cause"))')
        causes[arg] = (daemon.result(name, "c"), want)
    assert all(got == want for got, want in causes.values()), causes


def test_4_2_hangupState_callable(call, daemon, logs):
    """§4.2 hangupState(): callable (fsd runs the hangup handlers on the channel's own
    thread; see docs/compat.md); -1-free, logs on an unallocated object."""
    name, a, b = call('session:answer() session:hangup() R("r", tostring(session:hangupState())) '
                      'freeswitch.Session():hangupState() R("done", 1)')
    assert daemon.result(name, "r") == "nil" and daemon.result(name, "done") == "1"
    assert has_log(logs, NOT_INIT)


def test_4_2_hangupCause_is_stored_cause(call, daemon):
    """§4.2 hangupCause(): the object's stored cause, "NONE" for the script's own session
    even after hangup; "SUCCESS" for an originated leg even after it hangs up."""
    name, a, b = call('session:answer() local o = freeswitch.Session("loopback/answer/c") o:hangup("USER_BUSY") '
                      'R("o", o:hangupCause()) session:hangup("CALL_REJECTED") R("own", session:hangupCause()) '
                      'R("var", session:getVariable("hangup_cause"))')
    assert daemon.result(name, "o") == "SUCCESS"
    assert daemon.result(name, "own") == "NONE"
    assert daemon.result(name, "var") == "CALL_REJECTED"


def test_4_2_getState(call, daemon):
    """§4.2 getState(): e.g. "CS_EXECUTE"; "ERROR" without a channel."""
    name, a, b = call('R("s", session:getState()) R("e", freeswitch.Session():getState())')
    assert daemon.result(name, "s") == "CS_EXECUTE"
    assert daemon.result(name, "e") == "ERROR"


def test_4_2_get_uuid_and_uuid_attribute(call, daemon):
    """§4.2 get_uuid(): the UUID or "uninitialized"; attribute session.uuid too."""
    name, a, b = call('R("u", session:get_uuid() .. "|" .. session.uuid .. "|" .. freeswitch.Session():get_uuid())')
    assert daemon.result(name, "u") == f"{b}|{b}|uninitialized"


def test_4_2_getVariable_lookup_order(call, daemon):
    """§4.2 getVariable(name): channel variables, then caller-profile fields, then core
    globals; missing → nil; "" on an unallocated object."""
    daemon.sw.globals.set("c42_global", "gv")
    name, a, b = call('session:setVariable("c42_var", "cv") '
                      'R("r", session:getVariable("c42_var") .. "|" .. session:getVariable("destination_number") .. "|" '
                      '.. session:getVariable("c42_global") .. "|" .. tostring(session:getVariable("c42_missing")) .. "|" '
                      '.. session:getVariable("context") .. "|[" .. freeswitch.Session():getVariable("x") .. "]")')
    assert daemon.result(name, "r") == f"cv|run-{name}|gv|nil|c|[]"


def test_4_2_setVariable_nil_unsets_no_expansion(call, daemon):
    """§4.2 setVariable(name, value): nil unsets; no ${} expansion is applied."""
    name, a, b = call('session:setVariable("c42_s", "${uuid}") R("raw", session:getVariable("c42_s")) '
                      'session:setVariable("c42_s", nil) R("gone", tostring(session:getVariable("c42_s")))')
    assert daemon.result(name, "raw") == "${uuid}"
    assert daemon.result(name, "gone") == "nil"


def test_4_2_execute_expands_and_unknown_app(call, daemon, logs):
    """§4.2 execute(app [, data]): synchronous, data ${}-expanded (unless
    app_disable_expand_variables); an unknown app logs "Invalid Application" and hangs the
    channel up with DESTINATION_OUT_OF_ORDER."""
    name, a, b = call('session:execute("set", "c42_e=${uuid}") R("e", session:getVariable("c42_e")) '
                      'session:setVariable("app_disable_expand_variables", "true") '
                      'session:execute("set", "c42_f=${uuid}") R("f", session:getVariable("c42_f")) '
                      'session:execute("no_such_app", "x") R("c", session:getVariable("hangup_cause"))')
    assert daemon.result(name, "e") == b
    assert daemon.result(name, "f") == "${uuid}"
    assert daemon.result(name, "c") == "DESTINATION_OUT_OF_ORDER"
    assert has_log(logs, "Invalid Application")


def test_4_2_streamFile_plays_and_digits_stay_queued(call, daemon):
    """§4.2 streamFile(file [, start_sample]): 1 ok / 0; without an input callback DTMF does
    not interrupt and stays queued; start_sample skips."""
    name, a, b = call(f'session:answer() R("go", 1) W("d") local t = os.clock() '
                      f'local t0 = freeswitch.API():getTime() R("r", session:streamFile("{daemon.wav}")) '
                      f'R("ms", tonumber(freeswitch.API():getTime()) - tonumber(t0)) R("dig", session:getDigits(1, "", 10)) '
                      f't0 = freeswitch.API():getTime() session:streamFile("{daemon.wav}", 6000) '
                      f'R("ms2", tonumber(freeswitch.API():getTime()) - tonumber(t0)) R("bad", session:streamFile("/nonexistent.wav"))')
    daemon.result(name, "go")
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 7")
    daemon.go(name, "d")
    assert daemon.result(name, "r") == "1"
    assert int(daemon.result(name, "ms")) >= 900
    assert daemon.result(name, "dig") == "7"
    assert int(daemon.result(name, "ms2")) < 600
    assert daemon.result(name, "bad") == "0"


def test_4_2_sleep_reads_media(call, daemon):
    """§4.2 sleep(ms [, sync]): reads media for ms; 1; the input callback can break it."""
    name, a, b = call('session:answer() local t0 = freeswitch.API():getTime() R("r", session:sleep(300)) '
                      'R("ms", tonumber(freeswitch.API():getTime()) - tonumber(t0)) '
                      'function cb() return "break" end session:setInputCallback("cb") R("go", 1) '
                      't0 = freeswitch.API():getTime() session:sleep(5000) R("ms2", tonumber(freeswitch.API():getTime()) - tonumber(t0))')
    assert daemon.result(name, "r") == "1"
    assert 280 <= int(daemon.result(name, "ms")) < 1500
    daemon.result(name, "go")
    time.sleep(0.1)
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 1")
    assert int(daemon.result(name, "ms2")) < 3000


def test_4_2_say_required_args_and_callback(call, daemon, logs, prompts):
    """§4.2 say(text, lang, type, method [, gender]): the first four are required ("invalid
    args" logged); it says through the say module and uses the input callback."""
    from fsd.phrases import say_files

    name, a, b = call('session:answer() session:say("12345", "en", "number", "") R("go", 1) W("files") '
                      'function cb(s, t, o) R("cb", t .. o.digit) return "break" end session:setInputCallback("cb") '
                      'local t0 = freeswitch.API():getTime() session:say("12345", "en", "number", "pronounced") '
                      'R("ms", tonumber(freeswitch.API():getTime()) - tonumber(t0))')
    daemon.result(name, "go")
    assert has_log(logs, "invalid args")
    files, prefix = say_files(daemon.session(b), "12345", "en", "number", "pronounced")
    assert len(files) >= 3
    prompts(b, files, 0.5, prefix)
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 4")
    daemon.go(name, "files")
    assert daemon.result(name, "cb") == "dtmf4"
    assert int(daemon.result(name, "ms")) < 0.5 * 1000 * len(files)
