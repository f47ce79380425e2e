"""The ``freeswitch`` module functions (behaviour reference §3), for any language: each
takes the run's context first."""

from __future__ import annotations

from typing import Any

from fsd.log import DEBUG, log
from fsd.numbers import is_digits

_LEVELS = {"console": 0, "alert": 1, "crit": 2, "err": 3, "warning": 4, "notice": 5,
           "info": 6, "debug": 7}
_INVALID = 64  # SWITCH_LOG_INVALID


def _is_number(text: str) -> bool:
    """switch_is_number: an optional sign, then only digits and dots."""
    t = text[1:] if text[:1] in "+-" else text
    return all(c == "." or is_digits(c) for c in t)


def _atoi(text: str) -> int:
    t = text.strip()
    sign = -1 if t.startswith("-") else 1
    t = t.lstrip("+-")
    digits = ""
    for c in t:
        if not is_digits(c):
            break
        digits += c
    return sign * int(digits) if digits else 0


def log_level(level: str | None) -> int:
    """consoleLog's level rules: names (any case), numeric strings clamped, the rest debug."""
    if level is None:
        return DEBUG
    if _is_number(level):
        x = _atoi(level)
        if x > _INVALID:
            return _INVALID - 1
        return max(0, x)
    lvl = _LEVELS.get(level.lower())
    return DEBUG if lvl is None else lvl


def console_log(ctx: Any, level: str | None, msg: str | None) -> None:
    lvl = log_level(level)
    if lvl == _INVALID:
        lvl = DEBUG
    log(lvl, msg or "", uuid=ctx.uuid, file="switch_cpp.cpp", func="console_log", line=0)


def console_log2(ctx: Any, level: str | None, file: str | None, func: str | None,
                 line: int, msg: str | None) -> None:
    lvl = log_level(level)
    if lvl == _INVALID:
        lvl = DEBUG
    log(lvl, msg or "", uuid=ctx.uuid, file=file or "", func=func or "", line=line)


def console_clean_log(ctx: Any, msg: str | None) -> None:
    log(DEBUG, msg or "", uuid=ctx.uuid, file="switch_cpp.cpp", func="console_clean_log",
        clean=True)


def get_global_variable(ctx: Any, name: str | None) -> str | None:
    if not name:
        return None
    return ctx.host.globals.get(name)


def set_global_variable(ctx: Any, name: str | None, value: str | None) -> None:
    if not name:
        return
    ctx.host.globals.set(name, value)


def running(ctx: Any) -> bool:
    return ctx.host.running()


def msleep(ctx: Any, ms: int) -> None:
    # blocks only this script's thread, and a kill ends the wait at once
    ctx.sleep(max(0, ms) / 1000.0)
