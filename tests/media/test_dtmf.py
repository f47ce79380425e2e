import time

import numpy as np
import pytest

from fsd.media.dtmf import DTMF, detect_digits, generate_dtmf


@pytest.mark.parametrize("rate", [8000, 16000])
def test_generated_digits_are_detected(rate):
    x = generate_dtmf("0123456789*#ABCD", rate, 70, 50)
    got = detect_digits(x, rate)
    assert "".join(d.digit for d in got) == "0123456789*#ABCD"
    assert all(400 <= d.duration <= 800 for d in got)  # ~70 ms in 8 kHz samples


def test_noise_speechlike_and_single_tones_do_not_trigger():
    rng = np.random.default_rng(7)
    assert detect_digits(rng.normal(0, 4000, 16000).astype(np.int16)) == []
    t = np.arange(8000) / 8000
    assert detect_digits((8000 * np.sin(2 * np.pi * 697 * t)).astype(np.int16)) == []
    # A chord of voice-band harmonics.
    voice = sum(np.sin(2 * np.pi * f * t) for f in (200, 400, 600, 800, 1000))
    assert detect_digits((3000 * voice).astype(np.int16)) == []


def test_repeated_digit_needs_a_gap():
    x = generate_dtmf("55", 8000, 80, 60)
    assert "".join(d.digit for d in detect_digits(x)) == "55"


def test_dtmf_object_validation():
    assert DTMF("a").digit == "A"
    assert DTMF("1", 0).duration == 2000
    assert DTMF("1", 10).duration == 400
    with pytest.raises(ValueError):
        DTMF("x")


def test_inband_dtmf_in_a_file_reaches_the_queue(make_port, wav):
    x = np.concatenate((np.zeros(800, dtype=np.int16), generate_dtmf("1#9", 8000, 100, 80)))
    path = wav("digits.wav", x, 8000)
    events = []
    b = make_port(8000, detect_inband=True, on_event=lambda n, h: events.append(h))
    a = make_port(8000, sink=b.feed)
    a.play(path)
    deadline = time.monotonic() + 2
    got = ""
    while len(got) < 3 and time.monotonic() < deadline:
        d = b.get_dtmf(0.2)
        if d:
            got += d.digit
            assert d.source == "INBAND_AUDIO"
    assert got == "1#9"
    assert [e["DTMF-Digit"] for e in events] == ["1", "#", "9"]
