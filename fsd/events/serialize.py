"""The three text forms of an event, byte-exact with FreeSWITCH (§13.5-13.7).

plain: ``Name: url-encoded value`` lines, then ``Content-Length`` and the body.
json:  one unformatted object, cJSON's escaping, arrays for multi-value headers.
xml:   switch_xml_toxml's layout: two-space indent, url-encoded header text, a body that
       is only XML-escaped (non-ASCII as ``&#xHEX;``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .event import joined
from .urlencode import url_encode

if TYPE_CHECKING:
    from .event import Event


def _byte_len(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


# ------------------------------------------------------------------------- plain


# Most header values repeat from event to event (Core-UUID, host names, the date of this
# second, calling file/function, channel names...): their encoded form is remembered.  The
# cache is cleared when full, so values seen once (timestamps, UUIDs) cannot grow it.
_CACHE_MAX = 4096
_plain_cache: dict[str, str] = {}
_json_cache: dict[str, str] = {}


def _plain_value(value: str) -> str:
    if value.isascii() and value.isalnum():
        return value  # nothing to encode (sequence numbers, timestamps)
    enc = _plain_cache.get(value)
    if enc is None:
        enc = url_encode(value) if value else ""
        enc = enc or "_undef_"
        if len(_plain_cache) >= _CACHE_MAX:
            _plain_cache.clear()
        _plain_cache[value] = enc
    return enc


def to_plain(event: Event) -> str:
    out = []
    for name, value in event._h:
        if value.__class__ is not str:
            value = joined(value)
        out.append(f"{name}: {_plain_value(value)}\n")
    body = event.body
    if body:
        out.append(f"Content-Length: {_byte_len(body)}\n\n{body}")
    else:
        out.append("\n")
    return "".join(out)


# -------------------------------------------------------------------------- json

_JSON_ESC = {i: f"\\u{i:04x}" for i in range(0x20)}
_JSON_ESC.update(
    {ord('"'): '\\"', ord("\\"): "\\\\", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t"}
)
_JSON_NEEDS = re.compile(r'[\x00-\x1f"\\]')


def _jstr_new(text: str) -> str:
    if _JSON_NEEDS.search(text):
        text = text.translate(_JSON_ESC)
    return f'"{text}"'


def _jstr(text: str) -> str:
    out = _json_cache.get(text)
    if out is None:
        out = _jstr_new(text)
        if len(_json_cache) >= _CACHE_MAX:
            _json_cache.clear()
        _json_cache[text] = out
    return out


def to_json(event: Event) -> str:
    parts = []
    for name, value in event._h:
        if value.__class__ is str:
            parts.append(f"{_jstr(name)}:{_jstr(value)}")
        else:
            parts.append(f"{_jstr(name)}:[{','.join(_jstr(v) for v in value)}]")
    body = event.body
    if body is not None:
        parts.append(f'"Content-Length":"{_byte_len(body)}"')
        parts.append(f'"_body":{_jstr(body)}')
    return "{" + ",".join(parts) + "}"


# --------------------------------------------------------------------------- xml

_AMP = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord("\r"): "&#xD;"}
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _char_ref(m: re.Match) -> str:
    cp = ord(m.group(0))
    if 0xD800 <= cp <= 0xDFFF:
        return ""  # not a character; switch_xml drops bytes it cannot decode
    return f"&#x{cp:X};"


def xml_text(text: str) -> str:
    """switch_xml_ampencode for element text: & < > and CR escaped, non-ASCII as
    ``&#xHEX;``.  After ``<!`` the rest is copied as it is (switch_xml treats it as
    markup)."""
    raw = ""
    cut = text.find("<!")
    if cut >= 0:
        text, raw = text[:cut], text[cut:]
    text = text.translate(_AMP)
    if not text.isascii():
        text = _NON_ASCII.sub(_char_ref, text)
    return text + raw


def to_xml(event: Event) -> str:
    out = ["<event>\n  <headers>"]
    first = True
    for name, value in event._h:
        items = (value,) if value.__class__ is str else value
        for item in items:
            # the first child follows "<headers>" and so starts on a new line
            out.append(f"{chr(10) if first else ''}    <{name}>{url_encode(item)}</{name}>\n")
            first = False
    out.append("</headers>\n" if first else "  </headers>\n")
    body = event.body
    if body:
        text = xml_text(body)
        close = "  </body>\n" if text.endswith("\n") else "</body>\n"
        out.append(f"  <Content-Length>{_byte_len(body)}</Content-Length>\n  <body>{text}{close}")
    out.append("</event>\n")
    return "".join(out)
