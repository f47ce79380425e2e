"""The session-level functions mod_lua calls (fsd.session_media), run in the session's own
thread through a queued call while the channel is parked."""

from __future__ import annotations

import queue
import time

import numpy as np
import soundfile as sf

from fsd import session_media as sm
from fsd.events import Event


def _parked(sw, h):
    a = h.originate(sw, "{pfile=silence_stream://10}loopback/play/m &park()")
    b = h.b_leg(sw, a)
    assert h.wait_until(lambda: h.getvar(sw, b, "after_play") == "FILE PLAYED")
    return a, b, sw.sessions[b]


def _in_thread(session, fn, timeout=10):
    """Run fn(session) in the session's thread; return its result."""
    box: queue.Queue = queue.Queue()

    def call():
        try:
            box.put(("ok", fn(session)))
        except BaseException as exc:  # pragma: no cover - surfaced below
            box.put(("err", exc))

    session.queue_message(call)
    kind, value = box.get(timeout=timeout)
    if kind == "err":
        raise value
    return value


def _later(secs, fn):
    import threading

    t = threading.Timer(secs, fn)
    t.daemon = True
    t.start()


def test_stream_file_with_input_callback(sw, events, h, tmp_path):
    a, b, s = _parked(sw, h)
    src = h.write_wav(tmp_path / "long.wav", h.tone(400, 5.0))
    seen = []

    def cb(kind, obj):
        seen.append((kind, obj.digit if kind == "dtmf" else obj.name))
        return "break" if kind == "dtmf" and obj.digit == "5" else None

    _later(0.3, lambda: sw.api_execute(f"uuid_recv_dtmf {b} 3"))
    _later(0.6, lambda: sw.api_execute(f"uuid_recv_dtmf {b} 5"))
    t0 = time.time()
    res = _in_thread(s, lambda se: sm.stream_file(se, src, 0, cb))
    assert res.status == "break" and time.time() - t0 < 3
    assert seen == [("dtmf", "3"), ("dtmf", "5")]
    # without a callback digits stay queued (streamFile semantics)
    _later(0.2, lambda: sw.api_execute(f"uuid_recv_dtmf {b} 7"))
    short = h.write_wav(tmp_path / "short.wav", h.tone(400, 0.8))
    res = _in_thread(s, lambda se: (sm.stream_file(se, short), se.media.has_dtmf()))
    assert res[0].status == "done" and res[1] is True
    sw.api_execute(f"uuid_kill {a}")


def test_events_reach_the_callback_and_can_stop_sleep(sw, h):
    a, b, s = _parked(sw, h)
    got = []

    def cb(kind, obj):
        got.append(kind)
        return "stop-now" if kind == "event" else None

    ev = Event("CUSTOM", "test::ping")
    _later(0.3, lambda: s.queue_event(ev))
    t0 = time.time()
    status = _in_thread(s, lambda se: sm.sleep(se, 5000, cb))
    assert status == "break" and time.time() - t0 < 2
    assert got == ["event"]
    assert _in_thread(s, lambda se: sm.sleep(se, 100)) == "done"
    sw.api_execute(f"uuid_kill {a}")


def test_file_handle_commands_from_the_callback(sw, h, tmp_path):
    a, b, s = _parked(sw, h)
    src = h.write_wav(tmp_path / "long.wav", h.tone(400, 4.0))
    answers = iter(["seek:+3000", "stop"])
    _later(0.3, lambda: sw.api_execute(f"uuid_recv_dtmf {b} 1"))
    res = _in_thread(s, lambda se: sm.stream_file(se, src, 0, lambda k, o: next(answers)))
    # the seek skipped 3 s of the 4 s file, so it ended well before 4 s of play
    assert res.status == "done" and res.samples < 2.5 * 8000
    sw.api_execute(f"uuid_kill {a}")


def test_get_digits_read_and_pagd_functions(sw, h):
    a, b, s = _parked(sw, h)

    def with_dtmf(digits, fn):
        # queue the digits from inside the session thread, so that park cannot take them
        return lambda se: (se.queue_dtmf(digits), fn(se))[1]

    assert _in_thread(s, with_dtmf("12#", lambda se: sm.get_digits(se, 5, "#", 2000))) == \
        ("12", "#", "success")
    assert _in_thread(s, with_dtmf("9", lambda se: sm.get_digits(se, 3, "#", 300))) == \
        ("9", "", "timeout")
    assert _in_thread(s, with_dtmf("44#", lambda se: sm.read(se, 1, 4, "silence", 2000, "#"))) \
        == "44"
    assert s.get_variable("read_result") == "success"
    got = _in_thread(s, with_dtmf("1#777#", lambda se: sm.play_and_get_digits(
        se, 1, 4, 3, 2000, "#", "silence_stream://20", "silence_stream://20", "^7+$", "pv")))
    assert got == "777" and s.get_variable("pv_invalid") == "1"
    sw.api_execute(f"uuid_kill {a}")


def test_collect_digits_feeds_the_callback(sw, h):
    a, b, s = _parked(sw, h)
    seen = []

    def cb(kind, obj):
        seen.append(obj.digit)
        return "done" if obj.digit == "#" else None

    _later(0.2, lambda: sw.api_execute(f"uuid_recv_dtmf {b} 12#"))
    assert _in_thread(s, lambda se: sm.collect_digits(se, 0, 3000, cb)) == "break"
    assert seen == ["1", "2", "#"]
    # the digit timer restarts after each digit, then runs out
    _later(0.2, lambda: sw.api_execute(f"uuid_recv_dtmf {b} 3"))
    t0 = time.time()
    assert _in_thread(s, lambda se: sm.collect_digits(se, 400, 0, cb)) == "timeout"
    assert seen[-1] == "3" and time.time() - t0 >= 0.55
    assert _in_thread(s, lambda se: sm.collect_digits(se, 300, 0, None)) == "done"
    sw.api_execute(f"uuid_kill {a}")


def test_record_file_say_phrase_and_errors(sw, events, h, tmp_path):
    a, b, s = _parked(sw, h)
    out = tmp_path / "r.wav"
    res = _in_thread(s, lambda se: sm.record_file(se, str(out), 0.5))
    assert res.reason == "max" and res.ended_normally
    assert sf.info(str(out)).frames == 4000
    assert s.get_variable("record_ms") == "500"
    s.set_variable("language", "tl")
    r = _in_thread(s, lambda se: sm.say(se, "15", "en:tl", "number", "pronounced"))
    assert r.status == "done" and r.name.endswith("digits/15.wav")
    r = _in_thread(s, lambda se: sm.say_phrase(se, "count", "0"))
    assert r.status == "done"
    r = _in_thread(s, lambda se: sm.say(se, "15", "en:tl", "bogus", "pronounced"))
    assert r.status == "error" and "Unknown Say type" in r.errors[0]
    r = _in_thread(s, lambda se: sm.stream_file(se, str(tmp_path / "nope.wav")))
    assert r.status == "error" and not r.ok
    r = _in_thread(s, lambda se: sm.speak(se, "hello"))
    assert r.status == "error" and "No TTS engine" in r.errors[0]
    assert _in_thread(s, lambda se: sm.record_file(se, "/proc/nope/x.wav", 1)) is None
    assert b in sw.sessions
    sw.api_execute(f"uuid_kill {a}")


def test_hangup_ends_a_blocked_stream_and_insert_file(sw, h, tmp_path):
    a, b, s = _parked(sw, h)
    src = h.write_wav(tmp_path / "long.wav", h.tone(400, 10.0))
    box: queue.Queue = queue.Queue()
    s.queue_message(lambda: box.put(sm.stream_file(s, src)))
    time.sleep(0.3)
    sw.api_execute(f"uuid_kill {b}")
    res = box.get(timeout=3)
    assert res.status == "hangup" and not res.ok
    orig = h.write_wav(tmp_path / "o.wav", np.zeros(800, np.int16))
    ins = h.write_wav(tmp_path / "i.wav", h.tone(400, 0.1))
    assert sm.insert_file(s, orig, ins, 400)
    assert sf.info(orig).frames == 1600
    assert not sm.insert_file(s, orig, str(tmp_path / "missing.wav"), 0)
