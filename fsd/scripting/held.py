"""Memory a script makes the switch hold for it, counted against its ``max_memory``.

A script's memory cap counts its interpreter heap only; a Lua string handed to the switch
(an event body, a header value) is copied into a Python object the script keeps alive
through a small wrapper, so 75 bodies of 20 MB held from Lua reached 1.66 GB under a
64 MB cap.  Objects that keep large strings for a script (:class:`ScriptEvent`) call
:func:`charge` when they take one and :func:`release` when they go; beyond the cap the
collector is run once (dead wrappers give their bytes back) and, if that is not enough,
the call fails with "not enough memory", which ends the script as its own heap's
exhaustion does.  Strings under :data:`CHARGE_MIN` are not counted: the wrapper pacing
(mod_lua's sandbox) keeps the many small ones in check.
"""

from __future__ import annotations

import threading
from typing import Any

CHARGE_MIN = 64 * 1024  # bytes; smaller strings are left to the collector's pacing
_LOCK = threading.RLock()  # RLock: a release may run from a finalizer inside charge()


def _heap(ctx: Any) -> int:
    lua = getattr(ctx, "lua", None)
    try:
        return int(lua.get_memory_used() or 0) if lua is not None else 0
    except Exception:  # noqa: BLE001 - no accounting available: the heap counts as 0
        return 0


def _collect(ctx: Any) -> None:
    lua = getattr(ctx, "lua", None)
    if lua is not None:
        try:
            lua.gccollect()
        except Exception:  # noqa: BLE001 - a state being closed: nothing to collect
            pass


def held(ctx: Any) -> int:
    return getattr(ctx, "held_bytes", 0)


def charge(ctx: Any, old: int, new: int) -> None:
    """Account a change from ``old`` to ``new`` bytes held for ``ctx``; raises
    MemoryError (nothing charged) when the script's cap would be exceeded."""
    cap = getattr(ctx, "max_memory", None)
    delta = new - old
    if not cap or not delta:
        return
    with _LOCK:
        ctx.held_bytes = held(ctx) + delta
    if delta < 0 or held(ctx) + _heap(ctx) <= cap:
        return
    _collect(ctx)
    if held(ctx) + _heap(ctx) > cap:
        with _LOCK:
            ctx.held_bytes = held(ctx) - delta
        raise MemoryError(f"not enough memory: {held(ctx) + delta} bytes of event data "
                          f"held for this script exceed its max-memory of {cap} bytes")


def release(ctx: Any, n: int) -> None:
    """``n`` bytes charged for ``ctx`` are no longer held."""
    if n and getattr(ctx, "max_memory", None):
        with _LOCK:
            ctx.held_bytes = held(ctx) - n


def size(text: str | None) -> int:
    """What to charge for holding ``text``: its length, or 0 when small."""
    n = len(text) if text is not None else 0
    return n if n >= CHARGE_MIN else 0
