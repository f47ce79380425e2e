"""English say: text -> the sound files FreeSWITCH's mod_say_en plays, in order.

``en_say(session, text, say_type, say_method, gender) -> list[str]``.  Types and methods
are matched case-insensitively.  Bad input raises ``ValueError`` with the reason (the
caller logs it and the call goes on).  The file names are those of the FreeSWITCH sound
packs (``digits/``, ``time/``, ``currency/``, ``ascii/``, ``phonetic-ascii/``).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from fsd.numbers import is_digits

EXT = "wav"

GENERAL = {"number", "items", "persons", "messages"}
TIMES = {"time_measurement", "current_date", "current_time", "current_date_time",
         "short_date_time"}
SPELLED = {"name_spelled", "spell", "email_address", "url"}
DIGIT_STRINGS = {"telephone_number", "telephone_extension", "account_number"}
METHODS = {"pronounced", "iterated", "counted", "pronounced_year", "n/a"}


def f(name: str) -> str:
    return f"{name}.{EXT}"


# ---------------------------------------------------------------------------- numbers
def _digits_only(text: str) -> str:
    """Digits with the commas removed; anything else is a parse error."""
    out = []
    for ch in text.strip():
        if is_digits(ch) and ch.isascii():
            out.append(ch)
        elif ch != ",":
            raise ValueError(f"Parse Error: {text!r} is not a number")
    return "".join(out)


def _group(value: int, method: str, unit: str | None) -> list[str]:
    """Up to three digits: hundreds, tens (teens are one file), units, then the unit."""
    hundreds, tens, units = value // 100, (value // 10) % 10, value % 10
    out: list[str] = []
    if hundreds:
        out += [f(f"digits/{hundreds}"), f("digits/hundred")]
    if tens:
        if tens > 1:
            counted_end = units == 0 and method == "counted"
            out.append(f(f"digits/h-{tens}0") if counted_end else f(f"digits/{tens}0"))
        else:
            out.append(f(f"digits/1{units}"))
            units = 0
    if units:
        out.append(f(f"digits/h-{units}") if method == "counted" else f(f"digits/{units}"))
    if unit and value:
        out.append(f(unit))
    return out


def say_count(text: str, method: str, allow_empty: bool = False) -> list[str]:
    """number / items / persons / messages."""
    digits = _digits_only(text)
    if method == "iterated":
        if not digits:
            raise ValueError("Parse Error: nothing to say")
        return [f(f"digits/{d}") for d in digits]
    if not digits and not allow_empty:
        raise ValueError("Parse Error: nothing to say")
    if len(digits) > 9:
        raise ValueError(f"Parse Error: {text!r} has more than 9 digits")
    n = int(digits or "0")
    if n == 0:
        return [f("digits/0")]
    if method == "pronounced_year":
        high, low = n // 100, n % 100
        if not low or not high % 10:
            return say_count(str(n), "pronounced")
        return say_count(str(high), "pronounced") + say_count(str(low), "pronounced")
    return (_group(n // 1_000_000, "pronounced", "digits/million")
            + _group((n // 1000) % 1000, "pronounced", "digits/thousand")
            + _group(n % 1000, method, None))


def _num(n: int, method: str = "pronounced") -> list[str]:
    return say_count(str(int(n)), method)


# ---------------------------------------------------------------------------- money
def say_money(text: str, method: str) -> list[str]:
    if len(text) > 15:
        raise ValueError(f"Parse Error: {text!r} is too long for currency")
    kept = "".join(ch for ch in text if is_digits(ch) or ch in ".-+")
    if not kept:
        raise ValueError(f"Parse Error: {text!r} is not an amount")
    out: list[str] = []
    dollars, dot, cents = kept.partition(".")
    cents = cents[:2]
    if dollars.startswith("+"):
        dollars = dollars[1:]
    elif dollars.startswith("-"):
        out.append(f("currency/negative"))
        dollars = dollars[1:]
    if not is_digits(dollars) and dollars:
        raise ValueError(f"Parse Error: {text!r} is not an amount")
    out += say_count(dollars, method, allow_empty=True) if dollars else [f("digits/0")]
    out.append(f("currency/dollar") if int(dollars or "0") == 1 else f("currency/dollars"))
    if dot and cents:
        if not is_digits(cents):
            raise ValueError(f"Parse Error: {text!r} has bad cents")
        out.append(f("currency/and"))
        out += say_count(cents, method, allow_empty=True)
        out.append(f("currency/cent") if int(cents) == 1 else f("currency/cents"))
    return out


# ---------------------------------------------------------------------------- time
def _measure(text: str) -> list[str]:
    hours = minutes = seconds = 0
    if ":" in text:
        parts = [_atoi(p) for p in text.split(":")]
        seconds = parts[-1]
        if len(parts) >= 3:
            hours, minutes = parts[-3], parts[-2]
        elif len(parts) == 2:
            minutes = parts[0]
    else:
        seconds = _atoi(text)
        if seconds <= 0:
            seconds = int(time.time())
        minutes, seconds = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
    out: list[str] = []
    for value, one, many in ((hours, "time/hour", "time/hours"),
                             (minutes, "time/minute", "time/minutes"),
                             (seconds, "time/second", "time/seconds")):
        if value:
            out += _num(value) + [f(one if value == 1 else many)]
        else:
            out += [f("digits/0"), f(many)]
    return out


def _atoi(text: str) -> int:
    """C atoi: leading digits (with a sign), 0 when there are none."""
    s = text.strip()
    sign = 1
    if s[:1] in "+-" and s:
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    n = ""
    for ch in s:
        if not is_digits(ch):
            break
        n += ch
    return sign * int(n) if n else 0


def _localtime(epoch: float, tz: str | None) -> dt.datetime:
    if tz:
        if is_digits(tz.lstrip("+-")):
            return dt.datetime.fromtimestamp(epoch, dt.timezone(dt.timedelta(seconds=int(tz))))
        try:
            from zoneinfo import ZoneInfo

            return dt.datetime.fromtimestamp(epoch, ZoneInfo(tz))
        except Exception:
            pass
    return dt.datetime.fromtimestamp(epoch)


def say_time(text: str, say_type: str, tz: str | None = None, now: float | None = None) -> list[str]:
    if say_type == "time_measurement":
        return _measure(text)
    now = time.time() if now is None else now
    t = _atoi(text)
    target = _localtime(t if t > 0 else now, tz)
    today = _localtime(now, tz)
    wday = (target.weekday() + 1) % 7  # C's tm_wday: Sunday is 0
    yday, yday_now = target.timetuple().tm_yday, today.timetuple().tm_yday
    say_date = say_clock = False
    say_year = say_month = say_day = say_dow = say_today = say_yesterday = False
    if say_type == "current_date_time":
        say_date = say_clock = True
    elif say_type == "current_date":
        say_date = True
    elif say_type == "current_time":
        say_clock = True
    elif say_type == "short_date_time":
        say_clock = True
        if target.year != today.year:
            say_date = True
        elif yday == yday_now:
            say_today = True
        elif yday == yday_now - 1:
            say_yesterday = True
        elif yday >= yday_now - 5:
            say_dow = True
        else:
            say_month = say_day = say_dow = True
    out: list[str] = []
    if say_today:
        out.append(f("time/today"))
    if say_yesterday:
        out.append(f("time/yesterday"))
    if say_dow:
        out.append(f(f"time/day-{wday}"))
    if say_date:
        # As mod_say_en: a full date is month, day, year (the weekday flag is set too
        # late to be said) and any time after it is introduced by "at".
        say_year = say_month = say_day = say_dow = True
        say_today = say_yesterday = False
    if say_month:
        out.append(f(f"time/mon-{target.month - 1}"))
    if say_day:
        out += _num(target.day, "counted")
    if say_year:
        out += _num(target.year, "pronounced_year")
    if say_clock:
        if say_date or say_today or say_yesterday or say_dow:
            out.append(f("time/at"))
        hour, pm = target.hour, False
        if hour > 12:
            hour, pm = hour - 12, True
        elif hour == 12:
            pm = True
        elif hour == 0:
            hour = 12
        out += _num(hour)
        if target.minute > 9:
            out += _num(target.minute)
        elif target.minute:
            out += [f("time/oh")] + _num(target.minute)
        else:
            out.append(f("time/oclock"))
        out.append(f("time/p-m" if pm else "time/a-m"))
    return out


# ---------------------------------------------------------------------------- the rest
def say_ip(text: str, method: str) -> list[str]:
    parts = text.strip().split(".", 3)
    if len(parts) != 4:
        raise ValueError(f"Parse Error: {text!r} is not an IP address")
    out: list[str] = []
    for i, p in enumerate(parts):
        if i:
            out.append(f("digits/dot"))
        out += _num(max(0, _atoi(p)), method if method != "counted" else "pronounced")
    return out


def say_spell(text: str, say_type: str) -> list[str]:
    folder = "phonetic-ascii" if say_type == "name_phonetic" else "ascii"
    out = []
    for ch in text:
        low = ch.lower()
        if is_digits(low) and low.isascii():
            out.append(f(f"digits/{low}"))
        elif low == "." and say_type in ("email_address", "url"):
            out.append(f("digits/dot"))
        elif ord(low) < 128:
            out.append(f(f"{folder}/{ord(low)}"))
    if not out:
        raise ValueError("Parse Error: nothing to spell")
    return out


def say_digit_string(text: str) -> list[str]:
    digits = [ch for ch in text if is_digits(ch) and ch.isascii()]
    if not digits:
        raise ValueError(f"Parse Error: {text!r} has no digits")
    return [f(f"digits/{d}") for d in digits]


def en_say(session: Any, text: str, say_type: str, say_method: str, gender: str = "") -> list[str]:
    """The say interface registered for ``en``."""
    stype = (say_type or "").strip().lower()
    method = (say_method or "").strip().lower()
    if method not in METHODS:
        raise ValueError(f"Unknown Say method [{say_method}]")
    text = text or ""
    if stype in GENERAL:
        return say_count(text, method)
    if stype == "currency":
        return say_money(text, method)
    if stype in TIMES:
        tz = session.get_variable("timezone") if session is not None else None
        return say_time(text, stype, tz)
    if stype == "ip_address":
        return say_ip(text, method)
    if stype in SPELLED or stype == "name_phonetic":
        return say_spell(text, stype)
    if stype in DIGIT_STRINGS:
        return say_digit_string(text)
    raise ValueError(f"Unknown Say type [{say_type}]")
