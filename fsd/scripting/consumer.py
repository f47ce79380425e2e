"""``EventConsumer`` (behaviour reference §6), plus fsd's header filters, for any language.

fsd extension: ``consumer:filter(header, value)`` keeps only events whose ``header``
equals ``value`` (a value written ``/regex/`` is a regular expression); several filters
are alternatives, as ESL's ``filter`` command.  ``consumer:filter_delete(header [, value])``
removes filters.  Filtering runs when the event is queued, so a filtered-out event never
takes a queue slot.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import regex

from fsd.log import ERR, log
from fsd.scripting.event import ScriptEvent

_SLICE = 0.1  # blocking pops wake this often to honour a kill


class ScriptConsumer:
    #: what pop() returns (an adapter may hand out its own Event subclass)
    event_class: Any = ScriptEvent

    def __init__(self, ctx: Any, queue_len: int) -> None:
        self.ctx = ctx
        self.sub = ctx.host.events.subscribe(queue_len=max(1, queue_len), name=f"{ctx.language}-consumer",
                                             duplicates=True)
        self.ready = True
        self.filters: list[tuple[str, str, Any]] = []
        self._flock = threading.Lock()
        self._dropped_seen = 0
        ctx.own(self)

    def _match(self, ev: Any) -> bool:
        filters = self.filters
        if not filters:
            return True
        for name, value, rx in filters:
            have = ev.get_header(name)
            if have is None:
                continue
            if rx is not None:
                if rx.search(have):
                    return True
            elif have == value:
                return True
        return False

    def add_filter(self, name: str, value: str) -> None:
        rx = None
        if len(value) >= 2 and value.startswith("/") and value.endswith("/"):
            rx = regex.compile(value[1:-1])
        with self._flock:
            self.filters = [*self.filters, (name, value, rx)]
            self.sub.filter = self._match

    def delete_filter(self, name: str, value: str | None) -> bool:
        with self._flock:
            keep = [f for f in self.filters
                    if not (f[0].lower() == name.lower() and (value is None or f[1] == value))]
            changed = len(keep) != len(self.filters)
            self.filters = keep
            self.sub.filter = self._match if keep else None
        return changed

    def close(self) -> None:
        if self.ready:
            self.ready = False
            self.sub.close()

    def bind(c: ScriptConsumer, name: str | None, subclass: str | None = "") -> int:
        if not c.ready or not name:
            return 0
        return 1 if c.sub.bind(name, subclass or None) else 0

    def pop(c: ScriptConsumer, block: int | None = 0, timeout: int | None = 0) -> ScriptEvent | None:
        block, timeout = block or 0, timeout or 0
        if not c.ready:
            return None
        sub, ctx = c.sub, c.ctx
        if sub.dropped != c._dropped_seen:
            lost = sub.dropped - c._dropped_seen
            c._dropped_seen = sub.dropped
            log(ERR, f"EventConsumer lost {lost} events: Cannot queue any more events.....\n",
                uuid=ctx.uuid)
        if not block:
            ev = sub.get_nowait()
            return c.event_class(ctx, ev, True) if ev is not None else None
        deadline = time.monotonic() + timeout / 1000.0 if timeout and timeout > 0 else None
        while True:
            wait = _SLICE
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    return None
            ev = sub.get(timeout=wait)
            if ev is not None:
                return c.event_class(ctx, ev, True)
            if not c.ready or sub.closed:
                return None
            ctx.sleep(0)  # raises when the script is being stopped

    def cleanup(c: ScriptConsumer) -> None:
        c.close()

    def filter(c: ScriptConsumer, header: str | None, value: str | None) -> int:
        if not c.ready or not header or value is None:
            return 0
        try:
            c.add_filter(header, value)
        except regex.error as e:
            log(ERR, f"EventConsumer filter: bad regular expression {value}: {e}\n", uuid=c.ctx.uuid)
            return 0
        return 1

    def filter_delete(c: ScriptConsumer, header: str | None, value: str | None = None) -> int:
        if not header:
            return 0
        return 1 if c.delete_filter(header, value) else 0


def new_consumer(ctx: Any, name: str | None = None, subclass: str | None = "",
         queue_len: int | None = 5000) -> ScriptConsumer:
    c = ScriptConsumer(ctx, 5000 if queue_len is None else queue_len)
    if name:
        c.bind(name, subclass)
    return c


__all__ = ["ScriptConsumer", "new_consumer"]
