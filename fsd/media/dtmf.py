"""DTMF digits: the digit object, inband generation and a Goertzel-style detector.

The detector looks at 20 ms windows every 10 ms.  For each window it measures the power at
the eight DTMF frequencies (a small matrix product: the window against precomputed cosine
and sine rows, which is what a bank of Goertzel filters computes) and accepts a key when:
the strongest row and column tones stand well above the other rows/columns, the twist
between them is under 8 dB, and the pair carries most of the window's energy (so speech
and music do not trigger it).  Debouncing: a key must be seen in two consecutive windows
to start and be absent from two consecutive windows to end; the digit is reported when it
ends, with its measured duration in samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fsd.media.tones import DTMF_FREQS, amplitude_for

VALID_DIGITS = "0123456789*#ABCD"
DEFAULT_DURATION = 2000  # samples, FreeSWITCH's default digit duration
MIN_DURATION = 400
MAX_DURATION = 192000

ROWS = (697.0, 770.0, 852.0, 941.0)
COLS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = ("123A", "456B", "789C", "*0#D")


@dataclass
class DTMF:
    """One digit, as the input callback sees it: ``{digit, duration}`` (duration in samples)."""

    digit: str
    duration: int = DEFAULT_DURATION
    source: str = "APP"

    def __post_init__(self) -> None:
        d = str(self.digit).upper()
        if len(d) != 1 or d not in VALID_DIGITS:
            raise ValueError(f"invalid DTMF digit {self.digit!r}")
        self.digit = d
        dur = int(self.duration) if self.duration else DEFAULT_DURATION
        self.duration = max(MIN_DURATION, min(MAX_DURATION, dur))


def generate_dtmf(
    digits: str,
    rate: int = 8000,
    duration_ms: int = 100,
    gap_ms: int = 50,
    volume_db: float = -7.0,
) -> np.ndarray:
    """Inband DTMF for ``digits`` (unknown characters are skipped, like send_dtmf does)."""
    on = rate * duration_ms // 1000
    off = rate * gap_ms // 1000
    t = np.arange(on, dtype=np.float64) / rate
    amp = amplitude_for(volume_db) / 2
    parts = []
    for ch in digits.upper():
        if ch not in DTMF_FREQS:
            continue
        lo, hi = DTMF_FREQS[ch]
        tone = amp * (np.sin(2 * np.pi * lo * t) + np.sin(2 * np.pi * hi * t))
        parts.append(np.rint(tone).astype(np.int16))
        parts.append(np.zeros(off, dtype=np.int16))
    if not parts:
        return np.zeros(0, dtype=np.int16)
    return np.concatenate(parts)


class DTMFDetector:
    """Feed frames (any length) with :meth:`feed`; it returns the digits that ended."""

    def __init__(self, rate: int = 8000, min_level: float = 400.0) -> None:
        self.rate = rate
        self.win = rate // 50  # 20 ms
        self.hop = rate // 100  # 10 ms
        freqs = np.array(ROWS + COLS)
        t = np.arange(self.win) / rate
        self._cos = np.cos(2 * np.pi * np.outer(freqs, t))
        self._sin = np.sin(2 * np.pi * np.outer(freqs, t))
        # A sine of amplitude A gives |X|^2 = (A*N/2)^2; compare in that scale.
        self._min_power = (min_level * self.win / 2) ** 2
        self._buf = np.zeros(0, dtype=np.float64)
        self._current: str | None = None
        self._hits = 0
        self._misses = 0
        self._candidate: str | None = None
        self._cand_hits = 0

    def _classify(self, x: np.ndarray) -> str | None:
        re_ = self._cos @ x
        im = self._sin @ x
        p = re_ * re_ + im * im
        rows, cols = p[:4], p[4:]
        r, c = int(np.argmax(rows)), int(np.argmax(cols))
        pr, pc = rows[r], cols[c]
        if pr < self._min_power or pc < self._min_power:
            return None
        # Twist: row and column within 8 dB of each other.
        if pr > pc * 6.3 or pc > pr * 6.3:
            return None
        # Each peak clearly above the rest of its group (6 dB).
        if np.any(np.delete(rows, r) * 4 > pr) or np.any(np.delete(cols, c) * 4 > pc):
            return None
        # The pair must be most of the window's energy: sum(x^2)*N/2 is the scale of |X|^2.
        total = float(x @ x) * self.win / 2
        if total <= 0 or (pr + pc) < 0.6 * total:
            return None
        return KEYPAD[r][c]

    def feed(self, frame: np.ndarray) -> list[DTMF]:
        out: list[DTMF] = []
        self._buf = np.concatenate((self._buf, np.asarray(frame, dtype=np.float64)))
        while len(self._buf) >= self.win:
            key = self._classify(self._buf[: self.win])
            self._buf = self._buf[self.hop :]
            self._step(key, out)
        return out

    def _step(self, key: str | None, out: list[DTMF]) -> None:
        if self._current is None:
            if key is not None and key == self._candidate:
                self._cand_hits += 1
            else:
                self._candidate = key
                self._cand_hits = 1 if key else 0
            if self._candidate is not None and self._cand_hits >= 2:
                self._current = self._candidate
                self._hits = self._cand_hits
                self._misses = 0
                self._candidate = None
                self._cand_hits = 0
            return
        if key == self._current:
            self._hits += 1
            self._misses = 0
            return
        self._misses += 1
        if self._misses >= 2:
            out.append(self._finish())
            if key is not None:
                self._candidate = key
                self._cand_hits = 1

    def _finish(self) -> DTMF:
        digit = self._current or "0"
        # Windows overlap by half: a tone seen in k windows lasted about (k+1) hops.
        dur = (self._hits + 1) * self.hop * 8000 // self.rate
        self._current = None
        self._hits = 0
        self._misses = 0
        return DTMF(digit, dur, source="INBAND_AUDIO")

    def flush(self) -> list[DTMF]:
        """Report a digit still sounding (end of stream)."""
        if self._current is not None:
            return [self._finish()]
        return []


def detect_digits(samples: np.ndarray, rate: int = 8000) -> list[DTMF]:
    """All digits in a buffer (convenience for tests and offline use)."""
    det = DTMFDetector(rate)
    out = det.feed(samples)
    out += det.feed(np.zeros(det.win * 2, dtype=np.int16))
    out += det.flush()
    return out
