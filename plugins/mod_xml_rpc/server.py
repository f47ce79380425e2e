"""The HTTP server: aiohttp on the switch's event loop.

Routes (FreeSWITCH's mod_xml_rpc, docs/http.md):
  /api/<cmd>?<args>     the command's output; text/plain unless the command's first write
                        is its own header block (``Content-Type: text/html\\n\\n`` in a Lua page)
  /webapi/<cmd>?<args>  the output as text/html (commands that know HTTP format themselves)
  /txtapi/<cmd>?<args>  the output as text/plain
  /xmlapi/<cmd>?<args>  the output as text/xml
and fsd's own /metrics (Prometheus) and /health.

The loop never runs a command: each one runs on this server's worker threads and writes
into an :class:`HttpStream` that feeds the response as it writes.
"""

from __future__ import annotations

import asyncio
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web

from fsd import __version__
from fsd.log import ERR, INFO, WARNING, log

from . import rpc2
from .auth import AuthResult, check_admin, check_directory, decode_basic
from .config import HttpSettings
from .headers import parse_block, split_block
from .metrics import HttpCounters, new_registry, render
from .request import Caller, api_argument, build_event
from .stream import HttpStream

_KINDS = {"api": "api", "webapi": "webapi", "txtapi": "txtapi", "xmlapi": "xmlapi"}
_FIXED_TYPE = {"webapi": "text/html", "txtapi": "text/plain", "xmlapi": "text/xml"}
#: the largest request line aiohttp reads; longer queries up to it get our 413
_MAX_LINE = 1 << 20


class HttpServer:
    def __init__(self, switch: Any, settings: HttpSettings, workers: int = 64) -> None:
        self.switch = switch
        self.settings = settings
        self.host = settings.listen_ip
        self.port = 0
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="http-api")
        self.counters = HttpCounters()
        self.registry = new_registry(switch)
        self._log_re = re.compile(settings.commands_to_log) if settings.commands_to_log else None
        self._runner: web.AppRunner | None = None
        self._server_header = f"fsd-{__version__}-mod_xml_rpc"

    # -- lifecycle (on the loop) ----------------------------------------------------------
    async def start(self) -> tuple[str, int]:
        app = web.Application(client_max_size=max(1, self.settings.max_body_size))
        app.router.add_route("*", "/metrics", self._metrics)
        app.router.add_route("*", "/health", self._health)
        app.router.add_route("POST", "/RPC2", self._rpc2)
        app.router.add_route("*", r"/{kind:(api|webapi|txtapi|xmlapi)}/{command:[^/]*}{rest:.*}",
                             self._api)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                     max_line_size=max(_MAX_LINE, self.settings.max_query_size),
                                     keepalive_timeout=15, shutdown_timeout=2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.settings.port, reuse_address=True)
        await site.start()
        server = site._server
        sock = server.sockets[0] if server and server.sockets else None
        self.port = sock.getsockname()[1] if sock else self.settings.port
        return self.host, self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.executor.shutdown(wait=False, cancel_futures=True)

    def worker_families(self) -> list[Any]:
        """The worker pool (grown on demand up to its size) and the process's threads, so
        that a leak can be told from a pool that grew."""
        from prometheus_client.core import GaugeMetricFamily

        workers = GaugeMetricFamily("fsd_http_worker_threads", "HTTP worker threads started")
        workers.add_metric([], len(getattr(self.executor, "_threads", ())))
        size = GaugeMetricFamily("fsd_http_worker_threads_max", "HTTP worker pool size")
        size.add_metric([], self.executor._max_workers)
        threads = GaugeMetricFamily("fsd_process_threads", "Threads of the fsd process")
        threads.add_metric([], threading.active_count())
        return [workers, size, threads]

    # -- auth ---------------------------------------------------------------------------
    async def _authenticate(self, request: web.Request) -> AuthResult:
        creds = decode_basic(request.headers.get("Authorization"))
        res = check_admin(self.settings, creds)
        if res is not None:
            return res
        if creds is None or not self.settings.auth_users:
            return AuthResult(False, realm=self.settings.realm)
        # directory lookups may run XML bindings (a Lua xml-handler): off the loop
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, check_directory, self.switch,
                                          self.settings, creds, request.host or "")

    def _unauthorized(self, realm: str) -> web.Response:
        realm = (realm or self.settings.realm).replace('"', "")
        return web.Response(status=401, text="401 Unauthorized\n",
                            headers={"WWW-Authenticate": f'Basic realm="{realm}"',
                                     "Server": self._server_header})

    # -- /health and /metrics ------------------------------------------------------------
    async def _open_or_auth(self, request: web.Request) -> web.Response | None:
        if self.settings.open_metrics or not self.settings.auth_required:
            return None
        res = await self._authenticate(request)
        return None if res.ok else self._unauthorized(res.realm)

    async def _health(self, request: web.Request) -> web.Response:
        denied = await self._open_or_auth(request)
        if denied is not None:
            self.counters.count("health", denied.status)
            return denied
        sw = self.switch
        if sw.shutting_down or not sw.running:
            status, text = 503, "shutting down\n"
        elif not sw.core_ready():
            status, text = 503, "paused\n"
        elif not sw.core_ready("inbound") or not sw.core_ready("outbound"):
            status, text = 503, "paused inbound\n" if sw.no_new_inbound else "paused outbound\n"
        else:
            status, text = 200, "ready\n"
        self.counters.count("health", status)
        return web.Response(status=status, text=text, headers={"Server": self._server_header,
                                                               "Cache-Control": "no-store"})

    async def _metrics(self, request: web.Request) -> web.Response:
        denied = await self._open_or_auth(request)
        if denied is not None:
            self.counters.count("metrics", denied.status)
            return denied
        loop = asyncio.get_running_loop()
        body = await loop.run_in_executor(self.executor, render, self.registry)
        self.counters.count("metrics", 200)
        return web.Response(body=body, headers={
            "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
            "Server": self._server_header})

    # -- /RPC2 (XML-RPC) ------------------------------------------------------------------
    async def _rpc2(self, request: web.Request) -> web.Response:
        length = request.content_length
        if length is not None and length > self.settings.max_body_size:
            return _plain(413, "413 Request Entity Too Large\n")
        auth = await self._authenticate(request)
        if not auth.ok:
            self.counters.count("rpc2", 401)
            return self._unauthorized(auth.realm)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _plain(413, "413 Request Entity Too Large\n")
        loop = asyncio.get_running_loop()
        call = await loop.run_in_executor(self.executor, rpc2.parse_call, body)
        if isinstance(call, str):
            out = rpc2.fault(-32700, call)
        elif call[0] not in rpc2.API_METHODS:
            out = rpc2.fault(-32601, f"method {call[0][:100]!r} is not offered")
        elif len(call[1]) != 2 or not all(isinstance(p, str) for p in call[1]):
            out = rpc2.fault(-32602, "freeswitch.api takes (command, argument), two strings")
        else:
            command, argument = call[1]
            if not auth.may_run(command.strip()):
                out = rpc2.reply("UNAUTHORIZED!")
            else:
                if command.strip().lower() in ("unload", "reload") and \
                        "mod_xml_rpc" in argument.lower():
                    command, argument = "bgapi", f"{command.strip().lower()} {argument}"
                text = await loop.run_in_executor(self.executor, rpc2.run_api, self.switch,
                                                  command, argument)
                out = rpc2.reply(text)
        self.counters.count("rpc2", 200)
        return web.Response(body=out, headers={"Content-Type": "text/xml",
                                               "Server": self._server_header})

    # -- /api/ /webapi/ /txtapi/ -------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.StreamResponse:
        kind = _KINDS[request.match_info["kind"]]
        command = request.match_info["command"]
        rest = request.match_info["rest"]
        path_info = rest[1:] if rest.startswith("/") else ""
        label = "lua" if command.lower() == "lua" else kind
        self.counters.in_flight += 1
        try:
            resp = await self._api_inner(request, kind, command, path_info)
        except (ConnectionError, asyncio.CancelledError):
            self.counters.count(label, 499)  # the client went away
            raise
        finally:
            self.counters.in_flight -= 1
        self.counters.count(label, resp.status)
        return resp

    async def _api_inner(self, request: web.Request, kind: str, command: str,
                         path_info: str) -> web.StreamResponse:
        st = self.settings
        raw_query = request.raw_path.partition("?")[2]
        if len(request.raw_path) > st.max_query_size:
            return _plain(413, "413 Request Entity Too Large: query too long\n")
        length = request.content_length
        if length is not None and length > st.max_body_size:
            return _plain(413, "413 Request Entity Too Large\n")
        auth = await self._authenticate(request)
        if not auth.ok:
            return self._unauthorized(auth.realm)
        if not auth.may_run(command):
            return _plain(403, "403 Forbidden\n")
        try:
            body = await request.read() if request.can_read_body else b""
        except web.HTTPRequestEntityTooLarge:
            return _plain(413, "413 Request Entity Too Large\n")
        remote = request.transport.get_extra_info("peername") if request.transport else None
        ev = build_event(
            kind=kind, path_info=path_info, method=request.method, raw_query=raw_query,
            host=request.host or "", headers=request.headers,
            remote=(remote[0], remote[1]) if remote else ("", 0), body=body,
            content_type=request.headers.get("Content-Type", ""),
            request_line=f"{request.method} {request.raw_path} HTTP/{request.version.major}."
                         f"{request.version.minor}",
            uri=request.path, caller=auth.caller if auth.caller else Caller())
        args = api_argument(raw_query)
        if command.lower() in ("unload", "reload") and "mod_xml_rpc" in args.lower():
            # this server cannot stop itself from one of its own requests: background it
            command, args = "bgapi", f"{command.lower()} {args}"
        if self._log_re is not None:
            full = f"{command} {args}".strip()
            if self._log_re.search(full):
                log(INFO, f"Executed HTTP request command: [{full}].\n")
        loop = asyncio.get_running_loop()
        stream = HttpStream(loop, ev, body, sniff_headers=(kind == "api"))
        # a plain submit: the stream wakes the loop, a second wake-up for the job is waste
        self.executor.submit(self._execute, command, args, stream)
        try:
            return await self._respond(request, kind, stream)
        except BaseException:
            stream.abandon()
            raise

    def _execute(self, command: str, args: str, stream: HttpStream) -> None:
        try:
            self.switch.api.execute(command, args, stream=stream, param_event=stream.param_event)
        except Exception as e:  # the API runner already contains command faults
            log(ERR, f"HTTP API {command} failed: {e}")
        finally:
            stream.finish()

    async def _respond(self, request: web.Request, kind: str,
                       stream: HttpStream) -> web.StreamResponse:
        headers = {"Server": self._server_header}
        ctype = _FIXED_TYPE.get(kind, "text/plain")
        pending = b""
        data, done = await stream.next_chunk()
        if kind == "api" and stream.own_headers:
            # the command writes its own header block: wait for its blank line
            pending = data
            split = split_block(pending)
            while split is None and not done:
                data, done = await stream.next_chunk()
                pending += data
                split = split_block(pending)
            block, data = split if split is not None else (pending, b"")
            parsed = parse_block(block, _multiline_values(stream.param_event))
            for line in parsed.refused:
                log(WARNING, f"HTTP {request.path}: refused header line from the command: "
                             f"{line[:200]!r}\n")
            ctype = parsed.content_type
            extra = [(n, v) for n, v in parsed.headers if n.lower() != "server"]
        else:
            extra = []
        if done:
            resp = web.Response(status=200, body=data, headers=headers)
            _set_headers(resp, ctype, extra)
            return resp
        resp = web.StreamResponse(status=200, headers=headers)
        _set_headers(resp, ctype, extra)
        await resp.prepare(request)
        while True:
            if data:
                await resp.write(data)
            if done:
                break
            data, done = await stream.next_chunk()
        await resp.write_eof()
        return resp


def _set_headers(resp: web.StreamResponse, ctype: str, extra: list[tuple[str, str]]) -> None:
    resp.headers["Content-Type"] = ctype
    for name, value in extra:
        resp.headers.add(name, value)


def _multiline_values(ev: Any) -> tuple[str, ...]:
    """Values of the request's event that hold CR or LF (only fields can)."""
    if ev is None:
        return ()
    out = []
    for _name, value in ev.headers:
        for v in value if isinstance(value, list) else (value,):
            if isinstance(v, str) and ("\r" in v or "\n" in v) and len(v) > 1:
                out.append(v)
    return tuple(sorted(out, key=len, reverse=True))


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text)
