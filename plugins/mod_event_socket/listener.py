"""One event-socket connection (inbound or outbound), on the asyncio loop.

Reading: bytes → :class:`PacketParser` → an inbox the command task works through in order
(a client that floods commands is paused, not buffered without end).

Writing: command replies go straight to the transport.  Events and log lines are pushed by
other threads into this listener's own bounded queues; a flush on the loop turns them into
frames in batches, and stops while the socket is backed up.  What does not fit in a queue
is counted; a listener that misses more than ``max_missed`` events in a row is disconnected
with the reason (FreeSWITCH kills it silently).
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from fsd.log import CRIT, DEBUG, ERR, WARNING, log
from fsd.truth import is_true

from . import protocol as P
from .filters import Filters, Subscriptions

if TYPE_CHECKING:  # pragma: no cover
    from .server import ESLServer

_ids = itertools.count(1)
_FLUSH_BATCH = 2000  # frames per loop turn, so one busy listener cannot starve the loop
_INBOX_HIGH = 64


class QueuedEvent:
    """An event as queued to listeners: shared by all of them, serialised once per format."""

    __slots__ = ("event", "cache")

    def __init__(self, event: Any) -> None:
        self.event = event
        self.cache: dict[str, bytes] = {}

    def data(self, fmt: str) -> bytes:
        b = self.cache.get(fmt)
        if b is None:
            b = self.event.serialize(fmt).encode("utf-8", "surrogateescape")
            self.cache[fmt] = b
        return b


class Listener(asyncio.Protocol):
    """Connection state: FreeSWITCH's ``listener_t`` flags as attributes."""

    def __init__(self, server: ESLServer, *, outbound: bool = False, session: Any = None,
                 full: bool = True, async_mode: bool = False) -> None:
        self.server = server
        self.settings = server.settings
        self.loop: asyncio.AbstractEventLoop = server.loop
        self.id = next(_ids)
        self.transport: asyncio.Transport | None = None
        self.peer = ("", 0)
        # Until auth succeeds only tiny packets are accepted (see protocol.PRE_AUTH_*).
        self.parser = (P.PacketParser() if outbound else
                       P.PacketParser(P.PRE_AUTH_MAX_HEADER, P.PRE_AUTH_MAX_BODY))
        self.api_executor: ThreadPoolExecutor | None = None  # this connection's API thread
        self.inbox: deque[P.Packet] = deque()
        self._inbox_wake = asyncio.Event()
        self._reading_paused = False
        self.task: asyncio.Task | None = None

        self.outbound = outbound
        self.full = full
        self.async_mode = async_mode
        self.authed = outbound
        self.running = True
        self.session = session
        self.connected = threading.Event()  # outbound: 'connect' seen (or gave up)
        self.done = threading.Event()  # the connection is over

        # events
        self.events_on = False
        self.format = "plain"
        self.subs = Subscriptions()
        self.filters = Filters(owner=f"listener {self.id}")
        self.myevents = False
        self.myevents_uuid: str | None = None
        self.equeue: deque[QueuedEvent] = deque()
        self.lost_events = 0  # in a row (FreeSWITCH's lost_events)
        self.total_lost = 0
        self._unreported_lost = 0
        self.divert = False
        # logs
        self.allow_log = True
        self.log_on = False
        self.log_level = DEBUG
        self.lqueue: deque[bytes] = deque()
        self.lost_logs = 0
        # userauth restrictions (None = everything allowed)
        self.allowed_events: set[int] | None = None
        self.allowed_all_events = False
        self.allowed_subclasses: set[str] | None = None
        self.allowed_api: set[str] | None = None
        # outbound / controlled session
        self.linger = False
        self.linger_time = -1
        self.handle_disco = False
        self.resume = False
        self.static_work: queue.Queue | None = None  # static outbound: jobs for the session thread
        self.kill_reason: str | None = None

        self._busy = False
        self._pending_down = False
        self._scheduled = False
        self._write_paused = False
        self._closing = False
        self.delivered = 0

    # ------------------------------------------------------------ asyncio protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername") or ("", 0)
        self.peer = (str(peer[0]), int(peer[1])) if len(peer) >= 2 else ("", 0)
        try:
            transport.set_write_buffer_limits(high=1 << 20)  # type: ignore[attr-defined]
        except (AttributeError, NotImplementedError):
            pass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                import socket as _s

                sock.setsockopt(_s.IPPROTO_TCP, _s.TCP_NODELAY, 1)
            except OSError:
                pass
        if not self.outbound and not self.server.acl_allows(self.peer[0]):
            log(WARNING, f"IP {self.peer[0]} Rejected by acl \"{self.server.acl_names}\"")
            transport.write(P.rude_rejection())  # type: ignore[attr-defined]
            transport.close()
            self.running = False
            self.done.set()
            return
        self.server.add_listener(self)
        if self.settings.debug:
            log(DEBUG, f"Connection Open from {self.peer[0]}:{self.peer[1]}")
        self.task = self.loop.create_task(self._run())

    def data_received(self, data: bytes) -> None:
        try:
            pkts = self.parser.feed(data)
        except P.ProtocolError as e:
            log(WARNING, f"event socket {self.peer[0]}:{self.peer[1]}: {e}, dropping the connection")
            self.running = False
            self.inbox.clear()
            t = self.transport
            if t is not None:
                t.write(P.command_reply(f"-ERR {e}"))
                t.close()  # the reply is flushed, then the socket closed
                self.loop.call_later(5.0, t.abort)  # unless the client never reads it
            self._inbox_wake.set()
            return
        if pkts:
            self.inbox.extend(pkts)
            self._inbox_wake.set()
            if len(self.inbox) > _INBOX_HIGH and not self._reading_paused and self.transport:
                self._reading_paused = True
                self.transport.pause_reading()

    def eof_received(self) -> bool | None:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.running = False
        self.transport = None
        self._inbox_wake.set()
        self.done.set()
        self.server.remove_listener(self)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._schedule_flush()

    # ------------------------------------------------------------ the command task

    async def _next_packet(self, timeout: float | None) -> P.Packet | None:
        deadline = None if timeout is None else self.loop.time() + timeout
        while True:
            if self.inbox:
                pkt = self.inbox.popleft()
                if self._reading_paused and len(self.inbox) < _INBOX_HIGH // 2 and self.transport:
                    self._reading_paused = False
                    self.transport.resume_reading()
                return pkt
            if not self.running:
                return None
            self._inbox_wake.clear()
            if deadline is None:
                await self._inbox_wake.wait()
            else:
                left = deadline - self.loop.time()
                if left <= 0:
                    return None
                try:
                    await asyncio.wait_for(self._inbox_wake.wait(), left)
                except TimeoutError:
                    return None

    async def _run(self) -> None:
        from .commands import handle

        try:
            if not self.outbound:
                self.write(P.auth_request())
            first = True
            # An unauthenticated client has auth_timeout in all to authenticate, however
            # it spends it (nothing, half a command, wrong commands).
            auth_deadline = self.loop.time() + self.settings.auth_timeout
            while self.running:
                timeout = None
                if first and self.outbound:
                    timeout = self.settings.auth_timeout
                elif not self.authed:
                    timeout = auth_deadline - self.loop.time()
                pkt = await self._next_packet(timeout)
                if pkt is None:
                    if (first or not self.authed) and self.running:
                        log(CRIT if self.outbound else DEBUG,
                            "Socket Error! no command within the time limit", uuid=self.session_uuid)
                    break
                quiet = first and self.outbound and not pkt.command.lower().startswith("connect")
                first = False
                self._busy = True
                try:
                    await handle(self, pkt, quiet=quiet)
                finally:
                    self._busy = False
                if self._pending_down:
                    # as in FreeSWITCH, a hangup is noticed between commands: the reply
                    # of the command that hung up goes out before the linger notice
                    self._pending_down = False
                    self.channel_down()
        except Exception as e:  # a bug here must not kill the loop or leak the socket
            import traceback

            log(ERR, f"event socket listener failed: {e}\n{traceback.format_exc()}")
        finally:
            self._finish()

    def authenticated(self) -> None:
        """``auth``/``userauth`` succeeded: lift the pre-auth packet limits."""
        self.authed = True
        self.parser.set_limits(P.MAX_HEADER, self.settings.max_body)

    def api_thread(self) -> ThreadPoolExecutor | None:
        """This connection's own API thread (made on first use, as FreeSWITCH runs each
        connection's commands on its own thread): one client's slow command never delays
        another's.  None when the server's cap on API threads is reached."""
        if self.api_executor is None:
            if not self.server.reserve_api_thread():
                return None
            self.api_executor = ThreadPoolExecutor(max_workers=1,
                                                   thread_name_prefix=f"esl-api-{self.id}")
        return self.api_executor

    def stop(self) -> None:
        """End the connection after the command in progress (disconnect notice, close)."""
        self.running = False
        self._inbox_wake.set()

    def _finish(self) -> None:
        self.running = False
        self.connected.set()
        self.server.remove_listener(self)
        if self.static_work is not None:
            self.static_work.put(None)
        t = self.transport
        if t is not None and not t.is_closing():
            self._flush(final=True)
            if self.kill_reason is not None:
                msg = self.kill_reason
            elif self.server.stopping:
                msg = P.SHUTDOWN_TEXT
            else:
                msg = P.GOODBYE
            t.write(P.disconnect_notice(msg, self.session_uuid))
            t.close()
            # A client that never reads would keep the socket open for ever.
            self.loop.call_later(5.0, t.abort)
        self.equeue.clear()
        self.lqueue.clear()
        if self.api_executor is not None:
            self.api_executor.shutdown(wait=False)
            self.api_executor = None
            self.server.release_api_thread()
        self.done.set()
        s = self.session
        if s is not None and self.outbound and self.async_mode:
            resume = self.resume or is_true(s.get_variable("socket_resume"))
            if resume and s.ready():
                s.set_state("CS_EXECUTE")  # ends the park: the extension goes on
            if hasattr(s, "wake"):
                s.wake()
        if self.settings.debug:
            log(DEBUG, "Connection Closed")

    def kill(self, reason: str) -> None:
        """Loop thread: disconnect now with ``reason`` as the notice text."""
        if not self.running and self.kill_reason is not None:
            return
        self.kill_reason = reason
        self.equeue.clear()
        self.stop()

    # ------------------------------------------------------------ writing

    @property
    def session_uuid(self) -> str:
        return getattr(self.session, "uuid", "") if self.session is not None else ""

    def write(self, data: bytes) -> None:
        t = self.transport
        if t is not None and not t.is_closing():
            t.write(data)
            if t.get_write_buffer_size() > self.settings.max_send_buffer:
                # A client that never reads its replies would make us buffer without end.
                log(WARNING, f"event socket {self.peer[0]}:{self.peer[1]}: more than "
                    f"{self.settings.max_send_buffer} bytes unread, disconnecting it")
                self.running = False
                self._inbox_wake.set()
                t.abort()

    def reply(self, text: str) -> None:
        self.write(P.command_reply(text))

    # ------------------------------------------------------------ event / log queues

    def push_event(self, item: QueuedEvent) -> None:
        """Dispatch thread: queue one event or count it as lost.  Never blocks."""
        q = self.equeue
        if len(q) >= self.settings.event_queue_size:
            self.lost_events += 1
            self.total_lost += 1
            self._unreported_lost += 1
            if self.lost_events > self.settings.max_missed and self.kill_reason is None:
                self.kill_reason = (f"Disconnected, too many lost events ({self.lost_events} "
                                    f"in a row, {self.total_lost} in all).\n")
                log(CRIT, f"Killing event socket listener {self.id} ({self.peer[0]}:{self.peer[1]}): "
                    f"it missed {self.lost_events} events in a row", uuid=self.session_uuid)
                self.loop.call_soon_threadsafe(self.kill, self.kill_reason)
            return
        q.append(item)
        if self.lost_events:
            le, self.lost_events = self.lost_events, 0
            log(CRIT, f"Lost {le} events!", uuid=self.session_uuid)
        self._schedule_flush()

    def push_log(self, frame: bytes) -> None:
        if len(self.lqueue) >= self.settings.log_queue_size:
            self.lost_logs += 1
            if self.lost_logs > self.settings.max_missed and self.kill_reason is None:
                self.kill_reason = "Disconnected, too many lost log lines.\n"
                self.loop.call_soon_threadsafe(self.kill, self.kill_reason)
            return
        self.lqueue.append(frame)
        if self.lost_logs:
            self.lost_logs = 0
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            try:
                self.loop.call_soon_threadsafe(self._flush)
            except RuntimeError:  # loop closed: the switch is going away
                pass

    def _flush(self, final: bool = False) -> None:
        """Loop thread: write queued log lines and events as frames."""
        self._scheduled = False
        t = self.transport
        if t is None or t.is_closing():
            return
        if self._write_paused and not final:
            return
        out: list[bytes] = []
        n = 0
        lq = self.lqueue
        while lq and n < _FLUSH_BATCH:
            out.append(lq.popleft())
            n += 1
        if self.events_on:
            eq = self.equeue
            fmt = self.format
            while eq and n < _FLUSH_BATCH:
                item = eq.popleft()
                extra = ""
                if self._unreported_lost:
                    # Tell the client it missed events: once, on the next frame it gets.
                    extra = f"Lost-Events: {self.total_lost}\n"
                    self._unreported_lost = 0
                out.append(P.event_frame(item.data(fmt), fmt, extra))
                n += 1
        if out:
            self.delivered += n
            t.write(b"".join(out))
        if (lq or (self.events_on and self.equeue)) and not final:
            self._scheduled = True
            self.loop.call_soon(self._flush)

    def flush_events(self) -> None:
        self.equeue.clear()

    def flush_logs(self) -> None:
        self.lqueue.clear()

    # ------------------------------------------------------------ the controlled channel

    def channel_down(self) -> None:
        """Loop thread: the controlled channel hung up (linger or close, §14.5)."""
        if self.handle_disco or not self.running:
            return
        if self._busy:
            self._pending_down = True
            return
        self.handle_disco = True
        self._flush(final=True)  # what was queued before the hangup goes first
        if self.linger:
            s = self.session
            name = getattr(s, "name", "") if s is not None else ""
            log(DEBUG, f"{name} Socket Linger {self.linger_time}", uuid=self.session_uuid)
            self.write(P.linger_notice(self.session_uuid, name, self.linger_time))
            if self.linger_time != -1:
                self.loop.call_later(max(0, self.linger_time), self.stop)
        else:
            self.stop()

    def stats(self) -> dict[str, int]:
        return {"queued": len(self.equeue), "delivered": self.delivered,
                "lost": self.total_lost, "logs_queued": len(self.lqueue)}

