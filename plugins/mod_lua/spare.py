"""Fresh Lua states built ahead of time, so an inline ``lua`` API call does not wait for one.

Building a state (a new ``LuaRuntime``, loading the 13 KB bootstrap bytecode, running it;
binding classes are built on first use, ``Stream`` and ``Event`` here already) is ~0.1 ms;
the script itself is usually a few µs.  A run
still gets a state nobody used before (no state is ever reused: scripts cannot see each
other), but it was made by a background thread while the daemon was idle.  Lupa runs Lua
without the GIL, so most of that building overlaps with other work on a second core.

A spare is only handed out if it was built for the host's current settings (bootstrap,
memory and CPU limits, package paths); otherwise it is dropped and the caller builds one.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from fsd.log import ERR, log

from . import runtime
from .runtime import LuaState, RunContext

#: what nearly every run without a channel wraps (``stream`` and ``env`` of the ``lua``
#: API, ``event`` of a hook, ``params`` of the XML handler): built with the spare, off the
#: request's path (any other class is built on first use, bindings/spec.py)
PREBUILD = "Stream,Event"


def settings_key(host: Any) -> tuple:
    """What a state depends on besides its run context."""
    return (id(runtime._BOOT), host.max_memory, host.cpu_limit, host.package_path,
            host.package_cpath)


class SpareStates:
    """Up to ``size`` ready ``(RunContext, LuaState)`` pairs, refilled by one daemon thread."""

    def __init__(self, host: Any, make_ctx: Callable[[], RunContext], size: int = 2) -> None:
        self.host = host
        self.make_ctx = make_ctx
        self.size = size
        self._ready: deque[tuple[tuple, RunContext, LuaState]] = deque()
        self._want = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._dead: deque[Any] = deque()  # used runtimes waiting for their lua_close

    def retire(self, lua: Any) -> None:
        """Take a used runtime and drop it in the background thread (freeing a state is
        ~0.3 ms of lua_close the API caller need not wait for)."""
        if self._stopped:
            return  # dropped right here
        self._dead.append(lua)
        self._kick()

    def take(self) -> tuple[RunContext, LuaState] | None:
        """A ready pair, or None (the caller builds its own); asks for a refill either way."""
        if self._stopped or self.size <= 0:
            return None
        try:
            key, ctx, state = self._ready.popleft()
        except IndexError:
            self._kick()
            return None
        self._kick()
        if key != settings_key(self.host):
            state.close()
            return None
        return ctx, state

    def _kick(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._stopped:
                    self._thread = threading.Thread(target=self._fill, name="fsd-lua-spares",
                                                    daemon=True)
                    self._thread.start()
        self._want.set()

    def _fill(self) -> None:
        while not self._stopped:
            self._want.wait()
            self._want.clear()
            while self._dead:
                self._dead.popleft()  # the last reference: lua_close runs here
            while len(self._ready) < self.size and not self._stopped:
                try:
                    key = settings_key(self.host)
                    ctx = self.make_ctx()
                    state = LuaState(ctx, prebuild=PREBUILD)
                    state.retire = self.retire
                    self._ready.append((key, ctx, state))
                except Exception as e:  # a broken bootstrap shows up in the real run
                    log(ERR, f"mod_lua: building a spare state failed: {e}")
                    break

    def stop(self) -> None:
        """Close the ready states and end the thread."""
        self._stopped = True
        self._want.set()
        t = self._thread
        if t is not None:
            t.join(2.0)
        while self._ready:
            _, _, state = self._ready.popleft()
            state.retire = None
            state.close()
        self._dead.clear()
