"""The far end of an RTP call, for tests: a raw UDP socket that sends and receives RTP.

Imported by the RTP tests (tests/mod_sofia_lite/test_rtp*.py) through the ``rtp`` fixture
in conftest.py, since test modules cannot import each other under --import-mode=importlib.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass

import numpy as np
from fsd_modules.mod_sofia_lite.sdp import negotiate, parse_sdp

from fsd.media.codecs import ulaw_decode, ulaw_encode


@dataclass
class Rx:
    pt: int
    seq: int
    ts: int
    ssrc: int
    marker: bool
    payload: bytes
    at: float
    src: tuple


class Peer:
    """A UDP socket on 127.0.0.1 acting as the remote party."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.seq = 1000
        self.ts = 50000
        self.ssrc = 0x1234ABCD
        self.received: list[Rx] = []

    def close(self) -> None:
        self.sock.close()

    def send(self, to: tuple, pt: int, payload: bytes, *, ts: int | None = None,
             marker: bool = False, seq: int | None = None) -> None:
        s = self.seq if seq is None else seq
        t = self.ts if ts is None else ts
        hdr = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, s & 0xFFFF,
                          t & 0xFFFFFFFF, self.ssrc)
        self.sock.sendto(hdr + payload, to)
        if seq is None:
            self.seq += 1

    def send_audio(self, to: tuple, samples: np.ndarray, pt: int = 0, spp: int = 160,
                   interval: float = 0.02) -> None:
        """Send ``samples`` as PCMU packets paced at real time (and collect what arrives)."""
        start = time.monotonic()
        for i in range(0, len(samples) - spp + 1, spp):
            self.send(to, pt, ulaw_encode(samples[i:i + spp]), marker=(i == 0))
            self.ts += spp
            self.drain()
            delay = start + (i // spp + 1) * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def send_event(self, to: tuple, digit: str, duration: int = 800, pt: int = 101,
                   step: int = 160, interval: float = 0.02) -> None:
        """One RFC 4733 event as a phone sends it: growing durations, end packet x3."""
        code = "0123456789*#ABCD".index(digit)
        ts = self.ts
        d = step
        first = True
        while d < duration:
            self.send(to, pt, struct.pack("!BBH", code, 10, d), ts=ts, marker=first)
            first = False
            d += step
            time.sleep(interval)
        for _ in range(3):
            self.send(to, pt, struct.pack("!BBH", code, 0x80 | 10, duration), ts=ts)
            time.sleep(interval)
        self.ts += duration

    def drain(self) -> list[Rx]:
        got = []
        self.sock.setblocking(False)
        try:
            while True:
                try:
                    data, src = self.sock.recvfrom(2048)
                except (BlockingIOError, InterruptedError):
                    break
                got.append(_rx(data, src))
        finally:
            self.sock.settimeout(0.05)
        self.received += got
        return got

    def recv_until(self, pred, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred(self.received):
                return True
            try:
                data, src = self.sock.recvfrom(2048)
            except (TimeoutError, BlockingIOError):
                continue
            self.received.append(_rx(data, src))
        return bool(pred(self.received))

    def audio(self, pt: int = 0) -> np.ndarray:
        pk = [r for r in self.received if r.pt == pt]
        if not pk:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate([ulaw_decode(r.payload) for r in pk])


def _rx(data: bytes, src) -> Rx:
    b0, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", data)
    return Rx(b1 & 0x7F, seq, ts, ssrc, bool(b1 & 0x80), data[12:], time.monotonic(), src)


def offer(port: int, ip: str = "127.0.0.1", pts: str = "0 8 101", direction: str = "sendrecv",
          ptime: int = 20, extra: str = "") -> str:
    return (f"v=0\r\no=peer 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP {pts}\r\na=rtpmap:101 telephone-event/8000\r\n"
            f"a=fmtp:101 0-15\r\na=ptime:{ptime}\r\na={direction}\r\n{extra}")


def negotiated_for(peer: Peer, **kw):
    return negotiate(parse_sdp(offer(peer.port, **kw)), ["PCMU", "PCMA"])


def tone(freq: float, secs: float, rate: int = 8000, amp: float = 8000) -> np.ndarray:
    t = np.arange(int(rate * secs)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def best_corr(got: np.ndarray, ref: np.ndarray) -> float:
    """The best normalised correlation of ``ref`` against any window of ``got`` (each
    lag normalised by that window's energy, so speech is matched where it really is)."""
    g = got.astype(np.float64)
    r = ref.astype(np.float64)
    if len(g) < len(r) or not r.any():
        return 0.0
    c = np.correlate(g, r, "valid")
    csum = np.concatenate(([0.0], np.cumsum(g * g)))
    energy = csum[len(r):] - csum[:-len(r)]
    norm = np.sqrt(np.maximum(energy, 1e-9) * (r @ r))
    return float(np.max(c / norm))


def dominant_freq(samples: np.ndarray, rate: int = 8000) -> float:
    x = samples.astype(np.float64) * np.hanning(len(samples))
    spec = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spec))])


SIPP_PCAP_DIRS = ("/usr/share/sip-tester/pcap", "/usr/share/sip-tester")


def sipp_pcap(name: str) -> str | None:
    """Path of one of SIPp's bundled pcaps (Debian's sip-tester), or None."""
    import os
    for d in SIPP_PCAP_DIRS:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return None


def read_pcap_rtp(path: str) -> list[tuple[float, bytes]]:
    """(capture time, RTP datagram) of every UDP packet in a classic pcap file."""
    data = open(path, "rb").read()
    magic = struct.unpack_from("<I", data)[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    linktype = struct.unpack_from(endian + "I", data, 20)[0]
    link = {1: 14, 113: 16, 0: 4, 101: 0}.get(linktype, 14)
    out = []
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack_from(endian + "IIII", data, off)
        off += 16
        pkt = data[off:off + incl]
        off += incl
        ip = pkt[link:]
        if not ip or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        udp = ip[(ip[0] & 15) * 4:]
        out.append((sec + frac / (1e9 if nano else 1e6), bytes(udp[8:])))
    return out


def replay(sock: socket.socket, to: tuple, packets: list[tuple[float, bytes]]) -> None:
    """Send the datagrams with the capture's timing."""
    if not packets:
        return
    t0 = packets[0][0]
    start = time.monotonic()
    for at, data in packets:
        delay = start + (at - t0) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sock.sendto(data, to)


def spy_reads(port) -> list[np.ndarray]:
    """Wrap the port's pull source (the stream's jitter buffer): every frame the port
    reads is also appended to the returned list."""
    frames: list[np.ndarray] = []
    pull = port._pull

    def spy():
        f = pull()
        if f is not None:
            frames.append(f.copy())
        return f

    port.set_pull_source(spy)
    return frames
