"""One script run, whatever its language: the kill flag, the resources closed at its end,
and the registry of running scripts (``lua_list``/``lua_kill``, ``python_list``/
``python_kill``).

Containment rules, stated once:

* A run is told to stop with :meth:`ScriptContext.kill` (any thread).  That only sets a
  flag and runs the ``on_kill`` callbacks (which break the session's media so a blocked
  call returns).  The script's own thread raises :class:`ScriptKilled` at its next
  blocking call or check; a language adapter adds its own way to reach code that never
  calls back (Lua: a count hook; Python: an asynchronous exception).
* Everything a run opens (event consumers, DB leases, Session objects) is registered
  with :meth:`ScriptContext.own` and closed when the run ends, whatever the script did.
* A fault in a script ends that run only; it is logged with file:line by the adapter.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from fsd.log import ERR, log
from fsd.numbers import is_digits


class ScriptKilled(Exception):
    """Raised inside blocking calls when the run has been told to stop."""


_ids = itertools.count(1)


class ScriptContext:
    """Everything one run owns; the ``ctx`` the script objects receive.

    ``host`` is a :class:`fsd.scripting.host.ScriptHost`; ``uuid`` the channel the run
    belongs to (for log lines), ``name`` the script."""

    #: the ``file`` of log lines written for the run (adapters set their C file name)
    log_file = "switch_cpp.cpp"
    #: prefix of DB lease owners and similar per-run names
    language = "script"

    def __init__(self, host: Any, name: str = "", *, uuid: str = "") -> None:
        self.id = next(_ids)
        self.host = host
        self.name = name
        self.uuid = uuid
        self.kill_event = threading.Event()
        self.kill_reason = ""
        self.thread: threading.Thread | None = None
        self.started = 0.0
        self._resources: list[Any] = []
        self._on_kill: list[Any] = []
        self.sessions: list[Any] = []  # Session objects of this run

    # -- containment ------------------------------------------------------------------
    def kill(self, reason: str = "killed") -> None:
        """Ask the script to stop (any thread)."""
        if not self.kill_event.is_set():
            self.kill_reason = reason
            self.kill_event.set()
            for cb in list(self._on_kill):
                try:
                    cb()  # e.g. break the session's media so a blocking call returns
                except Exception as e:
                    log(ERR, f"{self.language}: kill callback failed: {e}", uuid=self.uuid)

    def drop_kill_callbacks(self) -> None:
        """At the end of the run: nothing may keep the run's objects alive through this
        context."""
        self._on_kill = []

    def on_kill(self, cb: Any) -> None:
        """Run ``cb()`` when the script is told to stop (any thread)."""
        self._on_kill.append(cb)
        if self.kill_event.is_set():
            cb()

    def killed(self) -> bool:
        return self.kill_event.is_set()

    def sleep(self, seconds: float) -> None:
        """A sleep that a kill interrupts (raises ScriptKilled)."""
        if seconds > 0 and self.kill_event.wait(seconds):
            raise ScriptKilled(self.kill_reason)
        if self.kill_event.is_set():
            raise ScriptKilled(self.kill_reason)

    def raise_in_script(self, message: str) -> None:
        """Make the script see an error ``message`` once the running call returns
        (Session's hangup-hook "exit", ``destroy(errmsg)``).  Adapters override."""
        raise ScriptKilled(message)

    # -- resources closed at the end of the run -----------------------------------------
    def own(self, resource: Any) -> Any:
        """Remember an object whose ``close()`` must run when the script ends."""
        self._resources.append(resource)
        return resource

    def close_resources(self) -> None:
        res, self._resources = self._resources, []
        for r in reversed(res):
            try:
                r.close()
            except Exception as e:  # a failing close must not hide the others
                log(ERR, f"{self.language}: closing {type(r).__name__} failed: {e}",
                    uuid=self.uuid)

    def log(self, level: int, text: str) -> None:
        log(level, text, uuid=self.uuid, file=self.log_file, func=self.language, line=0)


class ScriptRegistry:
    """The scripts of one language running right now, by id: what ``<lang>_list`` shows
    and ``<lang>_kill`` stops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[int, ScriptContext] = {}
        self.started = 0  # since start, for /metrics
        self.errors = 0  # runs that ended in an error, a kill or a memory cap

    def note_error(self) -> None:
        with self._lock:
            self.errors += 1

    def add(self, ctx: ScriptContext) -> None:
        with self._lock:
            self._runs[ctx.id] = ctx
            self.started += 1

    def remove(self, ctx: ScriptContext) -> None:
        with self._lock:
            self._runs.pop(ctx.id, None)

    def list(self) -> list[ScriptContext]:
        with self._lock:
            return sorted(self._runs.values(), key=lambda c: c.id)

    def get(self, run_id: int) -> ScriptContext | None:
        with self._lock:
            return self._runs.get(run_id)

    def kill(self, run_id: int, reason: str = "killed") -> bool:
        """Stop one running script; False if no such id is running."""
        ctx = self.get(run_id)
        if ctx is None:
            return False
        ctx.kill(reason)
        return True

    def kill_all(self, reason: str = "killed") -> int:
        runs = self.list()
        for ctx in runs:
            ctx.kill(reason)
        return len(runs)

    def __len__(self) -> int:
        with self._lock:
            return len(self._runs)


def write_list(registry: ScriptRegistry, stream: Any) -> None:
    """``<lang>_list``: one CSV line per running script."""
    import time

    now = time.time()
    stream.write("id,script,uuid,thread,seconds\n")
    for c in registry.list():
        tname = c.thread.name if c.thread else ""
        stream.write(f"{c.id},{c.name},{c.uuid},{tname},{now - c.started:.1f}\n")
    stream.write(f"\n{len(registry)} total.\n")


def kill_command(registry: ScriptRegistry, args: str, stream: Any, command: str) -> bool | None:
    """``<lang>_kill <id>|all``: the API body shared by the languages."""
    a = (args or "").strip()
    if a.lower() == "all":
        n = registry.kill_all(f"killed by {command} all")
        stream.write(f"+OK {n} stopped\n")
        return None
    if not is_digits(a):
        stream.write(f"-ERR Usage: {command} <id>|all\n")
        return False
    if registry.kill(int(a), f"killed by {command}"):
        stream.write("+OK\n")
        return None
    stream.write(f"-ERR no running script with id {a}\n")
    return False
