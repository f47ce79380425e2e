"""A response to a request the parser refused: built from whatever header lines can be read.

A reply needs the request's Via, From, To, Call-ID and CSeq; without them (or for a
response or an ACK, which are never answered) the message is dropped."""

from __future__ import annotations

from .message import COMPACT, REASONS

_NEEDED = ("via", "from", "to", "call-id", "cseq")


def raw_reply(data: bytes, status: int) -> bytes | None:
    try:
        text = data[:32768].decode("utf-8", "replace")
    except Exception:  # noqa: BLE001
        return None
    lines = text.replace("\r\n", "\n").split("\n")
    first = lines[0].strip() if lines else ""
    words = first.split(" ")
    if not first or first.startswith("SIP/") or len(words) < 2 or words[0].upper() == "ACK":
        return None
    found: dict[str, list[str]] = {}
    for line in lines[1:]:
        if not line.strip():
            break
        name, colon, value = line.partition(":")
        if not colon:
            continue
        n = name.strip().lower()
        n = COMPACT.get(n, n).lower() if len(n) == 1 else n
        if n in _NEEDED and len(value) < 4096:
            found.setdefault(n, []).append(value.strip())
    if any(n not in found for n in _NEEDED):
        return None
    out = [f"SIP/2.0 {status} {REASONS.get(status, 'Bad Request')}"]
    out += [f"Via: {v}" for v in found["via"]]
    out += [f"From: {found['from'][0]}", f"To: {found['to'][0]}",
            f"Call-ID: {found['call-id'][0]}", f"CSeq: {found['cseq'][0]}",
            "Content-Length: 0"]
    return ("\r\n".join(out) + "\r\n\r\n").encode("utf-8", "replace")
