"""RtpStream: one SIP call's RTP/AVP over UDP, served by the session's media clock.

    stream = RtpStream(session, bind_ip="127.0.0.1", timeout_sec=profile_rtp_timeout,
                       on_timeout=lambda st: hang_up(st.session, "MEDIA_TIMEOUT"))
    sdp = build_answer(origin, stream.local_ip, stream.local_port, negotiated)
    stream.start(negotiated)                  # remote from the SDP, or start(neg, (ip, port))
    stream.update(new_negotiated)             # re-INVITE: new address, hold, resume, codec
    stream.send_dtmf("123#", 100)             # RFC 4733 (False when no telephone-event)
    stream.close()                            # on hangup (also done by the port closing)

No thread per call.  Every tick the clock's :class:`~.rtp_io.RtpPoller` reads the sockets
(``_read``): audio goes to the stream's jitter buffer, RFC 4733 events to the session's
DTMF queue (``session.queue_dtmf``, so ``getDigits``/``read`` see them), comfort noise and
unknown payload types are counted and dropped.  Then the session's MediaPort ticks: its
read side pulls one frame from the jitter buffer (record, echo, bridge, inband detection
see it), and its write side (playback, tones, silence, the bridged peer) comes to
``_sink``, which encodes it (or telephone-events in its place) into the poller's outbox;
the poller sends every stream's packets at the start of the next tick.

Continuity: the SSRC is fixed for the stream's life; sequence numbers and timestamps run on
one count through playback, bridge, DTMF, hold and re-INVITE (the timestamp keeps
advancing while nothing is sent, as it measures time); the marker bit is set on the first
packet of a talkspurt (start, after hold, after a DTMF event).

Symmetric RTP (FreeSWITCH's auto-adjust, §8.7): after ``auto_adjust_threshold`` packets
in a row from an address other than where we send, we send there instead.

Media timeout: with ``timeout_sec`` > 0, when no RTP arrived for that long (``hold_timeout
_sec`` while the remote holds us; off while the remote is recvonly), ``on_timeout(stream)``
is called once, on the switch's event loop; without a callback the session is hung up
with MEDIA_TIMEOUT.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from fsd_modules.mod_sofia_lite.jitter import JitterBuffer
from fsd_modules.mod_sofia_lite.rtp_io import RtpError, allocate_port, poller_for, release_port
from fsd_modules.mod_sofia_lite.rtp_packet import build_rtp, parse_rtp, seq_diff
from fsd_modules.mod_sofia_lite.sdp import Negotiated
from fsd_modules.mod_sofia_lite.telephone_event import DtmfReceiver, DtmfSender

from fsd.log import DEBUG, WARNING, log
from fsd.media.codecs import get_codec
from fsd.media.port import MediaPort
from fsd.media.resample import FrameResampler

__all__ = ["RtpError", "RtpStream", "stream_options"]

_RECV_SIZE = 2048
_FAST_HDR = struct.Struct("!xBHII")  # marker|pt, seq, ts, ssrc after a first byte of 0x80
CN_STATIC_PT = 13


class RtpStream:
    """One call's RTP.  See the module docstring."""

    def __init__(self, session: Any, *, bind_ip: str = "127.0.0.1",
                 port_range: tuple[int, int] | None = None,
                 timeout_sec: float = 0.0, hold_timeout_sec: float | None = None,
                 on_timeout: Callable[[RtpStream], None] | None = None,
                 auto_adjust: bool = True, auto_adjust_threshold: int = 10,
                 jitter_min_frames: int = 2, jitter_max_frames: int = 10) -> None:
        port = getattr(session, "media", None)
        if not isinstance(port, MediaPort):
            raise RtpError(f"session {getattr(session, 'uuid', '?')} has no media port")
        self.session = session
        self.port = port
        self.switch = getattr(session, "switch", None)
        lo, hi = port_range or getattr(self.switch, "rtp_port_range", (16384, 32768))
        self.sock, self.local_port = allocate_port(bind_ip, lo, hi)
        self.local_ip = bind_ip
        self.timeout_sec = float(timeout_sec or 0)
        self.hold_timeout_sec = (float(hold_timeout_sec) if hold_timeout_sec is not None
                                 else 10 * self.timeout_sec)
        self.on_timeout = on_timeout
        self.auto_adjust = auto_adjust
        self.auto_adjust_threshold = max(1, int(auto_adjust_threshold))
        self._jmin, self._jmax = jitter_min_frames, jitter_max_frames
        # Sending state: random SSRC / first seq / first timestamp (RFC 3550 §5.1).
        self.ssrc = random.getrandbits(32)
        self._seq = random.getrandbits(16)
        self._ts = random.getrandbits(32)
        self._marker = True
        self._out_buf: np.ndarray | None = None
        self._out_ts = 0
        self._dtmf_out = DtmfSender()
        self._dtmf_in = DtmfReceiver()
        self._lock = threading.Lock()  # start/update/close against each other
        self.neg: Negotiated | None = None
        self.remote: tuple[str, int] | None = None
        self.sdp_remote: tuple[str, int] | None = None
        self._sending = False
        self._started = False
        self.closed = False
        self._jb: JitterBuffer | None = None
        self._codec = None
        self._res_in: FrameResampler | None = None
        self._res_out: FrameResampler | None = None
        self._step = 0  # samples at the codec rate per clock tick
        self._spp = 0  # samples per packet (negotiated ptime)
        self._adjust_from: tuple[str, int] | None = None
        self._adjust_count = 0
        self._last_rx = 0.0
        self._timed_out = False
        self._rx_ssrc: int | None = None
        self._rx_seq: int | None = None
        self._poller = poller_for(port.clock)
        # Figures (read by stats(); written by the clock thread only).
        self.packets_in = self.packets_out = 0
        self.bytes_in = self.bytes_out = 0
        self.dtmf_in = self.dtmf_out_packets = 0
        self.cn_in = self.unknown_in = self.bad_in = self.lost_in = 0
        self.send_errors = 0
        self.adjusted = False
        # Polled from now on: datagrams before start() are read and dropped, and a stream
        # that never starts is still closed when its call's port closes.
        self._poller.add(self.sock.fileno(), self)

    # ------------------------------------------------------------------ control (any thread)
    def start(self, negotiated: Negotiated, remote_addr: tuple[str, int] | None = None) -> None:
        """Begin sending and receiving: remote from ``remote_addr`` or the SDP."""
        with self._lock:
            if self.closed:
                raise RtpError("stream is closed")
            self._apply(negotiated, remote_addr)
            if self._started:
                return
            self._started = True
            self._last_rx = time.monotonic()
            self._flush()
            port = self.port
            port.set_pull_source(self._pull)
            port.sink = self._sink
        log(DEBUG, f"RTP {self.local_ip}:{self.local_port} -> {self.remote} "
                   f"{negotiated.codec}/{negotiated.ptime}ms te={negotiated.te_pt}",
            uuid=self.port.uuid)

    def _flush(self) -> int:
        """Drop what queued on the socket before the stream started (stale early audio
        would otherwise arrive as one burst)."""
        n = 0
        while n < 10000:
            try:
                self.sock.recv(_RECV_SIZE)
            except OSError:  # BlockingIOError: empty
                break
            n += 1
        return n

    def update(self, negotiated: Negotiated, remote_addr: tuple[str, int] | None = None) -> None:
        """A re-INVITE's result: new address, codec, direction (hold / resume).  The SSRC,
        sequence and timestamp continue; the first packet after it carries the marker."""
        with self._lock:
            if self.closed:
                return
            self._apply(negotiated, remote_addr)
            self._last_rx = time.monotonic()
            self._timed_out = False

    def _apply(self, neg: Negotiated, remote_addr: tuple[str, int] | None) -> None:
        port = self.port
        codec = get_codec(neg.codec)
        rate_changed = self._codec is None or codec.rate != self._codec.rate
        self._codec = codec
        self._step = codec.rate * port.ptime // 1000
        self._spp = codec.rate * neg.ptime // 1000
        if rate_changed:
            self._jb = JitterBuffer(codec.rate, self._step, self._jmin, self._jmax)
            same = codec.rate == port.rate
            self._res_in = None if same else FrameResampler(codec.rate, port.rate, port.n)
            self._res_out = None if same else FrameResampler(port.rate, codec.rate, self._step)
        sdp_remote = (neg.remote_ip, neg.remote_port)
        new_remote = remote_addr or sdp_remote
        if sdp_remote != self.sdp_remote or remote_addr is not None:
            # A new address from signalling wins over an auto-adjusted one.
            self.remote = _resolve(new_remote)
            self.sdp_remote = sdp_remote
            self._adjust_count = 0
            self._adjust_from = None
        was_sending = self._sending
        self._sending = neg.we_send and self.remote is not None and self.remote[1] != 0
        if self._sending and not was_sending:
            self._marker = True
        self.neg = neg

    def send_dtmf(self, digits: str, duration_ms: int = 100) -> bool:
        """Queue RFC 4733 events for ``digits`` (``w``/``W`` pause).  False when the call
        has no telephone-event (the SIP side then sends INFO) or the stream is closed."""
        neg = self.neg
        if self.closed or neg is None or neg.te_pt is None:
            return False
        samples = max(1, int(duration_ms)) * (self._codec.rate if self._codec else 8000) // 1000
        self._dtmf_out.queue(digits, samples)
        return True

    @property
    def dtmf_busy(self) -> bool:
        """Events still queued or on the wire."""
        return self._dtmf_out.busy

    def close(self) -> None:
        """Stop: leave the poller, give the port back its defaults, free the UDP port."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self._sending = False
            self._poller.remove(self.sock.fileno())
            port = self.port
            if port.sink == self._sink:
                port.sink = None
            if port._pull == self._pull:
                port.set_pull_source(None)
            # Closed once no packet queued with the kernel can still name the socket.
            ip, lport = self.local_ip, self.local_port
            self._poller.retire(self.sock, lambda: release_port(ip, lport))

    def variables(self, advertised_ip: str | None = None) -> dict[str, str]:
        """The channel variables FreeSWITCH sets once media is negotiated (§8.1): the
        codec's (``Negotiated.variables()``) plus our address."""
        out = self.neg.variables() if self.neg is not None else {}
        out.update(local_media_ip=self.local_ip, local_media_port=str(self.local_port),
                   advertised_media_ip=advertised_ip or self.local_ip)
        if self.remote is not None and self.neg is not None and self.adjusted:
            out.update(remote_media_ip=self.remote[0], remote_media_port=str(self.remote[1]))
        return out

    def stats(self) -> dict[str, float | int]:
        jb = self._jb
        return {
            "packets_in": self.packets_in, "packets_out": self.packets_out,
            "bytes_in": self.bytes_in, "bytes_out": self.bytes_out,
            "lost_in": self.lost_in, "cn_in": self.cn_in, "unknown_in": self.unknown_in,
            "bad_in": self.bad_in, "dtmf_in": self.dtmf_in, "send_errors": self.send_errors,
            "jitter_ms": jb.jitter_ms if jb else 0.0, "jb_target": jb.target if jb else 0,
            "jb_late": jb.late if jb else 0, "jb_underruns": jb.underruns if jb else 0,
            "jb_dropped": jb.dropped if jb else 0,
        }

    # ------------------------------------------------------------------ clock thread: receive
    def _read(self, now: float) -> bool:
        try:
            data, addr = self.sock.recvfrom(_RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return False  # ICMP errors reported on the socket, closed under us
        n = len(data)
        if n > 12 and data[0] == 0x80 and not 72 <= data[1] & 0x7F <= 76:
            # The usual packet (v2, no padding, extension or CSRCs; not RTCP): the header
            # read in one unpack, as parse_rtp would read it, without building an object.
            b1, seq, ts, ssrc = _FAST_HDR.unpack_from(data)
            pt, payload = b1 & 0x7F, data[12:]
        else:
            pkt = parse_rtp(data)
            if pkt is None:
                self.bad_in += 1
                return True
            pt, seq, ts, ssrc, payload = pkt.pt, pkt.seq, pkt.ts, pkt.ssrc, pkt.payload
        neg = self.neg
        if neg is None:
            return True
        self.packets_in += 1
        self.bytes_in += n
        self._last_rx = now
        if len(addr) != 2:
            addr = (addr[0], addr[1])  # IPv6: (host, port, flowinfo, scope)
        if addr != self.remote:
            self._maybe_adjust(addr)
        else:
            self._adjust_count = 0
        if pt == neg.pt:
            if ssrc != self._rx_ssrc:
                if self._rx_ssrc is not None and self._jb is not None:
                    self._jb.reset()
                self._rx_ssrc, self._rx_seq = ssrc, None
            last = self._rx_seq
            if last is None:
                self._rx_seq = seq
            else:
                gap = seq_diff(seq, last)
                if 1 < gap < 3000:
                    self.lost_in += gap - 1
                if gap > 0:
                    self._rx_seq = seq
            jb = self._jb
            if jb is not None and self._codec is not None and neg.we_receive:
                jb.put(ts, self._codec.decode(payload), now)
        elif neg.te_pt is not None and pt == neg.te_pt:
            for digit, duration in self._dtmf_in.feed(ts, payload, now):
                self._deliver_dtmf(digit, duration)
        elif pt == CN_STATIC_PT or (neg.cn_pt is not None and pt == neg.cn_pt):
            self.cn_in += 1  # comfort noise: media is alive, it plays as silence
        else:
            self.unknown_in += 1
        return True

    def _maybe_adjust(self, addr: tuple[str, int]) -> None:
        if not self.auto_adjust:
            return
        if addr != self._adjust_from:
            self._adjust_from, self._adjust_count = addr, 0
        self._adjust_count += 1
        if self._adjust_count < self.auto_adjust_threshold:
            return
        reported = self.remote
        self.remote = addr
        self._adjust_count = 0
        self.adjusted = True
        if self.neg is not None:
            self._sending = self.neg.we_send
        s = self.session
        for k, v in (("remote_audio_ip", addr[0]), ("remote_audio_port", str(addr[1])),
                     ("remote_audio_ip_reported", reported[0] if reported else ""),
                     ("remote_audio_port_reported", str(reported[1]) if reported else ""),
                     ("rtp_auto_adjust_audio", "true")):
            try:
                s.set_variable(k, v)
            except Exception:  # a session without variables (tests) is fine
                pass
        log(WARNING if reported and reported[1] else DEBUG,
            f"RTP auto-adjust: sending to {addr[0]}:{addr[1]} instead of {reported}",
            uuid=self.port.uuid)

    def _deliver_dtmf(self, digit: str, duration: int) -> None:
        self.dtmf_in += 1
        rate = self._codec.rate if self._codec else 8000
        ms = max(1, duration * 1000 // rate) if duration else 100
        try:
            self.session.queue_dtmf(digit, ms, "RTP")
        except Exception as exc:
            log(WARNING, f"RTP DTMF {digit} not queued: {exc!r}", uuid=self.port.uuid)

    def _after_read(self, now: float) -> None:
        if self.port.closed:
            self.close()  # the call hung up: the socket goes with its port
            return
        for digit, duration in self._dtmf_in.expire(now):
            self._deliver_dtmf(digit, duration)
        neg = self.neg
        if self.timeout_sec <= 0 or self._timed_out or neg is None or self.closed:
            return
        if not neg.we_receive and not neg.hold:
            return  # the remote is recvonly: it sends nothing, no timeout (§8.6)
        limit = self.hold_timeout_sec if neg.hold else self.timeout_sec
        if limit > 0 and now - self._last_rx > limit:
            self._timed_out = True
            self._fire_timeout()

    def _fire_timeout(self) -> None:
        log(WARNING, f"RTP media timeout on {self.local_ip}:{self.local_port}",
            uuid=self.port.uuid)
        cb = self.on_timeout
        if cb is None:
            def cb(st: RtpStream) -> None:
                st.session.hangup("MEDIA_TIMEOUT")
        loop = getattr(self.switch, "loop", None)
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(_safe, cb, self)
        else:
            threading.Thread(target=_safe, args=(cb, self), daemon=True,
                             name="rtp-timeout").start()

    # ------------------------------------------------------------------ clock thread: port side
    def _pull(self) -> np.ndarray | None:
        """The port's read side (called under the port's lock): one frame or None."""
        jb = self._jb
        if jb is None:
            return None
        frame = jb.get()
        if frame is not None and self._res_in is not None:
            frame = self._res_in.process(frame)
        return frame

    def _sink(self, frame: np.ndarray) -> None:
        """The port's write side, once per tick: send it (or DTMF events) to the remote."""
        step = self._step
        ts = self._ts
        self._ts = (ts + step) & 0xFFFFFFFF
        if not self._sending or self.closed:
            self._out_buf = None
            self._marker = True
            return
        neg = self.neg
        if neg is None or self._codec is None:
            return
        if neg.te_pt is not None:
            events = self._dtmf_out.tick(ts, step)
            if events is not None:
                for payload, marker, ets in events:
                    self._send(neg.te_pt, ets, payload, marker)
                    self.dtmf_out_packets += 1
                self._out_buf = None
                self._marker = True
                return
        if self._res_out is not None:
            frame = self._res_out.process(frame)
        spp = self._spp
        if self._out_buf is None and len(frame) == spp:
            self._send(neg.pt, ts, self._codec.encode(frame), self._marker)
            self._marker = False
            return
        # ptime differs from the clock's: gather samples and send whole packets.
        if self._out_buf is None or len(self._out_buf) == 0:
            self._out_buf, self._out_ts = frame, ts
        else:
            self._out_buf = np.concatenate((self._out_buf, frame))
        while len(self._out_buf) >= spp:
            chunk, self._out_buf = self._out_buf[:spp], self._out_buf[spp:]
            self._send(neg.pt, self._out_ts, self._codec.encode(chunk), self._marker)
            self._marker = False
            self._out_ts = (self._out_ts + spp) & 0xFFFFFFFF

    def _send(self, pt: int, ts: int, payload: bytes, marker: bool) -> None:
        # Into the poller's outbox: it leaves at the start of the next tick, with every
        # other stream's packets (see rtp_io's module docstring for why).
        self._poller.outbox.append((self, pt, ts, payload, marker, self.remote))

    def _sent(self, pt: int, ts: int, payload: bytes, marker: bool,
              addr: tuple[str, int] | None) -> None:
        """Send a packet built in the previous tick (the poller, clock thread).  The
        sequence number is taken here, so a packet dropped because the call went on hold
        (or hung up) in between leaves no gap in the sequence."""
        if not self._sending or addr is None:
            return  # hold and hangup take effect at once
        pkt = build_rtp(pt, self._seq, ts, self.ssrc, payload, marker)
        self._seq = (self._seq + 1) & 0xFFFF
        try:
            self.sock.sendto(pkt, addr)
        except OSError:
            self.send_errors += 1
            return
        self.packets_out += 1
        self.bytes_out += len(pkt)


def stream_options(session: Any, timeout_sec: float = 0, hold_timeout_sec: float | None = None,
                   auto_adjust: bool = True) -> dict[str, Any]:
    """RtpStream keyword arguments from the profile's values and the channel variables
    that override them per call, as FreeSWITCH reads them (§8.7): ``media_timeout`` /
    ``media_hold_timeout`` (ms) win over ``rtp_timeout_sec`` / ``rtp_hold_timeout_sec``;
    ``disable_rtp_auto_adjust=true`` and ``rtp_auto_adjust_threshold``."""
    def var(name: str) -> str | None:
        try:
            v = session.get_variable(name)
        except Exception:
            return None
        return v if v not in (None, "") else None

    def number(name: str, scale: float = 1.0) -> float | None:
        v = var(name)
        try:
            return float(v) * scale if v is not None else None
        except ValueError:
            return None

    timeout = number("media_timeout", 0.001)
    if timeout is None:
        timeout = number("rtp_timeout_sec")
    hold = number("media_hold_timeout", 0.001)
    if hold is None:
        hold = number("rtp_hold_timeout_sec")
    opts: dict[str, Any] = {
        "timeout_sec": max(0.0, timeout if timeout is not None else float(timeout_sec or 0)),
        "hold_timeout_sec": hold if hold is not None else hold_timeout_sec,
        "auto_adjust": auto_adjust and (var("disable_rtp_auto_adjust") or "").lower()
        not in ("true", "yes", "on", "1"),
    }
    threshold = number("rtp_auto_adjust_threshold")
    if threshold is not None and threshold >= 1:
        opts["auto_adjust_threshold"] = int(threshold)
    return opts


def _resolve(addr: tuple[str, int]) -> tuple[str, int]:
    """Numeric address for comparisons with recvfrom's (names are resolved once here)."""
    host, port = addr
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
        return host, int(port)
    except OSError:
        try:
            return socket.gethostbyname(host), int(port)
        except OSError:
            return host, int(port)


def _safe(cb: Callable[[RtpStream], None], st: RtpStream) -> None:
    try:
        cb(st)
    except Exception as exc:
        log(WARNING, f"RTP timeout handler failed: {exc!r}", uuid=st.port.uuid)
