import audioop  # stdlib on 3.11/3.12; the audioop-lts package provides it on 3.13+

import numpy as np
import pytest

from fsd.media.codecs import (
    alaw_decode,
    alaw_encode,
    get_codec,
    l16_decode,
    l16_encode,
    ulaw_decode,
    ulaw_encode,
)
from fsd.media.errors import MediaError

ALL = np.arange(-32768, 32768, dtype=np.int16)


def test_pcmu_encode_matches_audioop_for_every_sample():
    assert ulaw_encode(ALL) == audioop.lin2ulaw(ALL.tobytes(), 2)


def test_pcma_encode_matches_audioop_for_every_sample():
    assert alaw_encode(ALL) == audioop.lin2alaw(ALL.tobytes(), 2)


def test_decoders_match_audioop():
    codes = bytes(range(256))
    assert ulaw_decode(codes).tobytes() == audioop.ulaw2lin(codes, 2)
    assert alaw_decode(codes).tobytes() == audioop.alaw2lin(codes, 2)


def test_roundtrip_error_is_small():
    x = (np.sin(np.arange(160) / 5) * 20000).astype(np.int16)
    for enc, dec in ((ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)):
        y = dec(enc(x))
        assert len(y) == 160
        assert np.max(np.abs(y.astype(int) - x)) < 1100


def test_l16_is_big_endian_on_the_wire():
    x = np.array([1, -2, 300], dtype=np.int16)
    assert l16_encode(x) == b"\x00\x01\xff\xfe\x01\x2c"
    assert list(l16_decode(l16_encode(x))) == [1, -2, 300]


def test_codec_lookup_and_errors():
    assert get_codec("pcmu").name == "PCMU"
    assert get_codec("L16", 16000).rate == 16000
    with pytest.raises(MediaError, match="unknown codec"):
        get_codec("G729")
    with pytest.raises(MediaError, match="8000"):
        get_codec("PCMA", 16000)


def test_the_lookup_tables_match_audioop_too():
    """The numpy tables are the fallback where audioop is missing: kept exact."""
    from fsd.media.codecs import (
        table_alaw_decode,
        table_alaw_encode,
        table_ulaw_decode,
        table_ulaw_encode,
    )

    assert table_ulaw_encode(ALL) == audioop.lin2ulaw(ALL.tobytes(), 2)
    assert table_alaw_encode(ALL) == audioop.lin2alaw(ALL.tobytes(), 2)
    codes = bytes(range(256))
    assert table_ulaw_decode(codes).tobytes() == audioop.ulaw2lin(codes, 2)
    assert table_alaw_decode(codes).tobytes() == audioop.alaw2lin(codes, 2)


def test_encoders_take_slices_and_bytes_and_decoders_give_writable_frames():
    frame = ALL[1::3][:160]  # not contiguous
    assert ulaw_encode(frame) == audioop.lin2ulaw(frame.tobytes(), 2)
    assert alaw_encode(frame.tobytes()) == audioop.lin2alaw(frame.tobytes(), 2)
    out = ulaw_decode(bytes(range(160)))
    out[0] = 1  # frames are modified in place downstream (mixers)
    assert out.dtype == np.int16 and len(out) == 160
