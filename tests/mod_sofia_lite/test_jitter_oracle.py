"""The O(1) jitter buffer plays exactly what the previous O(n) one played.

Random streams (in order, swapped neighbours, duplicates, losses, packets of other sizes,
timestamp jumps and wraps, bursts and pauses) are fed to both the current buffer and the
oracle (``jitter_oracle.py``, the implementation before the change); every ``get`` and
``depth`` and every counter must agree.  The one deliberate difference, which packet a
full buffer gives up (longest held vs. oldest timestamp), only shows when a stream is both
reordered and 40 packets deep, so the streams stay below that depth.
"""

from __future__ import annotations

import numpy as np
from fsd_modules.mod_sofia_lite.jitter import JitterBuffer
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.mod_sofia_lite.jitter_oracle import JitterBuffer as Oracle

# One step: ("put", size, ts_step, swap_with_next, duplicate) or ("get", count).
_put = st.tuples(st.just("put"), st.sampled_from([160, 160, 160, 160, 80, 240]),
                 st.sampled_from([160, 160, 160, 160, 320, 0, 480, 20000]),
                 st.booleans(), st.booleans())
_get = st.tuples(st.just("get"), st.integers(1, 4))


def _frame(ts: int, n: int) -> np.ndarray:
    return (np.arange(n, dtype=np.int64) + ts).astype(np.int16)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_put, _get), max_size=120),
       st.integers(0, 0xFFFFFFFF), st.integers(1, 3), st.integers(4, 10))
def test_same_frames_and_counters_as_the_oracle(steps, ts0, jmin, jmax):
    new, old = JitterBuffer(8000, 160, jmin, jmax), Oracle(8000, 160, jmin, jmax)
    ts, now, pending = ts0, 0.0, None
    for step in steps:
        if step[0] == "put":
            _, size, ts_step, swap, dup = step
            if len(old._packets) >= 4 * jmax - 2:
                continue  # stay below the cap (see the module docstring)
            ts = (ts + ts_step) & 0xFFFFFFFF
            now += ts_step / 8000 * (0.5 if swap else 1.0)
            pkt = (ts, _frame(ts, size), now)
            batch = [pkt]
            if pending is not None:
                batch = [pkt, pending]  # the held-back packet arrives after its successor
                pending = None
            elif swap:
                pending = pkt
                batch = []
            if dup and batch:
                batch.append(batch[0])
            for t, f, a in batch:
                new.put(t, f, a)
                old.put(t, f, a)
        else:
            for _ in range(step[1]):
                a, b = new.get(), old.get()
                assert (a is None) == (b is None)
                if a is not None:
                    assert np.array_equal(a, b)
        assert new.depth() == old.depth()
        for k in ("late", "underruns", "dropped", "resyncs", "played", "target"):
            assert getattr(new, k) == getattr(old, k), k
