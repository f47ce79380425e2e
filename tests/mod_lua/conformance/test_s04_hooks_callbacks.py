"""Behaviour reference §4.4 (hangup hook) and §4.5 (input callback, its return values and
the file-handle commands), on loopback calls of the running daemon; DTMF is injected with
uuid_recv_dtmf (by the test, or by the script itself through the API, so that a digit is
waiting when playback starts)."""

from __future__ import annotations

import time

import numpy as np
import soundfile as sf

from fsd.log import ERR
from fsd.testing import wait_until

# a script line queueing DTMF to its own channel before the next media call
QUEUE = 'local function Q(d) freeswitch.API():execute("uuid_recv_dtmf", session:get_uuid() .. " " .. d) end '
CLOCK = 'local function T() return tonumber(freeswitch.API():getTime()) end '


def errs(logs):
    return [r.text for r in logs if r.level <= ERR]


# -- §4.4 hangup hook -------------------------------------------------------------------------
def test_4_4_setHangupHook_takes_names_function_value_rejected(call, daemon):
    """§4.4 setHangupHook(funcname [, argname]) takes global names; a Lua function value is
    rejected with an argument error."""
    name, a, b = call('local ok, e = pcall(function() session:setHangupHook(function() end) end) R("e", e)')
    assert "Error in Session::setHangupHook (arg 2), expected 'char *' got 'function'" in daemon.result(name, "e")


def test_4_4_fires_once_on_hangup_or_transfer(call, daemon):
    """§4.4 The watcher fires once, when the channel enters CS_HANGUP or CS_ROUTING
    (transfer)."""
    name, a, b = call('n = 0 function h(s, w) n = n + 1 R("w" .. n, w) end session:setHangupHook("h") '
                      'session:transfer("xfer-target", "XML", "c") session:ready() session:hangup() session:ready() '
                      'R("n", n)')
    assert daemon.result(name, "w1") == "transfer"
    assert daemon.result(name, "n") == "1"


def test_4_4_deferred_to_ready_or_blocking_call(call, daemon):
    """§4.4 The hook is deferred: it runs in the script's thread at the next ready() or
    blocking session method; a script that never touches the session never runs it."""
    name, a, b = call('function h(s, w) R("hook", w) end session:setHangupHook("h") session:answer() '
                      'R("go", 1) W("a") '
                      'session:sleep(10) R("after", 1)')
    name = name  # the hook global is <name>_hook
    daemon.result(name, "go")
    daemon.sw.api_execute(f"uuid_kill {a}")
    time.sleep(0.3)
    assert daemon.sw.globals.get(f"{name}_hook") is None  # not run asynchronously
    daemon.go(name, "a")
    assert daemon.result(name, "hook") == "hangup"
    never, a2, b2 = call('function h(s, w) R("hook", w) end session:setHangupHook("h") session:answer() '
                         'R("go", 1) W("a") R("end", 1)')
    daemon.result(never, "go")
    daemon.sw.api_execute(f"uuid_kill {a2}")
    time.sleep(0.2)
    daemon.go(never, "a")
    assert daemon.result(never, "end") == "1"
    time.sleep(0.1)
    assert daemon.sw.globals.get(f"{never}_hook") is None


def test_4_4_call_shape_session_is_uuid_global(call, daemon):
    """§4.4 Call shape func(session, "hangup"|"transfer" [, argvalue]); `session` is the
    object registered under the UUID global."""
    name, a, b = call('myarg = {k = "v"} function h(s, w, arg) R("same", s == _G[session:get_uuid()]) '
                      'R("w", w) R("arg", arg.k) end session:setHangupHook("h", "myarg") session:answer() session:hangup()')
    assert daemon.result(name, "same") == "true"
    assert daemon.result(name, "w") == "hangup" and daemon.result(name, "arg") == "v"


def test_4_4_return_value_stored_exit_die_raise(call, daemon, logs):
    """§4.4 The return value goes to lua_hangup_hook_return_val; "exit"/"die" (any case)
    raise a Lua error with that string from the method; errors in the hook are logged and
    the script continues."""
    name, a, b = call('function h() return 42 end session:setHangupHook("h") session:answer() session:hangup() '
                      'R("v", session:getVariable("lua_hangup_hook_return_val"))')
    assert daemon.result(name, "v") == "42"
    name, a, b = call('function h() return "DIE" end session:setHangupHook("h") session:answer() '
                      'local ok, e = pcall(session.hangup, session) R("e", e) session:hangup() R("x", 1)')
    assert daemon.result(name, "e") == "DIE"
    name, a, b = call('function h() return "exit" end session:setHangupHook("h") session:answer() session:hangup() R("never", 1)')
    assert wait_until(lambda: any("exit" in t and "stack traceback" in t for t in errs(logs)))
    assert daemon.sw.globals.get(f"{name}_never") is None
    name, a, b = call('function h() local x = nil; return x.y end session:setHangupHook("h") session:answer() '
                      'session:hangup() R("cont", 1)')
    assert daemon.result(name, "cont") == "1"
    assert any("attempt to index" in t for t in errs(logs))


def test_4_4_at_most_once_per_object(call, daemon):
    """§4.4 The hook runs at most once per Session object; setHangupHook again on the same
    object never fires again."""
    name, a, b = call('n = 0 function h() n = n + 1 end session:setHangupHook("h") session:answer() session:hangup() '
                      'session:ready() session:setHangupHook("h") session:ready() session:sleep(10) R("n", n)')
    assert daemon.result(name, "n") == "1"


def test_4_4_missing_arg_global_is_nil(call, daemon):
    """§4.4 If argname names a global that does not exist, the callback gets nil there (the
    input callback too)."""
    name, a, b = call(QUEUE + 'function h(s, w, arg) R("h", type(arg)) end session:setHangupHook("h", "no_such_global") '
                      'function cb(s, t, o, arg) R("c", type(arg)) return "break" end session:setInputCallback("cb", "nope") '
                      'session:answer() Q("1") session:sleep(2000) session:hangup()')
    assert daemon.result(name, "c") == "nil"
    assert daemon.result(name, "h") == "nil"


def test_4_4_error_in_hook_only_aborts_hook(call, daemon, logs):
    """§4.4 The wiki's error() inside the hook only aborts the hook (logged), not the
    script; return "exit" is the way to stop it."""
    name, a, b = call('function h() error("hook failed on purpose") end session:setHangupHook("h") session:answer() '
                      'session:hangup() R("still", "running")')
    assert daemon.result(name, "still") == "running"
    assert any("hook failed on purpose" in t for t in errs(logs))


# -- §4.5 input callback ----------------------------------------------------------------------
def test_4_5_setInputCallback_names_and_which_methods_use_it(call, daemon):
    """§4.5 setInputCallback(funcname [, argname]) takes global names; used by streamFile,
    recordFile, sleep, say, sayPhrase, speak, collectDigits; NOT by execute, getDigits,
    read, playAndGetDigits."""
    rec = str(daemon.root / "cb_rec.wav")
    name, a, b = call(QUEUE + f'seen = {{}} function cb(s, t, o) seen[#seen+1] = o.digit return "break" end '
                      f'session:answer() session:setInputCallback("cb") '
                      f'Q("1") session:streamFile("{daemon.wav}") Q("2") session:sleep(2000) '
                      f'Q("3") session:recordFile("{rec}", 3) Q("4") session:collectDigits(2000) '
                      f'Q("5") session:execute("sleep", "300") local g = session:getDigits(1, "", 500) '
                      f'Q("6") local r = session:read(1, 1, "silence", 500, "") '
                      f'Q("7") local p = session:playAndGetDigits(1, 1, 1, 500, "", "silence_stream://50", "", "\\\\d") '
                      f'R("seen", table.concat(seen)) R("taken", g .. r .. p)')
    assert daemon.result(name, "seen", timeout=10) == "1234"
    assert daemon.result(name, "taken") == "567"


def test_4_5_dtmf_call_shape(call, daemon):
    """§4.5 DTMF case: func(session, "dtmf", {digit="5", duration=<samples>} [, argvalue])."""
    name, a, b = call(QUEUE + 'xarg = "the-arg" function cb(s, t, o, arg) R("shape", tostring(s == session) .. "|" .. t .. "|" '
                      '.. o.digit .. "|" .. math.type(o.duration) .. "|" .. tostring(o.duration > 0) .. "|" .. arg) return "break" end '
                      'session:answer() session:setInputCallback("cb", "xarg") Q("5") session:sleep(2000)')
    assert daemon.result(name, "shape") == "true|dtmf|5|integer|true|the-arg"


def test_4_5_event_call_shape(call, daemon):
    """§4.5 Event case: func(session, "event", <Event> [, argvalue]) for events queued to the
    session (sendEvent, or what ESL sendevent with its Unique-ID queues)."""
    from fsd.events import Event

    name, a, b = call('function cb(s, t, o, arg) R("e" .. o:getHeader("n"), t .. "|" .. o:getType() .. "|" .. tostring(arg)) '
                      'if o:getHeader("n") == "2" then return "break" end end session:answer() session:setInputCallback("cb") '
                      'local e = freeswitch.Event("CUSTOM", "c45::ev") e:addHeader("n", "1") session:sendEvent(e) '
                      'R("go", 1) session:sleep(5000) R("done", 1)')
    daemon.result(name, "go")
    ev = Event("CUSTOM", "c45::external")
    ev.add_header("n", "2")
    daemon.session(b).queue_event(ev)
    assert daemon.result(name, "e1") == "event|CUSTOM|nil"
    assert daemon.result(name, "e2") == "event|CUSTOM|nil"
    assert daemon.result(name, "done") == "1"


def test_4_5_return_values_continue_or_stop(call, daemon):
    """§4.5 Return value: nil, true, false, "" continue; "true"/"undefined" continue; any
    other string or number (e.g. "break", "false", 0) stops; an error stops."""
    results = {}
    cases = {"nil": "nil", "true": "true", "false": "false", '""': "''", '"true"': '"true"',
             '"undefined"': '"undefined"', '"break"': '"break"', '"false"': '"false"', "0": "0",
             "error": 'error("x")'}
    for key, ret in cases.items():
        name, a, b = call(QUEUE + CLOCK + f'function cb() return {ret} end session:answer() session:setInputCallback("cb") '
                          'Q("1") local t0 = T() session:sleep(400) R("ms", T() - t0)')
        results[key] = int(daemon.result(name, "ms"))
    cont = [k for k, v in results.items() if v >= 380]
    stop = [k for k, v in results.items() if v < 250]
    assert sorted(cont) == sorted(["nil", "true", "false", '""', '"true"', '"undefined"']), results
    assert sorted(stop) == sorted(['"break"', '"false"', "0", "error"]), results


def test_4_5_wiki_vs_source_false_string_and_boolean(call, daemon):
    """§4.5 [WIKI≠SRC] "false" (string) stops; boolean false continues; "undefined"
    continues."""
    name, a, b = call(QUEUE + CLOCK + 'function cb(s, t, o) if o.digit == "1" then return false end return "false" end '
                      'session:answer() session:setInputCallback("cb") Q("1") local t0 = T() session:sleep(600) R("bool", T() - t0) '
                      'Q("2") t0 = T() session:sleep(3000) R("str", T() - t0)')
    assert int(daemon.result(name, "bool")) >= 550
    assert int(daemon.result(name, "str")) < 1500


# -- §4.5 file-handle commands during streamFile / recordFile ------------------------------------
def _timed_stream(call, daemon, ret: str, wav: str, pre: str = "1") -> int:
    name, a, b = call(QUEUE + CLOCK + f'function cb(s, t, o) return {ret} end session:answer() '
                      f'session:setInputCallback("cb") Q("{pre}") local t0 = T() R("r", session:streamFile("{wav}")) '
                      'R("ms", T() - t0)')
    assert daemon.result(name, "r", timeout=8) == "1"
    return int(daemon.result(name, "ms"))


def test_4_5_fh_seek(call, daemon):
    """§4.5 seek:+MS / seek:MS move playback (continue); seek without colon continues."""
    assert _timed_stream(call, daemon, '"seek:+1000"', daemon.wav2) < 1500
    assert _timed_stream(call, daemon, '"seek:1500"', daemon.wav2) < 1000
    assert _timed_stream(call, daemon, '"SEEK"', daemon.wav) >= 900


def test_4_5_fh_speed(call, daemon):
    """§4.5 speed:N / speed:+N step playback speed and continue; `speed` without a colon
    stops."""
    assert _timed_stream(call, daemon, '"speed:+4"', daemon.wav2) < 1600
    assert _timed_stream(call, daemon, '"speed"', daemon.wav2) < 500


def test_4_5_fh_volume_changes_the_far_end_audio(call, daemon):
    """§4.5 volume:N / volume:-N change the volume and continue; `volume` without a colon
    stops.  Observed in a recording of the far end (the A leg records what B plays)."""
    def rms_of(ret: str, tag: str) -> float:
        path = str(daemon.root / f"vol_{tag}.wav")
        name, a, b = call(QUEUE + CLOCK + f'function cb() return {ret} end session:answer() session:setInputCallback("cb") '
                          f'Q("1") local t0 = T() session:streamFile("{daemon.wav}") R("ms", T() - t0) session:sleep(200)',
                          a_app=f"record({path} 2)")
        ms = int(daemon.result(name, "ms", timeout=8))
        daemon.sw.api_execute(f"uuid_kill {b}")
        assert wait_until(lambda: a not in daemon.sw.sessions, 5)
        data, _ = sf.read(path, dtype="int16")
        loud = data[np.abs(data) > 50].astype(float)
        return float(np.sqrt(np.mean(loud ** 2))) if len(loud) else 0.0, ms

    normal, ms1 = rms_of('""', "n")
    quiet, ms2 = rms_of('"volume:-4"', "q")
    assert ms1 >= 900 and ms2 >= 900
    assert normal > 3000 and quiet < normal * 0.6, (normal, quiet)
    _, ms3 = rms_of('"volume"', "s")
    assert ms3 < 500


def test_4_5_fh_pause_toggles(call, daemon):
    """§4.5 pause toggles pause and continues: playback lasts as long as it was paused
    longer."""
    name, a, b = call(QUEUE + CLOCK + 'function cb() return "pause" end session:answer() session:setInputCallback("cb") '
                      f'Q("1") R("go", 1) local t0 = T() session:streamFile("{daemon.wav}") R("ms", T() - t0)')
    daemon.result(name, "go")
    time.sleep(0.8)
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 2")
    assert int(daemon.result(name, "ms")) >= 1600


def test_4_5_fh_restart(call, daemon):
    """§4.5 restart seeks to 0, resets speed and continues."""
    name, a, b = call(CLOCK + 'function cb() return "restart" end session:answer() session:setInputCallback("cb") '
                      f'R("go", 1) local t0 = T() session:streamFile("{daemon.wav}") R("ms", T() - t0)')
    daemon.result(name, "go")
    time.sleep(0.6)
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 1")
    assert int(daemon.result(name, "ms")) >= 1400


def test_4_5_fh_stop(call, daemon):
    """§4.5 stop marks the file done and stops."""
    assert _timed_stream(call, daemon, '"stop"', daemon.wav2) < 500


def test_4_5_fh_truncate_during_record_stops(call, daemon):
    """§4.5 truncate truncates the file being recorded, then stops (recordFile returns 0)."""
    path = str(daemon.root / "trunc.wav")
    name, a, b = call(CLOCK + f'function cb() return "truncate" end session:answer() session:setInputCallback("cb") '
                      f'R("go", 1) local t0 = T() R("r", session:recordFile("{path}", 5)) R("ms", T() - t0)')
    daemon.result(name, "go")
    daemon.sw.api_execute(f"uuid_broadcast {a} {daemon.wav2} aleg")
    time.sleep(0.8)
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 1")
    assert daemon.result(name, "r") == "0"
    assert int(daemon.result(name, "ms")) < 3000
    data, rate = sf.read(path, dtype="int16")
    assert len(data) < rate * 0.3


def test_4_5_fh_commands_without_file_handle_stop(call, daemon):
    """§4.5 If no file handle is open (sleep), any non-empty return — "pause" included —
    stops."""
    name, a, b = call(QUEUE + CLOCK + 'function cb() return "pause" end session:answer() session:setInputCallback("cb") '
                      'Q("1") local t0 = T() session:sleep(3000) R("ms", T() - t0)')
    assert int(daemon.result(name, "ms")) < 1500
