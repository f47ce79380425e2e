"""event_socket.conf.xml ``<settings>`` → :class:`ESLSettings` (defaults as FreeSWITCH)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fsd.numbers import to_int

MAX_QUEUE_LEN = 100_000
MAX_MISSED = 500


def _int(v: str | None, default: int) -> int:
    return to_int(v, default)


@dataclass
class ESLSettings:
    listen_ip: str = "127.0.0.1"
    #: 0 means an ephemeral port (an fsd extension for tests and side-by-side instances).
    listen_port: int = 8021
    password: str = "ClueCon"
    acls: list[str] = field(default_factory=lambda: ["loopback.auto"])
    #: fsd extensions: TLS for the inbound listener, queue sizes and the miss limit.
    tls_cert: str = ""
    tls_key: str = ""
    event_queue_size: int = MAX_QUEUE_LEN
    log_queue_size: int = MAX_QUEUE_LEN
    max_missed: int = MAX_MISSED
    auth_timeout: float = 25.0
    debug: int = 0
    #: fsd extensions (docs/security.md): API threads (one per connection that runs
    #: ``api``), the largest body after auth, and unread reply bytes before a disconnect.
    max_api_threads: int = 1000
    max_body: int = 16 * 1024 * 1024
    max_send_buffer: int = 64 * 1024 * 1024

    @classmethod
    def from_params(cls, params: list[tuple[str, str]]) -> ESLSettings:
        """From the ``(name, value)`` pairs in file order (apply-inbound-acl may repeat)."""
        s = cls()
        acls: list[str] = []
        for name, val in params:
            n = name.lower()
            if n == "listen-ip" and val:
                s.listen_ip = val
            elif n == "listen-port":
                s.listen_port = _int(val, 8021)
            elif n == "password" and val:
                s.password = val
            elif n == "apply-inbound-acl" and val:
                acls.append(val)
            elif n == "tls-cert":
                s.tls_cert = val
            elif n == "tls-key":
                s.tls_key = val
            elif n == "event-queue-size":
                s.event_queue_size = max(1, _int(val, MAX_QUEUE_LEN))
            elif n == "log-queue-size":
                s.log_queue_size = max(1, _int(val, MAX_QUEUE_LEN))
            elif n == "max-missed-events":
                s.max_missed = max(0, _int(val, MAX_MISSED))
            elif n == "auth-timeout":
                s.auth_timeout = float(max(1, _int(val, 25)))
            elif n == "debug":
                s.debug = _int(val, 0)
            elif n == "max-api-threads":
                s.max_api_threads = max(1, _int(val, 1000))
            elif n == "max-body-size":
                s.max_body = max(0, _int(val, s.max_body))
            elif n == "max-send-buffer":
                s.max_send_buffer = max(64 * 1024, _int(val, s.max_send_buffer))
        if acls:
            s.acls = acls
        if s.listen_port < 0 or s.listen_port > 65535:
            s.listen_port = 8021
        return s

    @classmethod
    def from_xml(cls, cfg_el) -> ESLSettings:
        """From the ``<configuration name="event_socket.conf">`` element (or None)."""
        params: list[tuple[str, str]] = []
        if cfg_el is not None:
            settings = cfg_el.find("settings")
            if settings is not None:
                for p in settings.iter("param"):
                    if p.get("name"):
                        params.append((p.get("name"), p.get("value", "")))
        return cls.from_params(params)

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert)
