"""The media clock: one thread that moves a frame for every port each packet time.

Why a dedicated thread and not an asyncio task: the event loop carries SIP, ESL and HTTP,
and any slow callback there (a big ESL write, XML parsing) would delay every call's audio.
A thread that sleeps to *absolute* deadlines (``next += ptime``) does not drift, and its
lateness (how long after the deadline it actually woke and started the tick) is the honest
measure of media quality: it grows when the tick's work no longer fits the packet time.
The work per port is a few numpy operations on a 160-sample frame, most of which release
nothing but are short; session threads never touch frames, they only wait on a port's
condition for the clock to report completion (playback ended, digit arrived).

When the clock falls more than five ticks behind (machine stalled) it re-anchors instead
of bursting frames to catch up, and counts the skipped ticks as ``overruns``.

Scheduling priority (:func:`set_priority`, FreeSWITCH's ``-rp``/``-hp``/``-np``/``-lp``):
``fsd -nc`` asks, as FreeSWITCH does by default, for realtime scheduling — but for the clock
threads only (SCHED_RR, lowest realtime priority), not the whole process: a Lua script in a
busy loop must never be able to starve the machine.  On a loaded machine this is what keeps
the tick at its deadline (measured at 500 RTP calls with other processes using 0.8 of the
2 cores: lateness p99 114 ms at normal priority, 1.3 ms realtime).  Without the right to
(no root, no CAP_SYS_NICE, a container) the clock logs it once and runs at normal priority.

Lateness is kept three ways: the last ~3000 ticks (percentiles in :meth:`MediaClock.stats`),
a histogram over :data:`LATE_BUCKETS` since start (``late_counts``, for /metrics) and the
same histogram plus the worst tick since the last :meth:`MediaClock.reset_stats`
(:meth:`MediaClock.lateness`) — the histograms never forget a spike, so
"no tick was later than X while the disk stalled" can be read off it.  The tick does no
disk I/O (files go through the I/O worker, see fsd/media/stream.py).
"""

from __future__ import annotations

import os
import threading
import time
from bisect import bisect_left
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from fsd.log import ERR, NOTICE, WARNING, log
from fsd.media.resample import DEFAULT_PTIME, check_ptime

if TYPE_CHECKING:  # pragma: no cover
    from fsd.media.port import MediaPort


#: Upper bounds (seconds) of the lateness histogram every clock keeps since start; /metrics
#: exports it (mod_xml_rpc).  The last count is for ticks later than the last bound.
LATE_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)


#: How clock threads ask to be scheduled: "normal", "high" (nice -10), "realtime"
#: (SCHED_RR 1) or "low" (nice 19).  Read when a clock thread starts.
PRIORITIES = ("normal", "high", "realtime", "low")
_priority = "normal"
_priority_warned = False


def set_priority(mode: str) -> None:
    """How clock threads started from now on are scheduled (see the module docstring)."""
    global _priority
    if mode not in PRIORITIES:
        raise ValueError(f"clock priority {mode!r} is not one of {', '.join(PRIORITIES)}")
    _priority = mode


def _apply_priority(mode: str) -> str:
    """Apply ``mode`` to the calling thread; returns what it got ("normal" when refused)."""
    global _priority_warned
    try:
        if mode == "realtime":
            os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(1))  # this thread only
        elif mode in ("high", "low"):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), -10 if mode == "high" else 19)
        return mode
    except (OSError, AttributeError) as exc:  # EPERM without CAP_SYS_NICE; no such call
        if not _priority_warned:
            _priority_warned = True
            log(WARNING, f"media clock: cannot run at {mode} priority ({exc}); "
                         "running at normal priority")
        return "normal"


class MediaClock:
    """Ticks every ``ptime`` ms and calls ``_tick()`` on every registered port."""

    def __init__(self, ptime: int = DEFAULT_PTIME, name: str = "") -> None:
        self.ptime = check_ptime(ptime)
        self.interval = ptime / 1000.0
        self.name = name or f"media-clock-{ptime}ms"
        self._ports: dict[int, MediaPort] = {}
        self._snapshot: tuple[MediaPort, ...] = ()
        self._hooks: tuple[Callable[[], None], ...] = ()
        self._end_hooks: tuple[Callable[[], None], ...] = ()
        self._stop_hooks: tuple[Callable[[], None], ...] = ()
        #: The deadline of the tick under way (``time.perf_counter`` seconds); the next
        #: one is ``deadline + interval``.
        self.deadline = 0.0
        #: How long after each deadline the thread wakes (seconds).  RTP sets it when the
        #: kernel sends its packets at the deadline (rtp_timed.py): woken just after the
        #: timer, the thread runs the kernel's sends on its way out of sleep, before it
        #: takes the GIL, instead of in the middle of its tick.
        self.wake_after = 0.0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._late: deque[float] = deque(maxlen=3000)  # lateness of recent ticks, seconds
        self._work: deque[float] = deque(maxlen=3000)  # time spent in recent ticks, seconds
        # CPU this thread used in recent ticks: work far above it means the tick waited
        # (for the GIL, or for a core the machine did not give it), not that it computed.
        self._cpu: deque[float] = deque(maxlen=3000)
        self.late_counts = [0] * (len(LATE_BUCKETS) + 1)
        self.late_sum = 0.0
        self.ticks = 0
        self.overruns = 0
        self.errors = 0
        self._hist = [0] * (len(LATE_BUCKETS) + 1)  # like late_counts, since reset_stats
        self._late_max = 0.0  # seconds, since reset_stats
        self._hist_ticks = 0
        self.priority = "normal"  # what the thread got (see set_priority)

    # -- ports -------------------------------------------------------------------------
    def register(self, port: MediaPort) -> None:
        with self._lock:
            self._ports[id(port)] = port
            self._snapshot = tuple(self._ports.values())
        self.start()

    def unregister(self, port: MediaPort) -> None:
        with self._lock:
            self._ports.pop(id(port), None)
            self._snapshot = tuple(self._ports.values())

    def add_tick_hook(self, hook: Callable[[], None], *, when: str = "start") -> None:
        """Run ``hook()`` in the clock thread: once per tick before the ports
        (``"start"``: an endpoint's batched socket I/O — RTP reads every stream's socket
        here, then each port reads its buffer), once per tick after them (``"end"``: RTP
        queues what the ports produced for the next deadline), or as the thread exits
        (``"stop"``: release what belongs to the thread)."""
        if when not in ("start", "end", "stop"):
            raise ValueError(f"tick hook time {when!r} is not start, end or stop")
        with self._lock:
            if when == "start":
                self._hooks = (*self._hooks, hook)
            elif when == "end":
                self._end_hooks = (*self._end_hooks, hook)
            else:
                self._stop_hooks = (*self._stop_hooks, hook)
        self.start()

    def remove_tick_hook(self, hook: Callable[[], None]) -> None:
        with self._lock:
            self._hooks = tuple(h for h in self._hooks if h is not hook)
            self._end_hooks = tuple(h for h in self._end_hooks if h is not hook)
            self._stop_hooks = tuple(h for h in self._stop_hooks if h is not hook)

    @property
    def port_count(self) -> int:
        return len(self._snapshot)

    # -- thread ------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=2)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._run_hooks(self._stop_hooks)

    def _loop(self) -> None:
        want = _priority
        self.priority = _apply_priority(want) if want != "normal" else "normal"
        if self.priority != "normal":
            log(NOTICE, f"{self.name}: running at {self.priority} priority")
        perf = time.perf_counter
        cpu = time.thread_time
        deadline = perf()
        behind = 0  # ticks in a row that started without sleeping
        while not self._stop.is_set():
            deadline += self.interval
            now = perf()
            if deadline > now:
                time.sleep(deadline - now + self.wake_after)
                behind = 0
            else:
                behind += 1
                if behind >= 5:
                    # Overloaded for 100 ms: at realtime priority a clock that never sleeps
                    # would keep lower-priority threads (SIP, scripts) off its core; give
                    # them a moment so calls can still be hung up and refused.
                    time.sleep(self.interval / 10)
                    behind = 0
            woke = perf()
            cpu0 = cpu()
            late = woke - deadline
            if late > self.interval * 5:
                # Too far behind: skip the missed ticks rather than burst them out.
                missed = int(late / self.interval)
                self.overruns += missed
                deadline += missed * self.interval
            self.deadline = deadline
            late = max(0.0, late)
            self._late.append(late)
            bucket = bisect_left(LATE_BUCKETS, late)
            self.late_counts[bucket] += 1
            self.late_sum += late
            self._hist[bucket] += 1
            self._hist_ticks += 1
            if late > self._late_max:
                self._late_max = late
            self._run_hooks(self._hooks)
            for port in self._snapshot:
                try:
                    port._tick()
                except Exception as exc:  # one broken port must not stop the others
                    self.errors += 1
                    log(
                        ERR, f"media clock: port {port.name!r} tick failed: {exc!r}", uuid=port.uuid
                    )
            self._run_hooks(self._end_hooks)
            self._work.append(perf() - woke)
            self._cpu.append(cpu() - cpu0)
            self.ticks += 1

    def _run_hooks(self, hooks: tuple[Callable[[], None], ...]) -> None:
        for hook in hooks:
            try:
                hook()
            except Exception as exc:  # a broken hook must not stop the clock
                self.errors += 1
                log(ERR, f"media clock: tick hook {hook!r} failed: {exc!r}")

    # -- figures -----------------------------------------------------------------------
    def stats(self) -> dict[str, float | int]:
        """Lateness percentiles (ms) over the last ~3000 ticks, work per tick, counters."""
        late = np.array(self._late, dtype=np.float64) * 1000.0
        work = np.array(self._work, dtype=np.float64) * 1000.0
        out: dict[str, float | int] = {
            "ptime_ms": self.ptime,
            "ports": self.port_count,
            "ticks": self.ticks,
            "overruns": self.overruns,
            "errors": self.errors,
            "priority": self.priority,
        }
        if len(late):
            out["late_p50_ms"] = float(np.percentile(late, 50))
            out["late_p99_ms"] = float(np.percentile(late, 99))
            out["late_max_ms"] = float(late.max())
            out["late_max_since_reset_ms"] = self._late_max * 1000.0
            out["work_mean_ms"] = float(work.mean()) if len(work) else 0.0
            out["cpu_mean_ms"] = float(np.mean(self._cpu)) * 1000.0 if self._cpu else 0.0
        else:
            out.update(late_p50_ms=0.0, late_p99_ms=0.0, late_max_ms=0.0, work_mean_ms=0.0,
                       cpu_mean_ms=0.0)
        return out

    def lateness(self) -> dict[str, object]:
        """Since the last reset: ticks, the worst lateness (ms), and the histogram as
        ``[(upper bound in ms, or None for "more"), count]`` pairs over LATE_BUCKETS."""
        bounds: list[float | None] = [b * 1000.0 for b in LATE_BUCKETS]
        bounds.append(None)
        return {
            "ticks": self._hist_ticks,
            "max_ms": self._late_max * 1000.0,
            "histogram": list(zip(bounds, list(self._hist), strict=True)),
        }

    def ticks_later_than(self, ms: float) -> int:
        """Ticks since the last reset late by more than ``ms`` (a LATE_BUCKETS bound)."""
        i = bisect_left(LATE_BUCKETS, ms / 1000.0 - 1e-12)
        if i >= len(LATE_BUCKETS) or abs(LATE_BUCKETS[i] * 1000.0 - ms) > 1e-9:
            raise ValueError(f"{ms} ms is not a histogram bound {LATE_BUCKETS} s")
        return sum(self._hist[i + 1 :])

    def reset_stats(self) -> None:
        self._late.clear()
        self._work.clear()
        self._cpu.clear()
        self._hist = [0] * (len(LATE_BUCKETS) + 1)
        self._late_max = 0.0
        self._hist_ticks = 0


_clocks: dict[int, MediaClock] = {}
_clocks_lock = threading.Lock()


def get_clock(ptime: int = DEFAULT_PTIME) -> MediaClock:
    """The shared clock for a packet time (one per ptime: 10, 20 or 30 ms)."""
    check_ptime(ptime)
    with _clocks_lock:
        clock = _clocks.get(ptime)
        if clock is None:
            clock = _clocks[ptime] = MediaClock(ptime)
        return clock


def all_stats() -> list[dict[str, float | int]]:
    with _clocks_lock:
        return [c.stats() for c in _clocks.values()]


def shutdown_clocks() -> None:
    with _clocks_lock:
        clocks = list(_clocks.values())
        _clocks.clear()
    for c in clocks:
        c.stop()
