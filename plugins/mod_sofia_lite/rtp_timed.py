"""RTP packets the kernel sends at the next tick's deadline (io_uring; see uring.py).

The poller's outbox fills while the media clock ticks the ports.  At the end of the tick,
:meth:`TimedSender.queue` turns it into one chain per batch: a kernel timer at the next
deadline, then one ``sendmsg`` per packet, hard-linked so that one failed send does not
cancel the others.  The clock thread is then free: whatever it does next (reading
sockets, running ports, waiting for the GIL), the packets leave when the timer fires.
Measured: a standalone sender of 500 streams with two Python threads computing beside it,
interval p99 20.5 ms this way against 119 ms sending from a Python loop at the deadline;
fsd at 200 calls with one busy Python thread, 48–52 ms against 130–143 ms
(docs/performance.md, "RTP sends timed by the kernel").

The ring uses cooperative task running and the clock wakes just after its deadline
(``MediaClock.wake_after``), so the kernel runs the sends as the clock thread leaves its
sleep, before it asks for the GIL, not in the middle of its tick.

What a queued packet needs must stay put until the kernel has sent it: the ``msghdr``,
``iovec``, address and bytes are written into an arena (a ctypes buffer) that belongs to
the batch until the chain's last send completes; and a stream's socket must not be closed
while a queued send names its descriptor (the number could be reused by a new socket in
between), so closing goes through :meth:`retire`, which closes it once every batch queued
before has completed.

Only the clock thread calls :meth:`queue` and :meth:`poll`: the kernel runs the sends as
task work of the thread that submitted them, and that thread runs at realtime priority.
"""

from __future__ import annotations

import ctypes
import socket
import struct
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from fsd_modules.mod_sofia_lite import uring

from fsd.log import WARNING, log

_ENTRIES = 1024  # submission queue size; a batch of more packets goes as several chains
# msghdr (56) + iovec (16) + sockaddr_in6 room (32), then the packet, 8-byte aligned.
_HDR = struct.Struct("<QI4xQQQQi4xQQ32s")
_HDR_SIZE = 104
_TS = struct.Struct("<qq")
_RTP = struct.Struct("!BBHII")  # the RTP header build_rtp writes (v2, no CSRC/extension)
_LINKED = uring.F_IO_HARDLINK | uring.F_CQE_SKIP_SUCCESS
_LAST = 1 << 62  # user_data flag: the last send of a chain (its completion is always posted)
_PROBE = 1 << 61
_GRAVEYARD: list[Any] = []
_BATCH_SHIFT = 24  # user_data = batch number << 24 | packet index
_INDEX_MASK = (1 << _BATCH_SHIFT) - 1


class _Batch:
    __slots__ = ("number", "arena", "streams", "chains_left", "retired", "timers")

    def __init__(self, number: int, arena: Any) -> None:
        self.number = number
        self.arena = arena
        self.streams: list[Any] = []  # index -> stream, to count a failed send
        self.chains_left = 0
        self.retired: list[tuple[socket.socket, Callable[[], None] | None]] = []
        self.timers: list[Any] = []  # the timespecs the chains' timers point at


def _sockaddr(addr: tuple) -> tuple[bytes, int]:
    """The packed sockaddr for a resolved (ip, port[, flow, scope]) and its length."""
    ip, port = addr[0], int(addr[1])
    if ":" in ip:
        flow = int(addr[2]) if len(addr) > 2 else 0
        scope = int(addr[3]) if len(addr) > 3 else 0
        return struct.pack("<HHI16sI", socket.AF_INET6, socket.htons(port), flow,
                           socket.inet_pton(socket.AF_INET6, ip), scope), 28
    return struct.pack("<HH4s8x", socket.AF_INET, socket.htons(port),
                       socket.inet_aton(ip)), 16


class TimedSender:
    """Sends each tick's packets at the next deadline from the kernel (module docstring)."""

    def __init__(self, ring: uring.Ring) -> None:
        self.ring = ring
        self._batch_no = 0
        self._inflight: deque[_Batch] = deque()
        self._free_arenas: list[Any] = []
        self._sa_cache: dict[tuple, tuple[bytes, int]] = {}
        self._retired: list[tuple[socket.socket, Callable[[], None] | None]] = []
        self._retire_lock = threading.Lock()
        self.broken = ""  # why the ring failed (io_uring_enter refused): callers fall back
        self.batches = 0
        self.packets = 0
        self.errors = 0

    # -- setup ----------------------------------------------------------------------
    @classmethod
    def open(cls) -> TimedSender | None:
        """A sender on a new ring, or None where the kernel cannot do timed linked sends
        (no io_uring, or a kernel without the timeout flags used here).  Call from the
        thread that will queue (the clock thread)."""
        # Cooperative task running (Linux 5.19+): the kernel does not interrupt the clock
        # thread to send; the sends run when the thread next enters or leaves the kernel —
        # at the deadline that is its own wake-up from sleep, before it asks for the GIL.
        ring = uring.open_ring(_ENTRIES, uring.SETUP_COOP_TASKRUN) or uring.open_ring(_ENTRIES)
        if ring is None:
            return None
        try:
            if cls._probe(ring):
                return cls(ring)
        except OSError:
            pass
        ring.close()
        return None

    @staticmethod
    def _probe(ring: uring.Ring) -> bool:
        """A timer hard-linked to a no-op, waited for: True when only the no-op completes,
        successfully (absolute timeouts, ETIME_SUCCESS, hard links and skipped
        completions all work)."""
        ts = ctypes.create_string_buffer(16)  # an absolute time of 0: already passed
        ring.prep(uring.OP_TIMEOUT, _LINKED, -1, 0, ctypes.addressof(ts), 1,
                  uring.TIMEOUT_ABS | uring.TIMEOUT_ETIME_SUCCESS, _PROBE | 1)
        ring.prep(uring.OP_NOP, 0, -1, 0, 0, 0, 0, _PROBE)
        ring.submit()
        got = ring.wait(1, timeout=0.5)
        return got == [(_PROBE, 0)]

    # -- the clock thread -----------------------------------------------------------
    def queue(self, outbox: list[tuple], deadline: float) -> None:
        """Queue ``outbox`` entries (stream, pt, ts, payload, marker, address) to leave
        at ``deadline`` (CLOCK_MONOTONIC seconds, i.e. ``time.perf_counter``).  Sequence
        numbers are taken now; a stream that stopped sending (hold, hangup) is skipped.
        When the kernel refuses the submission, :attr:`broken` says why (the entries of
        that tick are lost; the caller sends from then on)."""
        try:
            self._queue(outbox, deadline)
        except OSError as exc:
            self.broken = str(exc)
            log(WARNING, f"RTP: io_uring failed ({exc}); the media clock thread sends from now on")

    def _queue(self, outbox: list[tuple], deadline: float) -> None:
        self.poll()
        ring = self.ring
        self._batch_no += 1
        number = self._batch_no
        with self._retire_lock:
            retired, self._retired = self._retired, []
        items = []
        size = 0
        for entry in outbox:
            st = entry[0]
            if not st._sending or entry[5] is None:
                continue
            items.append(entry)
            size += _HDR_SIZE + ((12 + len(entry[3]) + 7) & ~7)
        if not items and not retired:
            return
        batch = _Batch(number, self._arena(size))
        batch.retired = retired
        self._inflight.append(batch)
        if not items:
            # Nothing to send, but sockets to close after what is in flight: a chain of
            # its own (a timer and a no-op) marks the moment.
            batch.chains_left = 1
            self._prep_timer(batch, deadline)
            ring.prep(uring.OP_NOP, 0, -1, 0, 0, 0, 0, _LAST | number << _BATCH_SHIFT)
            ring.submit()
            return
        arena = batch.arena
        base = ctypes.addressof(arena)
        mv = memoryview(arena).cast("B")
        streams = batch.streams
        cache = self._sa_cache
        hdr_pack, rtp_pack, prep = _HDR.pack_into, _RTP.pack_into, ring.prep
        off = 0
        n = len(items)
        i = 0
        while i < n:
            # One chain: a timer, then as many sends as the submission queue has room for.
            if ring.space < 2:
                ring.submit()
            chain = min(n - i, ring.space - 1)
            self._prep_timer(batch, deadline)
            batch.chains_left += 1
            end = i + chain
            while i < end:
                st, pt, ts, payload, marker, addr = items[i]
                sa = cache.get(addr)
                if sa is None:
                    if len(cache) > 4096:
                        cache.clear()
                    sa = cache[addr] = _sockaddr(addr)
                plen = 12 + len(payload)
                a = base + off
                data = off + _HDR_SIZE
                hdr_pack(mv, off, a + 72, sa[1], a + 56, 1, 0, 0, 0, a + _HDR_SIZE, plen, sa[0])
                # The RTP header straight into the arena (what build_rtp makes), then the
                # payload: no packet object per send.
                seq = st._seq
                rtp_pack(mv, data, 0x80, (0x80 if marker else 0) | (pt & 0x7F), seq,
                         ts & 0xFFFFFFFF, st.ssrc & 0xFFFFFFFF)
                mv[data + 12:data + plen] = payload
                st._seq = (seq + 1) & 0xFFFF
                st.packets_out += 1
                st.bytes_out += plen
                streams.append(st)
                ud = number << _BATCH_SHIFT | i
                if i == end - 1:
                    prep(uring.OP_SENDMSG, 0, st.sock.fileno(), 0, a, 1,
                         uring.MSG_DONTWAIT, ud | _LAST)
                else:
                    prep(uring.OP_SENDMSG, _LINKED, st.sock.fileno(), 0, a, 1,
                         uring.MSG_DONTWAIT, ud)
                off += _HDR_SIZE + ((plen + 7) & ~7)
                i += 1
        ring.submit()
        self.batches += 1
        self.packets += n

    def _prep_timer(self, batch: _Batch, deadline: float) -> None:
        """The head of a chain: a timer at ``deadline``, hard-linked to what follows; its
        completion is posted only if it fails.  Its timespec lives with the batch."""
        buf = ctypes.create_string_buffer(16)
        sec = int(deadline)
        _TS.pack_into(buf, 0, sec, int((deadline - sec) * 1e9))
        batch.timers.append(buf)
        self.ring.prep(uring.OP_TIMEOUT, _LINKED, -1, 0, ctypes.addressof(buf), 1,
                       uring.TIMEOUT_ABS | uring.TIMEOUT_ETIME_SUCCESS, 0)

    def _arena(self, size: int) -> Any:
        size = max(size, 1)
        for k, a in enumerate(self._free_arenas):
            if ctypes.sizeof(a) >= size:
                return self._free_arenas.pop(k)
        return ctypes.create_string_buffer(max(size * 2, 65536))

    def poll(self) -> None:
        """Take the kernel's completions: count failed sends, finish batches whose chains
        are done (their arena is reused, their retired sockets closed)."""
        done = self.ring.completions()
        if not done:
            return
        by_no = {b.number: b for b in self._inflight}
        for ud, res in done:
            batch = by_no.get((ud & ~_LAST) >> _BATCH_SHIFT)
            if res < 0:
                idx = ud & _INDEX_MASK
                if batch is not None and idx < len(batch.streams):
                    st = batch.streams[idx]
                    st.send_errors += 1
                    st.packets_out -= 1
                self.errors += 1
            if ud & _LAST and batch is not None:
                batch.chains_left -= 1
        # Chains complete in deadline order; close what waited for them.
        while self._inflight and self._inflight[0].chains_left <= 0:
            b = self._inflight.popleft()
            self._free_arenas.append(b.arena)
            for sock, after in b.retired:
                close_socket(sock, after)

    @property
    def in_flight(self) -> int:
        return len(self._inflight)

    # -- any thread -------------------------------------------------------------------
    def retire(self, sock: socket.socket, after: Callable[[], None] | None = None) -> None:
        """Close ``sock`` (then call ``after``) once no queued send can still name it."""
        with self._retire_lock:
            self._retired.append((sock, after))

    def close(self) -> None:
        """Stop: pending sends are cancelled with the ring; retired sockets closed now."""
        with self._retire_lock:
            retired, self._retired = self._retired, []
        for b in self._inflight:
            retired.extend(b.retired)
        # The ring's teardown runs in the kernel after close() returns: the memory its
        # entries point at is kept for the life of the process.
        _GRAVEYARD.extend((b.arena, b.timers) for b in self._inflight)
        self._inflight.clear()
        self.ring.close()
        for sock, after in retired:
            close_socket(sock, after)


def close_socket(sock: socket.socket, after: Callable[[], None] | None = None) -> None:
    """Close ``sock``, then call ``after`` (even when closing failed)."""
    try:
        sock.close()
    finally:
        if after is not None:
            after()
