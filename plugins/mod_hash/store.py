"""mod_hash's two in-memory tables: the ``hash`` key/value store (``realm_key`` → value)
and the ``hash`` limit backend's usage items (FreeSWITCH's mod_hash.c)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from fsd import limit
from fsd.log import DEBUG, INFO


class HashStore:
    """The ``hash`` API/app data: one dict under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.data: dict[str, str] = {}


@dataclass
class LimitItem:
    total_usage: int = 0
    rate_usage: int = 0
    last_check: int = 0
    interval: int = 0


class HashLimit:
    """The ``hash`` limit backend: counts per ``realm_resource`` in memory, each channel's
    holdings remembered on the channel (released at hangup by the limit subsystem)."""

    PRIVATE = "limit_hash"

    def __init__(self, switch: Any) -> None:
        self.switch = switch
        self.lock = threading.Lock()
        self.items: dict[str, LimitItem] = {}

    def _held(self, session: Any) -> set[str]:
        held = session.get_private("limit_hash_held")
        if held is None:
            held = session.set_private("limit_hash_held", set())
        return held

    def incr(self, session: Any, realm: str, resource: str, max: int, interval: int) -> bool:
        key = f"{realm}_{resource}"
        now = int(time.time())
        with self.lock:
            item = self.items.setdefault(key, LimitItem())
            held = self._held(session)
            increment = key not in held
            if interval > 0:
                item.interval = interval
                if item.last_check <= now - interval:
                    item.rate_usage = 1
                    item.last_check = now
                else:
                    item.rate_usage += 1
                    if max >= 0 and item.rate_usage > max:
                        session.log(INFO, f"Usage for {key} exceeds maximum rate of "
                                          f"{max}/{interval}s, now at {item.rate_usage}\n")
                        return False
            elif max >= 0 and item.total_usage + increment > max:
                session.log(INFO, f"Usage for {key} is already at max value ({item.total_usage})\n")
                return False
            if increment:
                item.total_usage += 1
                held.add(key)
                if max == -1:
                    session.log(DEBUG, f"Usage for {key} is now {item.total_usage}\n")
                elif interval == 0:
                    session.log(DEBUG, f"Usage for {key} is now {item.total_usage}/{max}\n")
                else:
                    session.log(DEBUG, f"Usage for {key} is now {item.rate_usage}/{max} "
                                       f"for the last {interval} seconds\n")
            total, rate = item.total_usage, item.rate_usage
        if increment:
            limit.fire_usage(self.switch, "hash", realm, resource, total, rate, max, max if max >= 0 else 0)
        session.set_variable("limit_usage", str(total))
        session.set_variable(f"limit_usage_{key}", str(total))
        session.set_variable("limit_rate", str(rate))
        session.set_variable(f"limit_rate_{key}", str(rate))
        return True

    def _drop(self, session: Any, key: str) -> None:
        item = self.items.get(key)
        if item is not None:
            item.total_usage -= 1
            session.log(DEBUG, f"Usage for {key} is now {item.total_usage}\n")
            if item.total_usage <= 0 and item.rate_usage == 0:
                del self.items[key]

    def release(self, session: Any, realm: str | None, resource: str | None) -> None:
        with self.lock:
            held = self._held(session)
            if realm is None and resource is None:
                for key in list(held):
                    self._drop(session, key)
                held.clear()
            else:
                key = f"{realm}_{resource}"
                if key in held:
                    held.discard(key)
                    self._drop(session, key)

    def usage(self, realm: str, resource: str) -> tuple[int, int]:
        with self.lock:
            item = self.items.get(f"{realm}_{resource}")
            return (item.total_usage, item.rate_usage) if item else (0, 0)

    def reset(self) -> bool:
        return False  # FreeSWITCH's hash backend does not implement reset

    def interval_reset(self, realm: str, resource: str) -> bool:
        with self.lock:
            item = self.items.get(f"{realm}_{resource}")
            if item is not None:
                item.rate_usage = 0
                item.last_check = int(time.time())
        return True

    def status(self) -> str:
        return "-ERR not supported yet (locking problems)."

    def dump(self) -> list[str]:
        with self.lock:
            return [f"L/{k}/{i.total_usage}/{i.rate_usage}/{i.interval}/{i.last_check}"
                    for k, i in self.items.items()]
