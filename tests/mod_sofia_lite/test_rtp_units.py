"""The pieces under RtpStream, without sockets: RTP header parsing, the jitter buffer,
RFC 4733 sender and receiver; property tests that the parsers never raise."""

from __future__ import annotations

import struct

import numpy as np
from fsd_modules.mod_sofia_lite.jitter import JitterBuffer
from fsd_modules.mod_sofia_lite.rtp_packet import build_rtp, parse_rtp, seq_diff, ts_diff
from fsd_modules.mod_sofia_lite.sdp import SdpError, parse_sdp
from fsd_modules.mod_sofia_lite.telephone_event import DtmfReceiver, DtmfSender, parse_event
from hypothesis import given, settings
from hypothesis import strategies as st


def frame(v: int, n: int = 160) -> np.ndarray:
    return np.full(n, v, dtype=np.int16)


# ----------------------------------------------------------------------------- RTP header
def test_build_and_parse_round_trip():
    p = parse_rtp(build_rtp(0, 65535, 0xFFFFFFFF, 0xDEADBEEF, b"abc", marker=True))
    assert (p.pt, p.seq, p.ts, p.ssrc, p.marker, p.payload) == (
        0, 65535, 0xFFFFFFFF, 0xDEADBEEF, True, b"abc")


def test_csrc_extension_and_padding_are_skipped():
    hdr = struct.pack("!BBHII", 0x80 | 0x20 | 0x10 | 2, 8, 1, 2, 3)
    data = hdr + b"C1C1C2C2" + struct.pack("!HH", 0xBEDE, 1) + b"EXT!" + b"pay" + b"\x00\x02"
    assert parse_rtp(data).payload == b"pay"


def test_bad_headers_give_none():
    assert parse_rtp(b"") is None
    assert parse_rtp(b"\x40" + b"\x00" * 20) is None  # version 1
    assert parse_rtp(b"\x80\xc9" + b"\x00" * 20) is None  # RTCP RR
    assert parse_rtp(b"\x8f\x00" + b"\x00" * 10) is None  # 15 CSRCs promised, none there
    assert parse_rtp(b"\xa0\x00" + b"\x00" * 9 + b"\x40") is None  # padding beyond the end


def test_wrapping_differences():
    assert seq_diff(2, 65534) == 4 and seq_diff(65534, 2) == -4
    assert ts_diff(10, 0xFFFFFFF0) == 26


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_rtp_parser_never_raises(data):
    parse_rtp(data)
    parse_event(data)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.lists(st.sampled_from(
    ["v=0", "o=a 1 2 IN IP4 1.1.1.1", "c=IN IP4 1.2.3.4", "c=IN IP6 ::1", "m=audio 4000 RTP/AVP 0",
     "m=audio x RTP/AVP", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101", "a=ptime:", "a=sendonly",
     "m=video 0 RTP/AVP 31", "a=fmtp:101 0-15", "s=-", "t=0 0", "garbage", "a=ptime:abc"]),
    max_size=20).map("\r\n".join))
def test_sdp_parser_raises_only_sdp_error(text):
    try:
        parse_sdp(text)
    except SdpError:
        pass


# ----------------------------------------------------------------------------- jitter buffer
def test_buffers_target_frames_then_plays_in_order():
    jb = JitterBuffer(8000, 160, min_frames=2)
    jb.put(160, frame(2), 0.02)
    assert jb.get() is None  # one frame buffered, target two
    jb.put(0, frame(1), 0.021)  # reordered
    assert jb.get()[0] == 1 and jb.get()[0] == 2


def test_gap_plays_silence_and_late_packets_are_dropped():
    jb = JitterBuffer(8000, 160, min_frames=2)
    for i in (0, 1, 3, 4):
        jb.put(i * 160, frame(i + 1), i * 0.02)
    assert [int(jb.get()[0]) for _ in range(3)] == [1, 2, 0]
    jb.put(2 * 160, frame(9), 0.1)  # the missing one, too late
    assert jb.late == 1
    assert int(jb.get()[0]) == 4


def test_packets_of_another_size_are_reframed():
    jb = JitterBuffer(8000, 160, min_frames=2)
    jb.put(0, np.arange(240, dtype=np.int16), 0)  # 30 ms packets, 20 ms frames
    jb.put(240, np.arange(240, 480, dtype=np.int16), 0.03)
    out = np.concatenate([jb.get(), jb.get(), jb.get()])
    assert np.array_equal(out, np.arange(480, dtype=np.int16))


def test_target_grows_with_jitter_and_excess_is_dropped():
    jb = JitterBuffer(8000, 160, min_frames=2, max_frames=8)
    rng = np.random.default_rng(1)
    t = 0.0
    for i in range(200):
        t = i * 0.02 + float(rng.uniform(0, 0.06))  # up to 60 ms late
        jb.put(i * 160, frame(1), t)
    assert jb.target > 3 and jb.jitter_ms > 5
    # A burst: 30 frames at once above the target shrink back over time.
    jb2 = JitterBuffer(8000, 160, min_frames=2, max_frames=4)
    for i in range(30):
        jb2.put(i * 160, frame(1), 0.0)
    for _ in range(29):
        jb2.get()
    assert jb2.dropped >= 1


def test_timestamp_jump_resyncs():
    jb = JitterBuffer(8000, 160, min_frames=1)
    jb.put(0, frame(1), 0)
    jb.put(160, frame(2), 0.02)
    assert jb.get()[0] == 1
    jb.put(10 ** 8, frame(7), 0.04)  # a new stream far ahead
    assert jb.resyncs == 1
    assert jb.get()[0] == 7
    jb.put(10 ** 8 + 160, frame(8), 0.06)
    jb.put(10 ** 8 + 320, frame(9), 0.08)
    jb.put(5, frame(3), 0.1)  # far behind: also a new stream
    assert jb.resyncs == 2 and jb.get()[0] == 3


def test_timestamps_wrap():
    jb = JitterBuffer(8000, 160, min_frames=2)
    base = 0xFFFFFFFF - 159
    for i in range(4):
        jb.put((base + i * 160) & 0xFFFFFFFF, frame(i + 1), i * 0.02)
    assert [int(jb.get()[0]) for _ in range(4)] == [1, 2, 3, 4]


# ----------------------------------------------------------------------------- RFC 4733
def run_sender(sender: DtmfSender, ticks: int, step: int = 160):
    out = []
    ts = 1000
    for _ in range(ticks):
        r = sender.tick(ts, step)
        out.append(r)
        ts += step
    return out


def test_sender_pauses_gap_and_one_packet_digits():
    s = DtmfSender()
    assert s.queue("1wX2", 800) == 2  # X skipped, w is a pause
    res = run_sender(s, 60)
    sent = [r for r in res if r]
    first_digit = [r[0] for r in sent if r[0][0][0] == 1]
    second = [r[0] for r in sent if r[0][0][0] == 2]
    assert len(first_digit) == 7 and len(second) == 7
    i1 = res.index(next(r for r in res if r and r[0][0][0] == 2))
    last1 = max(i for i, r in enumerate(res) if r and r[0][0][0] == 1)
    assert i1 - last1 - 1 >= 2 + 25  # 40 ms gap + 500 ms pause
    short = DtmfSender()
    short.queue("5", 10)  # shorter than a packet: three end packets, the first marked
    pk = [r[0] for r in run_sender(short, 5) if r]
    assert len(pk) == 3 and pk[0][1] and all(p[0][1] & 0x80 for p in pk)
    assert not short.busy or run_sender(short, 3)


def test_sender_clear():
    s = DtmfSender()
    s.queue("123", 200)
    run_sender(s, 2)
    s.clear()
    assert not s.busy and run_sender(s, 3) == [None] * 3


def test_receiver_new_event_finishes_the_open_one():
    r = DtmfReceiver()
    assert r.feed(100, struct.pack("!BBH", 1, 10, 160), 0.0) == []
    assert r.feed(900, struct.pack("!BBH", 2, 10, 160), 0.1) == [("1", 160)]
    assert r.feed(900, struct.pack("!BBH", 2, 0x8A, 800), 0.2) == [("2", 800)]
    assert r.feed(100, struct.pack("!BBH", 1, 0x8A, 800), 0.3) == []  # stale end of "1"
    assert r.expire(10.0) == []


def test_burst_reads_beyond_the_budget_wait_for_the_next_tick(monkeypatch):
    """One datagram per readable socket is always read; burst rounds stop at the read
    budget and the rest stays in the socket for later ticks — nothing is lost."""
    import socket

    from fsd_modules.mod_sofia_lite import rtp_io

    from fsd.media.clock import MediaClock

    class Reader:
        def __init__(self) -> None:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", 0))
            self.sock.setblocking(False)
            self.got: list[bytes] = []

        def _read(self, now: float) -> bool:
            try:
                self.got.append(self.sock.recv(2048))
            except BlockingIOError:
                return False
            return True

        def _after_read(self, now: float) -> None:
            pass

        def _sent(self, *a) -> None:
            pass

    monkeypatch.setattr(rtp_io, "READ_BUDGET", 0.0)  # every burst round is over budget
    clock = MediaClock(20, name="test-burst")
    poller = rtp_io.RtpPoller(clock)
    clock.stop()  # the poller started it; this test ticks by hand
    readers = [Reader() for _ in range(2)]
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for r in readers:
            poller.add(r.sock.fileno(), r)
            for i in range(5):
                tx.sendto(bytes([i]), r.sock.getsockname())
        poller.tick()
        # round 1 reads both sockets; round 2 stops after its first read
        assert sorted(len(r.got) for r in readers) == [1, 2]
        for _ in range(10):
            poller.tick()
        assert [r.got for r in readers] == [[bytes([i]) for i in range(5)]] * 2
    finally:
        tx.close()
        for r in readers:
            poller.remove(r.sock.fileno())
            r.sock.close()
