"""mod_event_socket: the event socket (ESL) server, inbound and outbound (§13, §14).

Inbound: a TCP (optionally TLS) listener on event_socket.conf.xml's address, with
FreeSWITCH's commands and reply texts.  Outbound: the ``socket`` dialplan application.
See docs/event_socket.md.
"""

from __future__ import annotations

import asyncio
import errno
import os
import ssl
from typing import Any

import fsd
from fsd.log import DEBUG, logger
from fsd.module import APP_SUPPORT_NOMEDIA, ModuleLoadError

from .config import ESLSettings
from .outbound import socket_app
from .server import ESLServer

_servers: dict[int, ESLServer] = {}


def bound_address(switch: Any) -> tuple[str, int] | None:
    """(host, port) the running switch's event socket listens on (port 0 resolved)."""
    server = _servers.get(id(switch))
    if server is None:
        return None
    return server.host, server.port


def get_server(switch: Any) -> ESLServer | None:
    return _servers.get(id(switch))


@fsd.hookimpl
def fsd_module_load(module: Any) -> None:
    sw = module.switch
    cfg = sw.config.get_configuration("event_socket.conf") if sw.config is not None else None
    settings = ESLSettings.from_xml(cfg)
    server = ESLServer(sw, settings)
    try:
        server.ssl_context()
    except (OSError, ssl.SSLError) as e:
        raise ModuleLoadError(f"cannot load the TLS certificate {settings.tls_cert}: {e}") from e
    if sw.on_loop_thread():
        raise ModuleLoadError("mod_event_socket must be loaded from outside the event loop")
    fut = asyncio.run_coroutine_threadsafe(server.start(), sw.loop)
    try:
        fut.result(timeout=10)
    except OSError as e:
        reason = os.strerror(e.errno).lower() if e.errno else str(e)
        if e.errno == errno.EADDRINUSE:
            reason = "address already in use"
        raise ModuleLoadError(
            f"cannot listen on {settings.listen_ip}:{settings.listen_port}: {reason}") from e
    _servers[id(sw)] = server
    module.state["server"] = server
    sw.globals.set("esl_bound_port", str(server.port))
    module.bind_event("ALL", None, server.on_event)
    module.state["log_sink"] = logger.add_sink(server.on_log, DEBUG)
    module.add_application(
        "socket", lambda session, data: socket_app(server, session, data),
        "Connect to a socket", "<ip>[:<port>]", APP_SUPPORT_NOMEDIA)


@fsd.hookimpl
def fsd_module_shutdown(module: Any) -> None:
    sw = module.switch
    server: ESLServer | None = module.state.pop("server", None)
    sid = module.state.pop("log_sink", None)
    if sid is not None:
        logger.remove_sink(sid)
    if server is None:
        return
    _servers.pop(id(sw), None)
    sw.finish_on_loop(server.stop(), "event socket")


@fsd.hookimpl
def fsd_status_lines(switch: Any) -> list[str]:
    server = _servers.get(id(switch))
    return server.status_lines() if server is not None else []


@fsd.hookimpl
def fsd_metrics(switch: Any) -> list[Any]:
    server = _servers.get(id(switch))
    return server.metrics() if server is not None else []
