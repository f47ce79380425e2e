"""``fsd -stop`` always ends the daemon within switch.conf.xml's ``shutdown-timeout``.

A script stuck in one long C call (a backtracking ``string.find`` on a huge string) cannot
be interrupted by any hook, and Python cannot stop a thread: without this, the
interpreter's exit would wait for that thread forever.  :class:`ShutdownGuard` is started
when the shutdown begins; if ``switch.shutdown()`` itself has not returned by the
deadline, it logs what is still running and ends the process; once it has returned,
:meth:`ShutdownGuard.finish` waits for the remaining worker threads until the deadline and
then exits the process without joining the stuck ones (their names were logged by the
modules that own them, e.g. mod_lua's "abandoned" line).
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

DEFAULT_TIMEOUT = 20.0  # seconds; below fsd -stop's 30 s wait
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?", re.ASCII)


def shutdown_timeout(settings: Mapping[str, Any] | None) -> float:
    """``shutdown-timeout`` in seconds (bad or missing: 20)."""
    raw = str((settings or {}).get("shutdown-timeout", "") or "").strip()
    return float(raw) if _NUMBER.fullmatch(raw) and float(raw) > 0 else DEFAULT_TIMEOUT


def _exit_joins() -> None:
    """What the interpreter's exit waits for, done ahead of it (so it can be bounded):
    every ThreadPoolExecutor's workers (joined by an atexit hook, daemon or not) and every
    non-daemon thread."""
    try:
        from concurrent.futures import thread as cf_thread

        exit_hook = getattr(cf_thread, "_python_exit", None)
        if exit_hook is not None:
            exit_hook()  # wakes idle workers with their stop sentinel, joins them all
    except Exception:  # noqa: BLE001 - another Python: the exit joins them unbounded
        pass
    me = threading.current_thread()
    for t in threading.enumerate():
        if t is not me and t is not threading.main_thread() and not t.daemon:
            t.join()


def _busy_threads() -> list[threading.Thread]:
    """Every thread still alive but this one, the main thread and the guard's own."""
    me = threading.current_thread()
    return [t for t in threading.enumerate()
            if t is not me and t is not threading.main_thread() and t.is_alive()
            and not t.name.startswith("fsd-shutdown-")]


def _describe(threads: list[threading.Thread]) -> str:
    return ", ".join(t.name for t in threads) or "none"


class ShutdownGuard:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self._done = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="fsd-shutdown-guard",
                                          daemon=True)
        self._watchdog.start()

    def _watch(self) -> None:
        if self._done.wait(self.timeout):
            return
        from fsd.log import CRIT, log

        log(CRIT, f"shutdown did not finish within shutdown-timeout ({self.timeout:g} s); "
                  f"exiting with threads still running: {_describe(_busy_threads())}")
        _hard_exit(1)

    def finish(self) -> None:
        """After ``switch.shutdown()``: do the exit's thread joins until the deadline, then
        exit without them if any is stuck (never returns in that case)."""
        self._done.set()
        joins = threading.Thread(target=_exit_joins, name="fsd-shutdown-joins", daemon=True)
        joins.start()
        joins.join(max(0.0, self.deadline - time.monotonic()))
        if joins.is_alive():
            print(f"fsd: exiting with stuck threads abandoned: {_describe(_busy_threads())}",
                  file=sys.stderr)
            _hard_exit(0)


def _hard_exit(code: int) -> None:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)
