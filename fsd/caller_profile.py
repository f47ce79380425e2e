"""The caller profile: who called whom, and the pseudo-variables of behaviour reference §18.1."""

from __future__ import annotations

import time
from dataclasses import dataclass, fields, replace
from operator import attrgetter
from typing import Any

from fsd.events.event import add_rows

#: Profile field → Caller-* header suffix, in FreeSWITCH's event order.
_HEADER_ORDER = [
    ("direction", "Direction"),
    ("logical_direction", "Logical-Direction"),
    ("username", "Username"),
    ("dialplan", "Dialplan"),
    ("caller_id_name", "Caller-ID-Name"),
    ("caller_id_number", "Caller-ID-Number"),
    ("orig_caller_id_name", "Orig-Caller-ID-Name"),
    ("orig_caller_id_number", "Orig-Caller-ID-Number"),
    ("callee_id_name", "Callee-ID-Name"),
    ("callee_id_number", "Callee-ID-Number"),
    ("ani", "ANI"),
    ("aniii", "ANI-II"),
    ("network_addr", "Network-Addr"),
    ("rdnis", "RDNIS"),
    ("destination_number", "Destination-Number"),
    ("uuid", "Unique-ID"),
    ("source", "Source"),
    ("transfer_source", "Transfer-Source"),
    ("context", "Context"),
    ("chan_name", "Channel-Name"),
    ("profile_index", "Profile-Index"),
    ("profile_created_time", "Profile-Created-Time"),
    ("created_time", "Channel-Created-Time"),
    ("answered_time", "Channel-Answered-Time"),
    ("progress_time", "Channel-Progress-Time"),
    ("progress_media_time", "Channel-Progress-Media-Time"),
    ("hungup_time", "Channel-Hangup-Time"),
    ("transfer_time", "Channel-Transfer-Time"),
    ("resurrect_time", "Channel-Resurrect-Time"),
    ("bridged_time", "Channel-Bridged-Time"),
    ("last_hold_time", "Channel-Last-Hold"),
    ("hold_accum_time", "Channel-Hold-Accum"),
    ("screen_bit", "Screen-Bit"),
    ("privacy_hide_name", "Privacy-Hide-Name"),
    ("privacy_hide_number", "Privacy-Hide-Number"),
]
_ONLY_WHEN_SET = {"caller_id_name", "caller_id_number", "callee_id_name", "callee_id_number",
                  "orig_caller_id_name", "orig_caller_id_number"}
_TIMES = {"profile_created_time", "created_time", "answered_time", "progress_time",
          "progress_media_time", "hungup_time", "transfer_time", "resurrect_time",
          "bridged_time", "last_hold_time", "hold_accum_time"}


def now_us() -> int:
    return int(time.time() * 1_000_000)


@dataclass
class CallerProfile:
    """Fields as FreeSWITCH names them (``caller_id_number``…); times in microseconds."""

    username: str = ""
    dialplan: str = "XML"
    caller_id_name: str = ""
    caller_id_number: str = ""
    orig_caller_id_name: str = ""
    orig_caller_id_number: str = ""
    callee_id_name: str = ""
    callee_id_number: str = ""
    ani: str = ""
    aniii: str = ""
    network_addr: str = ""
    rdnis: str = ""
    destination_number: str = ""
    uuid: str = ""
    source: str = ""
    transfer_source: str = ""
    context: str = "default"
    chan_name: str = ""
    direction: str = "inbound"
    logical_direction: str = "inbound"
    profile_index: str = "1"
    caller_ton: str = "0"
    caller_numplan: str = "0"
    destination_number_ton: str = "0"
    destination_number_numplan: str = "0"
    ani_ton: str = "0"
    ani_numplan: str = "0"
    rdnis_ton: str = "0"
    rdnis_numplan: str = "0"
    screen_bit: str = "true"
    privacy_hide_name: str = "false"
    privacy_hide_number: str = "false"
    profile_created_time: int = 0
    created_time: int = 0
    answered_time: int = 0
    progress_time: int = 0
    progress_media_time: int = 0
    hungup_time: int = 0
    transfer_time: int = 0
    resurrect_time: int = 0
    bridged_time: int = 0
    last_hold_time: int = 0
    hold_accum_time: int = 0

    def __post_init__(self) -> None:
        if not self.profile_created_time:
            self.profile_created_time = now_us()
        if not self.created_time:
            self.created_time = self.profile_created_time

    _names = None  # set below: lower-case field names

    def get_field(self, name: str) -> str | None:
        """A field by its pseudo-variable name (case-insensitive), or None."""
        n = name.lower()
        if n == "chan_name" or n in _FIELD_NAMES:
            v = getattr(self, n)
            return str(v)
        return None

    def set_field(self, name: str, value: Any) -> bool:
        n = name.lower()
        if n not in _FIELD_NAMES:
            return False
        setattr(self, n, int(value) if n in _TIMES else str(value))
        return True

    def clone(self, **changes: Any) -> CallerProfile:
        return replace(self, **changes)

    def add_headers(self, event: Any, prefix: str = "Caller") -> None:
        """Add ``<prefix>-*`` headers in FreeSWITCH's order (set_header keeps them unique)."""
        add_rows(event, self.header_rows(prefix))

    def header_rows(self, prefix: str = "Caller") -> list[tuple[str, str]]:
        """The ``(name, value)`` rows :meth:`add_headers` adds, in order (every channel
        event carries one or two sets of them: the fields are read in one C-level pass)."""
        names = _ROW_NAMES.get(prefix)
        if names is None:
            names = [f"{prefix}-{suffix}" for _, suffix in _HEADER_ORDER]
            if len(_ROW_NAMES) < 64:
                _ROW_NAMES[prefix] = names
        raw = _ROW_VALUES(self)
        rows = list(zip(names, map(str, raw), strict=True))
        drop = [i for i in _ONLY_WHEN_SET_AT if not raw[i]]
        if not self.caller_id_number:
            drop += _ORIG_AT
        for i in sorted(set(drop), reverse=True):
            del rows[i]
        return rows


_FIELD_NAMES = {f.name for f in fields(CallerProfile)}
_ROW_VALUES = attrgetter(*(f for f, _ in _HEADER_ORDER))
_ONLY_WHEN_SET_AT = [i for i, (f, _) in enumerate(_HEADER_ORDER) if f in _ONLY_WHEN_SET]
_ORIG_AT = [i for i, (f, _) in enumerate(_HEADER_ORDER)
            if f in ("orig_caller_id_name", "orig_caller_id_number")]
_ROW_NAMES: dict[str, list[str]] = {}  # prefix -> header names
