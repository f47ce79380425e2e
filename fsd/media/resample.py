"""Frame geometry and resampling (soxr).

Channel audio is signed 16-bit mono at 8 kHz or 16 kHz (files may be 48 kHz).  A packet
time of 20 ms is the default; 10 and 30 ms are accepted.  Whole buffers are resampled with
``soxr.resample``; streams (a bridge between an 8 kHz and a 16 kHz leg, a long file) keep
a ``soxr.ResampleStream`` so that chunk edges do not click.
"""

from __future__ import annotations

import numpy as np
import soxr

from fsd.media.errors import MediaError

CHANNEL_RATES = (8000, 16000, 32000, 48000)
PTIMES = (10, 20, 30)
DEFAULT_PTIME = 20


def check_rate(rate: int) -> int:
    if rate not in CHANNEL_RATES:
        raise MediaError(f"unsupported sample rate {rate} (use one of {CHANNEL_RATES})")
    return rate


def check_ptime(ptime: int) -> int:
    if ptime not in PTIMES:
        raise MediaError(f"unsupported packet time {ptime} ms (use one of {PTIMES})")
    return ptime


def samples_per_frame(rate: int, ptime: int = DEFAULT_PTIME) -> int:
    return rate * ptime // 1000


def silence(n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.int16)


def to_int16(x: np.ndarray) -> np.ndarray:
    """Clip a float or wide integer array into int16 (no wrap-around)."""
    if x.dtype == np.int16:
        return x
    if np.issubdtype(x.dtype, np.floating):
        x = np.rint(x)
    return np.clip(x, -32768, 32767).astype(np.int16)


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Resample a whole int16 buffer."""
    if src_rate == dst_rate or len(samples) == 0:
        return np.asarray(samples, dtype=np.int16)
    out = soxr.resample(np.asarray(samples, dtype=np.int16), src_rate, dst_rate, quality="HQ")
    return to_int16(out)


class StreamResampler:
    """Resample a stream chunk by chunk, keeping filter state across chunks."""

    def __init__(self, src_rate: int, dst_rate: int, quality: str = "HQ") -> None:
        self.src_rate = src_rate
        self.dst_rate = dst_rate
        self.quality = quality
        self._stream = None
        if src_rate != dst_rate:
            self._stream = soxr.ResampleStream(
                src_rate, dst_rate, 1, dtype="int16", quality=quality
            )

    def process(self, chunk: np.ndarray, last: bool = False) -> np.ndarray:
        if self._stream is None:
            return np.asarray(chunk, dtype=np.int16)
        return self._stream.resample_chunk(np.asarray(chunk, dtype=np.int16), last=last)

    def reset(self) -> None:
        if self._stream is not None:
            self._stream = soxr.ResampleStream(
                self.src_rate, self.dst_rate, 1, dtype="int16", quality=self.quality
            )


class FrameResampler:
    """Turns frames at one rate into frames of exactly ``n_out`` samples at another.

    Used on the clock's hot path (bridge between legs of different rates).  soxr's HQ/MQ
    filters return output in bursts of ~5 frames (measured), which would mean gaps or
    100 ms of extra delay; its "QQ" (cubic) quality returns every frame at once with a few
    samples of delay, so that is what the frame path uses.  Files are resampled with HQ.
    """

    def __init__(self, src_rate: int, dst_rate: int, n_out: int) -> None:
        self._res = StreamResampler(src_rate, dst_rate, quality="QQ")
        self._n = n_out
        self._buf = np.zeros(0, dtype=np.int16)
        self._primed = False

    def process(self, frame: np.ndarray) -> np.ndarray:
        out = self._res.process(frame)
        self._buf = np.concatenate((self._buf, out)) if len(self._buf) else out
        if not self._primed:
            # Hold output until a frame of reserve builds up, so that chunks soxr returns
            # one sample short never leave a gap.
            if len(self._buf) < 2 * self._n:
                return np.zeros(self._n, dtype=np.int16)
            self._primed = True
        if len(self._buf) < self._n:
            got = self._buf
            self._buf = np.zeros(0, dtype=np.int16)
            return np.concatenate((got, np.zeros(self._n - len(got), dtype=np.int16)))
        res, self._buf = self._buf[: self._n], self._buf[self._n :]
        return res
