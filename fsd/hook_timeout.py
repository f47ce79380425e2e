"""Run one module hook on a thread of its own, bounded by ``module-load-timeout``.

A module's ``fsd_module_load`` that hangs would otherwise keep ``fsd -nc`` waiting forever
(and ``fsd -stop`` with it), and one that calls ``sys.exit`` would end the daemon with no
word of which module did it.  :func:`call_bounded` waits for the hook at most the timeout
(less when a shutdown is requested meanwhile), re-raises whatever the hook raised —
``SystemExit`` and other ``BaseException`` included — in the caller, and raises
:class:`HookTimeout` naming the module when the hook did not return in time.  Python cannot
stop a thread: a hook that timed out is abandoned on its (daemon) thread, and
``on_late_return`` runs if it ever returns, to undo what it declared.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from fsd.log import ERR, log

DEFAULT_TIMEOUT = 30.0  # seconds; settings key module-load-timeout
_SLICE = 0.1  # the wait checks for a shutdown request this often
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?", re.ASCII)


class HookTimeout(RuntimeError):
    """The hook did not return within the timeout (or a shutdown was requested)."""


def hook_timeout(settings: Mapping[str, Any] | None) -> float:
    """``module-load-timeout`` in seconds (0 disables the bound); bad values keep 30."""
    raw = str((settings or {}).get("module-load-timeout", "") or "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    if not _NUMBER.fullmatch(raw):
        log(ERR, f"module-load-timeout must be a number of seconds, not {raw!r}; using "
                 f"{DEFAULT_TIMEOUT:g}")
        return DEFAULT_TIMEOUT
    return float(raw)


# Set by the fsd process's SIGTERM/SIGINT handler (fsd/cli.py), not by fsctl shutdown:
# process-wide, so an in-process switch (tests) never sees another one's request.
_ABORT = threading.Event()


def abort_waits() -> None:
    """A signal asked the process to stop: every hook wait in progress or to come ends."""
    _ABORT.set()


def _shutdown_requested() -> bool:
    return _ABORT.is_set()


def call_bounded(module: str, hook: str, fn: Callable[[], Any], timeout: float,
                 on_late_return: Callable[[], Any] | None = None) -> Any:
    """``fn()`` on a daemon thread; its result, or what it raised, or HookTimeout."""
    box: dict[str, Any] = {}
    abandoned = threading.Event()
    lock = threading.Lock()

    def run() -> None:
        try:
            box["result"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the caller, whatever it is
            box["error"] = e
        with lock:
            late = abandoned.is_set()
        if late:
            log(ERR, f"module {module}: {hook} returned after its timeout; what it declared "
                     f"is removed")
            if on_late_return is not None:
                try:
                    on_late_return()
                except Exception as e:  # noqa: BLE001 - cleanup of an abandoned hook
                    log(ERR, f"module {module}: cleanup after late {hook} failed: {e}")

    t = threading.Thread(target=run, name=f"{hook}:{module}", daemon=True)
    t.start()
    deadline = None if timeout <= 0 else time.monotonic() + timeout
    while True:
        left = _SLICE if deadline is None else min(_SLICE, deadline - time.monotonic())
        if left > 0:
            t.join(left)
        if not t.is_alive():
            break
        stopping = _shutdown_requested()
        if stopping or (deadline is not None and time.monotonic() >= deadline):
            with lock:
                if t.is_alive():
                    abandoned.set()
            if abandoned.is_set():
                why = ("a shutdown was requested" if stopping else
                       f"module-load-timeout is {timeout:g} s")
                raise HookTimeout(f"module {module} did not return from {hook} "
                                  f"({why}); abandoned")
            break
    if "error" in box:
        raise box["error"]
    return box.get("result")
