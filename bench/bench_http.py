"""HTTP figures: requests per second for /txtapi/version and for a Lua page (the wiki's
Command Portal, POSTing `version`), against a bare aiohttp handler measured in the same run
as the ceiling the framework allows.  The servers run in their own processes (a real
``fsd -nc`` daemon on a temporary base, a bare aiohttp app); this process is the client
(aiohttp, keep-alive connections, ``--concurrency`` requests in flight).

    python bench/bench_http.py [--requests 3000] [--concurrency 16] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from fsd.testing import prepare_base, wait_until

ROOT = Path(__file__).resolve().parent.parent
FSD = [sys.executable, "-m", "fsd.cli"]
MODULES = ["mod_commands", "mod_event_socket", "mod_dptools", "mod_loopback",
           "mod_dialplan_xml", "mod_lua", "mod_xml_rpc"]
FORM = "application/x-www-form-urlencoded"
AUTH = {"Authorization": "Basic " + base64.b64encode(b"freeswitch:works").decode()}

BARE = """
import sys
from aiohttp import web

async def version(request):
    return web.Response(text="FreeSWITCH Version 1.10.12-release+fsd (bare aiohttp)\\n")

async def main():
    app = web.Application()
    app.router.add_get("/txtapi/version", version)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

import asyncio
asyncio.run(main())
"""


async def run(url: str, n: int, concurrency: int, data: bytes | None = None) -> float:
    """Requests per second for ``n`` requests, ``concurrency`` at a time."""
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn, headers=AUTH) as s:
        async def one() -> None:
            if data is None:
                async with s.get(url) as r:
                    await r.read()
                    assert r.status == 200, r.status
            else:
                async with s.post(url, data=data, headers={"Content-Type": FORM}) as r:
                    body = await r.read()
                    assert r.status == 200 and b"Command Result" in body, r.status

        for _ in range(min(200, n)):  # warm up: connections, worker threads
            await one()
        left = n
        start = time.perf_counter()

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                await one()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    portal = (ROOT / "tests/mod_lua/wiki/web_api.lua").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        prepare_base(base, MODULES, extra_files={"scripts/lua/api.lua": portal})
        r = subprocess.run(FSD + ["-nc", "-base", str(base)], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"fsd did not start: {r.stderr}")
        bare = subprocess.Popen([sys.executable, "-c", BARE], stdout=subprocess.PIPE, text=True)
        try:
            log = base / "log" / "fsd.log"
            found: list[int] = []

            def bound() -> bool:
                m = re.search(r"Starting HTTP Port (\d+)", log.read_text() if log.exists() else "")
                if m:
                    found.append(int(m.group(1)))
                return bool(m)

            if not wait_until(bound, 20):
                sys.exit("fsd's HTTP port not found in its log")
            fsd_url = f"http://127.0.0.1:{found[0]}"
            bare_url = f"http://127.0.0.1:{int(bare.stdout.readline())}"
            n, c = a.requests, a.concurrency
            targets = [
                ("bare aiohttp handler", bare_url + "/txtapi/version", n, None),
                ("fsd /txtapi/version", fsd_url + "/txtapi/version", n, None),
                ("fsd Lua page (Command Portal POST version)", fsd_url + "/api/lua?lua/api.lua",
                 max(200, n // 3), b"command=version"),
            ]
            # interleaved rounds, best of each: on a shared machine load only ever lowers a figure
            results: dict[str, list[float]] = {name: [] for name, *_ in targets}
            for _ in range(a.rounds):
                for name, url, count, data in targets:
                    results[name].append(asyncio.run(run(url, count, c, data)))
            rows = [(name, max(results[name])) for name, *_ in targets]
        finally:
            bare.terminate()
            bare.wait(10)
            subprocess.run(FSD + ["-stop", "-base", str(base)], capture_output=True)
    ceiling = rows[0][1]
    print(f"HTTP requests/s, {c} in flight, keep-alive, client in its own process, "
          f"best of {a.rounds} interleaved rounds")
    for name, rps in rows:
        print(f"  {name:<44} {rps:9.0f} req/s  ({rps / ceiling:5.1%} of bare aiohttp)")


if __name__ == "__main__":
    main()
