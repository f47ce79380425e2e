"""mod_xml_rpc: the HTTP API (/api, /webapi, /txtapi), Lua web pages, /metrics and /health.

Configured by xml_rpc.conf.xml; the server is aiohttp on the switch's event loop
(server.py), commands run on its worker threads.  A Lua page is simply the ``lua`` API
reached over HTTP: ``/api/lua?lua/api.lua`` runs the script with ``stream`` bound to the
response and ``env`` holding the request.  See docs/http.md.
"""

from __future__ import annotations

import asyncio
import errno
import os
from typing import Any

import fsd
from fsd.log import NOTICE, log
from fsd.module import ModuleLoadError

from .config import HttpSettings
from .metrics import core_families
from .server import HttpServer

_servers: dict[int, HttpServer] = {}


def bound_address(switch: Any) -> tuple[str, int] | None:
    """(host, port) the switch's HTTP server listens on (port 0 resolved)."""
    server = _servers.get(id(switch))
    return (server.host, server.port) if server is not None else None


@fsd.hookimpl
def fsd_module_load(module: Any) -> None:
    sw = module.switch
    cfg = sw.config.get_configuration("xml_rpc.conf") if sw.config is not None else None
    settings = HttpSettings.from_xml(cfg)
    if sw.on_loop_thread():
        raise ModuleLoadError("mod_xml_rpc must be loaded from outside the event loop")
    server = HttpServer(sw, settings)
    fut = asyncio.run_coroutine_threadsafe(server.start(), sw.loop)
    try:
        fut.result(timeout=10)
    except OSError as e:
        server.executor.shutdown(wait=False)
        reason = "address already in use" if e.errno == errno.EADDRINUSE else (
            os.strerror(e.errno).lower() if e.errno else str(e))
        raise ModuleLoadError(f"cannot listen on {settings.listen_ip}:{settings.port}: {reason}") from e
    _servers[id(sw)] = server
    module.state["server"] = server
    sw.globals.set("xml_rpc_bound_port", str(server.port))
    log(NOTICE, f"Starting HTTP Port {server.port} on {server.host}\n")


@fsd.hookimpl
def fsd_module_shutdown(module: Any) -> None:
    sw = module.switch
    server: HttpServer | None = module.state.pop("server", None)
    if server is None:
        return
    _servers.pop(id(sw), None)
    sw.finish_on_loop(server.stop(), "HTTP server")


@fsd.hookimpl
def fsd_metrics(switch: Any) -> list[Any]:
    server = _servers.get(id(switch))
    out = core_families(switch)
    if server is not None:
        out.extend(server.counters.families())
        out.extend(server.worker_families())
    return out
