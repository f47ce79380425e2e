"""The event bus: fire() queues, one dispatch thread delivers (§6, §13.8).

Firing never blocks: the event goes onto the bus queue (dropped and counted if the bus is
stopped or the queue is full).  The dispatch thread matches it against the bindings
(type, optional subclass; ALL matches every type) and hands every match its own
copy-on-write copy, with Event-Subclass moved first as FreeSWITCH's dup does.

Two kinds of receiver:
- a callback binding (``bind``), called in the dispatch thread; a slow callback delays
  delivery of later events, exactly as in FreeSWITCH, so keep callbacks short;
- a Subscriber (``subscribe``), which has a bounded queue of its own; the dispatch thread
  never waits for it, and what does not fit is dropped and counted.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from collections.abc import Callable

from fsd.log import ERR, WARNING, log

from .event import Event
from .names import ALL, EVENT_NAMES, event_id

EventCallback = Callable[[Event], None]
EventFilter = Callable[[Event], bool]


class Binding:
    """One (type, subclass) registration.  ``target`` is a callback or a Subscriber."""

    __slots__ = ("event_id", "subclass", "target", "owner", "is_subscriber")

    def __init__(self, eid: int, subclass: str | None, target, owner: str, is_sub: bool) -> None:
        self.event_id = eid
        self.subclass = subclass
        self.target = target
        self.owner = owner
        self.is_subscriber = is_sub

    @property
    def callback(self):
        return self.target

    def __repr__(self) -> str:
        sub = f" {self.subclass}" if self.subclass else ""
        return f"<Binding {EVENT_NAMES[self.event_id]}{sub} owner={self.owner!r}>"


def matches(event: Event, node: Binding) -> bool:
    """switch_events_match: does ``event`` go to ``node``?

    Without a subclass on the binding every event of the type matches.  With one, only
    events that carry a subclass can match: exactly that subclass, or for ``file:X`` /
    ``func:X`` the event's ``file`` / ``function`` header equal to X."""
    nsub = node.subclass
    if node.event_id == ALL:
        if nsub is None:
            return True
        match = True
    else:
        if event.event_id != node.event_id:
            return False
        match = False
    esub = event.subclass
    if nsub is None:
        return True
    if esub is None:
        return False
    prefix = nsub[:5].lower()
    if prefix == "file:" or prefix == "func:":
        value = event.get_header("file" if prefix == "file:" else "function")
        if value is not None:
            match = nsub[5:] == value
        return match
    return esub == nsub


def _resolve(name: str | int) -> int | None:
    if isinstance(name, int) and not isinstance(name, bool):
        return name if 0 <= name < len(EVENT_NAMES) else None
    return event_id(name) if isinstance(name, str) else None


class Subscriber:
    """A bounded event queue fed by the bus (an EventConsumer, an ESL listener...)."""

    def __init__(self, bus: EventBus, queue_len: int, name: str, duplicates: bool) -> None:
        self.bus = bus
        self.name = name
        self.queue_len = max(1, int(queue_len))
        #: Deliver an event once per matching binding (FreeSWITCH's EventConsumer does)
        #: instead of once per event.
        self.duplicates = duplicates
        #: Optional callable(event) -> bool run in the dispatch thread; False skips the
        #: event for this subscriber.  It must not block or change the event.
        self.filter: EventFilter | None = None
        self.dropped = 0
        self.delivered = 0
        self.closed = False
        self._q: deque[Event] = deque()
        self._wake = threading.Event()
        self._nodes: list[Binding] = []
        self._lock = threading.Lock()
        self._last_drop_log = 0.0

    # ------------------------------------------------------------- binding

    def bind(self, name: str | int, subclass: str | None = None) -> bool:
        """Receive events of type ``name`` (``ALL`` for every type), optionally only one
        subclass.  False for an unknown name or a closed subscriber."""
        eid = _resolve(name)
        if eid is None:
            log(WARNING, f"Can't bind to {name}, event not found")
            return False
        with self._lock:
            if self.closed:
                return False
            node = Binding(eid, subclass or None, self, self.name, True)
            self._nodes.append(node)
        self.bus._add_node(node)
        return True

    def unbind(self, name: str | int, subclass: str | None = None) -> bool:
        """Drop the bindings of type ``name`` (with ``subclass``: only that one)."""
        eid = _resolve(name)
        if eid is None:
            return False
        subclass = subclass or None
        with self._lock:
            gone = [
                n
                for n in self._nodes
                if n.event_id == eid and (subclass is None or n.subclass == subclass)
            ]
            self._nodes = [n for n in self._nodes if n not in gone]
        for n in gone:
            self.bus._remove_node(n)
        return bool(gone)

    def unbind_all(self) -> None:
        with self._lock:
            gone, self._nodes = self._nodes, []
        for n in gone:
            self.bus._remove_node(n)

    @property
    def bindings(self) -> list[tuple[str, str | None]]:
        """(type name, subclass) of every binding, in bind order."""
        return [(EVENT_NAMES[n.event_id], n.subclass) for n in self._nodes]

    # ------------------------------------------------------------- queue

    def _offer(self, event: Event) -> None:
        """Called by the dispatch thread only.  Never blocks."""
        q = self._q
        if len(q) >= self.queue_len or self.closed:
            if self.closed:
                return
            self.dropped += 1
            now = time.monotonic()
            if now - self._last_drop_log >= 1.0:
                self._last_drop_log = now
                log(ERR, "Cannot queue any more events.....")
            return
        q.append(event)
        self.delivered += 1
        if not self._wake.is_set():
            self._wake.set()

    def get(self, timeout: float | None = None) -> Event | None:
        """The next event; waits up to ``timeout`` seconds (None: until one comes or the
        subscriber is closed).  None on timeout or after close."""
        q = self._q
        wake = self._wake
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                return q.popleft()
            except IndexError:
                pass
            if self.closed:
                return None
            wake.clear()
            if q or self.closed:
                continue
            if deadline is None:
                wake.wait()
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                wake.wait(remaining)

    def get_nowait(self) -> Event | None:
        try:
            return self._q.popleft()
        except IndexError:
            return None

    def qsize(self) -> int:
        return len(self._q)

    def close(self) -> None:
        """Unbind everything, wake every waiting get() and drop what is queued."""
        with self._lock:
            self.closed = True
        self.unbind_all()
        self.bus._forget(self)
        self._q.clear()
        self._wake.set()

    def stats(self) -> dict[str, int]:
        return {"queued": len(self._q), "delivered": self.delivered, "dropped": self.dropped}

    def __enter__(self) -> Subscriber:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Subscriber {self.name!r} queued={len(self._q)} dropped={self.dropped}>"


#: How long the dispatch thread keeps looking after its queue runs dry (seconds).
LINGER = 0.0005


class EventBus:
    """Bindings, the bus queue and the one dispatch thread."""

    def __init__(self, queue_len: int = 100000) -> None:
        self.queue_len = max(1, int(queue_len))
        self._q: deque[Event] = deque()
        self._wake = threading.Event()
        self._running = False
        self._thread: threading.Thread | None = None
        # One tuple of bindings per type id (index ALL holds the ALL bindings).  The
        # dispatch thread reads the tuples without a lock; changes replace them.
        self._table: list[tuple[Binding, ...]] = [()] * len(EVENT_NAMES)
        self._table_lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._sub_seq = 0
        self._dispatched = 0
        self._delivered = 0
        self._dropped = 0
        self._drop_lock = threading.Lock()
        self._last_drop_log = 0.0

    # ---------------------------------------------------------------- life

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        """Start the dispatch thread (once)."""
        if self._running:
            return
        self._running = True
        self._thread = threading.Thread(target=self._run, name="fsd-event-dispatch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting events, deliver what is queued, end the dispatch thread."""
        if not self._running:
            return
        self._running = False
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None
        # an event that slipped in while stopping is counted, not lost silently
        left = len(self._q)
        if left:
            self._q.clear()
            with self._drop_lock:
                self._dropped += left

    # ---------------------------------------------------------------- firing

    def fire(self, event: Event) -> bool:
        """Queue ``event`` for delivery.  Never blocks; False if it was dropped.

        Receivers see the event as it is now; later changes by the caller go to a
        private copy (copy-on-write) and are not seen by them."""
        if not self._running:
            with self._drop_lock:
                self._dropped += 1
            return False
        q = self._q
        if len(q) >= self.queue_len:
            with self._drop_lock:
                self._dropped += 1
                now = time.monotonic()
                if now - self._last_drop_log >= 1.0:
                    self._last_drop_log = now
                    log(ERR, "Event queue is full, dropping events")
            return False
        # Queue an O(1) copy-on-write snapshot: the caller may keep changing ``event``
        # and receivers still see it as it was when fired.
        q.append(event._share())
        if not self._wake.is_set():
            self._wake.set()
        return True

    # ---------------------------------------------------------------- binding

    def bind(
        self, event_name: str | int, subclass: str | None, callback: EventCallback, owner: str = ""
    ) -> Binding:
        """Call ``callback(copy)`` in the dispatch thread for each matching event.

        Raises ValueError for an unknown event name."""
        eid = _resolve(event_name)
        if eid is None:
            raise ValueError(f"unknown event type {event_name!r}")
        node = Binding(eid, subclass or None, callback, owner, False)
        self._add_node(node)
        return node

    def unbind(self, binding: Binding) -> bool:
        return self._remove_node(binding)

    def unbind_owner(self, owner: str) -> int:
        """Remove every callback binding of ``owner`` (a module being unloaded)."""
        with self._table_lock:
            nodes = [
                n for row in self._table for n in row if n.owner == owner and not n.is_subscriber
            ]
        for n in nodes:
            self._remove_node(n)
        return len(nodes)

    def subscribe(
        self, queue_len: int = 5000, name: str = "", duplicates: bool = False
    ) -> Subscriber:
        """A new Subscriber with a queue of ``queue_len`` events; bind it to receive."""
        self._sub_seq += 1
        sub = Subscriber(self, queue_len, name or f"subscriber-{self._sub_seq}", duplicates)
        with self._table_lock:
            self._subscribers.append(sub)
        return sub

    def _add_node(self, node: Binding) -> None:
        with self._table_lock:
            self._table[node.event_id] = (*self._table[node.event_id], node)

    def _remove_node(self, node: Binding) -> bool:
        with self._table_lock:
            row = self._table[node.event_id]
            if node not in row:
                return False
            self._table[node.event_id] = tuple(n for n in row if n is not node)
            return True

    def _forget(self, sub: Subscriber) -> None:
        with self._table_lock:
            if sub in self._subscribers:
                self._subscribers.remove(sub)

    # ---------------------------------------------------------------- dispatch

    def _run(self) -> None:
        q = self._q
        wake = self._wake
        deliver = self._deliver
        lingered = False
        while True:
            try:
                event = q.popleft()
            except IndexError:
                if not self._running:
                    break
                if not lingered:
                    # Stay "awake" a moment before sleeping: firers see the wake flag
                    # still set and skip the notify, so a burst of fires (an API event
                    # per api:executeString, a Lua loop) costs one wake-up, not one each.
                    lingered = True
                    time.sleep(LINGER)
                    continue
                lingered = False
                wake.clear()
                if q or not self._running:
                    continue
                wake.wait()
                continue
            lingered = False
            self._dispatched += 1
            try:
                deliver(event)
            except Exception:  # never let one event end the dispatch thread
                log(ERR, f"event dispatch failed:\n{traceback.format_exc()}")

    def _deliver(self, event: Event) -> None:
        table = self._table
        nodes = table[event.event_id]
        if event.event_id != ALL:
            nodes = nodes + table[ALL]
        if not nodes:
            return
        base: Event | None = None
        seen: set[int] | None = None
        for node in nodes:
            if not matches(event, node):
                continue
            target = node.target
            if node.is_subscriber:
                if not target.duplicates:
                    if seen is None:
                        seen = set()
                    key = id(target)
                    if key in seen:
                        continue
                    seen.add(key)
                flt = target.filter
                if flt is not None:
                    try:
                        if not flt(event):
                            continue
                    except Exception:
                        log(ERR, f"event filter of {target.name} failed:\n{traceback.format_exc()}")
                        continue
                if base is None:
                    base = event.copy()
                target._offer(base._share())
                self._delivered += 1
            else:
                if base is None:
                    base = event.copy()
                try:
                    target(base._share())
                except Exception:
                    log(
                        ERR,
                        f"event callback of {node.owner or target!r} failed:\n{traceback.format_exc()}",
                    )
                self._delivered += 1

    # ---------------------------------------------------------------- status

    def stats(self) -> dict:
        """Counters: fired (accepted), delivered, dropped, queued, and per subscriber."""
        with self._table_lock:
            subs = list(self._subscribers)
        per: dict[str, dict[str, int]] = {}
        for s in subs:
            key = s.name
            n = 2
            while key in per:
                key = f"{s.name}#{n}"
                n += 1
            per[key] = s.stats()
        queued = len(self._q)
        return {
            "running": self._running,
            "fired": self._dispatched + queued,
            "delivered": self._delivered,
            "dropped": self._dropped,
            "queued": queued,
            "subscribers": per,
        }
