"""RFC 4733 telephone-events (DTMF in RTP): payloads, a sender and a receiver.

Sending (sofia-behaviour §8.4, FreeSWITCH's do_2833): an event is one timestamp (the
audio timestamp when it starts) carried by one packet per packet time, the first with the
marker bit, volume 13 and E clear, each later one with a growing duration; at the digit's
length the end packet (E set, final duration) is sent three times, one per packet time.
Audio is suppressed while an event is on the wire; digits are 40 ms apart; ``w`` pauses
500 ms and ``W`` one second.  The sender is driven by the media clock (one call per tick)
so events come out at the same cadence as audio, never from a session thread.

Receiving: an event is reported once, when its end packet arrives (retransmitted end
packets and stray packets of finished events are ignored), or, when the end packets are
lost, when the next event starts or after a second without packets for it.
"""

from __future__ import annotations

import struct
import threading
from collections import deque

EVENT_CHARS = "0123456789*#ABCD"
VOLUME = 13  # dBm0 below overload, what FreeSWITCH sends
END_REPEATS = 3
DIGIT_GAP = 320  # samples between digits (rtp-digit-delay, 40 ms at 8 kHz)
PAUSES = {"w": 4000, "W": 8000}  # 500 ms / 1 s
MAX_DURATION = 0xFFFF  # one event segment; longer digits are cut to 8.19 s
STALE_SECONDS = 1.0

_PAYLOAD = struct.Struct("!BBH")


def event_payload(digit: str, duration: int, end: bool, volume: int = VOLUME) -> bytes:
    code = EVENT_CHARS.index(digit.upper())
    return _PAYLOAD.pack(code, (0x80 if end else 0) | (volume & 0x3F),
                         min(duration, MAX_DURATION))


def parse_event(payload: bytes) -> tuple[str | None, bool, int] | None:
    """(digit or None for events we do not map, end flag, duration) or None if short."""
    if len(payload) < 4:
        return None
    code, flags, duration = _PAYLOAD.unpack_from(payload)
    digit = EVENT_CHARS[code] if code < len(EVENT_CHARS) else None
    return digit, bool(flags & 0x80), duration


class DtmfSender:
    """Digits queued from any thread; :meth:`tick` (clock thread) yields what to send.

    ``tick(ts, step)`` is called once per packet time with the current audio timestamp and
    the samples per tick; it returns a list of ``(payload, marker, event_ts)`` to send
    instead of audio, or None when audio should flow."""

    def __init__(self) -> None:
        self._queue: deque[tuple[str, int]] = deque()
        self._lock = threading.Lock()
        self._digit = ""
        self._total = 0
        self._elapsed = 0
        self._event_ts = 0
        self._ends_left = 0
        self._gap = 0

    def queue(self, digits: str, duration: int) -> int:
        """Queue ``digits`` (``w``/``W`` pause) of ``duration`` samples; returns how many
        digits were accepted (others are skipped, as FreeSWITCH does)."""
        n = 0
        duration = max(1, min(int(duration), MAX_DURATION))
        with self._lock:
            for ch in digits:
                if ch in PAUSES:
                    self._queue.append(("", PAUSES[ch]))
                elif ch.upper() in EVENT_CHARS:
                    self._queue.append((ch.upper(), duration))
                    n += 1
        return n

    @property
    def busy(self) -> bool:
        return bool(self._queue) or bool(self._digit) or self._gap > 0

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
        self._digit = ""
        self._ends_left = 0
        self._gap = 0

    def tick(self, ts: int, step: int) -> list[tuple[bytes, bool, int]] | None:
        if self._digit:
            return self._continue(step)
        if self._gap > 0:
            self._gap -= step
            return None
        if not self._queue:
            return None  # the usual tick: nothing queued (checked without the lock)
        with self._lock:
            if not self._queue:
                return None
            digit, duration = self._queue.popleft()
        if not digit:
            self._gap = duration - step
            return None
        self._digit, self._total, self._elapsed, self._event_ts = digit, duration, step, ts
        self._ends_left = END_REPEATS
        if self._elapsed >= self._total:
            return self._continue(0)
        return [(event_payload(digit, self._elapsed, False), True, ts)]

    def _continue(self, step: int) -> list[tuple[bytes, bool, int]]:
        digit, ts = self._digit, self._event_ts
        if self._ends_left < END_REPEATS or self._elapsed + step >= self._total:
            first = self._ends_left == END_REPEATS and step == 0  # one-packet digit
            self._ends_left -= 1
            if self._ends_left <= 0:
                self._digit = ""
                self._gap = DIGIT_GAP
            return [(event_payload(digit, self._total, True), first, ts)]
        self._elapsed += step
        return [(event_payload(digit, self._elapsed, False), False, ts)]


class DtmfReceiver:
    """Feed telephone-event packets (timestamp + payload); completed digits come back."""

    def __init__(self) -> None:
        self._ts: int | None = None
        self._digit: str | None = None
        self._duration = 0
        self._ended = True
        self._seen_at = 0.0
        self._done: deque[int] = deque(maxlen=16)  # timestamps of events already reported

    def feed(self, ts: int, payload: bytes, now: float) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        ev = parse_event(payload)
        if ev is None:
            return out
        digit, end, duration = ev
        if ts in self._done:
            return out  # a retransmitted end packet, or a late one
        if ts != self._ts:
            out += self._finish()
            self._ts, self._digit, self._ended = ts, digit, False
        self._duration = max(self._duration, duration)
        self._seen_at = now
        if end:
            out += self._finish()
        return out

    def expire(self, now: float) -> list[tuple[str, int]]:
        """Report an event whose end packets never came."""
        if not self._ended and now - self._seen_at > STALE_SECONDS:
            return self._finish()
        return []

    def _finish(self) -> list[tuple[str, int]]:
        if self._ended or self._ts is None:
            return []
        self._ended = True
        self._done.append(self._ts)
        digit, duration = self._digit, self._duration
        self._duration = 0
        return [(digit, duration)] if digit is not None else []
