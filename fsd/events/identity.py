"""Who this switch is: the values stamped into every event's standard headers.

Defaults are computed once, on first use: the host name, a random Core-UUID, a guess at
the local IPv4 address and ``::1``.  The core overrides them at start-up with
``set_identity`` (switch.conf's switchname, a fixed uuid for tests...).
"""

from __future__ import annotations

import socket
import threading
import uuid
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Identity:
    core_uuid: str
    hostname: str
    switchname: str
    ipv4: str
    ipv6: str


_lock = threading.Lock()
_current: Identity | None = None


def guess_ipv4() -> str:
    """The address the kernel would use for an outbound route.

    A UDP socket's connect() only picks a route; it sends nothing."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))  # TEST-NET-1: never contacted
        return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        s.close()


def _defaults() -> Identity:
    host = socket.gethostname() or "localhost"
    return Identity(str(uuid.uuid4()), host, host, guess_ipv4(), "::1")


def get_identity() -> Identity:
    """The current identity (computing the defaults on first call)."""
    global _current
    ident = _current
    if ident is None:
        with _lock:
            if _current is None:
                _current = _defaults()
            ident = _current
    return ident


def set_identity(
    *,
    core_uuid: str | None = None,
    hostname: str | None = None,
    switchname: str | None = None,
    ipv4: str | None = None,
    ipv6: str | None = None,
) -> Identity:
    """Override some identity fields; None keeps the current value.

    Setting ``hostname`` alone also moves ``switchname`` when the two were equal, since
    FreeSWITCH falls back to the host name when no switchname is configured."""
    global _current
    with _lock:
        cur = _current or _defaults()
        changes: dict[str, str] = {}
        if core_uuid is not None:
            changes["core_uuid"] = core_uuid
        if hostname is not None:
            changes["hostname"] = hostname
            if switchname is None and cur.switchname == cur.hostname:
                changes["switchname"] = hostname
        if switchname is not None:
            changes["switchname"] = switchname or changes.get("hostname", cur.hostname)
        if ipv4 is not None:
            changes["ipv4"] = ipv4
        if ipv6 is not None:
            changes["ipv6"] = ipv6
        _current = replace(cur, **changes)
        return _current
