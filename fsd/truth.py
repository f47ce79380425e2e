"""The one true/false reading of a setting, channel variable or attribute.

FreeSWITCH reads every boolean through ``switch_true`` / ``switch_false``: the words below
(case-insensitive) or a number.  fsd does the same everywhere, so ``enabled``, ``t`` and
``2`` mean the same to every module.  Surrounding whitespace is ignored (config values
often carry some); FreeSWITCH compares the exact string.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["TRUE_WORDS", "FALSE_WORDS", "is_true", "is_false"]

TRUE_WORDS = frozenset({"yes", "on", "true", "t", "enabled", "active", "allow"})
FALSE_WORDS = frozenset({"no", "off", "false", "f", "disabled", "inactive", "disallow"})

# switch_is_number: an optional sign, then digits and dots only; atoi() reads the leading
# integer part, so "2" and "-1" are true, "0", "0.9" and "+" are not.
_NUMBER = re.compile(r"[+-]?[0-9.]*")
_LEADING_INT = re.compile(r"[+-]?([0-9]*)")


def _number_value(text: str) -> int | None:
    if not _NUMBER.fullmatch(text):
        return None
    digits = _LEADING_INT.match(text).group(1)  # type: ignore[union-attr]
    return int(digits) if digits else 0


def is_true(value: Any, default: bool = False) -> bool:
    """``switch_true``: a true word or a non-zero number.  ``None`` or ``""`` give
    ``default`` (the setting was not given); a Python ``bool`` is itself."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if not text:
        return default
    if text in TRUE_WORDS:
        return True
    n = _number_value(text)
    return bool(n)


def is_false(value: Any) -> bool:
    """``switch_false``: a false word or the number zero (for settings that are on unless
    switched off)."""
    if value is None:
        return False
    if isinstance(value, bool):
        return not value
    text = str(value).strip().lower()
    if text in FALSE_WORDS:
        return True
    n = _number_value(text) if text else None
    return n == 0
