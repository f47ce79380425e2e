"""The one reading of a number typed by a user (API arguments, ESL commands, settings).

Python's ``str.isdigit`` and ``int`` accept far more than ASCII digits (``"²"`` passes
``isdigit`` and then makes ``int`` raise; ``"٣"`` is 3), so arguments checked that way
crash on hostile input or mean something the user did not write.  FreeSWITCH reads numbers
with ``atoi`` over ASCII: these helpers do the same and never raise.
"""

from __future__ import annotations

import re

__all__ = ["is_digits", "to_int", "leading_int"]

_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_LEADING = re.compile(r"\s*([+-]?[0-9]+)", re.ASCII)


def is_digits(text: str | None) -> bool:
    """True for a non-empty run of ASCII digits ``0-9`` only (no sign, no blanks)."""
    return bool(text) and text.isascii() and text.isdigit()  # type: ignore[union-attr]


def to_int(text: str | None, default: int | None = None) -> int | None:
    """The whole of ``text`` (blanks around it ignored) as an integer with an optional
    ASCII sign, else ``default``."""
    if text is None:
        return default
    t = text.strip()
    return int(t) if _INT.fullmatch(t) else default


def leading_int(text: str | None, default: int | None = None) -> int | None:
    """C ``atoi`` that tells "no number": the leading integer of ``text``, else ``default``."""
    m = _LEADING.match(text or "")
    return int(m.group(1)) if m else default
