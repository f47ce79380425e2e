"""xml_rpc.conf.xml ``<settings>`` → :class:`HttpSettings`.

FreeSWITCH's names (``http-port``, ``auth-realm``, ``auth-user``, ``auth-pass``,
``default-domain``, ``virtual-host``, ``commands-to-log``) are read as FreeSWITCH reads
them; ``realm``/``user``/``pass`` are accepted as short names.  fsd adds ``listen-ip``,
``auth-users``, ``max-query-size``, ``max-body-size`` and ``open-metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fsd.truth import is_true


def _int(v: str | None, default: int) -> int:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return default


@dataclass
class HttpSettings:
    listen_ip: str = "127.0.0.1"
    #: 0 picks a free port (tests, side-by-side instances).
    port: int = 8080
    realm: str = ""
    user: str = ""
    password: str = ""
    default_domain: str = ""
    #: the domain of a user without ``@domain`` is taken from the Host header first.
    virtual_host: bool = True
    #: directory users may log in (FreeSWITCH always allows them once a realm is set).
    auth_users: bool = True
    commands_to_log: str = ""
    max_query_size: int = 8192
    max_body_size: int = 1 << 20
    open_metrics: bool = False

    @property
    def auth_required(self) -> bool:
        """FreeSWITCH asks for credentials only when a realm is configured."""
        return bool(self.realm)

    @classmethod
    def from_xml(cls, cfg: Any) -> HttpSettings:
        s = cls()
        settings = cfg.find("settings") if cfg is not None else None
        if settings is None:
            return s
        for p in settings.iter("param"):
            name = (p.get("name") or "").strip().lower()
            val = (p.get("value") or "").strip()
            if not name or not val:  # FreeSWITCH ignores empty names and values
                continue
            if name == "listen-ip":
                s.listen_ip = val
            elif name == "http-port":
                s.port = _int(val, 8080)
            elif name in ("auth-realm", "realm"):
                s.realm = val
            elif name in ("auth-user", "user"):
                s.user = val
            elif name in ("auth-pass", "pass"):
                s.password = val
            elif name == "default-domain":
                s.default_domain = val
            elif name == "virtual-host":
                s.virtual_host = is_true(val)
            elif name == "auth-users":
                s.auth_users = is_true(val)
            elif name == "commands-to-log":
                s.commands_to_log = val
            elif name == "max-query-size":
                s.max_query_size = max(256, _int(val, s.max_query_size))
            elif name == "max-body-size":
                s.max_body_size = max(0, _int(val, s.max_body_size))
            elif name == "open-metrics":
                s.open_metrics = is_true(val)
        if not s.realm:
            # FreeSWITCH keeps user/pass only together with a realm
            s.user = s.password = ""
        return s
