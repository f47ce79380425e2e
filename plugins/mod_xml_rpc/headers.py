"""The header block a command writes itself on ``/api/`` (a Lua page's
``Content-Type: text/html\\n\\n``), parsed safely.

FreeSWITCH copies those bytes to the socket as they are, so whatever a script puts in a
header value — user input included — becomes part of the reply's header.  fsd parses the
block instead: the first line's ending (CRLF or LF) is the block's line ending, and a
header whose value holds any other CR or LF (a smuggled ``\\r\\nSet-Cookie: …``), another
control character, or whose name is not an HTTP token, is refused and logged.  Headers
that frame the message (Content-Length, Transfer-Encoding, Connection…) are the server's
and are refused too.  A whole ``\r\n`` cannot be told apart from the page's own line ends,
so the request's own multi-line values (query and form fields) are found in the block
first: the header lines such a value spans are refused whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
#: set by the server, never by a command
FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive",
                     "upgrade", "te", "trailer", "proxy-connection"})


@dataclass
class HeaderBlock:
    headers: list[tuple[str, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    content_type: str = "text/plain"


def split_block(data: bytes) -> tuple[bytes, bytes] | None:
    """(header block, rest) once the block's blank line has arrived, else None."""
    nl = data.find(b"\n")
    if nl < 0:
        return None
    end = b"\r\n\r\n" if nl > 0 and data[nl - 1:nl] == b"\r" else b"\n\n"
    at = data.find(end)
    if at < 0:
        return None
    return data[:at], data[at + len(end):]


def parse_block(block: bytes, tainted: tuple[str, ...] = ()) -> HeaderBlock:
    """``tainted``: values that came from the request and hold CR or LF."""
    out = HeaderBlock()
    text = block.decode("utf-8", "replace").lstrip("\r\n ")
    for value in tainted:
        # the value's own line breaks become NULs: its line is then refused below
        text = text.replace(value, value.replace("\r", "\x00").replace("\n", "\x00"))
    nl = text.find("\n")
    crlf = nl > 0 and text[nl - 1] == "\r"
    lines = text.split("\r\n") if crlf else text.split("\n")
    for line in lines:
        if not line:
            continue
        name, sep, value = line.partition(":")
        value = value.strip(" \t")
        if not sep or not _NAME.fullmatch(name) or _BAD_VALUE.search(value):
            out.refused.append(line)
            continue
        if name.lower() in FRAMING:
            out.refused.append(line)
            continue
        if name.lower() == "content-type":
            out.content_type = value or "text/plain"
            continue
        out.headers.append((name, value))
    return out
