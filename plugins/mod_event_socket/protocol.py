"""ESL wire format (behaviour reference §14.1): parsing client packets, building server frames.

A client packet is a block of lines ended by an empty line (CRs are ignored when looking for
it), optionally followed by ``Content-Length`` bytes of body.  Everything here is pure: no
sockets, so the parser can be fed any byte sequence in tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fsd.numbers import leading_int

#: A body larger than this drops the connection (FreeSWITCH: 16 MiB).
MAX_BODY = 16 * 1024 * 1024
#: A header block that grows past this without ending drops the connection.
MAX_HEADER = 1024 * 1024
#: More header lines than this in one packet drop the connection.
MAX_HEADER_LINES = 1000
#: Before ``auth`` succeeds a client can only say ``auth``/``userauth``/``exit``: a packet
#: larger than this, or any body, drops it (so nobody unauthenticated makes us buffer MBs).
PRE_AUTH_MAX_HEADER = 8 * 1024
PRE_AUTH_MAX_BODY = 0

GOODBYE = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
SHUTDOWN_TEXT = "The system is being shut down.\n"
RUDE_TEXT = "Access Denied, go away.\n"

# The end of a header block: a LF, any number of CRs, another LF.
_END = re.compile(rb"\n\r*\n")


class ProtocolError(Exception):
    """The client broke the framing badly enough that the connection must be dropped."""


@dataclass
class Packet:
    """One client command: the first line, the ``Name: value`` lines, an optional body."""

    command: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str | None = None

    def get(self, name: str, default: str | None = None) -> str | None:
        """First header called ``name`` (case-insensitive)."""
        low = name.lower()
        for n, v in self.headers:
            if n.lower() == low:
                return v
        return default




class PacketParser:
    """Incremental parser: ``feed(bytes)`` returns the packets completed so far."""

    def __init__(self, max_header: int = MAX_HEADER, max_body: int = MAX_BODY,
                 max_lines: int = MAX_HEADER_LINES) -> None:
        self.max_header = max_header
        self.max_body = max_body
        self.max_lines = max_lines
        self._buf = bytearray()
        self._pending: Packet | None = None  # headers read, waiting for the body
        self._need = 0
        self._scanned = 0  # bytes of an unfinished header block already searched for its end

    def set_limits(self, max_header: int, max_body: int) -> None:
        """Change the limits (after auth); what is buffered is checked against them next feed."""
        self.max_header = max_header
        self.max_body = max_body

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Packet]:
        self._buf += data
        out: list[Packet] = []
        buf = self._buf
        while True:
            if self._pending is not None:
                if len(buf) < self._need:
                    return out
                body = bytes(buf[: self._need])
                del buf[: self._need]
                pkt = self._pending
                pkt.body = body.decode("utf-8", "replace")
                self._pending = None
                out.append(pkt)
                continue
            # Stray CR/LF before a command is ignored.
            i = 0
            n = len(buf)
            while i < n and buf[i] in (10, 13):
                i += 1
            if i:
                del buf[:i]
            if not buf:
                return out
            # Search only from the last LF already seen (an end marker may straddle two
            # reads), so a long unfinished block costs linear time, not quadratic.
            start = buf.rfind(b"\n", 0, self._scanned) if self._scanned else 0
            m = _END.search(buf, max(0, start))
            if m is None:
                if len(buf) > self.max_header:
                    raise ProtocolError(f"header block larger than {self.max_header} bytes")
                self._scanned = len(buf)
                return out
            self._scanned = 0
            if m.start() > self.max_header:
                raise ProtocolError(f"header block larger than {self.max_header} bytes")
            head = bytes(buf[: m.start()])
            del buf[: m.end()]
            pkt, clen = self._parse_head(head)
            if clen > 0:
                self._pending = pkt
                self._need = clen
                continue
            out.append(pkt)

    def _parse_head(self, head: bytes) -> tuple[Packet, int]:
        if head.count(b"\n") >= self.max_lines:
            raise ProtocolError(f"more than {self.max_lines} header lines")
        text = head.decode("utf-8", "replace")
        lines = text.split("\n")
        pkt = Packet(lines[0].rstrip("\r"))
        clen = 0
        for line in lines[1:]:
            line = line.split("\r", 1)[0]
            if not line:
                continue
            name, colon, value = line.partition(":")
            if not colon:
                continue
            value = value.lstrip(" ")
            pkt.headers.append((name, value))
            if name.lower() == "content-length":
                n = leading_int(value)
                if n is None:
                    n = 0
                if n < 0:
                    raise ProtocolError(f"bad Content-Length {value!r}")
                if n > self.max_body:
                    raise ProtocolError(f"body of {n} bytes is larger than {self.max_body}")
                clen = n
        return pkt, clen


# ---------------------------------------------------------------- server frames


def auth_request() -> bytes:
    return b"Content-Type: auth/request\n\n"


def command_reply(text: str) -> bytes:
    """``Content-Type: command/reply`` with ``Reply-Text``."""
    return f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode()


def raw_reply(lines: str) -> bytes:
    """A command/reply whose header lines (ending in the blank line) are given whole."""
    return ("Content-Type: command/reply\n" + lines).encode()


def api_response(text: str) -> bytes:
    body = text.encode("utf-8", "surrogateescape")
    return b"Content-Type: api/response\nContent-Length: %d\n\n%s" % (len(body), body)


def event_frame(body: bytes, fmt: str, extra: str = "") -> bytes:
    """An event frame: Content-Length comes first, then Content-Type (§14.1)."""
    return b"Content-Length: %d\nContent-Type: text/event-%s\n%s\n%s" % (
        len(body), fmt.encode(), extra.encode(), body)


def disconnect_notice(message: str = GOODBYE, session_uuid: str | None = None) -> bytes:
    body = message.encode()
    if session_uuid:
        head = (f"Content-Type: text/disconnect-notice\nControlled-Session-UUID: {session_uuid}\n"
                f"Content-Disposition: disconnect\nContent-Length: {len(body)}\n\n")
    else:
        head = f"Content-Type: text/disconnect-notice\nContent-Length: {len(body)}\n\n"
    return head.encode() + body


def linger_notice(session_uuid: str, channel_name: str, linger_time: int) -> bytes:
    return (f"Content-Type: text/disconnect-notice\nControlled-Session-UUID: {session_uuid}\n"
            f"Content-Disposition: linger\nChannel-Name: {channel_name}\n"
            f"Linger-Time: {linger_time}\nContent-Length: 0\n\n").encode()


def rude_rejection() -> bytes:
    body = RUDE_TEXT.encode()
    return b"Content-Type: text/rude-rejection\nContent-Length: %d\n\n%s" % (len(body), body)


def log_frame(text: str, level: int, channel: int, file: str, func: str, line: int,
              user_data: str) -> bytes:
    body = text.encode("utf-8", "replace")
    head = (f"Content-Type: log/data\nContent-Length: {len(body)}\nLog-Level: {level}\n"
            f"Text-Channel: {channel}\nLog-File: {file}\nLog-Func: {func}\nLog-Line: {line}\n"
            f"User-Data: {user_data}\n\n")
    return head.encode() + body
