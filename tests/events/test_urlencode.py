"""URL encoding vectors (§13.4, §20)."""

from __future__ import annotations

import pytest

from fsd.events import url_decode, url_encode


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("a b:c%41%zz", "a%20b%3Ac%41%25zz"),
        ("%4a", "%254a"),
        ("100%", "100%25"),
        ("%A", "%25A"),
        ("%AB", "%AB"),
        ("%ab", "%25ab"),
        ("%G1", "%25G1"),
        ("é", "%C3%A9"),
        ("€", "%E2%82%AC"),
        ("\x00\x01\x1f\x7f", "%00%01%1F%7F"),
        ("\r\n\t", "%0D%0A%09"),
        ("/,'!$()*-._~", "/,'!$()*-._~"),
        ("AZaz09", "AZaz09"),
        ("", ""),
    ],
)
def test_vectors(raw, encoded):
    assert url_encode(raw) == encoded


def test_every_unsafe_character():
    unsafe = '\r\n #%&+:;<=>?@[\\]^`{|}"'
    for ch in unsafe:
        assert url_encode(ch) == f"%{ord(ch):02X}", ch
    for code in range(0x20, 0x7F):
        ch = chr(code)
        if ch not in unsafe:
            assert url_encode(ch) == ch


def test_surrogate_escaped_bytes_encode_as_the_original_bytes():
    raw = b"\xff\xfe".decode("utf-8", "surrogateescape")
    assert url_encode(raw) == "%FF%FE"


@pytest.mark.parametrize("text", ["a b:c", "é€ x=1&y=2", "100%", "line\nbreak", "%zz"])
def test_decode_round_trip(text):
    assert url_decode(url_encode(text)) == text


def test_decode_leaves_broken_escapes():
    assert url_decode("%") == "%"
    assert url_decode("%4") == "%4"
    assert url_decode("%zz") == "%zz"
    assert url_decode("%4a%4A") == "JJ"
    assert url_decode("a+b") == "a+b"
    assert url_decode("%FF") == "\ufffd"
