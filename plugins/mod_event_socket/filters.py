"""Which events a listener gets: its subscriptions (event / nixevent / myevents) and its
header filters (§14.3 ``filter``).  Evaluated in the event-dispatch thread, so everything
here is plain data guarded by the GIL and cheap to read."""

from __future__ import annotations

import regex

from fsd.events.names import ALL, CUSTOM, EVENT_NAMES
from fsd.log import WARNING, log

#: The channel events ``myevents`` subscribes to (§14.3).
MYEVENTS_NAMES = (
    "CHANNEL_ANSWER", "CHANNEL_APPLICATION", "CHANNEL_BRIDGE", "CHANNEL_CREATE", "CHANNEL_DATA",
    "CHANNEL_DESTROY", "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HANGUP",
    "CHANNEL_HANGUP_COMPLETE", "CHANNEL_ORIGINATE", "CHANNEL_UUID", "CHANNEL_OUTGOING",
    "CHANNEL_PARK", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_STATE",
    "CHANNEL_UNBRIDGE", "CHANNEL_UNPARK", "DETECTED_SPEECH", "DTMF", "TALK", "NOTALK",
)


class Subscriptions:
    """FreeSWITCH's per-listener ``event_list`` (one flag per type, ALL included) and the
    set of CUSTOM subclasses."""

    def __init__(self) -> None:
        self.types = bytearray(len(EVENT_NAMES))
        self.subclasses: set[str] = set()

    def clear(self) -> None:
        self.types = bytearray(len(EVENT_NAMES))
        self.subclasses = set()

    def add(self, eid: int) -> None:
        types = bytearray(self.types)
        if eid == ALL:
            for i in range(len(types)):
                types[i] = 1
        types[eid] = 1
        self.types = types  # replaced whole: the dispatch thread never sees half a change

    def nix(self, eid: int) -> None:
        types = bytearray(self.types)
        if eid == ALL:
            types = bytearray(len(types))
        else:
            if types[ALL]:
                # "everything but this one"
                types[ALL] = 0
                for i in range(len(types)):
                    if i != ALL:
                        types[i] = 1
            types[eid] = 0
        self.types = types

    def wants(self, eid: int, subclass: str | None) -> bool:
        types = self.types
        if types[ALL]:
            return True
        if types[eid]:
            return eid != CUSTOM or subclass is None or subclass in self.subclasses
        return False


class _Rule:
    __slots__ = ("name", "raw", "positive", "compare", "pattern")

    def __init__(self, name: str, raw: str) -> None:
        self.name = name
        self.raw = raw
        comp = raw
        positive = True
        # leading '+', '-' and blanks select the sense; the last sign wins
        i = 0
        while i < len(comp) and comp[i] in "+- ":
            if comp[i] == "+":
                positive = True
            elif comp[i] == "-":
                positive = False
            i += 1
        comp = comp[i:]
        self.positive = positive
        self.compare = comp
        self.pattern = None
        # Regex detection looks at the raw value: "-/re/" is compared literally.
        if raw.startswith("/"):
            self.pattern = _compile(comp)


def _compile(expr: str):
    """``/re/flags`` (flags i and s) or a bare expression, as switch_regex_perform takes it."""
    flags = 0
    if expr.startswith("/"):
        body = expr[1:]
        cut = body.rfind("/")
        if cut >= 0:
            opts = body[cut + 1:]
            body = body[:cut]
            if "i" in opts:
                flags |= regex.IGNORECASE
            if "s" in opts:
                flags |= regex.DOTALL
        expr = body
    try:
        return regex.compile(expr, flags)
    except regex.error:
        return None


#: Longest a filter's regular expression may take on one header (seconds).  Filters run on
#: the shared dispatch thread, so a catastrophic pattern must not delay other listeners.
REGEX_TIMEOUT = 0.02


class Filters:
    """The ordered list of header filters of one listener."""

    def __init__(self, owner: str = "") -> None:
        self.rules: tuple[_Rule, ...] = ()
        self.owner = owner  # for the log line when a rule is dropped
        self.timeouts = 0

    def add(self, name: str, value: str) -> None:
        self.rules = (*self.rules, _Rule(name, value))

    def delete(self, name: str, value: str | None) -> None:
        if name.lower() == "all":
            self.rules = ()
            return
        low = name.lower()
        self.rules = tuple(r for r in self.rules
                           if not (r.name.lower() == low and (value is None or r.raw == value)))

    def passes(self, event) -> bool:
        """True when the event may be sent (also when there is no filter at all)."""
        rules = self.rules
        if not rules:
            return True
        send = False
        for r in rules:
            hval = event.get_header(r.name)
            if hval is None:
                continue
            if send and r.positive:
                continue
            if not r.compare:
                continue
            if r.raw.startswith("/"):
                cmp = r.pattern is not None and self._search(r, hval)
            else:
                cmp = hval.lower() == r.compare.lower()
            if cmp:
                if r.positive:
                    send = True
                else:
                    return False
        return send

    def _search(self, rule: _Rule, value: str) -> bool:
        """The rule's regex on one header, bounded by REGEX_TIMEOUT.  A rule that runs out
        of time is disabled — it never matches again, as a pattern that fails to compile
        never does — since it would cost every event that much again; that is logged with
        the listener it belongs to."""
        try:
            return rule.pattern.search(value, timeout=REGEX_TIMEOUT) is not None
        except TimeoutError:
            self.timeouts += 1
            rule.pattern = None
            log(WARNING, f"event socket {self.owner}: filter {rule.name} {rule.raw!r} took "
                f"longer than {REGEX_TIMEOUT * 1000:.0f} ms on one event; it matches nothing now")
            return False
