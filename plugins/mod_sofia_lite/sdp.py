"""SDP (RFC 4566) for mod_sofia_lite: parse a remote description, choose a codec, write
offers and answers the way FreeSWITCH's media core does (sofia-behaviour §8.1-8.2, §8.6).

    desc = parse_sdp(body)                     # SdpError on garbage, never anything else
    neg = negotiate(desc, ["PCMU", "PCMA"])    # None: nothing in common -> answer 488
    origin = SdpOrigin()                       # one per call: keeps o= id, bumps version
    body = build_answer(origin, "127.0.0.1", stream.local_port, neg)
    body = build_offer(origin, "127.0.0.1", stream.local_port, ["PCMU", "PCMA"])

Only what fsd can carry is negotiated: PCMU and PCMA (8 kHz), telephone-event (RFC 4733)
and comfort noise (PT 13, tolerated: it counts as media and plays as silence).  Codec
preferences may carry FreeSWITCH's options (``PCMU@20i``, ``PCMA@8000h@20i``): the name
is matched, a ``@<n>i`` ptime is what an offer advertises.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from fsd.numbers import is_digits

__all__ = [
    "DIRECTIONS",
    "MediaDescription",
    "Negotiated",
    "RtpMap",
    "SdpError",
    "SdpOrigin",
    "SessionDescription",
    "build_answer",
    "build_offer",
    "negotiate",
    "parse_sdp",
    "parse_codec_prefs",
]

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
#: What we answer to each remote direction (RFC 3264 §6.1).
ANSWER_DIRECTION = {"sendrecv": "sendrecv", "sendonly": "recvonly",
                    "recvonly": "sendonly", "inactive": "inactive"}
#: Audio codecs fsd encodes and decodes itself.
SUPPORTED = {"PCMU": 8000, "PCMA": 8000}
#: RFC 3551 static payload types (the ones a phone may offer without an rtpmap).
STATIC_PT = {0: ("PCMU", 8000), 3: ("GSM", 8000), 4: ("G723", 8000), 8: ("PCMA", 8000),
             9: ("G722", 8000), 13: ("CN", 8000), 18: ("G729", 8000)}
CODEC_PT = {"PCMU": 0, "PCMA": 8}
DEFAULT_TE_PT = 101
CN_PT = 13
DEFAULT_PTIME = 20
_MAX_LINES = 500  # a description longer than this is not a phone's


class SdpError(ValueError):
    """The text is not a usable session description (the message says why)."""


@dataclass
class RtpMap:
    pt: int
    name: str
    rate: int
    channels: int = 1


@dataclass
class MediaDescription:
    """One ``m=`` line and its attributes."""

    media: str
    port: int
    proto: str
    fmts: list[str]
    connection: str = ""  # media-level c= address ("" = use the session's)
    rtpmap: dict[int, RtpMap] = field(default_factory=dict)
    fmtp: dict[int, str] = field(default_factory=dict)
    ptime: int | None = None
    maxptime: int | None = None
    direction: str = ""  # "" = not given at media level
    attributes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def pts(self) -> list[int]:
        """The numeric formats (RTP payload types); others are skipped."""
        return [int(f) for f in self.fmts if is_digits(f) and int(f) < 128]

    def codec_of(self, pt: int) -> RtpMap | None:
        """rtpmap for ``pt``, or the static assignment."""
        if pt in self.rtpmap:
            return self.rtpmap[pt]
        if pt in STATIC_PT:
            name, rate = STATIC_PT[pt]
            return RtpMap(pt, name, rate)
        return None


@dataclass
class SessionDescription:
    username: str = "-"
    sess_id: str = "0"
    sess_version: str = "0"
    origin_addr: str = ""
    session_name: str = "-"
    connection: str = ""  # session-level c= address
    direction: str = ""  # session-level a=sendrecv/...
    media: list[MediaDescription] = field(default_factory=list)
    text: str = ""

    @property
    def audio(self) -> MediaDescription | None:
        """The first audio stream that is not rejected (port 0)."""
        for m in self.media:
            if m.media == "audio" and m.port != 0:
                return m
        return None


@dataclass
class Negotiated:
    """The result of matching a remote description against our codecs."""

    codec: str  # "PCMU" / "PCMA"
    pt: int  # payload type (the remote's number for it)
    rate: int
    ptime: int  # ms per packet
    te_pt: int | None  # telephone-event payload type, None: no RFC 2833 (dtmf_type=info)
    cn_pt: int | None  # comfort noise payload type offered by the remote
    remote_ip: str
    remote_port: int
    direction: str  # the remote's direction: sendrecv / sendonly / recvonly / inactive
    media_index: int = 0  # which m= line of the offer/answer was used
    offer: SessionDescription | None = None

    @property
    def hold(self) -> bool:
        """The remote puts us on hold (sendonly / inactive / c=0.0.0.0)."""
        return self.direction in ("sendonly", "inactive") or self.remote_ip in ("0.0.0.0", "::")

    @property
    def answer_direction(self) -> str:
        return ANSWER_DIRECTION[self.direction]

    @property
    def we_send(self) -> bool:
        """Whether we send RTP: the remote receives (sendrecv/recvonly) to a real address."""
        return self.direction in ("sendrecv", "recvonly") and not self.hold

    @property
    def we_receive(self) -> bool:
        return self.direction in ("sendrecv", "sendonly")

    @property
    def samples_per_packet(self) -> int:
        return self.rate * self.ptime // 1000

    def codec_string(self) -> str:
        """FreeSWITCH's ``rtp_use_codec_string`` form, e.g. ``PCMU@8000h@20i``."""
        return f"{self.codec}@{self.rate}h@{self.ptime}i"

    def variables(self) -> dict[str, str]:
        """The channel variables FreeSWITCH sets after negotiation (§8.1)."""
        out = {
            "rtp_use_codec_name": self.codec,
            "rtp_use_codec_rate": str(self.rate),
            "rtp_use_codec_ptime": str(self.ptime),
            "rtp_use_codec_channels": "1",
            "rtp_use_pt": str(self.pt),
            "rtp_audio_recv_pt": str(self.pt),
            "read_codec": self.codec, "read_rate": str(self.rate),
            "original_read_codec": self.codec, "original_read_rate": str(self.rate),
            "write_codec": self.codec, "write_rate": str(self.rate),
            "remote_media_ip": self.remote_ip,
            "remote_media_port": str(self.remote_port),
            "dtmf_type": "rfc2833" if self.te_pt is not None else "info",
        }
        if self.te_pt is not None:
            out["rtp_2833_send_payload"] = str(self.te_pt)
            out["rtp_2833_recv_payload"] = str(self.te_pt)
        return out


# ----------------------------------------------------------------------------- parsing
def parse_sdp(text: str | bytes) -> SessionDescription:
    """Parse ``text``; raises :class:`SdpError` (and nothing else) when it is unusable."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text).decode("utf-8", "replace")
    if not isinstance(text, str):
        raise SdpError(f"SDP must be text, not {type(text).__name__}")
    lines = [ln.strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise SdpError("empty SDP")
    if len(lines) > _MAX_LINES:
        raise SdpError(f"SDP has {len(lines)} lines (more than {_MAX_LINES})")
    if lines[0] != "v=0":
        raise SdpError(f"SDP must start with v=0, not {lines[0][:40]!r}")
    desc = SessionDescription(text=text)
    cur: MediaDescription | None = None
    for no, line in enumerate(lines, 1):
        if len(line) < 2 or line[1] != "=" or not line[0].isalpha():
            raise SdpError(f"line {no} is not <type>=<value>: {line[:40]!r}")
        kind, value = line[0], line[2:]
        try:
            if kind == "o":
                _parse_origin(desc, value)
            elif kind == "s":
                desc.session_name = value
            elif kind == "c":
                addr = _parse_connection(value)
                if cur is None:
                    desc.connection = addr
                else:
                    cur.connection = addr
            elif kind == "m":
                cur = _parse_media(value)
                desc.media.append(cur)
            elif kind == "a":
                _parse_attribute(desc, cur, value)
        except SdpError as exc:
            raise SdpError(f"line {no} ({line[:40]!r}): {exc}") from None
        except (ValueError, IndexError) as exc:
            raise SdpError(f"line {no} ({line[:40]!r}) is malformed: {exc}") from None
    for m in desc.media:
        if m.media == "audio" and m.port != 0 and not (m.connection or desc.connection):
            raise SdpError("audio stream without a connection address (c=)")
    return desc


def _parse_origin(desc: SessionDescription, value: str) -> None:
    parts = value.split()
    if len(parts) != 6:
        raise SdpError("o= needs 6 fields")
    desc.username, desc.sess_id, desc.sess_version = parts[0], parts[1], parts[2]
    desc.origin_addr = parts[5]


def _parse_connection(value: str) -> str:
    parts = value.split()
    if len(parts) < 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
        raise SdpError("c= must be 'IN IP4|IP6 <address>'")
    return parts[2].split("/")[0]  # multicast TTL / count suffix dropped


def _parse_media(value: str) -> MediaDescription:
    parts = value.split()
    if len(parts) < 3:
        raise SdpError("m= needs media, port and proto")
    port_s = parts[1].split("/")[0]
    if not is_digits(port_s) or int(port_s) > 65535:
        raise SdpError(f"bad media port {parts[1]!r}")
    return MediaDescription(parts[0].lower(), int(port_s), parts[2], parts[3:])


def _parse_attribute(desc: SessionDescription, cur: MediaDescription | None, value: str) -> None:
    name, _, arg = value.partition(":")
    name = name.strip().lower()
    if name in DIRECTIONS:
        if cur is None:
            desc.direction = name
        else:
            cur.direction = name
        return
    if cur is None:
        return
    cur.attributes.append((name, arg))
    if name == "rtpmap":
        pt_s, _, enc = arg.strip().partition(" ")
        bits = enc.strip().split("/")
        if not is_digits(pt_s) or not bits[0] or len(bits) < 2 or not is_digits(bits[1]):
            raise SdpError("rtpmap must be '<pt> <name>/<rate>[/<channels>]'")
        ch = int(bits[2]) if len(bits) > 2 and is_digits(bits[2]) else 1
        cur.rtpmap[int(pt_s)] = RtpMap(int(pt_s), bits[0], int(bits[1]), ch)
    elif name == "fmtp":
        pt_s, _, params = arg.strip().partition(" ")
        if is_digits(pt_s):
            cur.fmtp[int(pt_s)] = params.strip()
    elif name in ("ptime", "maxptime"):
        v = arg.strip().split(".")[0]
        if is_digits(v) and 0 < int(v) <= 1000:
            setattr(cur, name, int(v))


# ----------------------------------------------------------------------------- negotiation
def parse_codec_prefs(prefs: list[str] | str) -> list[tuple[str, int | None]]:
    """``"PCMU@20i,PCMA"`` or a list of such → [(NAME, ptime or None)] for codecs fsd has."""
    items = prefs.split(",") if isinstance(prefs, str) else list(prefs)
    out: list[tuple[str, int | None]] = []
    for item in items:
        bits = item.strip().split("@")
        name = bits[0].strip().upper()
        if name not in SUPPORTED or any(n == name for n, _ in out):
            continue
        ptime = None
        for b in bits[1:]:
            if b.endswith("i") and is_digits(b[:-1]):
                ptime = int(b[:-1])
        out.append((name, ptime))
    return out


def negotiate(remote: SessionDescription, codec_prefs: list[str] | str,
              mode: str = "generous") -> Negotiated | None:
    """Choose a codec from the remote offer (or answer) and our preferences.

    ``mode`` is FreeSWITCH's inbound-codec-negotiation: ``generous`` (default) takes the
    remote's order, ``greedy`` and ``scrooge`` ours.  Returns None when no audio stream
    has a codec in common (the caller answers 488 / hangs up INCOMPATIBLE_DESTINATION).
    """
    ours = parse_codec_prefs(codec_prefs)
    if not ours:
        return None
    for index, m in enumerate(remote.media):
        if m.media != "audio" or m.port == 0 or not m.proto.upper().startswith("RTP/AVP"):
            continue
        if m.proto.upper() != "RTP/AVP":
            continue  # RTP/SAVP, RTP/AVPF...: no SRTP/feedback here
        offered: list[tuple[int, RtpMap]] = []
        for pt in m.pts:
            rm = m.codec_of(pt)
            if rm is not None:
                offered.append((pt, rm))
        choice = _choose(offered, [n for n, _ in ours], mode)
        if choice is None:
            continue
        pt, rm = choice
        ptime = m.ptime or DEFAULT_PTIME
        if m.maxptime and ptime > m.maxptime:
            ptime = m.maxptime
        te_pt = cn_pt = None
        for opt, orm in offered:
            name = orm.name.lower()
            if name == "telephone-event" and orm.rate == rm.rate and te_pt is None:
                te_pt = opt
            elif name == "cn" and orm.rate == rm.rate and cn_pt is None:
                cn_pt = opt
        direction = m.direction or remote.direction or "sendrecv"
        return Negotiated(
            codec=rm.name.upper(), pt=pt, rate=rm.rate, ptime=ptime, te_pt=te_pt,
            cn_pt=cn_pt, remote_ip=m.connection or remote.connection, remote_port=m.port,
            direction=direction, media_index=index, offer=remote)
    return None


def _choose(offered: list[tuple[int, RtpMap]], ours: list[str],
            mode: str) -> tuple[int, RtpMap] | None:
    def fits(pt: int, rm: RtpMap, name: str) -> bool:
        # Same name, same clock rate (strict for G.711), static/dynamic class kept.
        return (rm.name.upper() == name and rm.rate == SUPPORTED[name] and rm.channels == 1
                and (pt < 96) == (CODEC_PT[name] < 96))

    if mode in ("greedy", "scrooge"):
        for name in ours:
            for pt, rm in offered:
                if fits(pt, rm, name):
                    return pt, rm
        return None
    for pt, rm in offered:
        for name in ours:
            if fits(pt, rm, name):
                return pt, rm
    return None


# ----------------------------------------------------------------------------- writing
class SdpOrigin:
    """The ``o=`` line of one call's SDPs: the id stays, the version goes up by one each
    time the description we send changes (a re-sent identical SDP keeps its version)."""

    def __init__(self, username: str = "FreeSWITCH", sess_id: int | None = None,
                 port: int = 0) -> None:
        self.username = username or "FreeSWITCH"
        # FreeSWITCH: id = epoch - port, printed with 10 digits at least.
        self.sess_id = sess_id if sess_id is not None else max(1, int(time.time()) - port)
        self.version = self.sess_id + 1
        self._last_body: str | None = None

    def render(self, ip: str, body: str) -> str:
        """The full description: header lines + ``body`` (bumps the version on change)."""
        key = f"{ip}\n{body}"
        if self._last_body is not None and key != self._last_body:
            self.version += 1
        self._last_body = key
        fam = _family(ip)
        return (f"v=0\r\no={self.username} {self.sess_id:010d} {self.version:010d} IN {fam} "
                f"{ip}\r\ns={self.username}\r\nc=IN {fam} {ip}\r\nt=0 0\r\n{body}")


def _family(ip: str) -> str:
    return "IP6" if ":" in ip else "IP4"


def build_offer(origin: SdpOrigin, ip: str, port: int, codec_prefs: list[str] | str, *,
                te_pt: int | None = DEFAULT_TE_PT, cn: bool = True, ptime: int | None = None,
                direction: str = "sendrecv") -> str:
    """An offer with one audio stream: our codecs in preference order, telephone-event,
    comfort noise, ``a=ptime`` (the first preference's ``@<n>i``, else 20)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"bad direction {direction!r}")
    ours = parse_codec_prefs(codec_prefs) or [("PCMU", None), ("PCMA", None)]
    pts = [CODEC_PT[n] for n, _ in ours]
    ptime = ptime or ours[0][1] or DEFAULT_PTIME
    fmts = [str(p) for p in pts]
    lines = []
    if te_pt is not None:
        fmts.append(str(te_pt))
    if cn:
        fmts.append(str(CN_PT))
    lines.append(f"m=audio {port} RTP/AVP {' '.join(fmts)}")
    if te_pt is not None:
        lines += [f"a=rtpmap:{te_pt} telephone-event/8000", f"a=fmtp:{te_pt} 0-15"]
    if cn:
        lines.append(f"a=rtpmap:{CN_PT} CN/8000")
    lines += [f"a=ptime:{ptime}", f"a={direction}"]
    return origin.render(ip, "".join(ln + "\r\n" for ln in lines))


def build_answer(origin: SdpOrigin, ip: str, port: int, negotiated: Negotiated, *,
                 direction: str | None = None, dtmf: bool = True) -> str:
    """The answer to ``negotiated.offer``: the chosen codec (rtpmap even for static pts),
    the offerer's telephone-event pt with ``0-15``, CN when offered, ``a=ptime``, and the
    direction answering the remote's (``direction`` overrides).  Streams of the offer we
    do not use are answered with port 0, as RFC 3264 wants one m= per offered m=."""
    direction = direction or negotiated.answer_direction
    if direction not in DIRECTIONS:
        raise ValueError(f"bad direction {direction!r}")
    n = negotiated
    fmts = [str(n.pt)]
    lines = [f"a=rtpmap:{n.pt} {n.codec}/{n.rate}"]
    if dtmf and n.te_pt is not None:
        fmts.append(str(n.te_pt))
        lines += [f"a=rtpmap:{n.te_pt} telephone-event/{n.rate}", f"a=fmtp:{n.te_pt} 0-15"]
    if n.cn_pt is not None:
        fmts.append(str(n.cn_pt))
        lines.append(f"a=rtpmap:{n.cn_pt} CN/{n.rate}")
    lines += [f"a=ptime:{n.ptime}", f"a={direction}"]
    ours = f"m=audio {port} RTP/AVP {' '.join(fmts)}\r\n" + "".join(ln + "\r\n" for ln in lines)
    body = []
    media = n.offer.media if n.offer is not None else []
    if not media:
        body.append(ours)
    for i, m in enumerate(media):
        if i == n.media_index:
            body.append(ours)
        else:
            body.append(f"m={m.media} 0 {m.proto} {' '.join(m.fmts) or '0'}\r\n")
    return origin.render(ip, "".join(body))
