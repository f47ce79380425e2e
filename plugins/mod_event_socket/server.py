"""The inbound listener socket, the set of live connections, and the two fan-outs that feed
them: one event binding on ALL and one log sink (as FreeSWITCH's mod_event_socket does)."""

from __future__ import annotations

import asyncio
import os
import ssl
import threading
from typing import Any

from fsd.acl import AccessList, resolve
from fsd.events import event_id
from fsd.log import DEBUG, ERR, INFO, LogRecord, log

from . import protocol as P
from .config import ESLSettings
from .listener import Listener, QueuedEvent

_CHANNEL_HANGUP = event_id("CHANNEL_HANGUP")


class ESLServer:
    """Owns the listening socket and every :class:`Listener`.  Thread-safe entry points:
    :meth:`on_event` (dispatch thread), :meth:`on_log` (any thread)."""

    def __init__(self, switch: Any, settings: ESLSettings) -> None:
        self.switch = switch
        self.settings = settings
        self.loop: asyncio.AbstractEventLoop = switch.loop
        self.server: asyncio.base_events.Server | None = None
        self.host = settings.listen_ip
        self.port = 0
        self.stopping = False
        # Each connection runs its API commands on a thread of its own (Listener.api_thread);
        # at most settings.max_api_threads such threads exist at once.
        self.api_threads = 0
        self._lock = threading.Lock()
        self.listeners: tuple[Listener, ...] = ()
        # /metrics: connections since start, events lost by connections already closed
        self.accepted_total = 0
        self.lost_closed = 0
        # Subsets read lock-free by the dispatch thread / log sink (replaced whole).
        self._event_listeners: tuple[Listener, ...] = ()
        self._log_listeners: tuple[Listener, ...] = ()
        acl_conf = switch.config.get_configuration("acl.conf") if switch.config is not None else None
        self.acls: list[AccessList] = []
        for name in settings.acls:
            acl = resolve(name, acl_conf)
            if acl is None:
                log(ERR, f"event socket: unknown ACL {name!r}; nobody will be let in by it")
                acl = AccessList(name, False, [])
            self.acls.append(acl)
        self.acl_names = ",".join(settings.acls)

    # ------------------------------------------------------------ life

    def ssl_context(self) -> ssl.SSLContext | None:
        s = self.settings
        if not s.tls:
            return None
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(s.tls_cert, s.tls_key or None)
        return ctx

    async def start(self) -> tuple[str, int]:
        """Bind and listen; raises OSError (address in use...) or ssl.SSLError."""
        ctx = self.ssl_context()
        self.server = await self.loop.create_server(
            lambda: Listener(self), self.settings.listen_ip, self.settings.listen_port,
            reuse_address=True, ssl=ctx, backlog=128)
        sock = self.server.sockets[0]
        self.port = sock.getsockname()[1]
        log(DEBUG, f"Socket up listening on {self.host}:{self.port}{' (TLS)' if ctx else ''}")
        return self.host, self.port

    async def stop(self) -> None:
        """Close the socket and every connection ("The system is being shut down.")."""
        self.stopping = True
        if self.server is not None:
            self.server.close()
        for lst in list(self.listeners):
            lst.stop()
        tasks = [lst.task for lst in self.listeners if lst.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        for lst in list(self.listeners):
            if lst.transport is not None:
                lst.transport.abort()
        log(INFO, "event socket stopped")

    # ------------------------------------------------------------ listeners

    def reserve_api_thread(self) -> bool:
        with self._lock:
            if self.api_threads >= self.settings.max_api_threads:
                return False
            self.api_threads += 1
            return True

    def release_api_thread(self) -> None:
        with self._lock:
            self.api_threads -= 1

    def acl_allows(self, ip: str) -> bool:
        return all(acl.allows(ip) for acl in self.acls)

    def add_listener(self, lst: Listener) -> None:
        with self._lock:
            if lst not in self.listeners:
                self.listeners = (*self.listeners, lst)
                self.accepted_total += 1

    def remove_listener(self, lst: Listener) -> None:
        with self._lock:
            if lst in self.listeners:
                self.lost_closed += lst.total_lost
            self.listeners = tuple(x for x in self.listeners if x is not lst)
            self._event_listeners = tuple(x for x in self._event_listeners if x is not lst)
            self._log_listeners = tuple(x for x in self._log_listeners if x is not lst)
        self.set_divert(lst, False)

    def update_event_listeners(self) -> None:
        with self._lock:
            self._event_listeners = tuple(x for x in self.listeners if x.events_on)

    def update_log_listeners(self) -> None:
        with self._lock:
            self._log_listeners = tuple(x for x in self.listeners if x.log_on)

    def find_session(self, uuid: str) -> Any:
        if not uuid:
            return None
        sw = self.switch
        with sw.sessions_lock:
            return sw.sessions.get(uuid)

    def attach_session(self, lst: Listener, session: Any) -> None:
        """Make ``session`` the listener's controlled channel (myevents <uuid>, outbound)."""
        lst.session = session
        loop = self.loop

        def on_hangup(*_a: Any) -> None:
            # Normally CHANNEL_HANGUP passing through on_event triggers channel_down, after
            # the event itself is queued; this is the fallback if it never comes.
            try:
                loop.call_soon_threadsafe(loop.call_later, 0.5, lst.channel_down)
            except RuntimeError:
                pass

        add = getattr(session, "add_hangup_listener", None)
        if add is not None:
            add(on_hangup)

    def set_divert(self, lst: Listener, on: bool) -> None:
        """divert_events: events queued to the controlled session go to the socket."""
        if not on and not lst.divert:
            return
        lst.divert = on
        s = lst.session
        if s is None:
            return

        def drain(session: Any) -> None:
            pop = getattr(session, "pop_event", None)
            while pop is not None and lst.running:
                ev = pop()
                if ev is None:
                    break
                lst.push_event(QueuedEvent(ev))

        if on:
            s.divert_listener = drain
            drain(s)
        elif getattr(s, "divert_listener", None) is not None:
            s.divert_listener = None

    # ------------------------------------------------------------ fan-out

    def on_event(self, event: Any) -> None:
        """Dispatch thread: offer one fired event to every listener that wants it."""
        eid = event.event_id
        listeners = self._event_listeners
        if listeners:
            self._offer(event, eid, listeners)
        if eid == _CHANNEL_HANGUP:
            # after the event itself is queued, so it goes out before the linger notice
            self._hangup_seen(event)

    def _offer(self, event: Any, eid: int, listeners: tuple[Listener, ...]) -> None:
        item: QueuedEvent | None = None
        sub = event.subclass
        for lst in listeners:
            if not lst.running or not lst.subs.wants(eid, sub):
                continue
            if lst.filters.rules and not lst.filters.passes(event):
                continue
            if lst.myevents:
                uuid = event.get_header("Unique-ID")
                want = lst.session_uuid or lst.myevents_uuid
                if not uuid or (want and uuid != want):
                    continue
            if item is None:
                item = QueuedEvent(event)
            lst.push_event(item)

    def _hangup_seen(self, event: Any) -> None:
        uuid = event.get_header("Unique-ID")
        for lst in self.listeners:
            if lst.session is not None and lst.session_uuid == uuid:
                try:
                    self.loop.call_soon_threadsafe(lst.channel_down)
                except RuntimeError:
                    pass

    def on_log(self, record: LogRecord) -> None:
        listeners = self._log_listeners
        if not listeners:
            return
        frame: bytes | None = None
        for lst in listeners:
            if not lst.running or record.level > lst.log_level:
                continue
            if frame is None:
                channel = 1 if record.clean else (3 if record.uuid else 0)
                frame = P.log_frame(record.format(), record.level, channel, record.file,
                                    record.func, record.line, record.uuid)
            lst.push_log(frame)

    # ------------------------------------------------------------ status

    def metrics(self) -> list[Any]:
        """Families for /metrics (the fsd_metrics hook)."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        with self._lock:
            listeners = self.listeners
            lost = self.lost_closed + sum(x.total_lost for x in listeners)
            accepted = self.accepted_total
        g = GaugeMetricFamily("fsd_esl_listeners", "Event socket connections now")
        g.add_metric([], len(listeners))
        a = CounterMetricFamily("fsd_esl_connections", "Event socket connections since start")
        a.add_metric([], accepted)
        d = CounterMetricFamily("fsd_esl_events_dropped",
                                "Events dropped because a connection's queue was full")
        d.add_metric([], lost)
        q = GaugeMetricFamily("fsd_esl_events_queued", "Events waiting to be sent, all connections")
        q.add_metric([], sum(len(x.equeue) for x in listeners))
        return [g, a, d, q]

    def status_lines(self) -> list[str]:
        out = [f"event socket on {self.host}:{self.port}, {len(self.listeners)} connection(s)"]
        for lst in self.listeners:
            st = lst.stats()
            out.append(f"  esl #{lst.id} {lst.peer[0]}:{lst.peer[1]} queued={st['queued']} "
                       f"delivered={st['delivered']} lost={st['lost']}")
        return out


def fd_count() -> int:
    """Open file descriptors of this process (tests use it to check for leaks)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1
