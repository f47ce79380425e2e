"""Shared fixtures: a real SMTP server (aiosmtpd on an ephemeral port, in its own event
loop thread), a real msmtp configuration relaying to it, log capture and a mailer
factory."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from fsd_modules.mod_email.mailer import Mailer
from fsd_modules.mod_email.settings import MailerSettings

from fsd.log import DEBUG, logger

MSMTP = shutil.which("msmtp")


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class _Handler:
    box: SmtpServer

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.box.delay:
            await asyncio.sleep(self.box.delay)
        if self.box.refuse == "rcpt" or address in self.box.refuse_rcpts:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.box.delay:
            await asyncio.sleep(self.box.delay)
        if self.box.refuse == "data":
            return "554 5.7.1 message refused"
        with self.box.cond:
            self.box.mails.append(
                Received(
                    envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)
                )
            )
            self.box.cond.notify_all()
        return "250 OK queued"


@dataclass
class SmtpServer:
    """aiosmtpd on 127.0.0.1, port chosen by the kernel.  ``stop()``/``start()`` take it
    down and bring it back on the same port; ``refuse`` = "rcpt" or "data" makes it
    answer 5xx; ``delay`` makes it slow."""

    port: int = 0
    refuse: str = ""
    refuse_rcpts: set[str] = field(default_factory=set)  # refuse just these recipients
    delay: float = 0.0  # seconds before answering RCPT and DATA (a slow server)
    tls_context: Any = None  # offer STARTTLS (and require it) with this context
    users: dict[str, str] | None = None  # require AUTH with these user/passwords
    mails: list[Received] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = None
        self.start()

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def start(self) -> None:
        async def go():
            handler = _Handler(self)
            kw: dict[str, Any] = {"hostname": "test.local"}
            if self.tls_context is not None:
                kw.update(tls_context=self.tls_context, require_starttls=True)
            if self.users is not None:
                kw.update(authenticator=self._authenticate, auth_required=True)
                kw["auth_require_tls"] = self.tls_context is not None
            return await self.loop.create_server(
                lambda: SMTP(handler, **kw), "127.0.0.1", self.port
            )

        self.server = self._run(go())
        self.port = self.server.sockets[0].getsockname()[1]

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.users.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        return AuthResult(success=ok, handled=False)

    def stop(self) -> None:
        async def go():
            self.server.close()
            await self.server.wait_closed()

        if self.server is not None:
            self._run(go())
            self.server = None

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.mails) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return list(self.mails)


@pytest.fixture
def smtp_server():
    srv = SmtpServer()
    yield srv
    srv.close()


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 made with the real openssl program."""
    d = tmp_path_factory.mktemp("tls")
    key, cert = d / "key.pem", d / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


@pytest.fixture
def msmtprc(tmp_path, smtp_server):
    """A real msmtp configuration relaying to the test server."""
    assert MSMTP, "msmtp is not installed (run .ci/setup.d/email.sh)"
    path = tmp_path / "msmtprc"
    path.write_text(
        "defaults\nauth off\ntls off\nlogfile -\n"
        f"account default\nhost 127.0.0.1\nport {smtp_server.port}\n"
        "timeout 5\n"
    )
    os.chmod(path, 0o600)
    return str(path)


@pytest.fixture
def logs():
    """Every log line emitted during the test, as text."""
    lines: list[str] = []
    sid = logger.add_sink(lambda rec: lines.append(rec.text), DEBUG)
    yield lines
    logger.remove_sink(sid)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def make_mailer(tmp_path):
    """``make_mailer(**settings)`` → a started Mailer with temp and spool dirs under
    tmp_path; stopped at the end of the test."""
    made: list[Mailer] = []

    def make(start: bool = True, **kw) -> Mailer:
        kw.setdefault("timeout", 5.0)
        kw.setdefault("spool_fsync", False)
        m = Mailer(
            MailerSettings(**kw),
            str(tmp_path / "temp"),
            str(tmp_path / "storage" / "mail-spool"),
            start=start,
        )
        made.append(m)
        return m

    yield make
    for m in made:
        m.stop()


def _wait_until(pred, timeout: float = 10.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


@pytest.fixture
def wait_until():
    """``wait_until(predicate, timeout=10)`` → True once the predicate holds."""
    return _wait_until
