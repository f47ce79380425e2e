"""Time-of-day conditions (switch_xml_std_datetime_check and the comparators it uses).

``datetime_check(attrs, ...)`` returns ``-1`` when the element has no time attribute,
``1`` when every present one matches and ``0`` otherwise.  Attributes, all optional:

=============== ======================================================== =================
attribute       value tested                                             form
=============== ======================================================== =================
year            4-digit year                                             numbers/ranges
yday            day of year, 1-366                                       numbers/ranges
mon             month, 1-12                                              numbers/ranges
mday            day of month, 1-31                                       numbers/ranges
week            week of year, ``yday0 // 7 + 1``                         numbers/ranges
mweek           week of month, 1-6 (weeks start on Sunday)               numbers/ranges
wday            day of week, 1 = Sunday … 7 = Saturday                   days (sun, mon-fri)
hour            0-23                                                     numbers/ranges
minute          0-59                                                     numbers/ranges
minute-of-day   ``hour*60 + minute + 1`` (1-1440); ``minday`` is an alias numbers/ranges
time-of-day     ``hh:mm[:ss]-hh:mm[:ss]`` (end inclusive, may wrap midnight) comma list
date-time       ``yyyy-mm-dd hh:mm[:ss]~yyyy-mm-dd hh:mm[:ss]`` (end exclusive)
tz-offset       the evaluation zone's UTC offset in hours must equal this
dst             ``true``/``false``: daylight saving time in effect (local zone)
=============== ======================================================== =================

"numbers/ranges" is a comma list of numbers and ``a-b`` ranges; a reversed range wraps
(``hour="18-8"`` is the night).  The zone is the channel's ``tod_tz_offset`` (hours) if it
is a number, else its ``timezone`` (an IANA name), else fsd's local zone; an element may
name its own zone with ``tz="Europe/Paris"`` (an fsd extension).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone, tzinfo

from fsd.truth import is_true

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # pragma: no cover - Python 3.11 always has it
    ZoneInfo = None  # type: ignore[assignment,misc]
    ZoneInfoNotFoundError = Exception  # type: ignore[assignment,misc]

TIME_ATTRS = ("date-time", "year", "yday", "mon", "mday", "week", "mweek", "wday", "hour",
              "minute", "minute-of-day", "minday", "time-of-day", "tz-offset", "dst")

_DOW = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_LEADING_INT = re.compile(r"\s*([+-]?\d+)")

Logger = Callable[[str], None]


# -- C-library style number parsing ---------------------------------------------------
def _strtol(text: str, pos: int) -> tuple[int, int]:
    """``strtol``: the integer at ``pos`` (0 if none) and the index after it."""
    m = _LEADING_INT.match(text, pos)
    if not m:
        return 0, pos
    return int(m.group(1)), m.end()


def atol(text: str) -> int:
    return _strtol(text, 0)[0]


def _in_range(val: int, start: int, end: int) -> bool:
    # A reversed range wraps around: 18-8 is "18 or later, or 8 or earlier".
    return start <= val <= end if start <= end else (val >= start or val <= end)


# -- comparators -----------------------------------------------------------------------
def number_cmp(exp: str, val: int) -> bool:
    """Comma list of numbers and ranges (switch_number_cmp)."""
    pos = 0
    while True:
        a, pos = _strtol(exp, pos)
        if pos < len(exp) and exp[pos] == "-":
            b, pos = _strtol(exp, pos + 1)
            if _in_range(val, a, b):
                return True
        elif a == val:
            return True
        if pos >= len(exp) or exp[pos] != ",":
            return False
        pos += 1


_EOF, _ERR, _HYPHEN, _COMMA = -1, -2, -3, -4


def _dow_token(exp: str, pos: int) -> tuple[int, int]:
    if pos >= len(exp):
        return _EOF, pos
    c = exp[pos]
    if c == "-":
        return _HYPHEN, pos + 1
    if c == ",":
        return _COMMA, pos + 1
    if "1" <= c <= "7":
        return int(c), pos + 1
    word = exp[pos:pos + 3].lower()
    if word in _DOW:
        return _DOW.index(word) + 1, pos + 3
    return _ERR, pos


def dow_cmp(exp: str, val: int, on_error: Logger | None = None) -> bool:
    """Days of week: ``1``-``7`` (1 = Sunday) or ``sun``…``sat``, lists and ranges
    (switch_dow_cmp).  A character it does not understand ends the parse."""
    prev = range_start = _EOF
    pos = 0
    while True:
        cur, pos = _dow_token(exp, pos)
        if cur == _EOF:
            return False
        if cur == _COMMA:
            cur = _EOF
        elif cur == _HYPHEN:
            range_start = prev
        elif cur == _ERR:
            if on_error:
                on_error(f"Parse error for [{exp}] at position {pos} ({exp[pos:pos + 6]})")
            return False
        elif range_start not in (_EOF, _HYPHEN, _COMMA):
            if _in_range(val, range_start, cur):
                return True
            range_start = _EOF
        elif val == cur:
            return True
        prev = cur


def tod_cmp(exp: str, val: int) -> bool:
    """Seconds since midnight against ``hh:mm[:ss]-hh:mm[:ss]`` items (switch_tod_cmp)."""
    for item in exp.split(","):
        minh, sep, rest = item.partition(":")
        if not sep:
            continue
        minpart, sep, maxpart = rest.partition("-")
        if not sep:
            continue
        maxh, sep, maxrest = maxpart.partition(":")
        if not sep:
            continue
        minm, _, mins = minpart.partition(":")
        maxm, _, maxs = maxrest.partition(":")
        start = atol(minh) * 3600 + atol(minm) * 60 + atol(mins or "0")
        end = atol(maxh) * 3600 + atol(maxm) * 60 + atol(maxs or "0")
        if _in_range(val, start, end):
            return True
    return False


def _split_stamp(text: str) -> datetime | None:
    """``yyyy-mm-dd hh:mm[:ss]`` as switch_split_date/switch_split_time read it."""
    date, sep, tod = text.partition(" ")
    if not sep:
        return None
    year, month, day = 1970, 1, 1
    parts = date.split("-", 2)
    if len(parts) == 3:
        year, month, day = atol(parts[0]), atol(parts[1]), atol(parts[2])
    hour = minute = sec = 0
    tparts = tod.split(":", 2)
    if len(tparts) >= 2:
        hour, minute = atol(tparts[0]), atol(tparts[1])
        sec = atol(tparts[2]) if len(tparts) == 3 else 0
    try:
        # mktime normalises out-of-range parts (month 13, day 32); so does this.
        y, m = year + (month - 1) // 12, (month - 1) % 12 + 1
        return datetime(y, m, 1) + timedelta(days=day - 1, hours=hour, minutes=minute, seconds=sec)
    except (ValueError, OverflowError):
        return None


def fulldate_cmp(exp: str, wall: datetime) -> bool:
    """``start~end`` stamps; true when ``start <= wall < end`` (switch_fulldate_cmp)."""
    start_s, sep, end_s = exp.partition("~")
    if not sep:
        return False
    start, end = _split_stamp(start_s), _split_stamp(end_s)
    if start is None or end is None:
        return False
    wall = wall.replace(tzinfo=None, microsecond=0)
    return start <= wall < end


# -- the clock -------------------------------------------------------------------------
def _zone(offset_hours: int | None, tzname: str | None, log: Logger | None) -> tzinfo | None:
    if offset_hours is not None:
        return timezone(timedelta(hours=offset_hours))
    if tzname and ZoneInfo is not None:
        try:
            return ZoneInfo(tzname)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            if log:
                log(f"Unknown timezone [{tzname}], using local time")
    return None


def wall_clock(now: datetime | float | None, zone: tzinfo | None) -> datetime:
    """The time to test, as an aware datetime in ``zone`` (local zone when ``None``).

    ``now`` may be a POSIX timestamp, an aware datetime (converted), or a naive datetime
    taken as the wall-clock time already in that zone (handy in tests)."""
    if now is None:
        now = time.time()
    if isinstance(now, datetime):
        if now.tzinfo is None:
            return now.replace(tzinfo=zone) if zone else now.astimezone()
        return now.astimezone(zone) if zone else now.astimezone()
    return datetime.fromtimestamp(float(now), zone) if zone else datetime.fromtimestamp(float(now)).astimezone()


def datetime_check(attrs: Mapping[str, str], now: datetime | float | None = None, *,
                   offset_hours: int | None = None, tzname: str | None = None,
                   log: Logger | None = None, debug: Logger | None = None) -> int:
    """-1 (no time attribute), 1 (all present attributes match) or 0."""
    if not any(a in attrs for a in TIME_ATTRS):
        return -1
    own_tz = attrs.get("tz")
    if own_tz:  # fsd extension: the element names its own zone
        zone = _zone(None, own_tz, log)
        offset_hours = None
    else:
        zone = _zone(offset_hours, tzname, log)
    tm = wall_clock(now, zone)
    if offset_hours is not None:
        eoffset = offset_hours
    else:
        off = tm.utcoffset() or timedelta(0)
        eoffset = int(off.total_seconds() / 3600)  # C division truncates toward zero

    def check(name: str, ok: bool, shown: object) -> bool:
        if debug:
            debug(f"XML DateTime Check: {name}[{shown}] =~ {attrs_get(name)} ({'PASS' if ok else 'FAIL'})")
        return ok

    def attrs_get(name: str) -> str:
        return attrs.get(name, "")

    tt = tm.timetuple()
    yday0 = tt.tm_yday - 1
    wday0 = (tm.weekday() + 1) % 7  # 0 = Sunday, like struct tm

    if "tz-offset" in attrs:
        raw = attrs["tz-offset"].strip()
        want = int(raw) if re.fullmatch(r"[+-]?\d+", raw) else eoffset
        if not check("tz-offset", want == eoffset, eoffset):
            return 0
    if "dst" in attrs and attrs["dst"] != "":
        local_dst = time.localtime(tm.timestamp()).tm_isdst > 0
        if not check("dst", local_dst == is_true(attrs["dst"]), local_dst):
            return 0
    if "date-time" in attrs and not check("date-time", fulldate_cmp(attrs["date-time"], tm),
                                          tm.strftime("%Y-%m-%d %H:%M:%S")):
        return 0
    numeric: list[tuple[str, int]] = [
        ("year", tm.year),
        ("yday", yday0 + 1),
        ("mon", tm.month),
        ("mday", tm.day),
        ("week", yday0 // 7 + 1),
    ]
    for name, value in numeric:
        if name in attrs and not check(name, number_cmp(attrs[name], value), value):
            return 0
    if "mweek" in attrs:
        firstdow = (7 - (tm.day - (wday0 + 1)) % 7) % 7
        value = math.ceil((tm.day + firstdow) / 7.0)
        if not check("mweek", number_cmp(attrs["mweek"], value), value):
            return 0
    if "wday" in attrs and not check("wday", dow_cmp(attrs["wday"], wday0 + 1, log), _DOW[wday0]):
        return 0
    for name, value in (("hour", tm.hour), ("minute", tm.minute)):
        if name in attrs and not check(name, number_cmp(attrs[name], value), value):
            return 0
    for name in ("minute-of-day", "minday"):
        if name in attrs:
            value = tm.hour * 60 + tm.minute + 1
            if not check(name, number_cmp(attrs[name], value), value):
                return 0
    if "time-of-day" in attrs:
        value = tm.hour * 3600 + tm.minute * 60 + tm.second
        if not check("time-of-day", tod_cmp(attrs["time-of-day"], value),
                     f"{tm.hour}:{tm.minute}:{tm.second}"):
            return 0
    return 1
