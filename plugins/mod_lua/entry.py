"""The ways a Lua script is started (behaviour reference §1.2), without the daemon.

:class:`LuaEntry` holds a :class:`~fsd_modules.mod_lua.host.LuaHost` and the parsed
lua.conf.xml; its methods are the ``lua`` and ``luarun`` APIs, event hooks, the XML
handler, startup scripts, and fsd's ``lua_list``/``lua_kill`` for stopping a running
script.  ``plugins/mod_lua/__init__.py`` only wires these to the core.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

from lxml import etree

from fsd.events import Event
from fsd.log import ERR, WARNING, log
from fsd.scripting.context import kill_command, write_list

from .argv import parse_script_string
from .config import Hook, LuaConfig
from .host import LuaHost
from .runtime import REGISTRY, RunContext, RunResult, ScriptRegistry, run
from .spare import SpareStates

_HTTP_ERROR = "<H2>Error Executing Script</H2>"


class LuaEntry:
    def __init__(self, host: LuaHost, config: LuaConfig | None = None,
                 registry: ScriptRegistry | None = None, spares: int = 0) -> None:
        self.host = host
        self.config = config or LuaConfig()
        self.registry = registry if registry is not None else REGISTRY
        if self.config.max_memory and host.max_memory is None:
            host.max_memory = self.config.max_memory
        if self.config.cpu_limit and host.cpu_limit is None:
            host.cpu_limit = self.config.cpu_limit
        if self.config.kill_after_hangup and host.kill_after_hangup is None:
            host.kill_after_hangup = self.config.kill_after_hangup
        if self.config.script_dirs or self.config.module_dirs:
            host.set_search_dirs(self.config.script_dirs, self.config.module_dirs)
        self._threads: set[threading.Thread] = set()
        self._tlock = threading.Lock()
        self._hook_q: queue.Queue[tuple[Hook, Any] | None] = queue.Queue(maxsize=10000)
        self._hook_thread: threading.Thread | None = None
        self._contexts: set[RunContext] = set()
        #: fresh states made ahead of time for runs without a channel (``lua`` API, luarun)
        #: (the loaded module keeps two; a bare entry, as in unit tests, none)
        self.spares = SpareStates(host, self.new_context, size=spares)

    # -- one run ------------------------------------------------------------------------
    def new_context(self, name: str = "", uuid: str = "") -> RunContext:
        return RunContext(self.host, name, uuid=uuid, cpu_limit=self.host.cpu_limit,
                          max_memory=self.host.max_memory)

    def run_string(self, text: str, *, objects: dict[str, tuple[str, Any]] | None = None,
                   tables: dict[str, Any] | None = None, collect: tuple[str, ...] = (),
                   uuid: str = "") -> RunResult:
        """Parse a script string and run it here, in the calling thread."""
        spec = parse_script_string(text)
        if spec is None:
            return RunResult(False, "empty", "no script given")
        spare = self.spares.take() if not uuid else None
        if spare is not None:
            ctx, state = spare
        else:
            ctx, state = self.new_context(uuid=uuid), None
        return run(ctx, spec, objects=objects, tables=tables, collect=collect,
                   registry=self.registry, state=state)

    def run_inline(self, code: str, session: Any = None) -> str | None:
        """The language contract's ``inline`` entry: run Lua source text (with ``session``
        when given); returns the error message, or ``None`` when it ran."""
        objects = {"session": ("Session", session)} if session is not None else None
        uuid = getattr(session, "uuid", "") if session is not None else ""
        res = self.run_string("~" + code, objects=objects, uuid=uuid or "")
        return None if res.ok else (res.message or res.status)

    # -- API `lua` ------------------------------------------------------------------------
    def api_lua(self, args: str, session: Any, stream: Any) -> None:
        """``lua <script> [args]``: globals ``stream``, ``env`` and (with a session)
        ``session``; a failing script appends ``-ERR Cannot execute script``."""
        if not args or not args.strip():
            stream.write("")
            return None
        objects: dict[str, tuple[str, Any]] = {"stream": ("Stream", stream)}
        env = getattr(stream, "param_event", None)
        if env is not None:
            objects["env"] = ("Event", env)
        if session is not None:
            objects["session"] = ("Session", session)
        uuid = getattr(session, "uuid", "") if session is not None else ""
        result = self.run_string(args, objects=objects, uuid=uuid or "")
        if not result.ok:
            uri = env.get_header("http-uri") if env is not None else None
            if uri and (uri.startswith("/api/") or uri.startswith("/webapi/")):
                stream.write(_HTTP_ERROR)
            else:
                stream.write("-ERR Cannot execute script\n")
        return None

    # -- dialplan application `lua` ------------------------------------------------------
    def app_lua(self, session: Any, data: str) -> None:
        """``<action application="lua" data="script.lua args"/>``: globals ``session``
        (no auto-hangup) and ``argv``; when the script ends the dialplan goes on."""
        if not data or not data.strip():
            log(ERR, "no args specified!\n", uuid=session.uuid, file="mod_lua.cpp",
                func="lua_function", line=0)
            return
        self.run_string(data, objects={"session": ("Session", session)}, uuid=session.uuid)

    # -- chat application `lua` -------------------------------------------------------------
    def chat_lua(self, message: Any, data: str) -> None:
        """Chatplan ``lua``: the global ``message`` is the chat event."""
        if not data or not data.strip():
            log(ERR, "no args specified!\n", file="mod_lua.cpp", func="lua_chat_function", line=0)
            return
        self.run_string(data, objects={"message": ("Event", message)})

    # -- dialplan interface `LUA` -------------------------------------------------------------
    def dialplan_hunt(self, session: Any, args: str = "") -> list[tuple[str, str]]:
        """Dialplan type ``LUA``: the caller profile's context names the script
        (``lua/dialplan.lua`` when empty); the script sets ``ACTIONS``."""
        prof = session.caller_profile
        script = (getattr(prof, "context", "") or "").strip() or "lua/dialplan.lua"
        res = self.run_string(script, objects={"session": ("Session", session)},
                              collect=("ACTIONS",), uuid=session.uuid)
        if not res.ok:
            return []
        actions = res.collected.get("ACTIONS")
        if actions is None:
            return []
        if not isinstance(actions, list):
            if isinstance(actions, dict) and not actions:
                return []
            log(ERR, "ACTIONS is not a table\n", uuid=session.uuid)
            return []
        out: list[tuple[str, str]] = []
        for item in actions:
            if isinstance(item, str):
                out.append((item, ""))
            elif isinstance(item, list) and item and all(isinstance(x, str) for x in item):
                out.append((item[0], item[1] if len(item) > 1 else ""))
            else:
                log(ERR, "ACTIONS: every item must be a string or a table of strings\n",
                    uuid=session.uuid)
                return []
        return out

    # -- API `luarun` and startup scripts --------------------------------------------------
    def luarun(self, text: str) -> threading.Thread:
        """Start ``text`` in its own thread with only ``argv``; returns the thread."""

        def body() -> None:
            try:
                self.run_string(text)
            finally:
                with self._tlock:
                    self._threads.discard(threading.current_thread())

        t = threading.Thread(target=body, name="lua-run", daemon=True)
        with self._tlock:
            self._threads.add(t)
        t.start()
        return t

    def api_luarun(self, args: str, session: Any, stream: Any) -> None:
        if not args or not args.strip():
            stream.write("-ERR no args specified!\n")
            return None
        self.luarun(args)
        stream.write("+OK\n")
        return None

    def start_startup_scripts(self) -> list[threading.Thread]:
        """One thread per ``startup-script``, 10 ms apart, as FreeSWITCH starts them."""
        out = []
        for i, text in enumerate(self.config.startup_scripts):
            if i:
                time.sleep(0.01)
            out.append(self.luarun(text))
        return out

    # -- event hooks ------------------------------------------------------------------------
    def hook_callback(self, hook: Hook) -> Any:
        """The bus callback for one ``<hook>``: queues the event for the hook worker, so a
        slow script never holds up event delivery to everyone else."""

        def on_event(event: Any) -> None:
            try:
                self._hook_q.put_nowait((hook, event))
            except queue.Full:
                log(ERR, f"lua hook {hook.script}: queue full, event {event.name} dropped\n")

        self._ensure_hook_worker()
        return on_event

    def _ensure_hook_worker(self) -> None:
        with self._tlock:
            if self._hook_thread is None or not self._hook_thread.is_alive():
                self._hook_thread = threading.Thread(target=self._hook_worker,
                                                     name="lua-hooks", daemon=True)
                self._hook_thread.start()

    def _hook_worker(self) -> None:
        while True:
            item = self._hook_q.get()
            if item is None:
                return
            hook, event = item
            self.run_hook(hook, event)

    def run_hook(self, hook: Hook, event: Any) -> RunResult:
        """Run one hook script with the global ``event`` (which it cannot fire)."""
        return self.run_string(hook.script, objects={"event": ("Event", event)})

    # -- XML handler ------------------------------------------------------------------------
    def xml_fetch(self, section: str, tag: str | None, key: str | None, value: str | None,
                  params: Any = None) -> str | None:
        """Answer an XML lookup with ``xml-handler-script``: the script reads
        ``XML_REQUEST`` and ``params`` and sets ``XML_STRING``."""
        script = self.config.xml_handler_script
        if not script:
            return None
        request = {"section": section or "", "tag_name": tag or "", "key_name": key or "",
                   "key_value": value or ""}
        if isinstance(params, dict):
            # the core hands lookup parameters as a mapping; scripts expect an Event
            ev = Event("REQUEST_PARAMS", standard_headers=False)
            for k, v in params.items():
                ev.add_header(str(k), str(v))
            params = ev
        objects = {"params": ("Event", params)} if params is not None else {}
        res = self.run_string(script, objects=objects, tables={"XML_REQUEST": request},
                              collect=("XML_STRING",))
        text = res.collected.get("XML_STRING") if res.ok else None
        if not isinstance(text, str) or not text:
            log(ERR, "No Result\n", file="mod_lua.cpp", func="lua_fetch", line=0)
            return None
        try:
            etree.fromstring(text.encode("utf-8"))
        except etree.XMLSyntaxError:
            log(ERR, "Error Parsing XML Result!\n", file="mod_lua.cpp", func="lua_fetch", line=0)
            return None
        return text

    # -- stopping scripts (fsd's lua_list / lua_kill) ----------------------------------------
    def api_lua_list(self, args: str, session: Any, stream: Any) -> None:
        """``lua_list``: one CSV line per running script."""
        write_list(self.registry, stream)

    def api_lua_kill(self, args: str, session: Any, stream: Any) -> bool | None:
        """``lua_kill <id>|all``: stop running scripts within a second (pure-Lua loops
        included); the scripts' threads and states are released."""
        return kill_command(self.registry, args, stream, "lua_kill")

    # -- shutdown ---------------------------------------------------------------------------
    def shutdown(self, timeout: float = 2.0) -> None:
        """Stop every script this entry started and wait (briefly) for their threads."""
        self.registry.kill_all("module unloading")
        self.spares.stop()
        try:
            self._hook_q.put_nowait(None)
        except queue.Full:
            pass
        with self._tlock:
            threads = list(self._threads) + ([self._hook_thread] if self._hook_thread else [])
        deadline = time.monotonic() + timeout
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        # Runs started elsewhere (api lua from an ESL worker, a call's lua app) end too,
        # unless stuck in one C call no hook can interrupt (a backtracking string.find):
        # those are named and abandoned, the daemon's exit does not wait for them.
        while len(self.registry.list()) and time.monotonic() < deadline:
            time.sleep(0.05)
        for ctx in self.registry.list():
            thread = getattr(ctx, "thread", None)
            log(WARNING, f"Lua script {ctx.name} (id {ctx.id}, thread "
                         f"{getattr(thread, 'name', '?')}) did not stop within {timeout:g} s "
                         f"of the kill (stuck in a C call); abandoned\n")
