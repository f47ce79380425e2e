import threading
import time

import numpy as np
import pytest
import soundfile as sf

from fsd.media.errors import MediaError
from fsd.media.port import bridge, unbridge


def run(fn, *a, **kw):
    box = {}
    t = threading.Thread(target=lambda: box.update(r=fn(*a, **kw)), daemon=True)
    t.start()
    return t, box


def test_loopback_play_and_record_matches(make_port, chirp, wav, tmp_path, best_corr):
    ref = chirp(8000, 1.0)
    src = wav("in.wav", ref, 8000)
    b = make_port(8000, name="b")
    a = make_port(8000, name="a", sink=b.feed)
    out = str(tmp_path / "out.wav")
    t, box = run(b.record, out, 1.5)
    time.sleep(0.05)
    res = a.play(src)
    t.join(5)
    assert res.status == "done" and res.samples == 8000
    assert box["r"].reason == "max" and box["r"].ended_normally
    got, sr = sf.read(out, dtype="int16")
    assert sr == 8000 and len(got) == 12000
    corr, _ = best_corr(got, ref)
    assert corr > 0.999


def test_pcmu_path_and_16k_file_to_8k_channel(make_port, chirp, wav, tmp_path, best_corr):
    ref16 = chirp(16000, 1.0)
    src = wav("in16.wav", ref16, 16000)
    b = make_port(8000, name="b", codec="PCMU")
    a = make_port(8000, name="a", codec="PCMU", sink=lambda f: b.feed_payload(a.encode(f)))
    out = str(tmp_path / "o.wav")
    t, box = run(b.record, out, 1.3)
    time.sleep(0.05)
    a.play(src)
    t.join(5)
    got, _ = sf.read(out, dtype="int16")
    corr, _ = best_corr(got, chirp(8000, 1.0))
    assert corr > 0.98


def test_bridge_transcodes_between_rates(make_port, chirp, wav, tmp_path, best_corr):
    ref = chirp(8000, 1.0)
    src = wav("in.wav", ref, 8000)
    # caller(8k) -> A | bridge | B(16k) -> listener
    listener = make_port(16000, name="listener")
    b = make_port(16000, name="b", sink=listener.feed)
    a = make_port(8000, name="a")
    caller = make_port(8000, name="caller", sink=a.feed)
    bridge(a, b)
    out = str(tmp_path / "br.wav")
    t, box = run(listener.record, out, 1.4)
    time.sleep(0.05)
    caller.play(src)
    t.join(5)
    unbridge(a)
    got, sr = sf.read(out, dtype="int16")
    assert sr == 16000
    corr, _ = best_corr(got, chirp(16000, 1.0))
    assert corr > 0.95
    with pytest.raises(MediaError):
        bridge(a, a)


def test_echo_returns_the_callers_audio(make_port, chirp, wav, tmp_path, best_corr):
    ref = chirp(8000, 0.6)
    src = wav("in.wav", ref, 8000)
    caller = make_port(8000, name="caller")
    ivr = make_port(8000, name="ivr", sink=caller.feed)
    caller.sink = ivr.feed
    t, box = run(ivr.echo)
    out = str(tmp_path / "echo.wav")
    t2, box2 = run(caller.record, out, 1.0)
    caller.play(src)
    t2.join(5)
    ivr.break_media()
    t.join(5)
    assert box["r"] == "break"
    got, _ = sf.read(out, dtype="int16")
    assert best_corr(got, ref)[0] > 0.99


def test_record_stops_on_silence_and_close_leaves_valid_wav(make_port, tmp_path):
    p = make_port(8000)
    out = str(tmp_path / "sil.wav")
    t0 = time.monotonic()
    res = p.record(out, max_secs=5, silence_thresh=200, silence_secs=0.3)
    assert res.reason == "silence" and res.ended_normally
    assert 0.25 < time.monotonic() - t0 < 1.5
    out2 = str(tmp_path / "hup.wav")
    t, box = run(p.record, out2, 0)
    time.sleep(0.3)
    p.close()
    t.join(5)
    assert box["r"].reason == "hangup" and not box["r"].ended_normally
    data, sr = sf.read(out2, dtype="int16")  # a valid, complete WAV
    assert sr == 8000 and len(data) >= 0.2 * 8000
    # After hangup nothing starts again.
    assert p.play("silence_stream://100").status == "hangup"


def test_record_session_mixes_both_directions(make_port, tmp_path):
    p = make_port(8000)
    out = str(tmp_path / "both.wav")
    p.record_session(out)
    p.feed(np.full(160, 1000, dtype=np.int16))
    p.play("tone_stream://%(200,0,1000)")
    p.close()  # finalises the session recording
    data, _ = sf.read(out, dtype="int16")
    assert len(data) >= 1600
    assert np.abs(data).max() > 3000  # the played tone is in the file


def test_callback_commands_and_events(make_port):
    events = []
    p = make_port(8000, on_event=lambda n, h: events.append((n, dict(h))))
    seen = []

    def cb(d):
        seen.append(d.digit)
        return {"1": "pause", "2": "pause", "3": "volume:+2", "4": "seek:0", "5": "stop"}[d.digit]

    p.queue_dtmf("12345")
    res = p.play("tone_stream://%(3000,0,440)", on_dtmf=cb)
    assert res.status == "break" and seen == list("12345")
    names = [e[0] for e in events]
    assert names[0] == "PLAYBACK_START" and names[-1] == "PLAYBACK_STOP"
    assert names.count("DTMF") == 5
    assert events[-1][1]["Playback-Status"] == "break"


@pytest.mark.parametrize(
    "ret,stops",
    [
        (None, False),
        ("", False),
        ("true", False),
        ("undefined", False),
        ("break", True),
        ("false", True),
    ],
)
def test_callback_return_values(make_port, ret, stops):
    p = make_port(8000)
    p.queue_dtmf("1")
    t0 = time.monotonic()
    res = p.play("silence_stream://300", on_dtmf=lambda d: ret)
    assert (res.status == "break") == stops
    if not stops:
        assert time.monotonic() - t0 > 0.25


def test_digits_stay_queued_without_callback_and_terminators_stop(make_port):
    p = make_port(8000)
    p.queue_dtmf("7")
    assert p.play("silence_stream://100").status == "done"
    assert p.get_dtmf(0).digit == "7"
    p.queue_dtmf("3#")
    res = p.play("silence_stream://2000", terminators="#")
    assert res.status == "break" and res.terminator == "#"


def test_sleep_honours_callback(make_port):
    p = make_port(8000)
    t0 = time.monotonic()
    assert p.sleep(200) == "done"
    assert 0.18 < time.monotonic() - t0 < 1.0
    threading.Timer(0.1, lambda: p.queue_dtmf("9")).start()
    t0 = time.monotonic()
    assert p.sleep(3000, on_dtmf=lambda d: "break") == "break"
    assert time.monotonic() - t0 < 1.0


def test_bad_input_keeps_the_port_working(make_port, tmp_path):
    p = make_port(8000)
    with pytest.raises(MediaError, match="not found"):
        p.play(str(tmp_path / "missing.wav"))
    with pytest.raises(MediaError, match="tone_stream"):
        p.play("tone_stream://%(100)")
    with pytest.raises(MediaError, match="directory"):
        p.record(str(tmp_path / "no" / "dir" / "x.wav"), 1)
    assert p.play("silence_stream://60").status == "done"


def test_clock_stats_exposed(make_port, clock):
    make_port(8000)
    time.sleep(0.2)
    st = clock.stats()
    assert st["ports"] >= 1 and st["ticks"] >= 5
    assert st["late_p50_ms"] <= st["late_p99_ms"] <= st["late_max_ms"]
