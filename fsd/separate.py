"""FreeSWITCH's string splitter (switch_separate_string): single quotes group and are
removed, a backslash escapes the next character (``\\n \\r \\t \\s`` unescaped), leading and
trailing unquoted spaces are dropped, ``^^X`` at the start picks ``X`` as the delimiter, and
the last allowed piece keeps the rest of the string.  Used for argv, API and app data."""

from __future__ import annotations

_ESCAPE = "\\"
# Escapes that turn into another character; every other escaped character is kept as-is
# together with its backslash (unless it is a quote, the delimiter or a backslash).
_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", "s": " "}


def _cleanup(token: str, delim: str) -> str:
    """Strip leading spaces, quotes and trailing unquoted spaces; resolve escapes."""
    i = 0
    while i < len(token) and token[i] == " ":
        i += 1
    out: list[str] = []
    end: int | None = None  # length of ``out`` worth keeping
    quoted = False
    n = len(token)
    while i < n:
        c = token[i]
        if c == _ESCAPE and i + 1 < n:
            e = token[i + 1]
            if e in ("'", '"', _ESCAPE) or (delim and e == delim) or e in _UNESCAPE:
                out.append(_UNESCAPE.get(e, e))
                end = len(out)
                i += 2
                continue
        if c == "'" and (quoted or "'" in token[i + 1:]):
            quoted = not quoted
            if quoted:
                end = len(out)
        else:
            out.append(c)
            if c != " " or quoted:
                end = len(out)
        i += 1
    return "".join(out if end is None else out[:end])


def _split_blank(buf: str, limit: int) -> list[str]:
    """Split on runs of spaces; single quotes group, backslash protects the next char."""
    pieces: list[str] = []
    i, n = 0, len(buf)
    while i < n and len(pieces) < limit:
        start = i
        while i < n and buf[i] == " ":  # leading spaces belong to the piece; cleaned later
            i += 1
        if len(pieces) == limit - 1:  # the last allowed piece takes the rest unsplit
            pieces.append(buf[start:])
            break
        quoted = False
        while i < n:
            c = buf[i]
            if c == _ESCAPE:
                i += 2
                continue
            if c == "'" and (quoted or "'" in buf[i + 1:]):
                quoted = not quoted
            elif c == " " and not quoted:
                break
            i += 1
        pieces.append(buf[start:min(i, n)])
        while i < n and buf[i] == " ":
            i += 1
    return pieces


def _split_char(buf: str, delim: str, limit: int) -> list[str]:
    pieces: list[str] = []
    i, n = 0, len(buf)
    while i < n and len(pieces) < limit:
        if len(pieces) == limit - 1:
            pieces.append(buf[i:])
            break
        start = i
        quoted = False
        while i < n:
            c = buf[i]
            if c == _ESCAPE:
                i += 2
                continue
            if c == "'" and (quoted or "'" in buf[i + 1:]):
                quoted = not quoted
            elif c == delim and not quoted:
                break
            i += 1
        pieces.append(buf[start:min(i, n)])
        i += 1  # skip the delimiter
    return pieces


def separate_string(buf: str, delim: str = " ", limit: int = 128) -> list[str]:
    """FreeSWITCH's string splitter: ``^^X`` at the start picks ``X`` as the delimiter."""
    if not buf or limit <= 0:
        return []
    if buf.startswith("^^") and len(buf) > 3:
        delim, buf = buf[2], buf[3:]
    raw = _split_blank(buf, limit) if delim == " " else _split_char(buf, delim, limit)
    return [_cleanup(p, delim) for p in raw]
