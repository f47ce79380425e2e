"""Playback sources and the file handle that §4.5 callback commands act on.

A source yields int16 mono at the channel rate: ``read(n)`` returns up to ``n`` samples, or
an empty array when it has ended.  The media clock calls ``read`` once per tick, so a
source the clock reads directly must be ``in_memory`` (tones and silence, rendered when
opened in the session thread).  Sound files and ``file_string://`` chains are wrapped by
the port in :class:`fsd.media.stream.ReadAhead`, which the I/O worker opens and fills.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fsd.media.errors import MediaError
from fsd.media.files import AudioReader

EMPTY = np.zeros(0, dtype=np.int16)
# What a read-ahead source returns when its buffer ran dry before the end (a slow disk):
# "no data yet", not "ended".  A distinct object, compared by identity.
UNDERRUN = np.zeros(0, dtype=np.int16)


class Source:
    name: str = ""
    length: int | None = None
    seekable: bool = False
    # True when read() never touches a disk (rendered tones, silence, samples in memory):
    # the port plays such a source directly; any other goes through the I/O worker.
    in_memory: bool = False

    def read(self, n: int) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def seek(self, pos: int) -> int:
        raise MediaError(f"{self.name} is not seekable")

    def tell(self) -> int:
        return 0

    def close(self) -> None:
        pass


class ReaderSource(Source):
    """A sound file."""

    def __init__(self, reader: AudioReader, name: str) -> None:
        self.reader = reader
        self.name = name
        self.length = reader.length
        self.seekable = True

    def read(self, n: int) -> np.ndarray:
        return self.reader.read(n)

    def seek(self, pos: int) -> int:
        return self.reader.seek(pos)

    def tell(self) -> int:
        return self.reader.tell()

    def close(self) -> None:
        self.reader.close()


class BufferSource(Source):
    """Samples in memory (a rendered tone), replayed ``loops`` times (-1 forever)."""

    in_memory = True

    def __init__(self, samples: np.ndarray, name: str, loops: int = 0) -> None:
        self.samples = np.asarray(samples, dtype=np.int16)
        self.name = name
        self.loops = loops
        self.pos = 0
        self.seekable = True
        self.length = None if loops < 0 else len(self.samples) * max(1, loops)
        self._plays_left = max(1, loops) if loops >= 0 else -1

    def read(self, n: int) -> np.ndarray:
        if self.pos >= len(self.samples):
            if self._plays_left > 0:
                self._plays_left -= 1
            if self._plays_left == 0 or len(self.samples) == 0:
                return EMPTY
            self.pos = 0
        out = self.samples[self.pos : self.pos + n]
        self.pos += len(out)
        return out

    def seek(self, pos: int) -> int:
        self.pos = max(0, min(int(pos), len(self.samples)))
        return self.pos

    def tell(self) -> int:
        return self.pos


class SilenceSource(Source):
    """``silence_stream://``: zeros, or comfort noise when a noise divisor is given."""

    in_memory = True

    def __init__(self, samples: int | None, noise: int, name: str) -> None:
        self.left = samples
        self.noise = noise
        self.name = name
        self.length = samples
        self._rng = np.random.default_rng()
        self._done = 0

    def read(self, n: int) -> np.ndarray:
        if self.left is not None:
            if self.left <= 0:
                return EMPTY
            n = min(n, self.left)
            self.left -= n
        self._done += n
        if self.noise:
            # Low-level noise whose peak shrinks as the divisor grows, like FreeSWITCH's
            # switch_generate_sln_silence.
            peak = max(1, 32767 // (self.noise * 100))
            return self._rng.integers(-peak, peak + 1, n, dtype=np.int16)
        return np.zeros(n, dtype=np.int16)

    def tell(self) -> int:
        return self._done


class ChainSource(Source):
    """``file_string://a!b!c``: each part opened when the previous one ends."""

    def __init__(self, parts: list[str], opener: Callable[[str], Source], name: str) -> None:
        self.parts = list(parts)
        self.opener = opener
        self.name = name
        self.index = -1
        self.current: Source | None = None
        self.errors: list[str] = []
        self._advance()

    def _advance(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None
        while self.index + 1 < len(self.parts):
            self.index += 1
            try:
                self.current = self.opener(self.parts[self.index])
                return
            except MediaError as exc:
                # FreeSWITCH skips a part it cannot open and goes on with the next.
                self.errors.append(str(exc))

    def read(self, n: int) -> np.ndarray:
        while self.current is not None:
            out = self.current.read(n)
            if len(out):
                return out
            self._advance()
        return EMPTY

    @property
    def seekable(self) -> bool:  # type: ignore[override]
        return self.current is not None and self.current.seekable

    def seek(self, pos: int) -> int:
        if self.current is None:
            return 0
        return self.current.seek(pos)

    def tell(self) -> int:
        return self.current.tell() if self.current is not None else 0

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None


# Volume steps of §4.5 (`volume:+1`); FreeSWITCH clamps the level to -4..4.
VOLUME_MIN, VOLUME_MAX = -4, 4
SPEED_MIN, SPEED_MAX = -4, 4


def volume_gain(level: int) -> float:
    """Gain for a volume step: about 3 dB per step (FreeSWITCH uses a table of the same shape)."""
    return 10 ** (level * 3.0 / 20.0)


class FileHandle:
    """The active playback as callback commands see it: position, speed, volume, pause.

    The clock reads frames through :meth:`next_frame`; the session thread applies commands
    with :meth:`command`.  Both run under the owning port's lock.
    """

    def __init__(self, source: Source, rate: int, writer=None) -> None:
        self.source = source
        self.rate = rate
        self.speed = 0
        self.volume = 0
        self.paused = False
        self.done = False
        self.writer = writer  # set when the handle is a recording (truncate acts on it)
        self.samples_played = 0
        self.underruns = 0

    def next_frame(self, n: int) -> np.ndarray | None:
        """One frame of ``n`` samples, or None when the source has ended."""
        if self.done:
            return None
        if self.paused:
            return np.zeros(n, dtype=np.int16)
        want = n
        if self.speed:
            want = max(1, int(round(n * (1.0 + 0.25 * self.speed))))
        data = self.source.read(want)
        if data is UNDERRUN:
            # The disk is behind: silence this frame, keep the position (see stream.py).
            self.underruns += 1
            return np.zeros(n, dtype=np.int16)
        if len(data) == 0:
            self.done = True
            return None
        self.samples_played += len(data)
        if self.speed and len(data) > 1:
            # Change the playback rate by reading more or fewer samples than a frame and
            # interpolating them to one frame (pitch moves too; FreeSWITCH keeps pitch).
            scaled = int(round(len(data) * n / want))
            xs = np.linspace(0, len(data) - 1, max(1, scaled))
            data = np.interp(xs, np.arange(len(data)), data).astype(np.int16)
        if self.volume:
            data = np.clip(data * volume_gain(self.volume), -32768, 32767).astype(np.int16)
        if len(data) < n:
            data = np.concatenate((data, np.zeros(n - len(data), dtype=np.int16)))
        elif len(data) > n:
            data = data[:n]
        return data

    def command(self, text: str) -> bool:
        """Apply a §4.5 callback result; True means carry on, False means stop."""
        if text is None or text == "" or text in ("true", "undefined"):
            return True
        low = text.lower()
        if low.startswith("speed"):
            if ":" not in low:
                return False
            self.speed = _step(self.speed, low.split(":", 1)[1], 1, SPEED_MIN, SPEED_MAX)
            return True
        if low.startswith("volume"):
            if ":" not in low:
                return False
            self.volume = _step(self.volume, low.split(":", 1)[1], 1, VOLUME_MIN, VOLUME_MAX)
            return True
        if low.startswith("pause"):
            self.paused = not self.paused
            return True
        if low.startswith("stop"):
            self.done = True
            return False
        if low.startswith("truncate"):
            if self.writer is not None:
                self.writer.truncate()
            return False
        if low.startswith("restart"):
            if self.source.seekable:
                self.source.seek(0)
            self.speed = 0
            return True
        if low.startswith("seek"):
            if ":" in low and self.source.seekable:
                arg = low.split(":", 1)[1].strip()
                per_ms = self.rate // 1000
                try:
                    if arg[:1] in "+-" and arg:
                        step = int(arg[1:] or "0") or 1000
                        target = self.source.tell() + (step if arg[0] == "+" else -step) * per_ms
                    else:
                        target = int(arg) * per_ms
                except ValueError:
                    return True
                self.source.seek(max(0, target))
            return True
        return False


def _step(cur: int, arg: str, zero_step: int, lo: int, hi: int) -> int:
    arg = arg.strip()
    try:
        if arg[:1] in ("+", "-") and arg:
            step = int(arg[1:] or "0") or zero_step
            val = cur + (step if arg[0] == "+" else -step)
        else:
            val = int(arg or "0")
    except ValueError:
        return cur
    return max(lo, min(hi, val))
