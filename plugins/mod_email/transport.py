"""The two ways a built message leaves: a sendmail-compatible program, or SMTP.

Each transport has ``deliver(path, sender, recipients)`` (``path``: the message file,
the temp file on the first attempt, the spool file on retries) which returns on
success and raises :class:`DeliveryError` otherwise.  Both run in a worker thread
(see :mod:`.mailer`), so they may block up to their own timeout.
"""

from __future__ import annotations

import re
import shlex
import smtplib
import ssl
import subprocess

from .message import missing_headers
from .settings import MailerSettings


class DeliveryError(Exception):
    """A delivery attempt failed.  ``config_error`` marks failures a retry cannot fix
    (the mailer program does not exist or cannot be executed); ``recipients`` lists the
    recipients still to be delivered when only some were refused."""

    def __init__(
        self, reason: str, *, config_error: bool = False, recipients: list[str] | None = None
    ):
        super().__init__(reason)
        self.reason = reason
        self.config_error = config_error
        self.recipients = recipients


def split_words(text: str, what: str) -> list[str]:
    """Split a command line setting the way a POSIX shell splits words (shlex), without
    any other shell feature: quotes group, but ``|``, ``>`` or ``$VAR`` are literal."""
    try:
        return shlex.split(text or "")
    except ValueError as e:
        raise DeliveryError(f"cannot parse {what} {text!r}: {e}", config_error=True) from e


class SendmailTransport:
    """Pipes the message to ``<mailer-app> -f <from> <mailer-app-args...> <to...>``.

    FreeSWITCH builds ``/bin/cat tmp | app -f 'from' args 'to'`` for a shell; we build the
    same words as an argument vector (``mailer-app`` and ``mailer-app-args`` split like a
    shell would split them) and give the message on standard input."""

    name = "sendmail"

    def __init__(self, settings: MailerSettings) -> None:
        self.settings = settings

    def argv(self, sender: str, recipients: list[str]) -> list[str]:
        app = split_words(self.settings.mailer_app, "mailer-app")
        if not app:
            raise DeliveryError("mailer-app is empty", config_error=True)
        args = split_words(self.settings.mailer_app_args, "mailer-app-args")
        return [*app, "-f", sender, *args, *recipients]

    def deliver(self, path: str, sender: str, recipients: list[str]) -> None:
        argv = self.argv(sender, recipients)
        try:
            stdin = open(path, "rb")
        except OSError as e:
            raise DeliveryError(f"cannot read message file {path}: {e.strerror}") from e
        try:
            with stdin:
                proc = subprocess.run(
                    argv,
                    stdin=stdin,
                    capture_output=True,
                    timeout=self.settings.timeout,
                    close_fds=True,
                )
        except FileNotFoundError as e:
            raise DeliveryError(f"mailer program {argv[0]!r} not found", config_error=True) from e
        except PermissionError as e:
            raise DeliveryError(
                f"mailer program {argv[0]!r} is not executable", config_error=True
            ) from e
        except OSError as e:
            raise DeliveryError(f"cannot run mailer program {argv[0]!r}: {e}") from e
        except subprocess.TimeoutExpired as e:
            raise DeliveryError(
                f"mailer program {argv[0]!r} did not finish within {self.settings.timeout:g}s (killed)"
            ) from e
        if proc.returncode != 0:
            err = (proc.stderr or proc.stdout or b"").decode("utf-8", "replace").strip()
            last = err.splitlines()[-1] if err else "no output"
            raise DeliveryError(f"{argv[0]} exited with status {proc.returncode}: {last}")


_LF = re.compile(rb"\r?\n")


class SmtpTransport:
    """Talks SMTP to ``host:port`` with smtplib (STARTTLS, implicit TLS, AUTH optional)."""

    name = "smtp"

    def __init__(self, settings: MailerSettings) -> None:
        self.settings = settings

    def _tls_context(self) -> ssl.SSLContext:
        s = self.settings
        ctx = ssl.create_default_context(cafile=s.ca_file or None)
        if not s.tls_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def deliver(self, path: str, sender: str, recipients: list[str]) -> None:
        s = self.settings
        with open(path, "rb") as f:
            message = f.read()
        extra = missing_headers(_header_block(message), sender, recipients, s.helo).encode("utf-8")
        # SMTP wants CRLF; smtplib leaves bytes alone, and bare LF is refused by strict
        # servers (it is how SMTP smuggling works).
        data = _LF.sub(b"\r\n", extra + message)
        where = f"{s.host}:{s.smtp_port}"
        try:
            if s.tls:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host,
                    s.smtp_port,
                    local_hostname=s.helo,
                    timeout=s.timeout,
                    context=self._tls_context(),
                )
            else:
                conn = smtplib.SMTP(s.host, s.smtp_port, local_hostname=s.helo, timeout=s.timeout)
            with conn:
                if s.starttls and not s.tls:
                    conn.starttls(context=self._tls_context())
                if s.user:
                    conn.login(s.user, s.password)
                refused = conn.sendmail(sender, recipients, data)
        except smtplib.SMTPRecipientsRefused as e:
            raise DeliveryError(
                f"{where} refused every recipient: {_fmt_refused(e.recipients)}"
            ) from e
        except smtplib.SMTPResponseException as e:
            msg = (
                e.smtp_error.decode("utf-8", "replace")
                if isinstance(e.smtp_error, bytes)
                else str(e.smtp_error)
            )
            raise DeliveryError(f"{where} answered {e.smtp_code} {msg}") from e
        except (smtplib.SMTPException, OSError) as e:
            raise DeliveryError(f"cannot deliver to {where}: {e or type(e).__name__}") from e
        if refused:
            raise DeliveryError(
                f"{where} refused some recipients: {_fmt_refused(refused)}",
                recipients=list(refused),
            )


def _fmt_refused(refused: dict) -> str:
    parts = []
    for rcpt, (code, msg) in refused.items():
        text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
        parts.append(f"{rcpt} ({code} {text})")
    return ", ".join(parts)


def _header_block(message: bytes) -> str:
    """The header block of a built message (up to the first empty line)."""
    text = message.decode("utf-8", "replace")
    end = text.find("\n\n")
    return text if end < 0 else text[:end]


def make_transport(settings: MailerSettings) -> SendmailTransport | SmtpTransport:
    return SmtpTransport(settings) if settings.mode == "smtp" else SendmailTransport(settings)
