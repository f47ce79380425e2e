"""RTP packets queued with the kernel for a deadline (rtp_timed.py over uring.py): they
leave at the deadline, not before; a failed send is counted and does not stop the others;
a retired socket stays open until what names it has left; the poller falls back to
sending from the clock thread when kernel timing is off."""

from __future__ import annotations

import select
import socket
import struct
import time

import pytest
from fsd_modules.mod_sofia_lite import rtp_io, uring
from fsd_modules.mod_sofia_lite.rtp_packet import parse_rtp
from fsd_modules.mod_sofia_lite.rtp_timed import TimedSender

from fsd.media.clock import MediaClock
from fsd.testing import wait_until

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def _kernel_refuses() -> str:
    ring = uring.open_ring(8)
    if ring is None:
        return "this kernel or sandbox refuses io_uring (the thread path is tested below)"
    ring.close()
    return ""


_REFUSED = _kernel_refuses()
needs_uring = pytest.mark.skipif(bool(_REFUSED), reason=_REFUSED or "-")


class Stream:
    """What TimedSender reads and writes of an RtpStream."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self._sending = True
        self._seq = 100
        self.ssrc = 0x1234
        self.packets_out = self.bytes_out = self.send_errors = 0


def receiver() -> socket.socket:
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    r.bind(("127.0.0.1", 0))
    r.settimeout(2)
    return r


def recv_stamped(r: socket.socket) -> tuple[bytes, float, tuple]:
    """Datagram, the kernel's arrival time (CLOCK_MONOTONIC seconds), source."""
    data, anc, _flags, src = r.recvmsg(70000, socket.CMSG_SPACE(16))
    sec, nsec = struct.unpack("qq", anc[0][2][:16])
    return data, sec + nsec / 1e9 + (time.monotonic() - time.time()), src


@pytest.fixture
def sender():
    ts = TimedSender.open()
    assert ts is not None
    yield ts
    ts.close()


@pytest.fixture
def socks():
    """Sockets a test opens, closed after it (an already closed one is fine)."""
    opened: list[socket.socket] = []
    yield opened
    for s in opened:
        s.close()


def streams_and_receivers(socks: list, n: int) -> tuple[list[Stream], list[socket.socket]]:
    streams = [Stream() for _ in range(n)]
    rx = [receiver() for _ in range(n)]
    socks.extend(st.sock for st in streams)
    socks.extend(rx)
    return streams, rx


def settle(sender: TimedSender, until: float) -> None:
    """Sleep past ``until`` (the kernel runs the sends as this thread wakes), then take
    the completions."""
    while time.perf_counter() < until + 0.01:
        time.sleep(0.002)
    sender.poll()


@needs_uring
def test_packets_leave_at_the_deadline_not_before(sender, socks):
    streams, rx = streams_and_receivers(socks, 3)
    deadline = time.perf_counter() + 0.15
    out = [(st, 0, 160 * i, bytes([i]) * 160, i == 0, r.getsockname())
           for i, (st, r) in enumerate(zip(streams, rx, strict=True))]
    sender.queue(out, deadline)
    time.sleep(0.05)
    assert select.select(rx, [], [], 0)[0] == []  # nothing before the deadline
    settle(sender, deadline)
    for i, (st, r) in enumerate(zip(streams, rx, strict=True)):
        data, at, src = recv_stamped(r)
        assert at >= deadline - 0.0005, "sent early"
        assert at < deadline + 0.05
        assert src == st.sock.getsockname()
        p = parse_rtp(data)
        assert (p.seq, p.ts, p.ssrc, p.marker, p.payload) == (
            100, 160 * i, 0x1234, i == 0, bytes([i]) * 160)
        assert (st._seq, st.packets_out, st.bytes_out, st.send_errors) == (101, 1, 172, 0)
    assert sender.in_flight == 0


@needs_uring
def test_a_failed_send_is_counted_and_the_others_still_leave(sender, socks):
    streams, rx = streams_and_receivers(socks, 3)
    deadline = time.perf_counter() + 0.03
    payloads = [b"a" * 160, b"b" * 70000, b"c" * 160]  # the middle one: EMSGSIZE
    sender.queue([(st, 0, 0, pl, False, r.getsockname())
                  for st, pl, r in zip(streams, payloads, rx, strict=True)], deadline)
    settle(sender, deadline)
    assert parse_rtp(rx[0].recv(2048)).payload == payloads[0]
    assert parse_rtp(rx[2].recv(2048)).payload == payloads[2]
    assert [s.send_errors for s in streams] == [0, 1, 0]
    assert [s.packets_out for s in streams] == [1, 0, 1]
    assert sender.errors == 1 and sender.in_flight == 0


@needs_uring
def test_a_stream_that_stopped_sending_is_skipped(sender, socks):
    (st,), (r,) = streams_and_receivers(socks, 1)
    st._sending = False  # put on hold / hung up before its packet was queued
    sender.queue([(st, 0, 0, b"x" * 160, False, r.getsockname())], time.perf_counter())
    settle(sender, time.perf_counter() + 0.02)
    assert select.select([r], [], [], 0)[0] == []
    assert (st._seq, st.packets_out) == (100, 0)


@needs_uring
def test_a_retired_socket_stays_open_until_its_queued_packet_left(sender, socks):
    (st,), (r,) = streams_and_receivers(socks, 1)
    closed = []
    deadline = time.perf_counter() + 0.1
    sender.queue([(st, 0, 0, b"x" * 160, False, r.getsockname())], deadline)
    sender.retire(st.sock, lambda: closed.append(True))
    # The next tick's queue (nothing to send) takes the retirement along.
    sender.queue([], deadline + 0.02)
    sender.poll()
    assert st.sock.fileno() != -1 and not closed  # its descriptor is still named
    settle(sender, deadline + 0.02)
    data, _at, src = recv_stamped(r)
    assert parse_rtp(data).seq == 100 and src[1] > 0
    assert st.sock.fileno() == -1 and closed == [True]


@needs_uring
def test_closing_the_sender_closes_retired_sockets(sender):
    st = Stream()
    sender.retire(st.sock)
    sender.close()
    assert st.sock.fileno() == -1
    assert sender.ring.closed


class Producer:
    """Stands in for the ports: appends one packet to the poller's outbox during a tick
    (a clock hook after the poller's), as a stream's sink does."""

    def __init__(self, poller: rtp_io.RtpPoller, st: Stream, addr: tuple) -> None:
        self.poller, self.st, self.addr, self.pending = poller, st, addr, []
        poller.clock.add_tick_hook(self.tick)

    def send(self, payload: bytes) -> None:
        self.pending.append(payload)

    def tick(self) -> None:
        while self.pending:
            self.poller.outbox.append((self.st, 0, 0, self.pending.pop(0), False, self.addr))


@pytest.fixture
def rig(socks, monkeypatch):
    """``rig(kernel)``: a poller on a clock of its own with kernel timing on or off, a
    producer for one stream whose thread-path sends are recorded, the stream's receiver
    and that record.  The clock stops after the test."""
    clocks = []

    def make(kernel: bool):
        monkeypatch.setattr(rtp_io, "_kernel_timing", kernel)
        clock = MediaClock(20, name="test-poller")
        clocks.append(clock)
        poller = rtp_io.RtpPoller(clock)
        (st,), (r,) = streams_and_receivers(socks, 1)
        sent: list[tuple] = []
        st._sent = lambda *a: sent.append(a)  # what the thread path calls, per packet
        return poller, Producer(poller, st, r.getsockname()), r, sent

    yield make
    for clock in clocks:
        clock.stop()


def test_the_poller_sends_from_the_clock_thread_when_kernel_timing_is_off(rig):
    poller, producer, _r, sent = rig(False)
    producer.send(b"x")
    assert wait_until(lambda: sent, timeout=2)
    assert sent[0][2] == b"x" and poller.send_mode == "thread"


@needs_uring
def test_the_poller_queues_with_the_kernel_and_falls_back_when_switched_off(rig):
    poller, producer, r, sent = rig(True)
    assert wait_until(lambda: poller.send_mode == "kernel", timeout=2)
    producer.send(b"k" * 160)
    assert parse_rtp(r.recv(2048)).payload == b"k" * 160
    assert sent == [] and producer.st.packets_out == 1
    # A socket retired now is closed once the queued packets have left.
    other = Stream()
    poller.retire(other.sock)
    assert wait_until(lambda: other.sock.fileno() == -1, timeout=2)
    rtp_io.set_kernel_timing(False)
    assert wait_until(lambda: poller.send_mode == "thread", timeout=2)
    producer.send(b"t" * 160)
    assert wait_until(lambda: sent, timeout=2)
    assert sent[0][2] == b"t" * 160


@needs_uring
def test_the_ring_goes_with_the_clock_thread(rig):
    poller, _producer, _r, _sent = rig(True)
    assert wait_until(lambda: poller.send_mode == "kernel", timeout=2)
    ring = poller._timed.ring
    poller.clock.stop()
    assert poller.send_mode == "thread" and ring.closed


@needs_uring
def test_more_packets_than_the_ring_holds_go_as_several_chains(sender, socks):
    (st,), (r,) = streams_and_receivers(socks, 1)
    r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    n = sender.ring.sq_entries * 2 + 10  # three chains, the ring submitted when full
    deadline = time.perf_counter() + 0.05
    sender.queue([(st, 0, i, struct.pack("!I", i), False, r.getsockname())
                  for i in range(n)], deadline)
    settle(sender, deadline)
    got = []
    r.setblocking(False)
    while True:
        try:
            got.append(parse_rtp(r.recv(2048)).payload)
        except BlockingIOError:
            break
    assert sorted(got) == [struct.pack("!I", i) for i in range(n)]
    assert st.packets_out == n and st.send_errors == 0 and sender.in_flight == 0


@needs_uring
def test_ipv6_destinations(sender, socks):
    r6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    socks.append(r6)
    try:
        r6.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    st = Stream()
    st.sock.close()
    st.sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    socks.append(st.sock)
    st.sock.bind(("::1", 0))
    sender.queue([(st, 0, 0, b"six", False, r6.getsockname())], time.perf_counter())
    settle(sender, time.perf_counter())
    r6.settimeout(2)
    data, src = r6.recvfrom(2048)
    assert parse_rtp(data).payload == b"six" and src[1] == st.sock.getsockname()[1]
