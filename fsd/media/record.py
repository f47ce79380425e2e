"""Recorders: state the media clock advances, one frame per tick.

:class:`Recorder` is ``record``/``recordFile``: the read side (what the caller says) with a
time limit and energy-based silence detection as FreeSWITCH scores it: per frame
``sum(|x|) / (samples / (rate/8000))``; a frame below the threshold uses up one silence
hit, a frame above it restores them all; when none are left the recording ends.  The
default silence time is 3 s when a threshold is given without one.

:class:`SessionRecorder` is ``record_session``: read and write mixed into one file.

Both write through an :class:`AudioWriter` whose ``close()`` is idempotent, so whoever
finishes first (the clock on a limit, the session thread, or ``port.close()`` on hangup)
leaves a complete file.
"""

from __future__ import annotations

import numpy as np

from fsd.media.files import AudioWriter

DEFAULT_SILENCE_SECS = 3


class Recorder:
    def __init__(
        self,
        writer: AudioWriter,
        rate: int,
        frame_samples: int,
        max_secs: float = 0,
        silence_thresh: float = 0,
        silence_secs: float = 0,
    ) -> None:
        self.writer = writer
        self.path = writer.path
        self.rate = rate
        self.samples = 0
        self.max_samples = int(max_secs * rate) if max_secs and max_secs > 0 else 0
        self.thresh = float(silence_thresh) if silence_thresh and silence_thresh > 0 else 0.0
        if self.thresh and not silence_secs:
            silence_secs = DEFAULT_SILENCE_SECS
        frames_per_sec = rate / frame_samples
        self.org_hits = max(1, int(silence_secs * frames_per_sec)) if self.thresh else 0
        self.hits = self.org_hits
        self.divisor = max(1, rate // 8000)
        self.paused = False
        self.done: str | None = None  # "max" | "silence" | set by the port on stop/hangup

    def on_frame(self, frame: np.ndarray) -> bool:
        """Write one frame; True when this frame ended the recording."""
        if self.done:
            return False
        if not self.paused:
            self.writer.write(frame)
            self.samples += len(frame)
        if self.max_samples and self.samples >= self.max_samples:
            self.done = "max"
            return True
        if self.thresh:
            energy = float(np.abs(frame.astype(np.int32)).sum())
            score = energy / (len(frame) / self.divisor)
            if score < self.thresh:
                self.hits -= 1
                if self.hits <= 0:
                    self.done = "silence"
                    return True
            else:
                self.hits = self.org_hits
        return False

    def close(self) -> None:
        self.writer.close()


class SessionRecorder:
    """Both directions mixed (sum, clipped) into one mono file."""

    def __init__(self, writer: AudioWriter) -> None:
        self.writer = writer
        self.path = writer.path
        self.samples = 0

    def on_frames(self, read: np.ndarray, write: np.ndarray) -> None:
        n = min(len(read), len(write))
        mixed = read[:n].astype(np.int32) + write[:n].astype(np.int32)
        self.writer.write(np.clip(mixed, -32768, 32767).astype(np.int16))
        self.samples += n

    def close(self) -> None:
        self.writer.close()
