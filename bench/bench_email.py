"""Mails per second through mod_email's two modes against a real local SMTP server.

    python bench/bench_email.py [--count N] [--threads T]

Starts aiosmtpd on an ephemeral port and measures, for the same small message:
  baseline      smtplib straight to the server, one connection per mail (no mod_email)
  smtp          Mailer in SMTP mode (validation, build, temp file, worker hand-off)
  smtp+att      SMTP mode with a 64 KiB WAV attachment
  smtp xT       SMTP mode from T caller threads at once (calls sending voicemails)
  msmtp alone   msmtp run directly, one process per mail (the program's own cost)
  sendmail      Mailer in sendmail mode through msmtp (a process per mail, as FreeSWITCH)
  spool         the server refuses: every mail goes to the spool (fsync on)
Ratios are against the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.smtp import SMTP  # noqa: E402
from fsd_modules.mod_email.mailer import Mailer  # noqa: E402
from fsd_modules.mod_email.settings import MailerSettings  # noqa: E402

from fsd.log import logger  # noqa: E402


class Handler:
    def __init__(self) -> None:
        self.count = 0
        self.refuse = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "451 4.3.0 try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def start_server(handler: Handler) -> tuple[asyncio.AbstractEventLoop, int]:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()

    async def go():
        return await loop.create_server(lambda: SMTP(handler, hostname="bench"), "127.0.0.1", 0)

    srv = asyncio.run_coroutine_threadsafe(go(), loop).result(5)
    return loop, srv.sockets[0].getsockname()[1]


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--threads", type=int, default=8)
    a = ap.parse_args()
    n = a.count
    logger.level = 3  # ERR: the bench measures sending, not logging

    handler = Handler()
    _loop, port = start_server(handler)
    work = Path(tempfile.mkdtemp(prefix="bench_email_"))
    wav = work / "vm.wav"
    wav.write_bytes(os.urandom(64 * 1024))
    headers = "Subject: bench\nTo: ops@example.org"
    body = "Voicemail from 1000\n"
    results: dict[str, float] = {}

    # baseline: plain smtplib, connection per mail
    msg = (headers + "\n\n" + body).replace("\n", "\r\n").encode()
    t0 = time.perf_counter()
    for _ in range(n):
        with smtplib.SMTP("127.0.0.1", port, local_hostname="bench", timeout=5) as s:
            s.sendmail("pbx@example.org", ["ops@example.org"], msg)
    results["baseline"] = rate(n, time.perf_counter() - t0)

    def mailer(name: str, **kw) -> Mailer:
        kw.setdefault("helo", "bench")
        return Mailer(MailerSettings(**kw), str(work / name / "temp"), str(work / name / "spool"))

    m = mailer("smtp", mode="smtp", host="127.0.0.1", port=port)
    t0 = time.perf_counter()
    for _ in range(n):
        assert m.send("ops@example.org", "pbx@example.org", headers, body)
    results["smtp"] = rate(n, time.perf_counter() - t0)

    t0 = time.perf_counter()
    for _ in range(n):
        assert m.send("ops@example.org", "pbx@example.org", headers, body, str(wav))
    results["smtp+att"] = rate(n, time.perf_counter() - t0)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(a.threads) as ex:
        ok = list(
            ex.map(lambda _: m.send("ops@example.org", "pbx@example.org", headers, body), range(n))
        )
    assert all(ok)
    results[f"smtp x{a.threads}"] = rate(n, time.perf_counter() - t0)
    m.stop()

    if shutil.which("msmtp"):
        rc = work / "msmtprc"
        rc.write_text(f"account default\nhost 127.0.0.1\nport {port}\nauth off\ntls off\n")
        rc.chmod(0o600)
        # msmtp run by hand: what the program itself costs, without mod_email
        raw = (headers + "\n\n" + body).encode()
        t0 = time.perf_counter()
        for _ in range(n):
            subprocess.run(
                ["msmtp", "-C", str(rc), "-f", "pbx@example.org", "ops@example.org"],
                input=raw,
                check=True,
            )
        results["msmtp alone"] = rate(n, time.perf_counter() - t0)
        ms = mailer("sendmail", mailer_app="msmtp", mailer_app_args=f"-C {rc}")
        t0 = time.perf_counter()
        for _ in range(n):
            assert ms.send("ops@example.org", "pbx@example.org", headers, body)
        results["sendmail(msmtp)"] = rate(n, time.perf_counter() - t0)
        ms.stop()
    else:
        print("msmtp not installed: sendmail mode not measured")

    handler.refuse = True
    sp = mailer("spool", mode="smtp", host="127.0.0.1", port=port, retry_schedule=(3600.0,))
    t0 = time.perf_counter()
    for _ in range(n):
        assert sp.send_ex("ops@example.org", "pbx@example.org", headers, body).status == "queued"
    results["spool(fsync)"] = rate(n, time.perf_counter() - t0)
    sp.stop()

    base = results["baseline"]
    print(f"mails per second, {n} mails each (server: aiosmtpd on 127.0.0.1:{port})")
    for name, r in results.items():
        print(f"  {name:<18} {r:9.1f} /s   x{r / base:5.2f} of baseline")
    if "msmtp alone" in results:
        r = results["sendmail(msmtp)"] / results["msmtp alone"]
        print(f"  sendmail mode vs msmtp alone: x{r:.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
