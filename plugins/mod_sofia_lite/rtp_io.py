"""RTP sockets: port allocation from rtp-start-port..rtp-end-port, and the per-clock
poller that reads every stream's socket once per media-clock tick.

Why a poller on the clock and not an asyncio endpoint per stream: DESIGN asks for RTP read
and written in batches per tick, not a callback per packet.  Each tick the clock first
calls :meth:`RtpPoller.tick`: one ``epoll(0)`` says which sockets hold datagrams, each of
those is read once, and the poll repeats while any socket still has data (a burst), so the
usual cost is one ``epoll`` plus one ``recvfrom`` per stream and per tick, with no
exception for EAGAIN.  Then the ports tick and pull their frame from the stream's jitter
buffer; what a port produces is encoded by the stream's sink into the poller's outbox.

Sending happens first thing in the *next* tick, all streams in one tight loop, right after
the clock woke at its deadline.  Sending at the end of each port's own work would put a
stream's packet wherever the tick's work had got to — later for the 500th stream than for
the first, and later still whenever a read burst, a new call or another thread's turn at
the GIL stretched the work — so the gaps between one stream's packets would carry the
variation of the whole tick's work (measured: p99 27–30 ms at 100–200 calls).  Sent
from the deadline, every stream's packet leaves at the same offset each tick and the gaps
carry only the clock's wake-up lateness and the send loop itself.  The price is one packet
time (20 ms) of added send latency, within what a far end's jitter buffer absorbs.

Where the kernel allows it (Linux io_uring, see rtp_timed.py) the packets are not sent by
the clock thread at all: at the end of the tick the poller queues them behind a kernel
timer at the next deadline, and the kernel sends them there whether or not the clock
thread has woken or holds the GIL.  Otherwise (``rtp-kernel-timing`` false in
switch.conf, or no io_uring) the clock thread sends them when it wakes.
"""

from __future__ import annotations

import errno
import random
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Protocol

from fsd_modules.mod_sofia_lite.rtp_timed import TimedSender, close_socket

from fsd.log import NOTICE, log
from fsd.media.clock import MediaClock

_MAX_ROUNDS = 8  # reads per socket per tick at most (a burst of 8 packets)
#: Share of the packet time that bursts may take to read in one tick.  A sender that
#: delivers in bursts (SIPp under load sent up to 1 600 datagrams to 500 streams in one
#: tick, 3x the usual) would otherwise make that tick's reads cost 20-30 ms and the next
#: tick start late, which delays every stream's packets.
READ_BUDGET = 0.4
#: With kernel-timed sends, the clock wakes this long after the deadline (MediaClock.
#: wake_after): the kernel's sends for the deadline run as the thread leaves its sleep.
WAKE_AFTER = 0.0002
_used: set[tuple[str, int]] = set()
_used_lock = threading.Lock()
_kernel_timing = True


def set_kernel_timing(enabled: bool) -> None:
    """Whether pollers queue packets with the kernel (io_uring) when it can; read by
    every poller at every tick, so a change takes effect within one tick."""
    global _kernel_timing
    _kernel_timing = bool(enabled)


def kernel_timing() -> bool:
    return _kernel_timing


class RtpError(Exception):
    """No RTP port could be allocated, or a stream was used wrongly."""


def allocate_port(bind_ip: str, lo: int, hi: int) -> tuple[socket.socket, int]:
    """A non-blocking UDP socket bound to an even port in ``lo..hi`` on ``bind_ip``.

    Ports are probed from a random even start (as FreeSWITCH's port allocator spreads
    them); ports held by this process or by anyone else (bind fails) are skipped."""
    lo, hi = max(1024, int(lo)), min(65534, int(hi))
    first = lo + (lo & 1)
    count = (hi - first) // 2 + 1
    if count <= 0:
        raise RtpError(f"empty RTP port range {lo}-{hi}")
    fam = socket.AF_INET6 if ":" in bind_ip else socket.AF_INET
    start = random.randrange(count)
    for i in range(count):
        port = first + 2 * ((start + i) % count)
        with _used_lock:
            if (bind_ip, port) in _used:
                continue
            _used.add((bind_ip, port))
        sock = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            sock.bind((bind_ip, port))
        except OSError as exc:
            sock.close()
            with _used_lock:
                _used.discard((bind_ip, port))
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                continue
            raise RtpError(f"cannot bind RTP to {bind_ip}:{port}: {exc}") from exc
        sock.setblocking(False)
        return sock, port
    raise RtpError(f"no free RTP port in {lo}-{hi} on {bind_ip}")


def release_port(bind_ip: str, port: int) -> None:
    with _used_lock:
        _used.discard((bind_ip, port))


class _Reader(Protocol):
    def _read(self, now: float) -> bool: ...
    def _after_read(self, now: float) -> None: ...
    def _sent(self, pt: int, ts: int, payload: bytes, marker: bool,
              addr: tuple[str, int] | None) -> None: ...


class RtpPoller:
    """The batched reader of one media clock (see the module docstring)."""

    def __init__(self, clock: MediaClock) -> None:
        self.clock = clock
        self._ep = select.epoll() if hasattr(select, "epoll") else None
        self._poll = self._ep if self._ep is not None else select.poll()
        self._by_fd: dict[int, _Reader] = {}
        self._streams: tuple[_Reader, ...] = ()
        self._lock = threading.Lock()
        self.polls = 0
        self.reads = 0
        #: (stream, pt, ts, payload, marker, address) made during this tick, sent at the next
        self.outbox: list[tuple] = []
        self._timed: TimedSender | None = None
        self._timed_failed = False  # io_uring is not usable here: never try again
        clock.add_tick_hook(self.tick)
        clock.add_tick_hook(self.finish_tick, when="end")
        clock.add_tick_hook(self._clock_stopped, when="stop")

    def add(self, fd: int, stream: _Reader) -> None:
        with self._lock:
            self._by_fd[fd] = stream
            self._streams = tuple(self._by_fd.values())
            self._poll.register(fd, select.POLLIN)

    def remove(self, fd: int) -> None:
        with self._lock:
            if self._by_fd.pop(fd, None) is not None:
                self._streams = tuple(self._by_fd.values())
                try:
                    self._poll.unregister(fd)
                except (OSError, KeyError, ValueError):
                    pass

    @property
    def count(self) -> int:
        return len(self._streams)

    @property
    def send_mode(self) -> str:
        """"kernel" while packets are queued with io_uring, else "thread"."""
        return "kernel" if self._timed is not None else "thread"

    def retire(self, sock: socket.socket, after: Callable[[], None] | None = None) -> None:
        """Close a stream's socket (then call ``after``): at once, or — when packets
        queued with the kernel may still name it — once they have left."""
        with self._lock:  # against _drop_timed(): handed over, or closed here, never lost
            if self._timed is not None:
                self._timed.retire(sock, after)
                return
        close_socket(sock, after)

    def finish_tick(self) -> None:
        """End of the tick (clock thread): hand the outbox to the kernel, timed for the
        next deadline, when kernel timing is on and works here."""
        timed = self._timed
        if _kernel_timing and not self._timed_failed:
            if timed is None:
                # Opened by the clock thread: the kernel runs the sends as its task work.
                timed = TimedSender.open()
                if timed is None:
                    self._timed_failed = True
                    log(NOTICE, "RTP: io_uring is not available; packets are sent by "
                                "the media clock thread")
                    return
                with self._lock:
                    self._timed = timed
            self.clock.wake_after = WAKE_AFTER
            out, self.outbox = self.outbox, []
            timed.queue(out, self.clock.deadline + self.clock.interval)
            if not timed.broken:
                return
            self._timed_failed = True
        self.clock.wake_after = 0.0
        if timed is not None:
            # Switched off (or broken): the thread sends the outbox from now on; the
            # ring goes once what it holds has left.
            timed.poll()
            if not timed.in_flight or timed.broken:
                self._drop_timed()

    def _drop_timed(self) -> None:
        """Stop queueing with the kernel: the ring closes (what it still holds is
        cancelled) and the sockets waiting for it are closed."""
        with self._lock:
            timed, self._timed = self._timed, None
        if timed is not None:
            timed.close()

    def _clock_stopped(self) -> None:
        """The clock thread is exiting: the kernel cancels what it queued, so the ring
        goes with it; a restarted clock thread opens its own."""
        self._drop_timed()

    def send_pending(self) -> None:
        """Send what the streams built during the previous tick (its own list, so a stream
        adding while this runs cannot be lost)."""
        out = self.outbox
        if not out:
            return
        self.outbox = []
        for st, pt, ts, payload, marker, addr in out:
            st._sent(pt, ts, payload, marker, addr)

    def _read_ready(self, ready: list[tuple[int, int]], now: float,
                    stop_at: float | None) -> bool:
        """Read one datagram from each ready socket; False when ``stop_at`` (a
        perf_counter time, None: no budget) passed before the round was done."""
        by_fd = self._by_fd
        perf = time.perf_counter
        for fd, _ev in ready:
            st = by_fd.get(fd)
            if st is not None:
                st._read(now)
                self.reads += 1
                if stop_at is not None and perf() > stop_at:
                    return False
        return True

    def tick(self) -> None:
        self.send_pending()
        if not self._streams:
            return
        now = time.monotonic()
        # The first round reads one datagram from every readable socket, whatever it
        # costs; further rounds (bursts) stop at the read budget and the rest waits in the
        # sockets for the next tick (the jitter buffers absorb it).
        stop_at = time.perf_counter() + self.clock.interval * READ_BUDGET
        for rnd in range(_MAX_ROUNDS):
            ready = self._poll.poll(0)
            self.polls += 1
            if not ready or not self._read_ready(ready, now, stop_at if rnd else None):
                break
        for st in self._streams:
            st._after_read(now)


_pollers: dict[int, RtpPoller] = {}
_pollers_lock = threading.Lock()


def poller_for(clock: MediaClock) -> RtpPoller:
    with _pollers_lock:
        p = _pollers.get(id(clock))
        if p is None or p.clock is not clock:
            p = _pollers[id(clock)] = RtpPoller(clock)
        return p


def send_modes() -> list[tuple[int, str, int]]:
    """(ptime ms, "kernel" or "thread", streams) for every clock with RTP on it."""
    with _pollers_lock:
        pollers = list(_pollers.values())
    return [(p.clock.ptime, p.send_mode, p.count) for p in pollers]

