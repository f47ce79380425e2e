"""FreeSWITCH's URL encoding (§13.4) as used by the plain and xml event formats.

Bytes below 0x20, above 0x7E and the characters of SWITCH_URL_UNSAFE become ``%XX``
(uppercase hex); a ``%`` already followed by two *uppercase* hex digits is left alone so
encoded input is not encoded twice.  Text is encoded as UTF-8 first.
"""

from __future__ import annotations

import re

_UNSAFE = '\r\n #%&+:;<=>?@[\\]^`{|}"'
_HEX_UPPER = frozenset(b"0123456789ABCDEF")

# byte -> its text in the output
_BYTE_OUT: list[str] = [
    f"%{b:02X}" if (b < 0x20 or b > 0x7E or chr(b) in _UNSAFE) else chr(b) for b in range(256)
]
# For the pure-ASCII, %-free fast path: str.translate runs in C.
_ASCII_TABLE = {b: _BYTE_OUT[b] for b in range(128) if _BYTE_OUT[b] != chr(b)}
_NEEDS_ENCODING = re.compile("[\x00-\x1f\x7f-\U0010ffff" + re.escape(_UNSAFE) + "]")


def _to_bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates: bytes smuggled in with surrogateescape, or plain garbage.
        try:
            return text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return text.encode("utf-8", "surrogatepass")


def url_encode(text: str) -> str:
    """Encode ``text`` exactly as switch_url_encode does."""
    if not _NEEDS_ENCODING.search(text):
        return text
    if "%" not in text and text.isascii():
        return text.translate(_ASCII_TABLE)
    data = _to_bytes(text)
    out = []
    n = len(data)
    i = 0
    byte_out = _BYTE_OUT
    while i < n:
        b = data[i]
        if b == 0x25 and i + 2 < n and data[i + 1] in _HEX_UPPER and data[i + 2] in _HEX_UPPER:
            out.append("%")
        else:
            out.append(byte_out[b])
        i += 1
    return "".join(out)


_PCT = re.compile(rb"%([0-9A-Fa-f]{2})")


def url_decode(text: str) -> str:
    """Undo url_encode: ``%XX`` (either case) becomes that byte; anything else stays.

    Bytes that are not valid UTF-8 become U+FFFD."""
    if "%" not in text:
        return text
    data = _PCT.sub(lambda m: bytes((int(m.group(1), 16),)), _to_bytes(text))
    return data.decode("utf-8", "replace")
