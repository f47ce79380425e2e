"""``DTMF(digit[, duration])`` (behaviour reference §12), for any language: what input
callbacks receive.  A duration of 0 (or none) is the default 2000 samples; only the first
character of ``digit`` counts.  (Lua builds the same shape as a plain table, in Lua.)"""

from __future__ import annotations

DEFAULT_DURATION = 2000


class ScriptDTMF:
    __slots__ = ("digit", "duration")

    def __init__(self, digit: str | int, duration: int | None = None) -> None:
        d = int(duration or 0)
        if d < 0:
            raise ValueError("DTMF duration must not be negative")
        self.digit = str(digit)[:1]
        self.duration = d or DEFAULT_DURATION

    def __repr__(self) -> str:
        return f"<DTMF {self.digit!r} {self.duration}>"
