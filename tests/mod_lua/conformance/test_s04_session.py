"""Behaviour reference §4.1–§4.3 — `freeswitch.Session`: construction, every method of the
§4.2 table, lifetime; on loopback calls of the running daemon (DTMF with uuid_recv_dtmf).
Hooks and input callbacks (§4.4, §4.5) are in test_s04_hooks_callbacks.py."""

from __future__ import annotations

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


def test_4_2_sayPhrase_macro_uses_callback(call, daemon, prompts):
    """§4.2 sayPhrase(name [, data [, lang]]): runs the phrase macro; uses the callback."""
    name, a, b = call('session:answer() R("go", 1) W("files") '
                      'function cb(s, t, o) R("cb", o.digit) return "break" end session:setInputCallback("cb") '
                      'local t0 = tonumber(freeswitch.API():getTime()) session:sayPhrase("voicemail_hello", "", "en") '
                      'R("ms", tonumber(freeswitch.API():getTime()) - t0) '
                      'session:unsetInputCallback() t0 = tonumber(freeswitch.API():getTime()) '
                      'session:sayPhrase("voicemail_hello") R("ms2", tonumber(freeswitch.API():getTime()) - t0)')
    daemon.result(name, "go")
    from fsd.phrases import find_language, language_prefix

    sess = daemon.session(b)
    prompts(b, ["voicemail/vm-hello.wav"], 1.0, language_prefix(sess, find_language(daemon.sw, "en")))
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 9")
    daemon.go(name, "files")
    assert daemon.result(name, "cb") == "9"
    assert int(daemon.result(name, "ms")) < 700
    assert int(daemon.result(name, "ms2")) >= 900


def test_4_2_speak_needs_tts_params(call, daemon, logs):
    """§4.2 speak(text): without set_tts_params logs "No TTS engine/voice specified" and
    returns 1; with them it speaks (1)."""
    name, a, b = call('session:answer() R("none", session:speak("hello")) '
                      'session:set_tts_params("tts_commandline", "en") R("ok", session:speak("hi")) '
                      'R("names", session.tts_name .. "|" .. session.voice_name)')
    assert daemon.result(name, "none") == "1"
    assert has_log(logs, "No TTS engine/voice specified")
    assert daemon.result(name, "ok", timeout=15) == "1"
    assert daemon.result(name, "names") == "tts_commandline|en"


def test_4_2_set_tts_parms_deprecated_logs(call, daemon, logs):
    """§4.2 set_tts_params(engine, voice) / set_tts_parms (deprecated: logs an error each
    call)."""
    name, a, b = call('session:set_tts_parms("e1", "v1") R("n", session.tts_name .. session.voice_name) '
                      'session:set_tts_params("e2", "v2") R("m", session.tts_name .. session.voice_name)')
    assert daemon.result(name, "n") == "e1v1" and daemon.result(name, "m") == "e2v2"
    assert has_log(logs, "deprecated", ERR)


def test_4_2_getDigits_buffered_max_and_no_callback(call, daemon):
    """§4.2 getDigits: collects from the queue including digits buffered earlier (no flush),
    does not call the input callback, returns as soon as max digits arrived."""
    name, a, b = call('session:answer() function cb() R("cb", "called") return "break" end '
                      'session:setInputCallback("cb") R("go", 1) W("d") '
                      'R("d", session:getDigits(3, "", 5000))')
    daemon.result(name, "go")
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 12345")
    daemon.go(name, "d")
    assert daemon.result(name, "d") == "123"
    assert daemon.sw.globals.get(f"{name}_cb") is None


def test_4_2_getDigits_terminator_not_included(call, daemon):
    """§4.2 getDigits: a terminator ends collection and is not included."""
    name, a, b = call('session:answer() R("go", 1) W("d") R("d", session:getDigits(10, "#*", 5000))')
    daemon.result(name, "go")
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 42#9")
    daemon.go(name, "d")
    assert daemon.result(name, "d") == "42"


def test_4_2_getDigits_timeouts_and_empty(call, daemon):
    """§4.2 getDigits timing: nothing → "" after `timeout`; with interdigit the first wait is
    timeout and later waits interdigit; max ≤ 0 returns "" at once; abstimeout caps."""
    name, a, b = call('session:answer() local T = function() return tonumber(freeswitch.API():getTime()) end '
                      'local t0 = T() R("e", "[" .. session:getDigits(5, "", 300) .. "]") R("e_ms", T() - t0) '
                      't0 = T() R("z", "[" .. session:getDigits(0, "", 5000) .. "]") R("z_ms", T() - t0) '
                      't0 = T() session:getDigits(5, "", 0, 0, 300) R("abs_ms", T() - t0) '
                      'R("go", 1) W("d") t0 = T() R("i", session:getDigits(5, "", 2000, 200)) R("i_ms", T() - t0)')
    assert daemon.result(name, "e") == "[]"
    assert 250 <= int(daemon.result(name, "e_ms")) < 1500
    assert daemon.result(name, "z") == "[]" and int(daemon.result(name, "z_ms")) < 100
    assert 250 <= int(daemon.result(name, "abs_ms")) < 1500
    daemon.result(name, "go")
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 12")
    daemon.go(name, "d")
    assert daemon.result(name, "i") == "12"
    assert int(daemon.result(name, "i_ms")) < 1500  # the 200 ms inter-digit wait ended it


def test_4_2_getDigits_hangup_returns_collected_and_sensitive(call, daemon, logs):
    """§4.2 getDigits: on hangup it returns what was collected; digits are logged at debug
    unless sensitive_dtmf=true."""
    name, a, b = call('session:answer() session:setVariable("sensitive_dtmf", "true") R("go", 1) W("d") '
                      'R("d", "[" .. session:getDigits(5, "", 20000) .. "]")')
    daemon.result(name, "go")
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 86")
    daemon.go(name, "d")
    time.sleep(0.3)
    daemon.sw.api_execute(f"uuid_kill {a}")
    assert daemon.result(name, "d") == "[86]"
    assert not any("getDigits: 86" in r.text for r in logs)


def test_4_2_read_result_variables_and_min(call, daemon):
    """§4.2 read(min, max, prompt, timeout, terms [, digit_timeout]): pre-answers; a DTMF
    breaks the prompt and counts; read_result success/timeout/failure; read_terminator_used;
    returns the digits even when fewer than min were entered."""
    name, a, b = call(f'R("go", 1) W("d") R("r1", session:read(2, 4, "{daemon.wav2}", 500, "#")) '
                      f'R("res1", session:getVariable("read_result")) R("term", session:getVariable("read_terminator_used")) '
                      f'R("ans", tostring(session:answered() or session:mediaReady())) R("go2", 1) W("d2") '
                      f'R("r2", session:read(1, 4, "silence", 300, "#")) R("res2", session:getVariable("read_result")) '
                      f'R("r3", "[" .. session:read(3, 4, "silence", 300, "#") .. "]") R("res3", session:getVariable("read_result")) '
                      f'R("go3", 1) W("d3") R("r4", session:read(3, 4, "silence", 300, "#")) R("res4", session:getVariable("read_result"))')
    daemon.result(name, "go")
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 12#")
    daemon.go(name, "d")
    assert daemon.result(name, "r1") == "12"
    assert daemon.result(name, "res1") == "success"
    assert daemon.result(name, "term") == "#"
    assert daemon.result(name, "ans") == "true"
    daemon.result(name, "go2")
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 5")
    daemon.go(name, "d2")
    assert daemon.result(name, "r2") == "5" and daemon.result(name, "res2") == "timeout"
    assert daemon.result(name, "r3") == "[]" and daemon.result(name, "res3") == "failure"
    daemon.result(name, "go3")
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 7#")
    daemon.go(name, "d3")
    assert daemon.result(name, "r4") == "7" and daemon.result(name, "res4") == "failure"


def test_4_2_playAndGetDigits_regex_var_invalid_and_exhausted(call, daemon, prompts):
    """§4.2 playAndGetDigits: accepted digits returned and stored in `var`; rejected ones in
    <var>_invalid with a retry; "" when tries are exhausted."""
    name, a, b = call('R("go", 1) W("d") '
                      'R("r", session:playAndGetDigits(1, 3, 3, 400, "#", "silence_stream://100", "silence_stream://50", "^[12]+$", "pagd_var")) '
                      'R("v", session:getVariable("pagd_var")) R("inv", session:getVariable("pagd_var_invalid")) '
                      'R("none", "[" .. session:playAndGetDigits(1, 2, 2, 200, "#", "silence_stream://50", "", "\\\\d+", "x2") .. "]")')
    daemon.result(name, "go")
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 9#")
    daemon.go(name, "d")
    time.sleep(0.3)
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 12#")
    assert daemon.result(name, "r") == "12"
    assert daemon.result(name, "v") == "12"
    assert daemon.result(name, "inv") == "9"
    assert daemon.result(name, "none") == "[]"


def test_4_2_playAndGetDigits_transfer_on_failure(call, daemon):
    """§4.2 playAndGetDigits with xfer_on_fail transfers when tries are exhausted."""
    name, a, b = call('session:playAndGetDigits(1, 1, 1, 200, "#", "silence_stream://50", "", "\\\\d", "v", 0, "xfer-target XML c") '
                      'R("ready", session:ready())')
    assert daemon.result(name, "ready") == "false"
    assert wait_until(lambda: daemon.sw.api_execute(f"uuid_getvar {b} reached_xfer") == "1")


def test_4_2_collectDigits_feeds_callback(call, daemon):
    """§4.2 collectDigits(abs) / collectDigits(digit, abs): feeds DTMF to the input callback
    until it returns non-success, a timeout or hangup; without a callback returns at once;
    0, or -1 if inv."""
    name, a, b = call('session:answer() R("nocb", session:collectDigits(5000)) '
                      'got = "" function cb(s, t, o) got = got .. o.digit if o.digit == "#" then return "done" end end '
                      'session:setInputCallback("cb") R("go", 1) W("d") R("r", session:collectDigits(3000, 10000)) R("got", got) '
                      'local t0 = tonumber(freeswitch.API():getTime()) session:collectDigits(300) '
                      'R("ms", tonumber(freeswitch.API():getTime()) - t0) R("inv", freeswitch.Session():collectDigits(1))')
    assert daemon.result(name, "nocb") == "0"
    daemon.result(name, "go")
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 12#3")
    daemon.go(name, "d")
    assert daemon.result(name, "r") == "0"
    assert daemon.result(name, "got") == "12#"
    assert 250 <= int(daemon.result(name, "ms")) < 1500
    assert daemon.result(name, "inv") == "-1"


def test_4_2_recordFile_records_other_leg_audio(call, daemon):
    """§4.2 recordFile(path, max_secs): records what the far end sends (here the A leg plays
    a generated 1 kHz WAV) until the time limit; returns 1 for a normal end."""
    import numpy as np

    path = str(daemon.root / "rec_4_2.wav")
    name, a, b = call(f'session:answer() R("go", 1) W("play") R("r", session:recordFile("{path}", 2)) '
                      f'R("sh", session:getVariable("silence_hits_exhausted"))')
    daemon.result(name, "go")
    daemon.sw.api_execute(f"uuid_broadcast {a} {daemon.wav2} aleg")
    daemon.go(name, "play")
    assert daemon.result(name, "r", timeout=8) == "1"
    assert daemon.result(name, "sh") == "false"
    data, rate = sf.read(path, dtype="int16")
    assert 1.8 <= len(data) / rate <= 2.4
    spec = np.abs(np.fft.rfft(data.astype(float)))
    freqs = np.fft.rfftfreq(len(data), 1 / rate)
    assert abs(freqs[int(np.argmax(spec))] - 500) < 20  # tone2s.wav is 500 Hz


def test_4_2_recordFile_silence_and_callback_break(call, daemon):
    """§4.2 recordFile: the silence threshold ends it (silence_hits_exhausted=true, 1; secs
    default 3 when thresh > 0 and secs = 0 — here 1 s given); a breaking callback gives 0."""
    p1, p2 = str(daemon.root / "rec_sil.wav"), str(daemon.root / "rec_brk.wav")
    name, a, b = call(f'session:answer() local t0 = tonumber(freeswitch.API():getTime()) '
                      f'R("r", session:recordFile("{p1}", 10, 200, 1)) R("ms", tonumber(freeswitch.API():getTime()) - t0) '
                      f'R("sh", session:getVariable("silence_hits_exhausted")) '
                      f'function cb() return "break" end session:setInputCallback("cb") R("go", 1) '
                      f'R("r2", session:recordFile("{p2}", 10))')
    assert daemon.result(name, "r", timeout=8) == "1"
    assert daemon.result(name, "sh") == "true"
    assert 800 <= int(daemon.result(name, "ms")) < 3000
    daemon.result(name, "go")
    time.sleep(0.2)
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 5")
    assert daemon.result(name, "r2") == "0"


def test_4_2_insertFile_splices_at_sample(call, daemon, tmp_path, make_wav):
    """§4.2 insertFile(orig, insert, sample_pos): splices `insert` into `orig` at a sample
    offset at the session's rate; orig is rewritten; 1, 0 on failure, -1 if inv."""
    import numpy as np

    orig = make_wav(tmp_path / "orig.wav", 1.0, freq=500)
    ins = make_wav(tmp_path / "ins.wav", 0.5, freq=2000)
    name, a, b = call(f'session:answer() R("r", session:insertFile("{orig}", "{ins}", 4000)) '
                      f'R("bad", session:insertFile("{orig}", "/nonexistent.wav", 0)) '
                      f'R("inv", freeswitch.Session():insertFile("a", "b", 0))')
    assert daemon.result(name, "r") == "1"
    assert daemon.result(name, "bad") == "0"
    assert daemon.result(name, "inv") == "-1"
    data, rate = sf.read(orig, dtype="int16")
    assert rate == 8000 and abs(len(data) - 12000) <= 160

    def peak(seg):
        spec = np.abs(np.fft.rfft(seg.astype(float)))
        return np.fft.rfftfreq(len(seg), 1 / 8000)[int(np.argmax(spec))]

    assert abs(peak(data[:4000]) - 500) < 30
    assert abs(peak(data[4200:7800]) - 2000) < 30
    assert abs(peak(data[8200:]) - 500) < 30


def test_4_2_transfer_script_keeps_running(call, daemon):
    """§4.2 transfer(ext [, dialplan [, context]]): 1; the script keeps running with ready()
    false; a hangup hook fires with "transfer"."""
    name, a, b = call('function h(s, w) R("hook", w) end session:setHangupHook("h") '
                      'R("r", session:transfer("xfer-target", "XML", "c")) R("ready", session:ready()) R("after", 1) '
                      'R("inv", freeswitch.Session():transfer("x"))')
    assert daemon.result(name, "r") == "1"
    assert daemon.result(name, "ready") == "false"
    assert daemon.result(name, "after") == "1"
    assert daemon.result(name, "hook") == "transfer"
    assert daemon.result(name, "inv") == "-1"
    assert wait_until(lambda: daemon.sw.api_execute(f"uuid_getvar {b} reached_xfer") == "1")


def test_4_2_setAutoHangup_zero_and_hangs_up_on_destroy(daemon):
    """§4.2 setAutoHangup(bool): 0 on success (-1 if inv); a session with S_HUP is hung up
    NORMAL_CLEARING on destroy, one without is not."""
    name = daemon.script('local s = freeswitch.Session("loopback/answer/c") local k = freeswitch.Session("loopback/answer/c") '
                         'R("r", k:setAutoHangup(false)) R("inv", freeswitch.Session():setAutoHangup(true)) '
                         'R("s", s:get_uuid()) R("k", k:get_uuid()) s:destroy() R("s_up", s:ready())')
    daemon.sw.api_execute("lua", f"{name}.lua")
    assert daemon.result(name, "r") == "0" and daemon.result(name, "inv") == "-1"
    s, k = daemon.result(name, "s"), daemon.result(name, "k")
    assert wait_until(lambda: s not in daemon.sw.sessions, 3)
    time.sleep(0.2)
    assert k in daemon.sw.sessions and daemon.sw.sessions[k].up()


def test_4_2_setHangupHook_row(call, daemon):
    """§4.2 setHangupHook(funcname [, argname]) — see §4.4 (test_s04_hooks_callbacks.py);
    here: the hook named by the method runs on hangup."""
    name, a, b = call('function hh(s, w) R("w", w) end session:setHangupHook("hh") session:answer() '
                      'session:hangup() R("x", session:getVariable("lua_hangup_hook_return_val") or "none")')
    assert daemon.result(name, "w") == "hangup"


def test_4_2_setInputCallback_unsetInputCallback(call, daemon):
    """§4.2 setInputCallback / unsetInputCallback — see §4.5; unset stops the callback."""
    name, a, b = call('session:answer() function cb(s, t, o) R("cb", o.digit) return "break" end '
                      'session:setInputCallback("cb") session:unsetInputCallback() R("go", 1) W("d") '
                      'session:sleep(300) R("left", session:getDigits(1, "", 10))')
    daemon.result(name, "go")
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 3")
    daemon.go(name, "d")
    assert daemon.result(name, "left") == "3"
    assert daemon.sw.globals.get(f"{name}_cb") is None


def test_4_2_flushDigits_and_flushEvents(call, daemon):
    """§4.2 flushDigits() / flushEvents(): 0; empty the DTMF queue / the session's events."""
    name, a, b = call('session:answer() R("go", 1) W("d") R("fd", session:flushDigits()) '
                      'R("after", "[" .. session:getDigits(1, "", 50) .. "]") '
                      'session:sendEvent(freeswitch.Event("CUSTOM", "c42::flush")) R("fe", session:flushEvents()) '
                      'function cb(s, t) R("cb", t) end session:setInputCallback("cb") session:sleep(150) R("done", 1)')
    daemon.result(name, "go")
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 55")
    daemon.go(name, "d")
    assert daemon.result(name, "fd") == "0" and daemon.result(name, "after") == "[]"
    assert daemon.result(name, "fe") == "0" and daemon.result(name, "done") == "1"
    assert daemon.sw.globals.get(f"{name}_cb") is None


def test_4_2_sendEvent_queues_a_copy(call, daemon):
    """§4.2 sendEvent(ev): queues a copy to the session; the callback sees type "event"."""
    name, a, b = call('session:answer() local e = freeswitch.Event("CUSTOM", "c42::send") e:addHeader("k", "v1") '
                      'function cb(s, t, o) R("cb", t .. "|" .. o:getHeader("k")) return "break" end '
                      'session:setInputCallback("cb") session:sendEvent(e) e:addHeader("k2", "later") '
                      'session:sleep(3000) R("mine", e:getHeader("k"))')
    assert daemon.result(name, "cb") == "event|v1"
    assert daemon.result(name, "mine") == "v1"


def test_4_2_setEventData(call, daemon):
    """§4.2 setEventData(ev): adds Channel-*, Caller-* and variable_* headers."""
    name, a, b = call('session:setVariable("c42_ed", "yes") local e = freeswitch.Event("CUSTOM", "c42::ed") '
                      'session:setEventData(e) R("r", e:getHeader("Unique-ID") .. "|" .. e:getHeader("Channel-State") '
                      '.. "|" .. e:getHeader("Caller-Destination-Number") .. "|" .. e:getHeader("variable_c42_ed"))')
    assert daemon.result(name, "r") == f"{b}|CS_EXECUTE|run-{name}|yes"


def test_4_2_getXMLCDR(call, daemon):
    """§4.2 getXMLCDR(): the XML CDR text (fsd: the channel's variables; docs/compat.md)."""
    name, a, b = call('session:setVariable("c42_cdr", "val<1>") R("x", session:getXMLCDR())')
    x = daemon.result(name, "x")
    assert x.startswith("<?xml") and "<c42_cdr>val&lt;1&gt;</c42_cdr>" in x


def test_4_2_waitForAnswer(call, daemon, logs):
    """§4.2 waitForAnswer(other): waits for this leg to answer."""
    name, a, b = call('local leg = freeswitch.Session("loopback/answer/c") local t0 = os.time() '
                      'leg:waitForAnswer(session) R("ans", leg:answered()) freeswitch.Session():waitForAnswer(session) R("done", 1)')
    assert daemon.result(name, "ans") == "true" and daemon.result(name, "done") == "1"
    assert has_log(logs, NOT_INIT)


def test_4_2_originate_deprecated(daemon, logs):
    """§4.2 originate(aleg, dest, timeout): 0 on success, 1 on failure; 0 with "Missing
    destination." when dest is empty; exactly 3 arguments."""
    name = daemon.script('local s = freeswitch.Session() R("ok", s:originate(nil, "loopback/answer/c", 10)) R("up", s:ready()) '
                         'R("fail", freeswitch.Session():originate(nil, "loopback/busy/c", 10)) '
                         'R("empty", freeswitch.Session():originate(nil, "", 10)) '
                         'local ok, e = pcall(function() freeswitch.Session():originate(nil, "x") end) R("e", e)')
    daemon.sw.api_execute("lua", f"{name}.lua")
    assert daemon.result(name, "ok") == "0" and daemon.result(name, "up") == "true"
    assert daemon.result(name, "fail") == "1"
    assert daemon.result(name, "empty") == "0" and has_log(logs, "Missing destination.")
    assert "expected 4..4 args, got 3" in daemon.result(name, "e")


def test_4_2_destroy_with_message_raises(call, daemon):
    """§4.2 destroy([errmsg]): unlinks the object (unallocated after), hangs up if S_HUP,
    and with a message raises a Lua error with it."""
    name, a, b = call('local leg = freeswitch.Session("loopback/answer/c") R("leg", leg:get_uuid()) leg:destroy() '
                      'R("alloc", leg.allocated) local ok, e = pcall(function() session:destroy("bye now") end) '
                      'R("e", e) R("own_alloc", session.allocated)')
    leg = daemon.result(name, "leg")
    assert daemon.result(name, "alloc") == "0"
    assert wait_until(lambda: leg not in daemon.sw.sessions, 3)
    assert daemon.result(name, "e") == "bye now"
    assert daemon.result(name, "own_alloc") == "0"
    assert daemon.session(b) is not None  # own session: no S_HUP, not hung up


def test_4_2_session_consoleLog_tagged_with_uuid(call, daemon, logs):
    """§4.2 consoleLog(level, msg) / consoleLog2(...): like freeswitch.consoleLog, tagged
    with the session UUID."""
    name, a, b = call('session:consoleLog("info", "c42-slog") session:consoleLog2("err", "f.lua", "fn", 3, "c42-slog2") R("d", 1)')
    daemon.result(name, "d")
    r = [x for x in logs if "c42-slog" in x.text]
    assert r[0].uuid == b and r[1].level == ERR and r[1].file == "f.lua"


def test_4_2_detectSpeech_playAndDetectSpeech_print(call, daemon, logs):
    """§4.2 detectSpeech / playAndDetectSpeech / print: fsd has no ASR or real-time text
    engine (docs/compat.md): they log that; playAndDetectSpeech still plays and returns nil."""
    name, a, b = call(f'session:answer() session:detectSpeech("init", "x", "y", "z") '
                      f'local t0 = tonumber(freeswitch.API():getTime()) '
                      f'R("p", tostring(session:playAndDetectSpeech("{daemon.wav}", "e", "g"))) '
                      f'R("ms", tonumber(freeswitch.API():getTime()) - t0) R("pr", session:print("hello"))')
    assert daemon.result(name, "p") == "nil"
    assert int(daemon.result(name, "ms")) >= 900
    assert daemon.result(name, "pr") in ("0", "1")
    assert has_log(logs, "speech recognition") and has_log(logs, "real-time text")


def test_4_2_internal_methods_exposed(call, daemon):
    """§4.2 setPrivate/getPrivate, process_callback_result, get_cb_args,
    begin/end_allow_threads, check_hangup_hook, run_dtmf_callback, setDTMFCallback, setLUA
    exist (internal; not meant for scripts)."""
    name, a, b = call('local t = {} for _, m in ipairs({"setPrivate","getPrivate","process_callback_result","get_cb_args",'
                      '"begin_allow_threads","end_allow_threads","check_hangup_hook","run_dtmf_callback","setDTMFCallback",'
                      '"setLUA"}) do t[#t+1] = type(session[m]) end R("t", table.concat(t, ","))')
    assert daemon.result(name, "t") == ",".join(["function"] * 10)


def test_4_2_attributes(call, daemon):
    """§4.2 attributes: uuid, cause (number), hook_state, allocated, flags, tts_name,
    voice_name, cb_function, cb_arg, hangup_func_str, hangup_func_arg."""
    name, a, b = call('function f() end session:setHangupHook("f", "arg1") session:setInputCallback("f", "arg2") '
                      'R("a", session.uuid .. "|" .. math.type(session.cause) .. "|" .. session.allocated .. "|" .. session.flags '
                      '.. "|" .. session.cb_function .. "|" .. session.cb_arg .. "|" .. session.hangup_func_str .. "|" '
                      '.. session.hangup_func_arg .. "|" .. math.type(session.hook_state) .. "|" .. tostring(session.tts_name))')
    assert daemon.result(name, "a") == f"{b}|integer|1|0|f|arg2|f|arg1|integer|nil"


# -- §4.3 Lifetime ---------------------------------------------------------------------------
def test_4_3_script_end_destroys_sessions(call, daemon):
    """§4.3 At script end every Session object is destroyed: originated legs still up are
    hung up (NORMAL_CLEARING) unless setAutoHangup(false); the script's own session is left
    alone."""
    name, a, b = call('session:answer() local x = freeswitch.Session("loopback/answer/c") '
                      'local y = freeswitch.Session("loopback/answer/c") y:setAutoHangup(false) '
                      'R("x", x:get_uuid()) R("y", y:get_uuid())')
    x, y = daemon.result(name, "x"), daemon.result(name, "y")
    assert wait_until(lambda: x not in daemon.sw.sessions, 3)
    time.sleep(0.2)
    assert y in daemon.sw.sessions and daemon.sw.sessions[y].up()
    assert wait_until(lambda: daemon.sw.api_execute(f"uuid_getvar {b} after_lua") == "1")
    assert daemon.session(b).up()
