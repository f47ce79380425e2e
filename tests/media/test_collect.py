"""§4.2 getDigits / read / playAndGetDigits, with short timeouts (ms)."""

import threading
import time

import pytest

from fsd.media.collect import (
    DictVars,
    compile_fs_regex,
    get_digits,
    ivr_read,
    play_and_get_digits,
    regex_match,
    session_read,
)

PROMPT = "tone_stream://%(3000,0,440)"


def later(port, digits, delay):
    threading.Timer(delay, lambda: port.queue_dtmf(digits)).start()


def timed(fn, *a, **kw):
    t0 = time.monotonic()
    r = fn(*a, **kw)
    return r, time.monotonic() - t0


# ---------------------------------------------------------------- getDigits
def test_getdigits_no_input_returns_empty_after_timeout(make_port):
    p = make_port()
    (digits, term, status), dt = timed(get_digits, p, 4, "#", 300)
    assert digits == "" and term == "" and status == "timeout"
    assert 0.28 < dt < 0.8


def test_getdigits_terminator_not_included(make_port):
    p = make_port()
    p.queue_dtmf("12#3")
    digits, term, status = get_digits(p, 4, "#", 3000)
    assert (digits, term, status) == ("12", "#", "success")
    assert p.get_dtmf(0).digit == "3"  # what follows the terminator stays queued


def test_getdigits_returns_at_max_and_uses_earlier_digits(make_port):
    p = make_port()
    p.queue_dtmf("98765")
    (digits, _, status), dt = timed(get_digits, p, 3, "#", 5000)
    assert digits == "987" and status == "success" and dt < 0.3
    assert get_digits(p, 2, "", 100)[0] == "65"


def test_getdigits_first_and_interdigit_timeouts(make_port):
    p = make_port()
    later(p, "1", 0.15)
    (digits, _, status), dt = timed(get_digits, p, 5, "#", 1000, 200)
    assert digits == "1" and status == "timeout"
    assert 0.3 < dt < 0.8  # 150 ms for the digit, then 200 ms inter-digit


def test_getdigits_single_timeout_restarts_after_each_digit(make_port):
    p = make_port()
    later(p, "1", 0.2)
    later(p, "2", 0.4)
    (digits, _, _), dt = timed(get_digits, p, 5, "#", 300)
    assert digits == "12" and 0.65 < dt < 1.2


def test_getdigits_abstimeout_caps_total(make_port):
    p = make_port()
    for i in range(6):
        later(p, "5", 0.1 * (i + 1))
    (digits, _, status), dt = timed(get_digits, p, 10, "#", 0, 0, 350)
    assert status == "timeout" and 1 <= len(digits) <= 4 and 0.33 < dt < 0.8


def test_getdigits_max_zero_and_hangup(make_port):
    p = make_port()
    p.queue_dtmf("1")
    assert get_digits(p, 0, "#", 1000)[0] == ""
    assert p.has_dtmf()  # nothing was consumed
    threading.Timer(0.2, p.close).start()
    (digits, _, status), dt = timed(get_digits, p, 5, "#", 0)
    assert digits == "1" and status == "false" and dt < 1.0


# ---------------------------------------------------------------- read
def test_read_prompt_broken_by_digit_counts_as_input(make_port):
    p = make_port()
    v = DictVars()
    later(p, "5", 0.1)
    res, dt = timed(ivr_read, p, 1, 3, PROMPT, "x", 300, "#", 0, v)
    assert res.digits == "5" and dt < 1.0  # the 3 s prompt was cut short
    assert v.get("read_result") == "timeout" and v.get("x") == "5"


def test_read_terminator_sets_variables(make_port):
    p = make_port()
    v = DictVars()
    p.queue_dtmf("12#")
    res = ivr_read(p, 1, 5, "silence", "x", 1000, "#", 0, v)
    assert res.digits == "12"
    assert v.get("read_result") == "success" and v.get("read_terminator_used") == "#"


def test_read_required_terminator(make_port):
    p = make_port()
    v = DictVars()
    p.queue_dtmf("12")
    res = ivr_read(p, 1, 5, "", None, 200, "=#", 0, v)
    assert res.digits == "12" and res.status == "too_small"
    assert v.get("read_result") == "failure"


def test_read_plus_and_x_terminators_are_appended(make_port):
    p = make_port()
    v = DictVars()
    p.queue_dtmf("12#")
    res = ivr_read(p, 1, 5, "", None, 1000, "+#", 0, v)
    assert res.digits == "12#" and v.get("read_result") == "success"
    p.queue_dtmf("34*")
    res = ivr_read(p, 1, 5, "", None, 1000, "x*", 0, v)
    assert res.digits == "34*" and res.status == "restart" and v.get("read_result") == "failure"


def test_read_max_one_terminator_only_gives_empty(make_port):
    p = make_port()
    v = DictVars()
    p.queue_dtmf("#")
    res = ivr_read(p, 1, 1, PROMPT, "x", 1000, "#", 0, v)
    assert res.digits == "" and v.get("x") is None


def test_read_fewer_than_min_still_returns_digits(make_port):
    p = make_port()
    v = DictVars()
    p.queue_dtmf("1#")
    res = ivr_read(p, 3, 5, "", None, 1000, "#", 0, v)
    assert res.digits == "1" and v.get("read_result") == "failure"


def test_session_read_clamps_and_times_out(make_port):
    p = make_port()
    v = DictVars()
    digits, dt = timed(session_read, p, 0, 0, "", 0, "#", 0, v)
    # min/max/timeout raised to 1: a 1 ms wait, and no digit is fewer than min=1.
    assert digits == "" and dt < 0.5 and v.get("read_result") == "failure"


def test_read_missing_prompt_is_failure_not_crash(make_port, tmp_path):
    p = make_port()
    v = DictVars()
    res = ivr_read(p, 1, 2, str(tmp_path / "nope.wav"), None, 100, "#", 0, v)
    assert res.status == "false" and res.digits == ""
    assert get_digits(p, 1, "", 50)[2] == "timeout"  # port still works


# ---------------------------------------------------------------- playAndGetDigits
def test_pagd_accepts_matching_digits(make_port):
    p = make_port()
    v = DictVars()
    p.queue_dtmf("123#")
    r = play_and_get_digits(p, 1, 5, 3, 1000, "#", PROMPT, "", "dest", r"^\d{3}$", variables=v)
    assert r.status == "success" and r.digits == "123" and v.get("dest") == "123"


def test_pagd_invalid_then_valid(make_port):
    p = make_port()
    v = DictVars()
    p.queue_dtmf("12#345#")
    r = play_and_get_digits(
        p, 1, 5, 3, 500, "#", "silence", "silence_stream://40", "dest", "^3", variables=v
    )
    assert r.digits == "345" and v.get("dest") == "345" and v.get("dest_invalid") == "12"


def test_pagd_exhausted_tries_returns_empty_and_transfer(make_port):
    p = make_port()
    v = DictVars()
    (r, dt) = timed(
        play_and_get_digits, p, 1, 3, 2, 150, "#", "silence", "silence_stream://20",
        "dest", None, 0, "9999 XML default", v,
    )  # fmt: skip
    assert r.status == "false" and r.digits == ""
    assert r.transfer == ("9999", "XML", "default")
    assert 0.28 < dt < 1.2  # two empty tries


def test_pagd_min_zero_terminator_only_is_success(make_port):
    p = make_port()
    v = DictVars()
    p.queue_dtmf("#")
    r = play_and_get_digits(p, 0, 3, 3, 500, "#", "silence", "", "dest", None, variables=v)
    assert r.status == "success" and r.digits == ""


def test_pagd_timeout_with_min_digits_is_success(make_port):
    p = make_port()
    p.queue_dtmf("42")
    r = play_and_get_digits(p, 2, 4, 1, 200, "#", "silence", "", None, None)
    assert r.status == "success" and r.digits == "42"


def test_pagd_x_terminator_restarts(make_port):
    p = make_port()
    p.queue_dtmf("7*")
    r = play_and_get_digits(p, 1, 4, 3, 500, "x*", "silence", "", None, None)
    assert r.status == "restart" and r.digits == "7*"


@pytest.mark.parametrize(
    "text,expr,ok",
    [
        ("123", r"^\d+$", True),
        ("abc", "/ABC/i", True),
        ("abc", "/ABC/", False),
        ("a\nb", "/a.b/s", True),
        ("a\nb", "/a.b/", False),
        ("12", "(", False),  # invalid regex: no match, logged
    ],
)
def test_regex_forms(text, expr, ok):
    assert regex_match(text, expr) is ok


def test_regex_compile_plain_slash_is_literal():
    assert compile_fs_regex("/").search("a/b")
