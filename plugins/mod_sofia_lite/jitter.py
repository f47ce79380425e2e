"""A small adaptive jitter buffer, sample based (so any packet time fits any frame size).

Packets are kept by RTP timestamp.  Playout starts once ``target`` frames are buffered and
then advances exactly one frame per clock tick; a gap (lost or late packet) plays as
silence.  The target depth follows the measured interarrival jitter (RFC 3550 §6.4.1):
``1 + ceil(3·J / frame)`` frames, clamped to ``min_frames..max_frames``.  When more than
two frames above the target sit in the buffer for a while (a burst, or the sender's clock
runs fast) one frame is dropped; an underrun restarts buffering.  A timestamp jump (new
SSRC, sender restart, a talkspurt after silence suppression) resynchronises playout.

Cost: the clock calls ``put`` and ``get`` for every stream every tick, so both are O(1) in
the usual case (packets in order, one per frame): the end of the newest packet is kept
as packets arrive instead of being searched for, and a full buffer gives up the packet
held longest.  Only an out-of-order removal of the newest packet rescans the buffer.
(An O(n) scan per tick was measured to feed an overload: a clock that falls behind skips
ticks, buffers fill to their cap, and every tick then scanned 40 packets per stream.)
"""

from __future__ import annotations

import math

import numpy as np
from fsd_modules.mod_sofia_lite.rtp_packet import ts_diff

_RESYNC = 8000 * 2  # a jump of more than ~2 s (at 8 kHz) is a new stream, not jitter
_SHRINK_AFTER = 25  # ticks of excess depth before a frame is dropped


class JitterBuffer:
    def __init__(self, rate: int, frame: int, min_frames: int = 2, max_frames: int = 10) -> None:
        self.rate = rate
        self.frame = frame
        self.min_frames = min_frames
        self.max_frames = max_frames
        self.target = min_frames
        self._packets: dict[int, np.ndarray] = {}  # by timestamp, in arrival order
        self._end: int | None = None  # timestamp just after the newest buffered sample
        self._head: int | None = None  # timestamp of the next sample to play
        self._floor: int | None = None  # where playout stopped at the last underrun
        self._jitter = 0.0  # RFC 3550 J, in samples
        self._last: tuple[float, int] | None = None  # (arrival, ts) of the previous packet
        self._excess = 0
        self.late = 0
        self.underruns = 0
        self.dropped = 0
        self.resyncs = 0
        self.played = 0

    @property
    def jitter_ms(self) -> float:
        return self._jitter * 1000.0 / self.rate

    def depth(self) -> int:
        """Buffered samples from the playout point to the end of the newest packet."""
        if not self._packets:
            return 0
        start = self._head if self._head is not None else min(self._packets)
        if self._end is None:
            self._rescan_end()
        return max(0, ts_diff(self._end, start))

    def _rescan_end(self) -> None:
        """Find the newest packet's end again (after it left out of order)."""
        end = None
        for ts, p in self._packets.items():
            e = (ts + len(p)) & 0xFFFFFFFF
            if end is None or ts_diff(e, end) > 0:
                end = e
        self._end = end

    def _removed(self, ts: int, n: int) -> None:
        """Packet ``ts`` of ``n`` samples left the buffer: forget the end if it was it."""
        if not self._packets:
            self._end = None
        elif (ts + n) & 0xFFFFFFFF == self._end:
            self._end = None  # rescanned on the next depth()

    def put(self, ts: int, samples: np.ndarray, arrival: float) -> None:
        if self._last is not None:
            a0, t0 = self._last
            d = (arrival - a0) * self.rate - ts_diff(ts, t0)
            if abs(d) < _RESYNC:
                self._jitter += (abs(d) - self._jitter) / 16.0
        self._last = (arrival, ts)
        self.target = max(self.min_frames, min(
            self.max_frames, 1 + math.ceil(max(0.0, 3 * self._jitter / self.frame - 0.05))))
        # Where playout is (or stopped at the last underrun): older packets are late.
        played = self._head if self._head is not None else self._floor
        ref = played if played is not None else next(iter(self._packets), None)
        if ref is not None:
            off = ts_diff(ts, ref)
            if off > _RESYNC or off < -_RESYNC:
                self._resync()  # a new stream (SSRC change, restart): start over from here
            elif played is not None and off + len(samples) <= 0:
                self.late += 1
                return
        packets = self._packets
        if len(packets) >= 4 * self.max_frames:
            first = next(iter(packets))  # the packet held longest
            self._removed(first, len(packets.pop(first)))
            self.dropped += 1
        old = packets.get(ts)
        packets[ts] = samples
        if old is not None and len(old) != len(samples):
            self._end = None  # a duplicate of another size: rescan
        else:
            end = (ts + len(samples)) & 0xFFFFFFFF
            if self._end is not None:
                if ts_diff(end, self._end) > 0:
                    self._end = end
            elif len(packets) == 1:
                self._end = end
            # else: unknown since an out-of-order removal; depth() rescans

    def _resync(self) -> None:
        self._packets.clear()
        self._end = None
        self._head = self._floor = None
        self.resyncs += 1

    def get(self) -> np.ndarray | None:
        """One frame, or None while buffering (the port then reads silence)."""
        n = self.frame
        if self._head is None:
            if not self._packets or self.depth() < self.target * n:
                return None
            self._head = min(self._packets, key=lambda t: ts_diff(t, next(iter(self._packets))))
        head = self._head
        p = self._packets.pop(head, None)
        if p is not None and len(p) == n:
            out, got = p, True  # the usual case: one whole packet per frame
            self._removed(head, n)
        else:
            if p is not None:
                self._packets[head] = p
            out, got = self._assemble(head, n)
            self._end = None  # _assemble may have removed any of them: rescan
        self._head = (head + n) & 0xFFFFFFFF
        self.played += 1
        if not self._packets:
            # Underrun: the next packet starts buffering again (at the current target).
            self._floor = self._head
            self._head = None
            if got:
                self.underruns += 1
            return out if got else None
        if self.depth() > (self.target + 2) * n:
            self._excess += 1
            if self._excess >= _SHRINK_AFTER:
                self._head = (self._head + n) & 0xFFFFFFFF  # drop one frame
                self.dropped += 1
                self._excess = 0
        else:
            self._excess = 0
        return out

    def _assemble(self, head: int, n: int) -> tuple[np.ndarray, bool]:
        """A frame from packets of other sizes or with gaps (silence where none)."""
        out = np.zeros(n, dtype=np.int16)
        got = False
        for ts in list(self._packets):
            p = self._packets[ts]
            off = ts_diff(ts, head)
            if off + len(p) <= 0:
                del self._packets[ts]
                continue
            if off >= n:
                continue
            a, b = max(0, off), min(n, off + len(p))
            out[a:b] = p[a - off:b - off]
            got = True
            if off + len(p) <= n:
                del self._packets[ts]
        return out, got

    def reset(self) -> None:
        self._packets.clear()
        self._end = None
        self._head = self._floor = None
        self._last = None
