"""Garbage-collector settings for the long-running daemon (issue 13, docs/performance.md).

Scripts keep Python objects alive for a while (a Lua userdata holds its Python object
until Lua's own collector runs), so the young generation is full of live objects and
CPython's default gen-0 threshold (700 allocations) makes the collector walk them again
and again: measured, 60 % of the cost of ``freeswitch.Event(...)`` from Lua was gen-0
collections.  A daemon wants few, larger collections instead, and the objects made at
start-up (modules, config, bindings) moved out of the collector's sight for good.
"""

from __future__ import annotations

import gc
import os

#: gen-0 threshold: allocations minus frees between young collections (CPython: 700).
GEN0 = 20_000
GEN1 = 20
GEN2 = 20


def tune_for_daemon() -> None:
    """Call once start-up is over: freeze what exists, collect less often.

    ``FSD_GC=default`` in the environment leaves CPython's settings alone (to compare)."""
    if os.environ.get("FSD_GC") == "default":
        return
    gc.collect()
    gc.freeze()  # start-up objects go to the permanent generation: full collections skip them
    gc.set_threshold(GEN0, GEN1, GEN2)
