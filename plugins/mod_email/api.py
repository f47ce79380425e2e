"""The module's API commands: ``email_test`` and ``email_spool``."""

from __future__ import annotations

import socket
import time
from typing import Any

from .mailer import Mailer

EMAIL_TEST_SYNTAX = "email_test <to> [<from>]"
EMAIL_SPOOL_SYNTAX = "email_spool [retry]"


def _describe_transport(mailer: Mailer) -> str:
    s = mailer.settings
    if s.mode == "smtp":
        sec = " (implicit TLS)" if s.tls else " (STARTTLS)" if s.starttls else ""
        return f"smtp {s.host}:{s.smtp_port}{sec}"
    return f"sendmail program [{s.mailer_app} {s.mailer_app_args}]".replace(" ]", "]")


def email_test(mailer: Mailer, args: str, stream: Any) -> None:
    """Send a short test mail and say exactly what happened."""
    words = (args or "").split()
    if not words or len(words) > 2:
        stream.write(f"-ERR Usage: {EMAIL_TEST_SYNTAX}\n")
        return
    to = words[0]
    sender = words[1] if len(words) > 1 else ""
    host = socket.gethostname()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %z")
    headers = f"Subject: fsd test mail from {host}\nX-Mailer: fsd mod_email"
    body = f"This test mail was sent by the email_test command on {host} at {stamp}.\n"
    res = mailer.send_ex(to, sender, headers, body)
    via = _describe_transport(mailer)
    if res.status == "sent":
        stream.write(f"+OK sent to {to} via {via}\n")
    elif res.status == "queued":
        stream.write(
            f"-ERR not delivered via {via}: {res.reason}; queued as {res.spool_id} for retry\n"
        )
    else:
        stream.write(f"-ERR {res.reason}\n")


def email_spool(mailer: Mailer, args: str, stream: Any) -> None:
    """List the queued mails, or make them all due now (``retry``)."""
    word = (args or "").strip().lower()
    if word == "retry":
        n = mailer.retry_now()
        stream.write(f"+OK {n} queued mail(s) due now\n")
        return
    if word:
        stream.write(f"-ERR Usage: {EMAIL_SPOOL_SYNTAX}\n")
        return
    entries = mailer.spool.entries()
    failed = mailer.spool.failed()
    now = time.time()
    lines = [
        f"transport: {_describe_transport(mailer)}",
        f"spool: {mailer.spool.dir}",
        f"queued: {len(entries)}",
    ]
    for e in entries:
        due = max(0.0, e.next_try - now)
        lines.append(
            f"  {e.id} to=[{', '.join(e.recipients)}] from=[{e.sender}] "
            f"attempts={e.attempts} next_try_in={due:.0f}s last_error=[{e.last_error}]"
        )
    lines.append(f"given up (in {mailer.spool.failed_dir}): {len(failed)}")
    for sid in failed:
        lines.append(f"  {sid}")
    stream.write("\n".join(lines) + "\n")
