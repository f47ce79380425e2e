import numpy as np
import pytest

from fsd.media.errors import MediaError
from fsd.media.resolve import open_source
from fsd.media.tones import amplitude_for, parse_tone_spec, silence_spec


def peak_freqs(x: np.ndarray, rate: int, k: int = 2) -> list[float]:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    idx = []
    for i in np.argsort(spec)[::-1]:
        if all(abs(freqs[i] - freqs[j]) > 30 for j in idx):
            idx.append(i)
        if len(idx) == k:
            break
    return sorted(float(freqs[i]) for i in idx)


@pytest.mark.parametrize("rate", [8000, 16000])
def test_custom_tone_frequencies_by_fft(rate):
    x, loops = parse_tone_spec("%(1000,0,350,440)", rate)
    assert len(x) == rate and loops == 0
    f = peak_freqs(x.astype(float), rate)
    assert abs(f[0] - 350) < 3 and abs(f[1] - 440) < 3


def test_on_off_timing_volume_and_loops():
    x, loops = parse_tone_spec("v=-20;%(100,50,1000);loops=-1", 8000)
    assert loops == -1 and len(x) == 1200
    assert np.all(x[800:] == 0)
    assert abs(np.abs(x[:800]).max() - amplitude_for(-20)) < 2
    y, _ = parse_tone_spec("L=3;%(100,100,500)", 8000)
    assert len(y) == 3 * 1600


def test_dtmf_keys_with_defaults_and_custom_timing():
    x, _ = parse_tone_spec("1", 8000)
    assert len(x) == 2500  # 2000 samples on + 500 wait, libteletone's defaults
    f = peak_freqs(x[:2000].astype(float), 8000)
    assert abs(f[0] - 697) < 5 and abs(f[1] - 1209) < 5
    y, _ = parse_tone_spec("d=50;w=50;12", 8000)
    assert len(y) == 2 * 800
    z, _ = parse_tone_spec("5(200,100)", 8000)
    assert len(z) == 2400


@pytest.mark.parametrize(
    "spec,msg",
    [
        ("%(100)", "frequency"),
        ("%(100,100,abc)", "frequency"),
        ("Z", "unknown tone"),
        ("%(100,100,440", "missing"),
        ("q=1;1", "unknown setting"),
        ("", "empty"),
        ("1(100)", "two numbers"),
    ],
)
def test_bad_tone_syntax_is_a_clear_error(spec, msg):
    with pytest.raises(MediaError, match=msg):
        parse_tone_spec(spec, 8000)


def test_tone_stream_source_loops_n_times():
    src = open_source("tone_stream://%(20,0,440);loops=3", 8000)
    n = 0
    while len(src.read(160)):
        n += 1
    assert n == 3


def test_silence_stream():
    assert silence_spec("500", 8000) == (4000, 0)
    assert silence_spec("0", 8000) == (None, 0)
    assert silence_spec("100,400", 8000) == (800, 400)
    with pytest.raises(MediaError):
        silence_spec("x", 8000)
    src = open_source("silence_stream://40", 8000)
    assert len(src.read(160)) == 160 and len(src.read(160)) == 160 and len(src.read(160)) == 0
