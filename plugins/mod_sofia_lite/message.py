"""SIP messages: parsing that never raises anything but ParseError, and building.

A message keeps its headers as an ordered list of (canonical name, value); compact forms
(``v``, ``f``, ``i``…) are expanded on parse.  Headers that RFC 3261 allows as
comma-separated lists (Via, Route, Record-Route, Contact…) are split into one entry per
value, outside quotes and angle brackets, so ``get_all`` sees each value once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fsd.numbers import is_digits

#: Largest header section accepted (bytes); more → 513 (if answerable) or dropped.
MAX_HEADER_BYTES = 16 * 1024
MAX_MESSAGE_BYTES = 64 * 1024

COMPACT = {
    "i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
    "c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To",
    "v": "Via", "r": "Refer-To", "b": "Referred-By", "o": "Event", "u": "Allow-Events",
    "x": "Session-Expires", "a": "Accept-Contact", "y": "Identity", "n": "Identity-Info",
}

_CANON = {n.lower(): n for n in (
    "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Max-Forwards", "Route",
    "Record-Route", "Content-Type", "Content-Length", "Allow", "Accept", "Supported",
    "Require", "User-Agent", "Server", "Expires", "Authorization", "WWW-Authenticate",
    "Proxy-Authenticate", "Proxy-Authorization", "Reason", "Event", "Subject", "Date",
    "Min-Expires", "Retry-After", "Unsupported", "Allow-Events", "Content-Encoding",
    "Refer-To", "Referred-By", "Session-Expires", "Remote-Party-ID",
    "P-Asserted-Identity", "P-Preferred-Identity", "Privacy", "Call-Info", "Alert-Info",
    "Accept-Language", "Diversion", "Timestamp", "Warning", "Organization", "Priority",
    "In-Reply-To", "Reply-To", "Min-SE", "RSeq", "RAck", "Path")}
_CANON["call-id"] = "Call-ID"
_CANON["cseq"] = "CSeq"
_CANON["www-authenticate"] = "WWW-Authenticate"

#: Headers whose comma-separated values are separate entries.
LIST_HEADERS = {"Via", "Route", "Record-Route", "Contact", "Allow", "Supported", "Require",
                "Accept", "Unsupported", "Allow-Events", "Path"}

REASONS = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 200: "OK", 202: "Accepted", 300: "Multiple Choices",
    301: "Moved Permanently", 302: "Moved Temporarily", 305: "Use Proxy", 380: "Alternative Service",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 410: "Gone",
    413: "Request Entity Too Large", 414: "Request-URI Too Long", 415: "Unsupported Media Type",
    416: "Unsupported URI Scheme", 420: "Bad Extension", 421: "Extension Required",
    422: "Session Interval Too Small", 423: "Interval Too Brief", 428: "Use Identity Header",
    480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist", 482: "Loop Detected",
    483: "Too Many Hops", 484: "Address Incomplete", 485: "Ambiguous", 486: "Busy Here",
    487: "Request Terminated", 488: "Not Acceptable Here", 489: "Bad Event", 491: "Request Pending",
    493: "Undecipherable", 500: "Server Internal Error", 501: "Not Implemented",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Server Time-out",
    505: "Version Not Supported", 513: "Message Too Large", 600: "Busy Everywhere",
    603: "Decline", 604: "Does Not Exist Anywhere", 606: "Not Acceptable", 607: "Unwanted",
}

_TOKEN = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")


class ParseError(ValueError):
    """A message that cannot be understood.  ``status`` is the reply to send when the
    message got far enough to be answered (400, 413, 505, 513), else 0."""

    def __init__(self, text: str, status: int = 0) -> None:
        super().__init__(text)
        self.status = status


def canonical(name: str) -> str:
    name = name.strip()
    low = name.lower()
    if len(low) == 1 and low in COMPACT:
        return COMPACT[low]
    return _CANON.get(low) or "-".join(p[:1].upper() + p[1:] for p in name.split("-"))


def split_list(value: str) -> list[str]:
    """Split on commas outside quotes and <>."""
    out, cur, quote, depth = [], [], False, 0
    i = 0
    while i < len(value):
        ch = value[i]
        if quote:
            cur.append(ch)
            if ch == "\\" and i + 1 < len(value):
                cur.append(value[i + 1])
                i += 1
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
            cur.append(ch)
        elif ch == "<":
            depth += 1
            cur.append(ch)
        elif ch == ">":
            depth = max(0, depth - 1)
            cur.append(ch)
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur).strip())
    return [v for v in out if v]


@dataclass
class SipMessage:
    method: str = ""          # requests
    uri: str = ""
    status: int = 0           # responses
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    # Where it came from (set by the transport).
    source: tuple[str, int] = ("", 0)
    transport: str = "udp"

    @property
    def is_request(self) -> bool:
        return bool(self.method)

    # -- headers -----------------------------------------------------------------
    def get(self, name: str, default: str | None = None) -> str | None:
        name = canonical(name)
        for n, v in self.headers:
            if n == name:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        name = canonical(name)
        return [v for n, v in self.headers if n == name]

    def add(self, name: str, value: str) -> None:
        self.headers.append((canonical(name), str(value)))

    def set(self, name: str, value: str | None) -> None:
        name = canonical(name)
        self.headers = [(n, v) for n, v in self.headers if n != name]
        if value is not None:
            self.headers.append((name, str(value)))

    def remove(self, name: str) -> None:
        self.set(name, None)

    # -- commonly used parts -----------------------------------------------------
    @property
    def call_id(self) -> str:
        return self.get("Call-ID") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        text = self.get("CSeq") or ""
        num, _, method = text.strip().partition(" ")
        try:
            return int(num), method.strip().upper()
        except ValueError:
            return -1, method.strip().upper()

    @property
    def from_tag(self) -> str:
        return NameAddr.parse(self.get("From") or "").params.get("tag") or ""

    @property
    def to_tag(self) -> str:
        return NameAddr.parse(self.get("To") or "").params.get("tag") or ""

    @property
    def top_via(self) -> Via | None:
        v = self.get("Via")
        return Via.parse(v) if v else None

    def encode(self) -> bytes:
        if self.method:
            first = f"{self.method} {self.uri} SIP/2.0"
        else:
            first = f"SIP/2.0 {self.status} {self.reason or REASONS.get(self.status, 'Unknown')}"
        lines = [first]
        for n, v in self.headers:
            if n == "Content-Length":
                continue
            lines.append(f"{n}: {v}")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "replace") + self.body

    def __str__(self) -> str:
        return self.encode().decode("utf-8", "replace")


def header_end(data: bytes) -> int:
    """Index just past the blank line ending the header section, or -1."""
    i = data.find(b"\r\n\r\n")
    if i >= 0:
        return i + 4
    i = data.find(b"\n\n")
    return i + 2 if i >= 0 else -1


def parse(data: bytes, *, stream: bool = False) -> SipMessage:
    """Parse one message.  For datagrams the body is what follows the headers, cut to
    Content-Length (a shorter body is an error); ``stream`` framing is the caller's."""
    if not isinstance(data, (bytes, bytearray)):
        raise ParseError("not bytes")
    if len(data) > MAX_MESSAGE_BYTES:
        raise ParseError("message too large", 513)
    data = bytes(data).lstrip(b"\r\n")
    end = header_end(data)
    if end < 0:
        if len(data) > MAX_HEADER_BYTES:
            raise ParseError("header section too large", 513)
        raise ParseError("no end of headers")
    if end > MAX_HEADER_BYTES:
        raise ParseError("header section too large", 513)
    try:
        head = data[:end].decode("utf-8")
    except UnicodeDecodeError:
        head = data[:end].decode("latin-1")
    lines = head.replace("\r\n", "\n").split("\n")
    first = lines[0].strip()
    msg = SipMessage()
    if first.startswith("SIP/"):
        parts = first.split(" ", 2)
        if len(parts) < 2 or parts[0] != "SIP/2.0" or not is_digits(parts[1]) or len(parts[1]) != 3:
            raise ParseError(f"bad status line [{first[:80]}]")
        msg.status = int(parts[1])
        if not 100 <= msg.status <= 699:
            raise ParseError("status out of range")
        msg.reason = parts[2] if len(parts) > 2 else ""
    else:
        parts = first.split(" ")
        if len(parts) != 3 or not _TOKEN.match(parts[0]) or not parts[1]:
            raise ParseError(f"bad request line [{first[:80]}]")
        if parts[2] != "SIP/2.0":
            raise ParseError(f"bad version [{parts[2][:20]}]", 505 if parts[2].startswith("SIP/") else 0)
        msg.method, msg.uri = parts[0].upper(), parts[1]
    # Unfold continuation lines, then split name: value.
    folded: list[str] = []
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and folded:
            folded[-1] += " " + line.strip()
        else:
            folded.append(line)
    for line in folded:
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not name or not _TOKEN.match(name):
            raise ParseError(f"bad header line [{line[:60]}]", 400)
        cname = canonical(name)
        value = value.strip()
        if cname in LIST_HEADERS:
            for v in split_list(value):
                msg.headers.append((cname, v))
        else:
            msg.headers.append((cname, value))
    body = data[end:]
    cl_text = msg.get("Content-Length")
    if cl_text is not None:
        if not is_digits(cl_text.strip()):
            raise ParseError("bad Content-Length", 400)
        cl = int(cl_text.strip())
        if cl > len(body):
            raise ParseError("body shorter than Content-Length", 400)
        body = body[:cl]
    elif stream:
        body = b""
    msg.body = body
    return msg


# -- URIs and addresses ------------------------------------------------------------

@dataclass
class SipUri:
    scheme: str = "sip"
    user: str = ""
    password: str = ""
    host: str = ""
    port: int = 0
    params: dict[str, str | None] = field(default_factory=dict)
    headers: str = ""

    @classmethod
    def parse(cls, text: str) -> SipUri:
        """Parse a sip/sips/tel URI; tolerant (never raises)."""
        u = cls()
        text = (text or "").strip()
        scheme, colon, rest = text.partition(":")
        if not colon:
            u.host = text
            return u
        u.scheme = scheme.lower()
        rest, _, u.headers = rest.partition("?")
        at = rest.find("@")
        if at >= 0:
            userinfo, rest = rest[:at], rest[at + 1:]
            u.user, _, u.password = userinfo.partition(":")
        hostport, *params = rest.split(";")
        if hostport.startswith("["):
            close = hostport.find("]")
            u.host = hostport[:close + 1] if close > 0 else hostport
            port = hostport[close + 2:] if close > 0 and hostport[close + 1:close + 2] == ":" else ""
        else:
            u.host, _, port = hostport.partition(":")
        u.port = int(port) if is_digits(port) and int(port) < 65536 else 0
        for p in params:
            if not p:
                continue
            k, eq, v = p.partition("=")
            u.params[k.lower()] = v if eq else None
        return u

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self.port}" if self.port else self.host

    def __str__(self) -> str:
        s = f"{self.scheme}:"
        if self.user:
            s += self.user + (f":{self.password}" if self.password else "") + "@"
        s += self.hostport
        for k, v in self.params.items():
            s += f";{k}" + (f"={v}" if v is not None else "")
        if self.headers:
            s += "?" + self.headers
        return s


@dataclass
class NameAddr:
    display: str = ""
    uri: SipUri = field(default_factory=SipUri)
    params: dict[str, str | None] = field(default_factory=dict)
    raw_uri: str = ""

    @classmethod
    def parse(cls, text: str) -> NameAddr:
        """``"Name" <sip:u@h>;tag=x`` or ``sip:u@h;tag=x``; tolerant."""
        na = cls()
        text = (text or "").strip()
        lt = text.find("<")
        if lt >= 0:
            gt = text.find(">", lt)
            if gt < 0:
                gt = len(text)
            disp = text[:lt].strip()
            if len(disp) >= 2 and disp[0] == '"' and disp[-1] == '"':
                disp = disp[1:-1].replace('\\"', '"')
            na.display = disp
            na.raw_uri = text[lt + 1:gt]
            tail = text[gt + 1:]
        else:
            uri, _, tail = text.partition(";")
            na.raw_uri = uri.strip()
        na.uri = SipUri.parse(na.raw_uri)
        for p in tail.split(";"):
            p = p.strip()
            if not p:
                continue
            k, eq, v = p.partition("=")
            na.params[k.strip().lower()] = v.strip() if eq else None
        return na

    def __str__(self) -> str:
        s = (f'"{self.display}" ' if self.display else "") + f"<{self.raw_uri or self.uri}>"
        for k, v in self.params.items():
            s += f";{k}" + (f"={v}" if v is not None else "")
        return s


@dataclass
class Via:
    protocol: str = "UDP"
    host: str = ""
    port: int = 0
    params: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Via:
        v = cls()
        text = (text or "").strip()
        proto, _, rest = text.partition(" ")
        v.protocol = proto.rsplit("/", 1)[-1].upper() if "/" in proto else "UDP"
        sent_by, *params = rest.strip().split(";")
        sent_by = sent_by.strip()
        if sent_by.startswith("["):
            close = sent_by.find("]")
            v.host = sent_by[:close + 1]
            port = sent_by[close + 2:] if close > 0 else ""
        else:
            v.host, _, port = sent_by.partition(":")
        v.port = int(port) if is_digits(port.strip()) and int(port) < 65536 else 0
        for p in params:
            p = p.strip()
            if p:
                k, eq, val = p.partition("=")
                v.params[k.strip().lower()] = val.strip() if eq else None
        return v

    @property
    def branch(self) -> str:
        return self.params.get("branch") or ""

    def __str__(self) -> str:
        s = f"SIP/2.0/{self.protocol} {self.host}" + (f":{self.port}" if self.port else "")
        for k, val in self.params.items():
            s += f";{k}" + (f"={val}" if val is not None else "")
        return s


def parse_auth(value: str) -> dict[str, str]:
    """``Digest username="x", realm="y", nc=00000001`` → dict (lower-case keys)."""
    scheme, _, rest = (value or "").strip().partition(" ")
    out: dict[str, str] = {"scheme": scheme.lower()}
    for part in split_list(rest):
        k, eq, v = part.partition("=")
        if not eq:
            continue
        v = v.strip()
        if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
            v = v[1:-1]
        out[k.strip().lower()] = v
    return out


def response_to(req: SipMessage, status: int, reason: str = "", *, to_tag: str = "") -> SipMessage:
    """A response copying Via, From, To (adding ``to_tag`` if none), Call-ID, CSeq."""
    r = SipMessage(status=status, reason=reason or REASONS.get(status, "Unknown"))
    for name in ("Via",):
        for v in req.get_all(name):
            r.add(name, v)
    r.add("From", req.get("From") or "")
    to = req.get("To") or ""
    if to_tag and ";tag=" not in to.replace(" ", "").lower() and status != 100:
        to = f"{to};tag={to_tag}"
    r.add("To", to)
    r.add("Call-ID", req.call_id)
    r.add("CSeq", req.get("CSeq") or "")
    return r
