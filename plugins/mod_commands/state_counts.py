"""Channels by state, kept from the ``fsd_channel_state`` hook and shown as one extra
line of ``status`` (``channels by state: CS_EXECUTE 2, CS_PARK 1``).  The counts live in
the module's own ``state``; the hooks get it as ``module``."""

from __future__ import annotations

import threading
from typing import Any

import fsd


class StateCounts:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_uuid: dict[str, str] = {}

    def moved(self, uuid: str, new: str) -> None:
        with self._lock:
            if new == "CS_DESTROY":
                self._by_uuid.pop(uuid, None)
            else:
                self._by_uuid[uuid] = new

    def gone(self, uuid: str) -> None:
        with self._lock:
            self._by_uuid.pop(uuid, None)

    def line(self) -> str:
        with self._lock:
            states = list(self._by_uuid.values())
        counts: dict[str, int] = {}
        for s in states:
            counts[s] = counts.get(s, 0) + 1
        text = ", ".join(f"{s} {n}" for s, n in sorted(counts.items()))
        return f"channels by state: {text or 'none'}"


def _counts(module: Any) -> StateCounts | None:
    return None if module is None else module.state.get("state_counts")


@fsd.hookimpl
def fsd_channel_state(session: Any, new: str, module: Any) -> None:
    counts = _counts(module)
    if counts is not None:
        counts.moved(session.uuid, new)


@fsd.hookimpl
def fsd_session_destroyed(session: Any, module: Any) -> None:
    counts = _counts(module)
    if counts is not None:
        counts.gone(session.uuid)


@fsd.hookimpl
def fsd_status_lines(module: Any) -> list[str]:
    counts = _counts(module)
    return [] if counts is None else [counts.line()]
