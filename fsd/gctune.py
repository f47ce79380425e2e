"""Runtime settings for the long-running daemon: garbage collector and GIL switch interval
(issues 13 and 14, docs/performance.md).

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
import sys

#: gen-0 threshold: allocations minus frees between young collections (CPython: 700).
GEN0 = 20_000
GEN1 = 20
GEN2 = 20

#: How long a thread may keep the GIL while another waits for it (CPython: 5 ms).  The
#: media clock gives the GIL up at every socket call of its tick (a send and a read per RTP
#: call); each time, getting it back can take up to this long when another thread is
#: busy, and the wake-up at its deadline waits the same way.  At 5 ms that put 25 ms gaps
#: into 20 ms packet streams; 1 ms bounds the wait and costs little (a thread switch
#: per millisecond only while two threads compete).
SWITCH_INTERVAL = 0.001


def tune_for_daemon() -> None:
    """Call once start-up is over: freeze what exists, collect less often, and hand the
    GIL over sooner (:data:`SWITCH_INTERVAL`).

    ``FSD_GC=default`` in the environment leaves CPython's settings alone (to compare)."""
    if os.environ.get("FSD_GC") == "default":
        return
    sys.setswitchinterval(SWITCH_INTERVAL)
    gc.collect()
    gc.freeze()  # start-up objects go to the permanent generation: full collections skip them
    gc.set_threshold(GEN0, GEN1, GEN2)
