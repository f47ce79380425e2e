"""RTP packets (RFC 3550 §5.1): the fixed header, parsed and built with ``struct``.

Parsing never raises: a datagram that is not RTP version 2 with a whole header (CSRCs,
extension, padding inside the length) gives None, and the caller counts it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_HDR = struct.Struct("!BBHII")
HEADER_LEN = _HDR.size  # 12


@dataclass(slots=True)
class RtpPacket:
    pt: int
    seq: int
    ts: int
    ssrc: int
    marker: bool
    payload: bytes


def parse_rtp(data: bytes) -> RtpPacket | None:
    """The packet in ``data``, or None when it is not a well-formed RTP v2 packet."""
    n = len(data)
    if n < HEADER_LEN:
        return None
    b0, b1, seq, ts, ssrc = _HDR.unpack_from(data)
    if b0 >> 6 != 2:
        return None
    pt = b1 & 0x7F
    if 72 <= pt <= 76:  # RTCP (SR/RR/SDES/BYE/APP) multiplexed on the port: not media
        return None
    off = HEADER_LEN + 4 * (b0 & 0x0F)
    if b0 & 0x10:  # header extension: 16-bit profile, 16-bit length in words
        if n < off + 4:
            return None
        off += 4 + 4 * int.from_bytes(data[off + 2:off + 4], "big")
    end = n
    if b0 & 0x20:  # padding: the last byte says how much
        pad = data[-1]
        end = n - pad
        if pad == 0:
            return None
    if off > end:
        return None
    return RtpPacket(pt, seq, ts, ssrc, bool(b1 & 0x80), bytes(data[off:end]))


def build_rtp(pt: int, seq: int, ts: int, ssrc: int, payload: bytes,
              marker: bool = False) -> bytes:
    """A version-2 packet without CSRCs, extension or padding."""
    return _HDR.pack(0x80, (0x80 if marker else 0) | (pt & 0x7F), seq & 0xFFFF,
                     ts & 0xFFFFFFFF, ssrc & 0xFFFFFFFF) + payload


def seq_diff(a: int, b: int) -> int:
    """``a - b`` for 16-bit sequence numbers, in -32768..32767."""
    return ((a - b + 0x8000) & 0xFFFF) - 0x8000


def ts_diff(a: int, b: int) -> int:
    """``a - b`` for 32-bit timestamps, signed."""
    return ((a - b + 0x80000000) & 0xFFFFFFFF) - 0x80000000
