"""Outbound mode: the ``socket`` dialplan application (§14.6).

It runs in the channel's own thread.  It connects out to ``host[:port]`` (8084 by
default), then either serves the socket from this thread (static: a ``sendmsg`` runs here,
inline, before its ``+OK``) or parks the channel while messages are queued to it (async).
"""

from __future__ import annotations

import asyncio
import queue
from typing import TYPE_CHECKING, Any

from fsd.log import DEBUG, ERR, log
from fsd.numbers import leading_int

from .listener import Listener

if TYPE_CHECKING:  # pragma: no cover
    from .server import ESLServer

DEFAULT_PORT = 8084


def parse_target(target: str) -> tuple[str, int, str | None]:
    """``host[:port][/path]`` → (host, port, path)."""
    host = target
    port = DEFAULT_PORT
    path = None
    port_part = None
    if ":" in host and not (host.startswith("[") and host.endswith("]")):
        host, _, port_part = host.rpartition(":")
    scan = port_part if port_part is not None else host
    if "/" in scan:
        scan, _, path = scan.partition("/")
        if port_part is not None:
            port_part = scan
        else:
            host = scan
    if port_part is not None:
        port = max(0, leading_int(port_part, 0))
    return host.strip("[]"), port, path


def socket_app(server: ESLServer, session: Any, data: str) -> None:
    """The ``socket`` application: ``host[:port][/path][|host2…] [async] [full]``."""
    args = [a for a in (data or "").split(" ") if a]
    if not args:
        log(ERR, "Parse Error!", uuid=session.uuid)
        return
    full = any(a.lower() == "full" for a in args[1:])
    async_mode = any(a.lower() == "async" for a in args[1:])
    lst: Listener | None = None
    for target in args[0].split("|"):
        if not target:
            continue
        host, port, path = parse_target(target)
        if not host:
            log(ERR, "Missing Host!", uuid=session.uuid)
            continue
        if path:
            session.set_variable("socket_path", path)
        session.set_variable("socket_host", host)
        cand = Listener(server, outbound=True, session=session, full=full, async_mode=async_mode)
        if not async_mode:
            cand.static_work = queue.Queue()
        fut = asyncio.run_coroutine_threadsafe(
            server.loop.create_connection(lambda c=cand: c, host, port), server.loop)
        try:
            fut.result(timeout=10)
        except Exception as e:
            log(ERR, f"Socket Error! cannot connect to {host}:{port}: {e}", uuid=session.uuid)
            fut.cancel()
            continue
        lst = cand
        break
    if lst is None:
        return
    server.attach_session(lst, session)
    if async_mode:
        _run_async(lst, session)
    else:
        _run_static(lst, session)
    log(DEBUG, "socket application done", uuid=session.uuid)


def _run_static(lst: Listener, session: Any) -> None:
    """Serve the messages of a static socket in this (the channel's) thread until it ends."""
    work = lst.static_work
    assert work is not None
    loop = lst.loop
    while True:
        item = work.get()
        if item is None:
            break
        msg, fut = item
        try:
            session.execute_message(msg)
        except Exception as e:
            log(ERR, f"sendmsg failed: {e}", uuid=session.uuid)
        finally:
            loop.call_soon_threadsafe(_resolve, fut)


def _resolve(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)


def _run_async(lst: Listener, session: Any) -> None:
    """Async socket: wait for ``connect``, then park; queued messages run in the park.
    The park ends on hangup, transfer, or when the socket ends with ``resume``."""
    # ``connect`` and the socket's end wake the channel (commands.connect, Listener._finish).
    while not lst.connected.is_set() and _ready(session):
        if not session.wait_for(lst.connected.is_set, None):
            session.clear_break()  # a uuid_break does not end the wait for connect
    if lst.running and _ready(session):
        if "park" in session.switch.applications:
            session.execute("park", "")
        else:  # without mod_dptools: serve the queue until hangup
            while _ready(session) and not lst.done.is_set():
                session.process_messages()
                if not session.wait_for(lambda: session.has_messages() or lst.done.is_set(), None):
                    session.clear_break()


def _ready(session: Any) -> bool:
    r = getattr(session, "ready", None)
    return bool(r()) if callable(r) else True


