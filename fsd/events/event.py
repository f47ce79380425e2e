"""The Event object: a type, an optional subclass, ordered headers and an optional body.

Header rules follow FreeSWITCH's switch_event.c (§5, §13 of the behaviour reference):
adding appends, an empty value deletes, ``ARRAY::a|:b`` becomes a multi-value header,
``name[i]`` sets one element, MESSAGE / CHANNEL_DATA / REQUEST_PARAMS keep names unique.

Headers are stored as a list of ``[name, value]`` where value is a ``str`` or, for a
multi-value header, a ``list[str]``.  Copies are copy-on-write: a copy shares the header
list with its original until either side changes it, so handing one event to many
read-only subscribers costs one small object each, not one deep copy each.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from itertools import compress, count
from operator import itemgetter

from fsd.log import ERR, log

from .identity import get_identity
from .names import CLONE, CUSTOM, EVENT_NAMES, UNIQUE_HEADER_TYPES, event_id
from .urlencode import url_decode

Value = str | list[str]

_first = itemgetter(0)
_fill_lock = threading.Lock()
#: the standard headers' names, lower-cased (add_headers leaves an add that could touch
#: one of them to add_header, which builds them first)
_STAMP_LOW = frozenset(n.lower() for n in (
    "Event-Name", "Core-UUID", "FreeSWITCH-Hostname", "FreeSWITCH-Switchname", "FreeSWITCH-IPv4",
    "FreeSWITCH-IPv6", "Event-Date-Local", "Event-Date-GMT", "Event-Date-Timestamp",
    "Event-Calling-File", "Event-Calling-Function", "Event-Calling-Line-Number",
    "Event-Sequence"))
_SPECIAL_LOW = _STAMP_LOW | {"_body"}
_STR_ONLY = frozenset({str})
_second = itemgetter(1)
_sequence = count(1)  # Event-Sequence: next() on itertools.count is atomic under the GIL

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# (second, local, gmt): both date headers only change once a second, so cache them.
_date_cache: tuple[int, str, str] = (-1, "", "")


def _dates(sec: int) -> tuple[str, str]:
    global _date_cache
    c = _date_cache
    if c[0] == sec:
        return c[1], c[2]
    lt = time.localtime(sec)
    local = (
        f"{lt.tm_year:04d}-{lt.tm_mon:02d}-{lt.tm_mday:02d} "
        f"{lt.tm_hour:02d}:{lt.tm_min:02d}:{lt.tm_sec:02d}"
    )
    g = time.gmtime(sec)
    # APR's rfc822 form, built by hand so the C locale is not needed.
    gmt = (
        f"{_DAYS[g.tm_wday]}, {g.tm_mday:02d} {_MONTHS[g.tm_mon - 1]} {g.tm_year} "
        f"{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d} GMT"
    )
    _date_cache = (sec, local, gmt)
    return local, gmt


def _atoi(text: str) -> int:
    """C atoi: optional blanks and sign, then digits; anything else ends it."""
    s = text.lstrip(" \t\n\r\f\v")
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    n = 0
    for ch in s:
        if "0" <= ch <= "9":
            n = n * 10 + (ord(ch) - 48)
        else:
            break
    return sign * n


def joined(value: Value) -> str:
    """The string form of a header value: ``ARRAY::a|:b`` for two or more elements."""
    if value.__class__ is str:
        return value  # type: ignore[return-value]
    if len(value) == 1:
        return value[0]
    return "ARRAY::" + "|:".join(value)


class _JSONObject(list):
    """Key/value pairs of a JSON object, in order, duplicates kept (cJSON keeps them)."""


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


_json_decoder = json.JSONDecoder(object_pairs_hook=_JSONObject, parse_constant=_reject_constant)


class Event:
    """One event.  See the module docstring for the header rules."""

    __slots__ = (
        "event_id",
        "subclass",
        "body",
        "unique_names",
        "priority",
        "subclass_forced",
        "user_data",
        "_hl",
        "_shared",
        "_pend",
    )

    def __init__(
        self,
        event_type: str | int,
        subclass: str | None = None,
        *,
        standard_headers: bool = True,
        calling_file: str = "",
        calling_func: str = "",
        calling_line: int = 0,
    ) -> None:
        if isinstance(event_type, int) and not isinstance(event_type, bool):
            if not 0 <= event_type < len(EVENT_NAMES):
                raise ValueError(f"unknown event id {event_type}")
            eid = event_type
        else:
            found = event_id(event_type) if isinstance(event_type, str) else None
            if found is None:
                raise ValueError(f"unknown event type {event_type!r}")
            eid = found
        if not subclass:
            subclass = None
        forced = False
        if subclass is not None and eid != CUSTOM:
            # FreeSWITCH logs a warning and makes it CUSTOM; the caller logs.
            eid = CUSTOM
            forced = True
        if eid == CLONE:
            # A CLONE is created blank: no standard headers, and its id stays 0 (CUSTOM).
            eid = CUSTOM
            standard_headers = False
        self.event_id = eid
        self.subclass = subclass
        self.subclass_forced = forced
        self.body: str | None = None
        self.unique_names = eid in UNIQUE_HEADER_TYPES
        self.priority: str | None = None
        #: Free for the owner (e.g. the Lua layer's "mine" flag); copies carry it along.
        self.user_data: object = None
        self._shared = False
        self._hl = [["Event-Subclass", subclass]] if subclass is not None else []
        self._pend = None
        if standard_headers:
            if not calling_file:
                frame = sys._getframe(1)
                calling_file = frame.f_code.co_filename
                calling_func = calling_func or frame.f_code.co_name
                calling_line = calling_line or frame.f_lineno
            # What the standard headers need is taken now (time, sequence, identity); the
            # thirteen rows are only built when somebody reads the headers (_fill), which
            # for a fired event is the dispatch thread, not the script that fired it.
            self._pend = (EVENT_NAMES[eid], get_identity(), time.time_ns() // 1000,
                          next(_sequence), calling_file, calling_func, calling_line)

    # ----------------------------------------------------------------- construction

    @property
    def _h(self) -> list[list]:
        """The header list, with the standard headers in it (built on first read)."""
        if self._pend is not None:
            self._fill()
        return self._hl

    @_h.setter
    def _h(self, value: list[list]) -> None:
        if self._pend is not None:
            self._fill()
        self._hl = value

    def _fill(self) -> None:
        """Put the standard headers (§13.2), in their fixed order, before the others.

        Under a lock: two threads reading one fresh event must not both insert them."""
        with _fill_lock:
            pend = self._pend
            if pend is None:
                return
            self._pend = None
            self._insert_stamp(pend)

    def _insert_stamp(self, pend: tuple) -> None:
        ename, ident, usec, seq, file, func, line = pend
        local, gmt = _dates(usec // 1_000_000)
        rows = (
            ("Event-Name", ename),
            ("Core-UUID", ident.core_uuid),
            ("FreeSWITCH-Hostname", ident.hostname),
            ("FreeSWITCH-Switchname", ident.switchname),
            ("FreeSWITCH-IPv4", ident.ipv4),
            ("FreeSWITCH-IPv6", ident.ipv6),
            ("Event-Date-Local", local),
            ("Event-Date-GMT", gmt),
            ("Event-Date-Timestamp", str(usec)),
            ("Event-Calling-File", os.path.basename(file)),
            ("Event-Calling-Function", func),
            ("Event-Calling-Line-Number", str(line)),
            ("Event-Sequence", str(seq)),
        )
        # FreeSWITCH's add with an empty value adds nothing
        h = [[name, value] for name, value in rows if value]
        if self._shared:
            # the list is shared with a twin that fills its own: build a new one
            self._hl = h + self._hl
        else:
            self._hl[0:0] = h

    @classmethod
    def _blank(cls, eid: int = CUSTOM, unique: bool = False) -> Event:
        e = cls.__new__(cls)
        e.event_id = eid
        e.subclass = None
        e.subclass_forced = False
        e.body = None
        e.unique_names = unique
        e.priority = None
        e.user_data = None
        e._hl = []
        e._shared = False
        e._pend = None
        return e

    def _share(self, headers: list[list] | None = None) -> Event:
        """A copy-on-write twin using ``headers`` (default: ours).  O(1)."""
        e = Event.__new__(Event)
        e.event_id = self.event_id
        e.subclass = self.subclass
        e.subclass_forced = self.subclass_forced
        e.body = self.body
        e.unique_names = self.unique_names
        e.priority = self.priority
        e.user_data = self.user_data
        if headers is None:
            # the twin shares the pending stamp too: each side fills its own list
            e._hl = self._hl
            e._pend = self._pend
        else:
            e._hl = headers
            e._pend = None
        e._shared = True
        self._shared = True
        return e

    @classmethod
    def from_json(cls, text: str) -> Event | None:
        """Build an event from a JSON object (§5): string members are headers, arrays of
        strings multi-value headers, ``_body`` the body, ``Event-Name`` the type.

        No standard headers are added.  Invalid JSON gives None.  Like cJSON, text after
        the first complete value is ignored, and a valid non-object gives an empty event."""
        if not isinstance(text, str):
            return None
        try:
            obj, _ = _json_decoder.raw_decode(text.lstrip(" \t\r\n"))
        except (ValueError, RecursionError):
            return None
        e = cls._blank()
        if not isinstance(obj, _JSONObject):
            return e
        for name, value in obj:
            if isinstance(value, str):
                low = name.lower()
                if low == "_body":
                    e.body = value
                    continue
                if low == "event-name":
                    e._del("event-name")
                    eid = event_id(value)
                    if eid is not None:
                        e.event_id = eid
                e._base_add(name, value, False)
            elif isinstance(value, list) and not isinstance(value, _JSONObject):
                for item in value:
                    if isinstance(item, str):
                        e._base_add(name, item, True)
        return e

    @classmethod
    def from_plain(cls, text: str) -> Event | None:
        """Parse the plain form (``Name: url-encoded value`` lines, a blank line, then
        ``Content-Length`` bytes of body) back into an event.  None if there is no header.

        Headers are taken as they are, without the add rules; ``ARRAY::`` values become
        multi-value headers and ``_undef_`` an empty value."""
        if not isinstance(text, str):
            return None
        head, sep, rest = text.partition("\n\n")
        e = cls._blank()
        h = e._h
        length = None
        for line in head.split("\n"):
            line = line.rstrip("\r")
            if not line:
                continue
            name, colon, value = line.partition(":")
            if not colon or not name:
                continue
            value = value.lstrip(" ")
            if name == "Content-Length":
                length = _atoi(value)
                continue
            value = "" if value == "_undef_" else url_decode(value)
            if value.startswith("ARRAY::"):
                h.append([name, value[7:].split("|:")])
            else:
                h.append([name, value])
            if name == "Event-Name":
                eid = event_id(value)
                if eid is not None:
                    e.event_id = eid
                    e.unique_names = eid in UNIQUE_HEADER_TYPES
            elif name == "Event-Subclass" and e.subclass is None and value:
                e.subclass = value
        if not h:
            return None
        if length is not None and length > 0 and sep:
            raw = rest.encode("utf-8", "surrogateescape")
            e.body = raw[:length].decode("utf-8", "replace")
        return e

    # ------------------------------------------------------------------ properties

    @property
    def name(self) -> str:
        """The type name (``CUSTOM``, ``CHANNEL_ANSWER``...), not the subclass."""
        return EVENT_NAMES[self.event_id]

    @property
    def headers(self) -> list[list]:
        """The ordered ``[name, value]`` list.  Yours to change (it is unshared first)."""
        return self._mut()

    @headers.setter
    def headers(self, value: list[list]) -> None:
        self._h = value
        self._shared = False

    # -------------------------------------------------------------- internal helpers

    def _mut(self) -> list[list]:
        """The header list, made private to this event first if it is shared."""
        if self._shared:
            self._h = [[n, v if v.__class__ is str else list(v)] for n, v in self._h]
            self._shared = False
        return self._h

    def _find(self, name: str) -> list | None:
        low = name.lower()
        for hdr in self._h:
            n = hdr[0]
            if n == name or n.lower() == low:
                return hdr
        return None

    def _del(self, name: str) -> bool:
        low = name.lower()
        h = self._h
        # the common case is "not there" (an empty add on a fresh event): scan in C
        if low not in map(str.lower, map(_first, h)):
            return False
        h = self._mut()
        h[:] = [hdr for hdr in h if hdr[0].lower() != low]
        return True

    def _base_add(self, name: str, data: str, push: bool) -> None:
        """switch_event_base_add_header for the bottom (push=False) and push stacks."""
        if name == "_body":
            self.body = data
        if (self._pend is not None and not push and data and not self._shared
                and not self.unique_names and "[" not in name and not data.startswith("ARRAY::")):
            # a plain append goes after the standard headers whenever they are built
            self._hl.append([name, data])
            return
        indexed = False
        index = 0
        bracket = name.find("[")
        if bracket >= 0:
            indexed = True
            index = _atoi(name[bracket + 1 :])
            name = name[:bracket]
        h = self._mut()
        if indexed or push:
            hdr = self._find(name)
            fresh = False
            if hdr is None and indexed:
                hdr = [name, []]
                fresh = True
            if hdr is not None:
                if indexed:
                    if 0 <= index <= 4000:
                        arr = hdr[1]
                        if arr.__class__ is str:
                            arr = []  # a plain value is dropped, as FreeSWITCH does
                        if index < len(arr):
                            arr[index] = data
                        else:
                            arr.extend([""] * (index - len(arr)))
                            arr.append(data)
                        hdr[1] = arr
                        if fresh:
                            h.append(hdr)
                    return
                v = hdr[1]
                if v.__class__ is str:
                    hdr[1] = [v, data]
                else:
                    v.append(data)
                return
        if not data:
            self._del(name)
            return
        if self.unique_names:
            self._del(name)
        if data.startswith("ARRAY::"):
            if len(data) >= 8:
                for part in data[7:].split("|:"):
                    self._base_add(name, part, True)
            return
        self._h.append([name, [data] if push else data])

    # ------------------------------------------------------------------ public API

    def add_header(self, name: str, value: object) -> bool:
        """Lua ``addHeader`` (§5).  None → False; ``""`` deletes every header of that name."""
        if value is None or not name:
            return False
        if value.__class__ is not str:
            value = str(value)
        self._base_add(name, value, False)  # type: ignore[arg-type]
        return True

    def add_headers(self, rows: Iterable[tuple[str, object]]) -> None:
        """:meth:`add_header` for each ``(name, value)`` in order, with the same result.

        A channel event gets ~100 headers; row by row that is most of the cost of a call's
        events (issue 13), and each empty value (which deletes that name) scanned the event.
        On a fresh event whose rows are all plain (``str`` values, no ``[i]`` names, no
        ``ARRAY::`` values, no ``_body``, no standard header's name) and whose names are
        all different (any case) and new to the event, they are checked and appended in a
        few C-level passes (an empty value then has nothing to delete); the standard
        headers stay unbuilt.  Anything else goes row by row (:meth:`_add_rows`)."""
        rows = rows if rows.__class__ is list else list(rows)
        if self._pend is None or self._shared or self.unique_names or not rows:
            self._add_rows(rows)
            return
        names = list(map(_first, rows))
        values = list(map(_second, rows))
        lows = list(map(str.lower, names))
        if (not _STR_ONLY.issuperset(map(type, values)) or not _STR_ONLY.issuperset(map(type, names))
                or "" in names or "[" in "".join(names) or not _SPECIAL_LOW.isdisjoint(lows)
                or "\0ARRAY::" in "\0" + "\0".join(values)):
            self._add_rows(rows)
            return
        hl = self._hl
        lowset = set(lows)
        if len(lowset) != len(lows) or (hl and not lowset.isdisjoint(map(str.lower, map(_first, hl)))):
            self._add_rows(rows)  # a name repeats: an empty value may delete an earlier row
            return
        # every name is new to the event: an empty value has nothing to delete
        hl.extend(map(list, compress(rows, values)))

    def _add_rows(self, rows: Iterable[tuple[str, object]]) -> None:
        """add_headers row by row, keeping names in a set on a fresh event."""
        it = iter(rows)
        if self._pend is not None and not self._shared:
            hl = self._hl
            unique = self.unique_names
            present = {h[0].lower() for h in hl}
            for name, value in it:
                if value is None or not name:
                    continue
                if value.__class__ is not str:
                    value = str(value)
                low = name.lower()
                if (low in _STAMP_LOW or "[" in name or name == "_body"
                        or value.startswith("ARRAY::")):  # type: ignore[union-attr]
                    self.add_header(name, value)
                    break
                if not value or unique:
                    if low in present:
                        hl[:] = [h for h in hl if h[0].lower() != low]
                        present.discard(low)
                    if not value:
                        continue
                hl.append([name, value])
                present.add(low)
            else:
                return
        for name, value in it:
            self.add_header(name, value)

    def push_header(self, name: str, value: str) -> bool:
        """Add ``value`` as one more element of the multi-value header ``name``."""
        if value is None or not name:
            return False
        self._base_add(name, str(value), True)
        return True

    def set_header(self, name: str, value: object) -> None:
        """Replace the first header called ``name`` (any case) or append it; None deletes.

        Core code uses this whatever the event type; no ARRAY:: or ``[i]`` parsing."""
        if value is None:
            self._del(name)
            return
        if value.__class__ is not str and value.__class__ is not list:
            value = str(value)
        self._mut()
        hdr = self._find(name)
        if hdr is None:
            self._h.append([name, value])
        else:
            hdr[1] = value

    def get_header(self, name: str, default: str | None = None) -> str | None:
        """First header called ``name`` (any case); arrays in their ``ARRAY::`` form.

        ``_body`` gives the body when no such header exists."""
        if not name:
            log(ERR, "getHeader: no header name given")
            return default
        hdr = self._find(name)
        if hdr is not None:
            return joined(hdr[1])
        if name == "_body" and self.body is not None:
            return self.body
        return default

    def get_header_array(self, name: str) -> list[str] | None:
        """The elements of header ``name`` as a list (one element for a plain value)."""
        hdr = self._find(name) if name else None
        if hdr is None:
            return None
        v = hdr[1]
        return [v] if v.__class__ is str else list(v)

    def del_header(self, name: str) -> bool:
        """Remove every header called ``name`` (any case); True if one was removed."""
        if not name:
            return False
        return self._del(name)

    def add_body(self, text: str | None) -> bool:
        """Set the body (replacing any previous one; ``""`` is an empty body)."""
        if text is None:
            return False
        self.body = text if text.__class__ is str else str(text)
        return True

    def get_body(self) -> str | None:
        return self.body

    def get_type(self) -> str:
        return EVENT_NAMES[self.event_id]

    def set_priority(self, priority: str = "NORMAL") -> bool:
        """Lua ``setPriority()``: header ``priority`` added at the top."""
        self.priority = priority
        if self.unique_names:
            self._del("priority")
        self._mut().insert(0, ["priority", priority])
        return True

    def serialize(self, fmt: str | None = "plain") -> str:
        """``"json"`` / ``"xml"`` (any case) or, for anything else, the plain form."""
        from .serialize import to_json, to_plain, to_xml

        f = fmt.lower() if isinstance(fmt, str) else ""
        if f == "json":
            return to_json(self)
        if f == "xml":
            return to_xml(self)
        return to_plain(self)

    def copy(self) -> Event:
        """switch_event_dup: same type, subclass, headers (Event-Sequence included) and
        body, with ``Event-Subclass`` moved to the front when there is a subclass."""
        h = self._h
        sub = self.subclass
        if sub is not None:
            rest = [x for x in h if x[0] != "Event-Subclass"]
            rest.insert(0, ["Event-Subclass", sub])
            h = rest
        return self._share(h)

    def merge(self, other: Event) -> bool:
        """Append all of ``other``'s headers through the add rules."""
        for name, value in list(other._h):
            if value.__class__ is str:
                self._base_add(name, value, False)
            else:
                for item in list(value):
                    self._base_add(name, item, True)
        return True

    def headers_dict(self) -> dict[str, str]:
        """``{name: value}``; the first header of a name wins, arrays joined."""
        out: dict[str, str] = {}
        for name, value in self._h:
            if name not in out:
                out[name] = joined(value)
        return out

    def __iter__(self) -> Iterator[tuple[str, Value]]:
        """(name, value) pairs in order; treat list values as read-only."""
        yield from ((name, value) for name, value in self._h)

    def __repr__(self) -> str:
        sub = f" {self.subclass}" if self.subclass else ""
        return f"<Event {self.name}{sub} headers={len(self._h)} body={self.body is not None}>"


def add_rows(target: object, rows: list[tuple[str, object]]) -> None:
    """``target.add_headers(rows)``, or row by row for an object that only has
    ``add_header`` (the XML dialplan's lookup parameters, a test's recorder)."""
    bulk = getattr(target, "add_headers", None)
    if bulk is not None:
        bulk(rows)
        return
    for name, value in rows:
        target.add_header(name, value)  # type: ignore[attr-defined]
