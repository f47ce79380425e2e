import os

import numpy as np
import pytest
import soundfile as sf

from fsd.media.errors import MediaError
from fsd.media.files import (
    FORMATS,
    SndfileReader,
    insert_file,
    open_reader,
    read_all,
    register_format,
    unregister_format,
    write_all,
)
from fsd.media.resolve import (
    is_file_path,
    join_prefix,
    open_source,
    rate_candidates,
    resolve_path,
)


def test_rate_folder_rule(tmp_path, wav):
    root = tmp_path / "sounds" / "en" / "us" / "callie"
    tone = np.zeros(800, dtype=np.int16)
    p8 = wav("sounds/en/us/callie/ivr/8000/ivr-welcome.wav", tone, 8000)
    p48 = wav("sounds/en/us/callie/ivr/48000/ivr-welcome.wav", tone, 48000)
    prefix = str(root)
    assert resolve_path("ivr/ivr-welcome.wav", 8000, prefix) == p8
    # No 16000 folder: the highest rate available wins, before the plain path.
    assert resolve_path("ivr/ivr-welcome.wav", 16000, prefix) == p48
    os.unlink(p48)
    # mod_sndfile never falls back to 8000 for a faster channel (its loop stops at 16000).
    with pytest.raises(MediaError, match="not found"):
        resolve_path("ivr/ivr-welcome.wav", 16000, prefix)
    plain = wav("sounds/en/us/callie/ivr/ivr-welcome.wav", tone, 8000)
    assert resolve_path("ivr/ivr-welcome.wav", 16000, prefix) == plain
    assert resolve_path("ivr/ivr-welcome.wav", 8000, prefix) == p8
    with pytest.raises(MediaError, match="not found"):
        resolve_path("ivr/nothing.wav", 8000, prefix)


def test_rate_candidates_order():
    assert rate_candidates("/s/ivr/x.wav", 8000) == [
        "/s/ivr/8000/x.wav",
        "/s/ivr/48000/x.wav",
        "/s/ivr/32000/x.wav",
        "/s/ivr/16000/x.wav",
        "/s/ivr/x.wav",
    ]
    assert rate_candidates("/s/ivr/x.wav", 16000)[:2] == [
        "/s/ivr/16000/x.wav",
        "/s/ivr/48000/x.wav",
    ]


def test_prefix_rules():
    assert join_prefix("/abs/a.wav", "/pfx") == "/abs/a.wav"
    assert join_prefix("a.wav", "/pfx") == "/pfx/a.wav"
    assert join_prefix("a.wav", None, "/base") == "/base/a.wav"
    assert join_prefix("{loops=2}a.wav", "/pfx") == "/pfx/a.wav"
    assert is_file_path("/x.wav") and is_file_path("tone_stream://%(1,1,440)")
    assert not is_file_path("ivr/x.wav")


def test_stereo_folds_to_mono_and_48k_resamples(wav, chirp):
    mono = chirp(48000, 0.5)
    path = wav("st.wav", np.stack([mono, mono], axis=1), 48000)
    got = read_all(path, 8000)
    assert abs(len(got) - 4000) <= 1
    ref = chirp(8000, 0.5)
    assert np.corrcoef(got[:3900].astype(float), ref[:3900].astype(float))[0, 1] > 0.95


@pytest.mark.parametrize("ext,rate", [("r8", 8000), ("r16", 16000), ("ul", 8000), ("al", 8000)])
def test_raw_formats_roundtrip(tmp_path, chirp, ext, rate):
    x = chirp(rate, 0.3)
    p = str(tmp_path / f"x.{ext}")
    write_all(p, x, rate)
    y = read_all(p, rate)
    assert len(y) == len(x)
    assert np.corrcoef(x.astype(float), y.astype(float))[0, 1] > 0.99


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(MediaError, match="not found"):
        open_reader(str(tmp_path / "nope.wav"), 8000)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    with pytest.raises(MediaError, match="cannot open"):
        open_reader(str(bad), 8000)
    noext = tmp_path / "noext"
    noext.write_bytes(b"x")
    with pytest.raises(MediaError, match="extension"):
        open_reader(str(noext), 8000)
    with pytest.raises(MediaError, match="handler"):
        open_reader(str(tmp_path / "x.nosuchformat"), 8000)


def test_truncated_wav_plays_what_is_there(tmp_path, chirp, wav):
    p = wav("full.wav", chirp(8000, 1.0), 8000)
    data = open(p, "rb").read()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: 44 + 4000])  # header promises 8000 samples, 2000 remain
    got = read_all(str(cut), 8000)
    assert 1900 <= len(got) <= 2000


def test_format_registry_accepts_new_formats(tmp_path):
    class Ramp(SndfileReader):
        pass

    calls = []

    def reader(path, rate):
        calls.append(path)
        return open_reader(str(tmp_path / "base.wav"), rate)

    sf.write(str(tmp_path / "base.wav"), np.ones(80, dtype=np.int16), 8000, subtype="PCM_16")
    register_format("myfmt", reader)
    try:
        assert "myfmt" in FORMATS
        (tmp_path / "a.myfmt").write_bytes(b"")
        assert len(read_all(str(tmp_path / "a.myfmt"), 8000)) == 80
        assert calls
    finally:
        unregister_format("myfmt")
    assert "myfmt" not in FORMATS


def test_insert_file(tmp_path, wav):
    a = wav("a.wav", np.full(800, 1000, dtype=np.int16), 8000)
    b = wav("b.wav", np.full(400, -1000, dtype=np.int16), 8000)
    insert_file(a, b, 200, rate=8000)
    y, sr = sf.read(a, dtype="int16")
    assert sr == 8000 and len(y) == 1200
    assert (y[:200] == 1000).all() and (y[200:600] == -1000).all() and (y[600:] == 1000).all()
    with pytest.raises(MediaError):
        insert_file(str(tmp_path / "none.wav"), b, 0)


def test_file_string_skips_bad_parts(tmp_path, wav):
    a = wav("a.wav", np.full(160, 5, dtype=np.int16), 8000)
    src = open_source(f"file_string://{a}!{tmp_path}/missing.wav!silence_stream://20", 8000)
    out = []
    while True:
        x = src.read(160)
        if len(x) == 0:
            break
        out.append(x)
    allx = np.concatenate(out)
    assert len(allx) == 320 and (allx[:160] == 5).all()
    assert any("not found" in e for e in src.errors)
