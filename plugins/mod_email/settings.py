"""The mailer's settings: switch.conf.xml's ``mailer-app``/``mailer-app-args`` plus the
``email.conf`` ``<settings>`` params (see docs/email.md for each one)."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

from fsd.log import WARNING, log
from fsd.truth import is_true

DEFAULT_RETRY = (60.0, 300.0, 900.0, 1800.0, 3600.0)


@dataclass
class MailerSettings:
    mailer_app: str = "sendmail"
    mailer_app_args: str = "-t"
    mode: str = "sendmail"  # "sendmail" (pipe to mailer-app) or "smtp" (talk SMTP directly)
    host: str = "localhost"
    port: int = 0  # 0: 25, or 465 with tls
    starttls: bool = False
    tls: bool = False  # implicit TLS (SMTPS)
    tls_verify: bool = True
    ca_file: str = ""
    user: str = ""
    password: str = ""
    helo: str = field(default_factory=socket.gethostname)
    timeout: float = 5.0
    default_from: str = ""
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY
    max_age: float = 5 * 86400.0
    workers: int = 4
    convert_timeout: float = 60.0
    spool_fsync: bool = True

    @property
    def smtp_port(self) -> int:
        return self.port or (465 if self.tls else 25)


def _positive(name: str, v: str, default: float) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        f = -1.0
    if f <= 0:
        log(WARNING, f"email.conf: {name}={v!r} is not a positive number, using {default}")
        return default
    return f


def parse_retry_schedule(text: str) -> tuple[float, ...]:
    """``"60,300,900"`` → seconds to wait before each retry; the last one repeats."""
    out = []
    for part in str(text).replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            v = float(part)
        except ValueError:
            v = -1
        if v < 0:
            log(WARNING, f"email.conf: bad retry-schedule entry {part!r}, using the default")
            return DEFAULT_RETRY
        out.append(v)
    return tuple(out) or DEFAULT_RETRY


def settings_from_config(switch_settings: dict[str, str] | None, conf: Any) -> MailerSettings:
    """Build settings from switch.conf ``<settings>`` (a dict, keys lower-case) and the
    ``<configuration name="email.conf">`` element (lxml) or ``None``."""
    s = MailerSettings()
    ss = switch_settings or {}
    if ss.get("mailer-app"):
        s.mailer_app = ss["mailer-app"]
    if "mailer-app-args" in ss:
        s.mailer_app_args = ss["mailer-app-args"] or ""
    params: list[tuple[str, str]] = []  # in document order: a later param wins
    if conf is not None:
        for p in conf.iterfind("settings/param"):
            name = (p.get("name") or "").strip().lower()
            if name:
                params.append((name, p.get("value") or ""))
    for name, v in params:
        if name == "mode":
            m = v.strip().lower()
            if m not in ("sendmail", "smtp"):
                log(WARNING, f"email.conf: mode={v!r} unknown, using sendmail")
                m = "sendmail"
            s.mode = m
        elif name == "smtp":  # shorthand: <param name="smtp" value="true"/>
            s.mode = "smtp" if is_true(v) else "sendmail"
        elif name == "host":
            s.host = v.strip() or s.host
        elif name == "port":
            try:
                s.port = int(v)
                if not 0 <= s.port <= 65535:
                    raise ValueError
            except ValueError:
                log(WARNING, f"email.conf: port={v!r} is not a port number, using the default")
                s.port = 0
        elif name == "starttls":
            s.starttls = is_true(v)
        elif name == "tls":
            s.tls = is_true(v)
        elif name == "tls-verify":
            s.tls_verify = is_true(v)
        elif name == "ca-file":
            s.ca_file = v.strip()
        elif name == "user":
            s.user = v
        elif name == "password":
            s.password = v
        elif name == "helo":
            s.helo = v.strip() or s.helo
        elif name == "timeout":
            s.timeout = _positive(name, v, s.timeout)
        elif name in ("default-from", "from"):
            s.default_from = v.strip()
        elif name == "retry-schedule":
            s.retry_schedule = parse_retry_schedule(v)
        elif name == "max-age":
            s.max_age = _positive(name, v, s.max_age)
        elif name == "workers":
            s.workers = max(1, int(_positive(name, v, s.workers)))
        elif name == "convert-timeout":
            s.convert_timeout = _positive(name, v, s.convert_timeout)
        elif name == "spool-fsync":
            s.spool_fsync = is_true(v)
        elif name in ("mailer-app", "mailer-app-args"):
            # allowed here too, so a container can override them without switch.conf
            setattr(s, name.replace("-", "_"), v)
        else:
            log(WARNING, f"email.conf: unknown param {name!r} ignored")
    return s
