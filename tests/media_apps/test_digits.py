"""read and play_and_get_digits in the dialplan, digits injected with uuid_recv_dtmf."""

from __future__ import annotations

import time


def _run(sw, events, h, var, args, digits="", app="read", dest="read"):
    a = h.originate(sw, f"{{{var}='{args}'}}loopback/{dest}/m &park()")
    b = h.b_leg(sw, a)
    events.wait("CHANNEL_EXECUTE", b, Application=app)
    if digits:
        assert sw.api_execute(f"uuid_recv_dtmf {b} {digits}") == "+OK Success\n"
    done = events.wait("CHANNEL_EXECUTE_COMPLETE", b, Application=app, timeout=10)[0]
    return a, b, done


def v(ev, name):
    return ev.get_header(f"variable_{name}")


def test_read_with_terminator(sw, events, h):
    a, b, done = _run(sw, events, h, "rd_args", "1 4 silence myvar 3000 #", "12#")
    assert v(done, "myvar") == "12"
    assert v(done, "read_result") == "success"
    assert v(done, "read_terminator_used") == "#"
    sw.api_execute(f"uuid_kill {a}")


def test_read_stops_at_max_digits_and_keeps_the_rest_queued(sw, events, h):
    a, b, done = _run(sw, events, h, "rd_args", "1 3 silence myvar 3000 #", "98765")
    assert v(done, "myvar") == "987"
    assert v(done, "read_result") == "success"
    assert v(done, "read_terminator_used") is None
    # 6 and 5 stayed queued; park then takes them (each fires its DTMF event)
    events.wait("DTMF", b, DTMF_Digit="5")
    assert [e.get_header("DTMF-Digit") for e in events.of("DTMF", b)] == list("98765")
    sw.api_execute(f"uuid_kill {a}")


def test_read_timeout_with_enough_digits_is_timeout(sw, events, h):
    t0 = time.time()
    a, b, done = _run(sw, events, h, "rd_args", "1 4 silence myvar 1000 #", "12")
    assert 0.9 < time.time() - t0 < 4
    assert v(done, "read_result") == "timeout"
    assert v(done, "myvar") == "12"
    sw.api_execute(f"uuid_kill {a}")


def test_read_nothing_entered_is_failure_and_no_variable(sw, events, h):
    # switch_ivr_read: fewer than min digits (here none) is TOO_SMALL -> "failure"
    a, b, done = _run(sw, events, h, "rd_args", "1 4 silence myvar 1000 #")
    assert v(done, "read_result") == "failure"
    assert v(done, "myvar") is None
    sw.api_execute(f"uuid_kill {a}")


def test_read_too_few_digits_is_failure_but_digits_are_kept(sw, events, h):
    a, b, done = _run(sw, events, h, "rd_args", "3 5 silence myvar 2000 #", "4#")
    assert v(done, "read_result") == "failure"
    assert v(done, "myvar") == "4"
    sw.api_execute(f"uuid_kill {a}")


def test_read_digit_breaks_the_prompt_and_counts(sw, events, h, tmp_path):
    prompt = h.write_wav(tmp_path / "p.wav", h.tone(400, 6.0))
    a = h.originate(sw, f"{{rd_args='1 4 {prompt} myvar 3000 #'}}loopback/read/m &park()")
    b = h.b_leg(sw, a)
    events.wait("PLAYBACK_START", b)
    t0 = time.time()
    sw.api_execute(f"uuid_recv_dtmf {b} 5")
    stop = events.wait("PLAYBACK_STOP", b)
    assert time.time() - t0 < 2 and stop[0].get_header("Playback-Status") == "break"
    sw.api_execute(f"uuid_recv_dtmf {b} 6#")
    done = events.wait("CHANNEL_EXECUTE_COMPLETE", b, Application="read")[0]
    assert v(done, "myvar") == "56"
    sw.api_execute(f"uuid_kill {a}")


def test_read_bad_arguments_use_freeswitch_defaults(sw, events, h):
    # min 0 -> 1, timeout 5 -> 1000 ms, no terminators -> "#"
    a, b, done = _run(sw, events, h, "rd_args", "0 2 silence myvar 5", "7#")
    assert v(done, "myvar") == "7"
    assert v(done, "read_terminator_used") == "#"
    sw.api_execute(f"uuid_kill {a}")


PAGD = "2 4 3 1000 # silence_stream://50 silence_stream://50 pv ^\\d{3}$"


def test_pagd_invalid_input_then_valid(sw, events, h):
    a, b, done = _run(sw, events, h, "pagd_args", PAGD, "12#345#", "play_and_get_digits", "pagd")
    assert v(done, "pv") == "345"
    assert v(done, "pv_invalid") == "12"
    assert v(done, "read_result") == "success"
    sw.api_execute(f"uuid_kill {a}")


def test_pagd_regex_with_flags_and_digit_timeout(sw, events, h):
    args = "1 4 2 3000 # silence_stream://50 silence_stream://50 pv /^[0-9]+$/i 500"
    t0 = time.time()
    a, b, done = _run(sw, events, h, "pagd_args", args, "42", "play_and_get_digits", "pagd")
    assert time.time() - t0 < 2.5  # the 500 ms digit timeout ended it, not the 3 s one
    assert v(done, "pv") == "42"
    sw.api_execute(f"uuid_kill {a}")


def test_pagd_failure_transfers(sw, events, h):
    args = "2 4 2 1000 # silence_stream://50 silence_stream://50 pv ^\\d+$ 0 failed"
    t0 = time.time()
    a = h.originate(sw, f"{{pagd_args='{args}'}}loopback/pagd/m &park()")
    b = h.b_leg(sw, a)
    assert h.wait_until(lambda: h.getvar(sw, b, "landed") == "failed", 8)
    assert time.time() - t0 > 1.8  # two tries of 1 s each
    assert h.getvar(sw, b, "pagd_done") == "_undef_"  # the transfer left the extension
    assert h.getvar(sw, b, "pv") == "_undef_"
    sw.api_execute(f"uuid_kill {a}")


def test_pagd_min_zero_terminator_only_is_success(sw, events, h):
    args = "0 4 3 1000 # silence_stream://50 silence_stream://50 pv ^\\d+$"
    a, b, done = _run(sw, events, h, "pagd_args", args, "#", "play_and_get_digits", "pagd")
    assert v(done, "read_terminator_used") == "#"
    assert v(done, "pv") is None
    assert sw.api_execute(f"uuid_getvar {b} pagd_done") == "1"
    sw.api_execute(f"uuid_kill {a}")


def test_pagd_too_few_arguments_is_an_error_call_goes_on(sw, events, h):
    a, b, done = _run(sw, events, h, "pagd_args", "1 2 3", "", "play_and_get_digits", "pagd")
    assert h.wait_until(lambda: h.getvar(sw, b, "pagd_done") == "1")
    log = open(f"{sw.dirs.log}/fsd.log").read()
    assert "play_and_get_digits: usage" in log
    sw.api_execute(f"uuid_kill {a}")


def test_dtmf_while_parked_fires_events_in_order(sw, events, h):
    a = h.originate(sw, "{pfile=silence_stream://10}loopback/play/m &park()")
    b = h.b_leg(sw, a)
    assert h.wait_until(lambda: h.getvar(sw, b, "after_play") == "FILE PLAYED")
    sw.api_execute(f"uuid_recv_dtmf {b} 1*9")
    events.wait("DTMF", b, DTMF_Digit="9")
    assert [e.get_header("DTMF-Digit") for e in events.of("DTMF", b)] == ["1", "*", "9"]
    assert not sw.sessions[b].media.has_dtmf()
    sw.api_execute(f"uuid_kill {a}")
