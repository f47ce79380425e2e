"""A real daemon (``fsd -nc``) under abuse: 200 concurrent clients, clients that vanish in
the middle of a reply, bad requests — it keeps serving, and its threads and file
descriptors (psutil on the daemon's pid) come back to where they were."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys

import psutil
import pytest

from fsd.testing import prepare_base, wait_until

from .conftest import MODULES, PAGES, Client

FSD = [sys.executable, "-m", "fsd.cli"]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    base = tmp_path_factory.mktemp("httpd")
    prepare_base(base, MODULES, extra_files=PAGES)  # http-port 0: a free port
    r = subprocess.run(FSD + ["-nc", "-base", str(base)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    pid = int((base / "run" / "fsd.pid").read_text())
    try:
        log = base / "log" / "fsd.log"
        port = None

        def bound() -> bool:
            nonlocal port
            m = re.search(r"Starting HTTP Port (\d+)", log.read_text() if log.exists() else "")
            port = int(m.group(1)) if m else None
            return port is not None

        assert wait_until(bound, 20), "no 'Starting HTTP Port' in the log"
        yield psutil.Process(pid), Client("127.0.0.1", port)
    finally:
        subprocess.run(FSD + ["-stop", "-base", str(base)], capture_output=True, timeout=60)


async def _storm(client: Client, n: int) -> list[int]:
    """``n`` clients at once, each on its own connection, mixing the kinds of request."""
    import aiohttp

    paths = ["/txtapi/version", "/api/lua?lua/api.lua", "/metrics", "/webapi/status",
             "/api/no_such", "/health"]
    conn = aiohttp.TCPConnector(limit=0, force_close=True)
    headers = {"Authorization": client.auth}
    async with aiohttp.ClientSession(connector=conn, headers=headers) as s:
        async def one(i: int) -> int:
            path = paths[i % len(paths)]
            data = b"command=version" if "lua" in path else None
            method = "POST" if data else "GET"
            async with s.request(method, client.base + path, data=data,
                                 timeout=aiohttp.ClientTimeout(total=60)) as r:
                await r.read()
                return r.status
        return await asyncio.gather(*(one(i) for i in range(n)))


def _usage(proc: psutil.Process, client: Client) -> tuple[int, int, int]:
    """(threads outside the HTTP worker pool, pool workers, open fds) of the daemon."""
    from prometheus_client.parser import text_string_to_metric_families

    workers = 0
    for fam in text_string_to_metric_families(client.get("/metrics").text):
        if fam.name == "fsd_http_worker_threads":
            workers = int(fam.samples[0].value)
    return proc.num_threads() - workers, workers, proc.num_fds()


def _abandon(client: Client, path: str, read: int) -> None:
    """Ask for ``path``, read ``read`` bytes of the reply (0: none), and hang up."""
    s = socket.create_connection((client.host, client.port), timeout=30)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {client.auth}\r\n\r\n".encode())
    got = 0
    while got < read:
        data = s.recv(65536)
        if not data:
            break
        got += len(data)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()  # RST: the client is gone mid-reply


def test_200_concurrent_clients_and_no_leak(daemon):
    proc, client = daemon
    assert wait_until(lambda: client.get("/health").status == 200, 10)
    # warm up: the worker pools grow to their size once
    statuses = asyncio.run(_storm(client, 200))
    assert statuses.count(200) == len(statuses), sorted(set(statuses))
    other0, _, fds0 = _usage(proc, client)

    # clients that go away: mid-way through a 20 MB page, before any byte, on a slow page
    for i in range(10):
        _abandon(client, f"/api/lua?web/big.lua%2020000%20{i}", read=200_000)
    _abandon(client, "/api/lua?web/slow.lua%20abandon_go", read=0)
    for i in range(10):
        # every abandoned page ran to its end (its writes were dropped, never blocked)
        assert wait_until(
            lambda i=i: client.get(f"/txtapi/global_getvar?big_done_{i}").text == "1", 30), i
    client.get("/txtapi/global_setvar?abandon_go=1")

    # bad requests on raw sockets: garbage, a header that never ends, a huge request line
    for raw in (b"NOT HTTP AT ALL\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"y" * 20000,
                b"GET /api/version?" + b"a" * 2_000_000 + b" HTTP/1.1\r\n\r\n"):
        s = socket.create_connection((client.host, client.port), timeout=30)
        try:
            s.sendall(raw)
            s.shutdown(socket.SHUT_WR)
            s.recv(65536)
        except OSError:
            pass
        finally:
            s.close()

    statuses = asyncio.run(_storm(client, 200))
    assert statuses.count(200) == len(statuses), sorted(set(statuses))
    assert client.get("/txtapi/version").status == 200

    # nothing leaked: threads and fds come back (connections close asynchronously); the
    # worker pool may have grown (slow pages held workers) but never past its size
    def settled() -> bool:
        other, workers, fds = _usage(proc, client)
        return other <= other0 and workers <= 64 and fds <= fds0

    assert wait_until(settled, 30), (other0, fds0, _usage(proc, client))
