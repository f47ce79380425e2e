"""Audio through calls: play on one loopback leg, record on the other, compare."""

from __future__ import annotations

import os
import time

import numpy as np
import soundfile as sf

from fsd.media.dtmf import generate_dtmf


def _chirp(rate=8000, secs=1.0):
    t = np.arange(int(rate * secs)) / rate
    return (7000 * np.sin(2 * np.pi * (200 * t + 900 * t * t))).astype(np.int16)


def test_played_wav_is_recorded_on_the_other_leg(sw, events, h, tmp_path):
    ref = _chirp()
    src = h.write_wav(tmp_path / "in.wav", ref)
    out = tmp_path / "rec" / "out.wav"
    a = h.originate(sw, f"{{pfile={src}}}loopback/play/m &record({out} 2)")
    b = h.b_leg(sw, a)
    stop = events.wait("RECORD_STOP", a, timeout=6)
    assert stop[0].get_header("Record-File-Path") == str(out)
    assert stop[0].get_header("Record-Completion-Cause") == "max"
    events.wait("PLAYBACK_STOP", b, Playback_Status="done")
    start = events.of("PLAYBACK_START", b)[0]
    assert start.get_header("Playback-File-Path") == src
    assert start.get_header("Channel-Name").endswith("-b")
    got, rate = sf.read(str(out), dtype="int16")
    assert rate == 8000 and abs(len(got) - 16000) <= 160
    corr, at = h.best_corr(got, ref)
    assert corr > 0.99, corr
    assert 0 < at < 8000  # after the 200 ms sleep, not garbage at the start
    sw.api_execute(f"uuid_kill {a}")


def test_16k_stereo_file_plays_resampled(sw, events, h, tmp_path):
    t = np.arange(16000) / 16000
    left = (6000 * np.sin(2 * np.pi * 700 * t)).astype(np.int16)
    src = str(tmp_path / "st.wav")
    sf.write(src, np.stack([left, left], axis=1), 16000, subtype="PCM_16")
    out = tmp_path / "st_out.wav"
    a = h.originate(sw, f"{{pfile={src}}}loopback/play/m &record({out} 1.6)")
    events.wait("RECORD_STOP", a, timeout=6)
    got, _ = sf.read(str(out), dtype="int16")
    loud = got[np.abs(got) > 1000]
    assert len(loud) > 4000
    start = int(np.argmax(np.abs(got) > 1000))
    assert abs(h.dominant_freq(got[start + 800:start + 4800]) - 700) < 10
    sw.api_execute(f"uuid_kill {a}")


def test_tone_stream_frequencies_through_a_call(sw, events, h, tmp_path):
    out = tmp_path / "tone.wav"
    spec = "tone_stream://%(600,0,440);%(600,0,350,850)"
    a = h.originate(sw, f"{{pfile='{spec}'}}loopback/play/m &record({out} 2)")
    events.wait("RECORD_STOP", a, timeout=6)
    got, _ = sf.read(str(out), dtype="int16")
    start = int(np.argmax(np.abs(got) > 500))
    first = got[start + 400:start + 4400]
    second = got[start + 4800 + 400:start + 4800 + 4400]
    assert abs(h.dominant_freq(first) - 440) < 5
    f1, f2 = h.peak_freqs(second)
    assert abs(f1 - 350) < 5 and abs(f2 - 850) < 5
    sw.api_execute(f"uuid_kill {a}")


def test_inband_dtmf_in_a_played_file_is_read_by_the_other_leg(sw, events, h, tmp_path):
    audio = np.concatenate([np.zeros(1600, np.int16), generate_dtmf("4096*", 8000, 80, 60),
                            generate_dtmf("#", 8000, 80, 60)])
    src = h.write_wav(tmp_path / "dtmf.wav", audio)
    # The a-leg plays the file; the b-leg (extension "detect") detects and reads.
    a = h.originate(sw, f"loopback/detect/m &playback({src})")
    b = h.b_leg(sw, a)
    assert h.wait_until(lambda: h.getvar(sw, b, "read_done") == "1", 8)
    assert h.getvar(sw, b, "got") == "4096*"
    assert h.getvar(sw, b, "read_terminator_used") == "#"
    assert h.getvar(sw, b, "read_result") == "success"
    digits = [e.get_header("DTMF-Digit") for e in events.of("DTMF", b)]
    assert digits == ["4", "0", "9", "6", "*", "#"]
    assert {e.get_header("DTMF-Source") for e in events.of("DTMF", b)} == {"INBAND_AUDIO"}
    sw.api_execute(f"uuid_kill {a}")


def test_send_dtmf_inband_is_heard_by_the_detecting_leg(sw, events, h):
    a = h.originate(sw, "{dtmf_type=inband}loopback/detect/m &send_dtmf(71#@120)")
    b = h.b_leg(sw, a)
    assert h.wait_until(lambda: h.getvar(sw, b, "read_done") == "1", 8)
    assert h.getvar(sw, b, "got") == "71"
    sw.api_execute(f"uuid_kill {a}")


def test_recording_survives_hangup_in_the_middle(sw, events, h, tmp_path):
    ref = _chirp(secs=3.0)
    src = h.write_wav(tmp_path / "long.wav", ref)
    out = tmp_path / "cut.wav"
    a = h.originate(sw, f"{{pfile={src}}}loopback/play/m &record({out} 30)")
    events.wait("RECORD_START", a)
    time.sleep(1.0)
    sw.api_execute(f"uuid_kill {a}")
    stop = events.wait("RECORD_STOP", a)
    assert stop[0].get_header("Record-Completion-Cause") == "hangup"
    info = sf.info(str(out))
    assert info.format == "WAV" and info.samplerate == 8000 and info.channels == 1
    got, _ = sf.read(str(out), dtype="int16")
    assert 0.6 * 8000 < len(got) < 1.6 * 8000
    # the header matches the data actually written
    assert os.path.getsize(out) == 44 + 2 * len(got)
    corr, _ = h.best_corr(got, ref[1600:4000])  # a piece from inside what was heard
    assert corr > 0.99


def test_record_session_mixes_both_directions(sw, events, h, tmp_path):
    src = h.write_wav(tmp_path / "t.wav", h.tone(500, 1.0))
    out = tmp_path / "sess.wav"
    # the b-leg records its session while the a-leg plays to it, then hangs up
    a = h.originate(sw, f"{{rfile={out}}}loopback/recsess/m &playback({src})")
    b = h.b_leg(sw, a)
    stop = events.wait("RECORD_STOP", b)
    assert stop[0].get_header("Record-File-Path") == str(out)
    got, _ = sf.read(str(out), dtype="int16")
    start = int(np.argmax(np.abs(got) > 1000))
    assert abs(h.dominant_freq(got[start:start + 4000]) - 500) < 8


def test_silence_ends_record_and_sets_variables(sw, events, h, tmp_path):
    src = h.write_wav(tmp_path / "short.wav", h.tone(400, 0.5))
    out = tmp_path / "sil.wav"
    # threshold 200, 1 s of silence ends it; the peer plays 0.5 s of tone then nothing
    a = h.originate(sw, f"{{pfile={src}}}loopback/play/m &record({out} 20 200 1)")
    stop = events.wait("RECORD_STOP", a, timeout=8)
    assert stop[0].get_header("Record-Completion-Cause") == "silence"
    done = events.wait("CHANNEL_EXECUTE_COMPLETE", a, Application="record")[0]
    assert done.get_header("variable_silence_hits_exhausted") == "true"
    assert 1000 < int(done.get_header("variable_record_ms")) < 4000
    assert done.get_header("Application-Response") == "RECORD OK"


def test_playback_terminator_stops_and_is_recorded(sw, events, h, tmp_path):
    src = h.write_wav(tmp_path / "long.wav", h.tone(400, 5.0))
    a = h.originate(sw, f"{{pfile={src},playback_terminators=#5}}loopback/play/m &park()")
    b = h.b_leg(sw, a)
    events.wait("PLAYBACK_START", b)
    sw.api_execute(f"uuid_recv_dtmf {b} 15")
    stop = events.wait("PLAYBACK_STOP", b)
    assert stop[0].get_header("Playback-Status") == "break"
    assert h.wait_until(lambda: h.getvar(sw, b, "playback_terminator_used") == "5")
    sw.api_execute(f"uuid_kill {a}")


def test_uuid_break_stops_playback_call_goes_on(sw, events, h, tmp_path):
    src = h.write_wav(tmp_path / "long.wav", h.tone(400, 10.0))
    a = h.originate(sw, f"{{pfile={src}}}loopback/play/m &park()")
    b = h.b_leg(sw, a)
    events.wait("PLAYBACK_START", b)
    t0 = time.time()
    sw.api_execute(f"uuid_break {b}")
    stop = events.wait("PLAYBACK_STOP", b)
    assert time.time() - t0 < 2
    assert stop[0].get_header("Playback-Status") == "break"
    assert h.wait_until(lambda: h.getvar(sw, b, "after_play") == "FILE PLAYED")
    assert b in sw.sessions
    sw.api_execute(f"uuid_kill {a}")


def test_bad_files_give_errors_and_the_call_goes_on(sw, events, h, tmp_path):
    trunc = tmp_path / "trunc.wav"
    good = h.write_wav(tmp_path / "good.wav", h.tone(400, 1.0))
    data = open(good, "rb").read()
    trunc.write_bytes(data[:30])  # header cut in the middle
    (tmp_path / "noext").write_bytes(data)
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF" + os.urandom(200))
    cases = {
        str(tmp_path / "missing.wav"): "FILE NOT FOUND",
        str(trunc): "PLAYBACK ERROR",
        str(garbage): "PLAYBACK ERROR",
        "'tone_stream://%(100,0,bogus)'": "PLAYBACK ERROR",
        "'tone_stream://Q=5'": "PLAYBACK ERROR",
        str(tmp_path / "noext"): "PLAYBACK ERROR",
    }
    for pfile, expected in cases.items():
        a = h.originate(sw, f"{{pfile={pfile}}}loopback/play/m &park()")
        b = h.b_leg(sw, a)
        assert h.wait_until(lambda b=b, e=expected: h.getvar(sw, b, "after_play") == e), \
            (pfile, h.getvar(sw, b, "after_play"))
        assert b in sw.sessions
        sw.api_execute(f"uuid_kill {a}")
    log = open(os.path.join(sw.dirs.log, "fsd.log")).read()
    assert "cannot play" in log and "missing.wav" in log
