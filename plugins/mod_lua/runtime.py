"""One script run in one fresh Lua 5.3 state: creation, containment, teardown.

* Lua 5.3 from lupa (``lupa.lua53``), as FreeSWITCH's Debian packages use, plus the
  pure-Lua 5.2-compatibility layer ``compat.lua``.
* The bootstrap (compat layer, sandbox, the lazy loader of the binding classes) is
  generated and compiled once per process and loaded into each new state as bytecode:
  a fresh state costs tens of microseconds, not a recompilation.  Each binding class
  (and the module functions) is a compiled chunk of its own, loaded into a state when
  its script first uses it (bindings/spec.py, ``generate_lua``).
* Containment: the script runs under ``xpcall`` with a message handler that adds the
  script's file:line and a traceback; errors are logged at ERR and end only this script.
  A count hook checks the kill flag and the optional CPU budget so that even
  ``while true do end`` stops; blocking calls wait on the same flag.  A memory cap
  (``max_memory``) makes allocation fail inside the script.
* Teardown drops every reference to the state, so nothing outlives the run.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import lupa.lua53 as lua53

from fsd.log import DEBUG, ERR, WARNING, log
from fsd.scripting.context import ScriptContext, ScriptKilled, ScriptRegistry

from . import bindings
from .argv import ScriptSpec, resolve_script_path

if TYPE_CHECKING:  # pragma: no cover
    from .host import LuaHost

_HERE = os.path.dirname(os.path.abspath(__file__))


def _lua_symbols_global() -> None:
    """Debian's Lua C modules (lua-cjson, lua-socket, lua-sql-*) do not link liblua: they
    need the ``lua_*`` symbols in the global scope.  Promote the already loaded lupa.lua53
    library to RTLD_GLOBAL (RTLD_NOLOAD: no second copy), whoever imported it first.  Only
    this one Lua version may be global in the process (docs/lua.md)."""
    try:
        ctypes.CDLL(lua53.__file__, mode=os.RTLD_NOW | os.RTLD_GLOBAL | getattr(os, "RTLD_NOLOAD", 4))
    except OSError as e:  # C modules then fail to load with a Lua error; the rest works
        log(WARNING, f"mod_lua: Lua C modules unavailable: {e}\n")


_lua_symbols_global()
#: instructions between two checks of the kill flag (about a millisecond of pure Lua)
HOOK_COUNT = 100_000
#: the most matcher steps one C string.find/match/gmatch/gsub call may take; beyond it the
#: pure-Lua matcher (interruptible) runs instead (guard.lua explains the estimate;
#: bench/bench_lua_patterns.py measures the slowest C call it lets through: ~110 ms)
PATTERN_BUDGET = 100_000_000


def _deny(obj: Any, name: Any, *rest: Any) -> Any:
    # Scripts never reach Python attributes: the bindings are Lua tables.
    raise AttributeError("Python attributes are not accessible from Lua")


_BOOT_LOCK = threading.Lock()
_BOOT: tuple[bytes, dict[str, Any]] | None = None


#: Wraps the bootstrap: ``F`` (the Python functions of the bindings, by key) is filled on
#: first use from one Python lookup function instead of converting every entry (~150) into
#: each new state, and ``OPT`` is made from plain arguments (cheaper than ``table_from``);
#: the rest of the chunk (compat layer and sandbox.lua) runs as before.
_WRAPPER = """local GET, CLASS, BIND, ctx, check, killed, describe, log, count, path, cpath, prebuild = ...
local OPT = {ctx = ctx, check = check, killed = killed, describe = describe, log = log,
             count = count, path = path, cpath = cpath, prebuild = prebuild}
local rawset = rawset
local F = setmetatable({}, {__index = function(t, k)
  local v = GET(k)
  if v ~= nil then rawset(t, k, v) end
  return v
end})
rawset(F, "@class", CLASS)
rawset(F, "@bind", BIND)
local EXPORT = (function(...)
%s
end)(F, OPT)
-- a run's globals (name, class or false for a plain value, value; ...) and its code in one
-- call from Python: each call into the state releases and retakes the GIL, a wait
-- whenever another thread (the spare builder) holds it
local wrap, set_global, run_code, select = EXPORT.wrap, EXPORT.set_global, EXPORT.run_code, select
local function set_many(...)
  for i = 1, select("#", ...), 3 do
    local name, cls, v = select(i, ...)
    if cls then v = wrap(cls, v) end
    set_global(name, v)
  end
end
EXPORT.set_many = set_many
function EXPORT.start(code, chunkname, ...)
  set_many(...)
  return run_code(code, chunkname)
end
return EXPORT
"""


#: The matcher module guard.lua receives: a table that loads pattern.lua (its compiled
#: chunk, F["@class"]("@pattern")) the first time guard.lua reads a field.  The chunk runs
#: in an environment holding copies of the string and table libraries and the base
#: functions taken when the state was made, so it sees what it would have seen when it
#: ran at start (tests/mod_lua/test_lazy_classes.py checks the names it uses are there).
_LAZY_PATTERN = """(function()
  local env, copy = {}, function(t) local c = {} for k, v in pairs(t) do c[k] = v end return c end
  for _, k in ipairs({"type", "error", "tostring", "tonumber", "pcall", "select", "pairs",
                      "ipairs", "next", "rawget", "rawset", "setmetatable", "getmetatable"}) do
    env[k] = _G[k]
  end
  env.string, env.table, env.math = copy(string), copy(table), copy(math)
  local load, setmetatable, rawset, pairs, code = load, setmetatable, rawset, pairs, F["@class"]
  return setmetatable({}, {__index = function(t, k)
    local M = load(code("@pattern"), "=fsd_bootstrap", "b", env)()
    setmetatable(t, nil)
    for name, v in pairs(M) do rawset(t, name, v) end
    return M[k]
  end})
end)()"""
#: names :data:`_LAZY_PATTERN` gives pattern.lua
PATTERN_ENV = ("type", "error", "tostring", "tonumber", "pcall", "select", "pairs", "ipairs",
               "next", "rawget", "rawset", "setmetatable", "getmetatable", "string", "table",
               "math")


def bootstrap_source() -> str:
    """The complete bootstrap chunk (compat layer + sandbox + generated bindings)."""
    with open(os.path.join(_HERE, "compat.lua"), encoding="utf-8") as f:
        compat = f.read()
    with open(os.path.join(_HERE, "sandbox.lua"), encoding="utf-8") as f:
        sandbox = f.read()
    with open(os.path.join(_HERE, "guard.lua"), encoding="utf-8") as f:
        guard = f.read()
    classes, funcs, consts = bindings.registry()
    from .bindings.spec import generate_lua

    gen = generate_lua(classes, funcs)
    gen += "\n" + "\n".join(f"FS[{k!r}] = {v!r}" for k, v in consts.items())
    # guard.lua is a chunk of its own (its locals stay its own); the string functions are
    # patched before the sandbox or any script runs.  The pure-Lua matcher it falls back
    # to (pattern.lua, more than half of the bootstrap) is loaded on first use only
    # (_LAZY_PATTERN), with the library functions as they were here, before any script.
    strings = (f"(function(...)\n{guard}\nend)({_LAZY_PATTERN}, string, {PATTERN_BUDGET})\n")
    return _WRAPPER % ("do\n" + compat + "\nend\n" + strings
                       + sandbox.replace("--@@BINDINGS@@", gen))


def _compile(t: Any, src: str, name: bytes) -> bytes:
    """Lua source -> bytecode stripped of debug info: half the size, and loading it is
    most of the cost of a new state; its frames show as "?" and clean_traceback drops them
    as it drops "fsd_bootstrap:" ones."""
    loaded = t.globals().load(src.encode(), name)
    fn = loaded[0] if isinstance(loaded, tuple) else loaded
    if fn is None:
        raise RuntimeError(f"mod_lua {name.decode()} does not compile: {loaded[1]!r}")
    return bytes(t.globals().string.dump(fn, True))


def class_chunks() -> dict[str, bytes]:
    """Each binding class's chunk, compiled: a state loads one when a script first uses
    that class (bindings/spec.py, ``generate_lua``)."""
    from .bindings.spec import generate_class, generate_funcs

    classes, funcs, _ = bindings.registry()
    t = lua53.LuaRuntime(encoding=None)
    out = {c.name: _compile(t, generate_class(c, classes), f"fsd_class_{c.name}".encode())
           for c in classes}
    out["@funcs"] = _compile(t, generate_funcs(funcs, classes), b"fsd_funcs")
    with open(os.path.join(_HERE, "pattern.lua"), encoding="utf-8") as f:
        out["@pattern"] = _compile(t, f.read(), b"fsd_pattern")
    return out


def _class_fetcher(chunks: dict[str, bytes],
                   table: dict[str, Any]) -> Callable[[str], tuple | None]:
    """``F["@class"]``: a chunk's name -> ``(bytecode, key, function, key, function...)``,
    the class's own entries of ``F`` (``"<Name>.*"``, ``"fs.*"`` for the module functions),
    so that building a class is one call into Python (each call from Lua into Python
    waits for the GIL: a spare state built while requests run paid that for every entry)."""
    out: dict[str, tuple] = {}
    for name, code in chunks.items():
        prefix = "fs." if name == "@funcs" else name + "."
        out[name] = (code, *[x for k, v in table.items() if k.startswith(prefix) for x in (k, v)])
    return out.get


def _bootstrap() -> tuple[bytes, dict[str, Any]]:
    """Compile the bootstrap once (after every binding class has registered)."""
    global _BOOT
    if _BOOT is None:
        with _BOOT_LOCK:
            if _BOOT is None:
                from .bindings.spec import python_table

                src = bootstrap_source()
                t = lua53.LuaRuntime(encoding=None)
                code = _compile(t, src, b"=fsd_bootstrap")
                classes, funcs, _ = bindings.registry()
                table = python_table(classes, funcs)
                table["@class"] = _class_fetcher(class_chunks(), table)
                _BOOT = (code, table)
    return _BOOT


def reset_bootstrap() -> None:
    """Forget the compiled bootstrap (after registering a new binding class)."""
    global _BOOT
    with _BOOT_LOCK:
        _BOOT = None


@dataclass
class RunResult:
    ok: bool
    status: str  # ok | load | error | killed | memory | empty
    message: str = ""
    collected: dict[str, Any] = field(default_factory=dict)


class RunContext(ScriptContext):
    """Everything one Lua run owns; the ``ctx`` the bindings receive (the generic part,
    kill flag and resources, is :class:`fsd.scripting.context.ScriptContext`)."""

    log_file = "mod_lua.cpp"
    language = "lua"

    def __init__(self, host: LuaHost, name: str = "", *, uuid: str = "",
                 cpu_limit: float | None = None, max_memory: int | None = None) -> None:
        super().__init__(host, name, uuid=uuid)
        self.cpu_limit = cpu_limit
        self.max_memory = max_memory
        self.lua: Any = None  # the LuaRuntime, only while running
        self._cpu0 = 0.0
        self.export: Any = None  # the bootstrap's entry points, only while running

    def raise_in_lua(self, message: str) -> None:
        """Make the binding method now running raise a Lua error ``message`` (a plain
        string, as C's lua_error) when it returns (classes with ``signals``)."""
        if self.export is not None:
            self.export.sig.e = message

    raise_in_script = raise_in_lua

    def call(self, fn: Any, *args: Any) -> tuple[bool, Any]:
        """Call a Lua function from a binding: ``(True, first result)`` or ``(False,
        message with file:line and traceback)``.  A kill propagates as ScriptKilled."""
        try:
            res = self.export.call(fn, *args)
        except lua53.LuaError as e:
            if self.killed():
                raise ScriptKilled(self.kill_reason) from None
            return False, str(e)
        if not isinstance(res, tuple):
            res = (res,)
        if self.killed():
            raise ScriptKilled(self.kill_reason)
        if res[0]:
            return True, res[1] if len(res) > 1 else None
        return False, clean_traceback(str(res[1]) if len(res) > 1 else "error")

    def check(self) -> bool:
        """Called by the count hook: True means stop now."""
        if self.kill_event.is_set():
            return True
        if self.cpu_limit is not None and time.thread_time() - self._cpu0 > self.cpu_limit:
            self.kill(f"CPU limit of {self.cpu_limit:g} s exceeded")
            return True
        return False

    # -- conversions for bindings ----------------------------------------------------------
    def table(self, value: Any) -> Any:
        """A Lua table built from Python lists/dicts (recursively)."""
        return self.lua.table_from(value, recursive=True)


def _describe(err: Any) -> str:
    if isinstance(err, BaseException):
        return f"{type(err).__name__}: {err}"
    return str(err)


def to_python(value: Any, depth: int = 0) -> Any:
    """Lua value -> plain Python (tables become dicts; integer-keyed 1..n become lists)."""
    if depth > 32:
        return None
    if lua53.lua_type(value) == "table":
        items = list(value.items())
        keys = [k for k, _ in items]
        if keys and all(isinstance(k, int) for k in keys) and sorted(keys) == list(range(1, len(keys) + 1)):
            return [to_python(v, depth + 1) for _, v in sorted(items, key=lambda kv: kv[0])]
        return {k: to_python(v, depth + 1) for k, v in items}
    return value


class LuaState:
    """A fresh Lua state with the bootstrap loaded; use as a context manager or call
    :meth:`close`.  ``export`` holds the bootstrap's entry points."""

    def __init__(self, ctx: RunContext, prebuild: str = "") -> None:
        """``prebuild``: binding classes to build now (comma-separated names) rather than
        when the script first uses them."""
        code, pytable = _bootstrap()
        opts: dict[str, Any] = dict(register_eval=False, register_builtins=False,
                                    unpack_returned_tuples=True,
                                    attribute_handlers=(_deny, _deny))
        if ctx.max_memory:
            opts["max_memory"] = int(ctx.max_memory)
        lua = lua53.LuaRuntime(**opts)
        self.ctx = ctx
        self.lua = lua
        #: set by whoever wants the runtime's teardown elsewhere (see spare.py)
        self.retire: Callable[[Any], None] | None = None
        ctx.lua = lua
        g = lua.globals()
        boot = g.load(code, "=fsd_bootstrap", "b")
        if isinstance(boot, tuple):
            raise RuntimeError(f"mod_lua bootstrap failed to load: {boot[1]}")
        host = ctx.host
        self.export = boot(pytable.get, pytable["@class"], pytable["@bind"], ctx, ctx.check,
                           ctx.killed, _describe, ctx.log, HOOK_COUNT, host.package_path,
                           host.package_cpath, prebuild)
        ctx.export = self.export

    def wrap(self, cls: str, obj: Any) -> Any:
        return self.export.wrap(cls, obj)

    def set_global(self, name: str, value: Any) -> None:
        self.export.set_global(name, value)

    def get_global(self, name: str) -> Any:
        return self.export.get_global(name)

    def close(self) -> None:
        """Release everything; the state is gone when the last reference drops."""
        try:
            self.ctx.close_resources()
        finally:
            if self.export is not None:
                try:
                    self.export.close()
                except Exception as e:  # a broken state must not stop the teardown
                    log(ERR, f"mod_lua: closing the state failed: {e}", uuid=self.ctx.uuid)
            self.ctx.drop_kill_callbacks()
            self.export = None
            self.ctx.export = None
            self.ctx.lua = None
            self.ctx.sessions = []
        lua, self.lua = self.lua, None
        if self.retire is not None and lua is not None:
            self.retire(lua)  # the runtime is freed (lua_close) off the caller's path

    def __enter__(self) -> LuaState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def clean_traceback(message: str) -> str:
    """Drop the bootstrap's own frames from the end of a traceback: users see their script."""
    lines = [ln for ln in message.split("\n")
             if "fsd_bootstrap:" not in ln and not ln.startswith("\t?:")]
    while lines and ("fsd_bootstrap" in lines[-1] or "raw_xpcall" in lines[-1]
                     or lines[-1] == "\t[C]: in upvalue '?'"
                     or lines[-1].strip() == "(...tail calls...)"):
        lines.pop()
    return "\n".join(lines)


def _log_failure(ctx: RunContext, status: str, message: str) -> None:
    if status == "killed":
        ctx.log(WARNING, f"Lua script {ctx.name or '(inline)'} stopped: {ctx.kill_reason or 'killed'}\n")
    elif status == "memory":
        ctx.log(ERR, f"Lua script {ctx.name or '(inline)'} exceeded its memory limit "
                     f"({ctx.max_memory} bytes): {message}\n")
    else:
        ctx.log(ERR, f"{message}\n")


def run(
    ctx: RunContext,
    spec: ScriptSpec,
    *,
    objects: dict[str, tuple[str, Any]] | None = None,
    values: dict[str, Any] | None = None,
    tables: dict[str, Any] | None = None,
    collect: tuple[str, ...] = (),
    registry: ScriptRegistry | None = None,
    state: LuaState | None = None,
) -> RunResult:
    """Run one parsed script string in a fresh state, in the calling thread.

    ``objects``: globals to expose as binding objects (``{"env": ("Event", obj)}``);
    ``values``: plain globals; ``tables``: globals built as Lua tables from dicts/lists;
    ``collect``: globals to read back (converted to Python)
    before the state is closed; ``state``: a fresh state already built for ``ctx``.
    Never raises for script faults."""
    reg = registry if registry is not None else REGISTRY
    ctx.started = time.time()
    ctx.thread = threading.current_thread()
    if not ctx.name:
        ctx.name = spec.name if not spec.inline else "(inline)"
    reg.add(ctx)
    ctx._cpu0 = time.thread_time()
    try:
        if state is None:
            state = LuaState(ctx)
        flat: list[Any] = []
        for name, (cls, obj) in (objects or {}).items():
            cls, bound = bindings.adopt(ctx, cls, obj)
            flat += (name, cls, bound)
        for name, v in (values or {}).items():
            flat += (name, False, v)
        if spec.inline and not tables:
            res = state.export.start(spec.code, "line", *flat)  # one call into the state
        elif flat:
            state.export.set_many(*flat)
        for name, v in (tables or {}).items():
            state.set_global(name, ctx.table(v))
        if spec.inline:
            if tables:
                res = state.export.run_code(spec.code, "line")
        else:
            argv = {0: spec.name}
            for i, a in enumerate(spec.args, start=1):
                argv[i] = a
            state.set_global("argv", state.lua.table_from(argv))
            path = resolve_script_path(spec.name, ctx.host.scripts_dir)
            res = state.export.run_file(path)
        if not isinstance(res, tuple):
            res = (res,)
        ok = bool(res[0])
        status = "ok" if ok else str(res[1])
        message = "" if ok else str(res[2]) if len(res) > 2 and res[2] is not None else ""
        if status == "error" and "not enough memory" in message and ctx.max_memory:
            status = "memory"
        message = clean_traceback(message)
        collected: dict[str, Any] = {}
        if ok:
            for name in collect:
                collected[name] = to_python(state.get_global(name))
        if not ok:
            reg.note_error()
            _log_failure(ctx, status, message)
        return RunResult(ok, status, message, collected)
    except lua53.LuaMemoryError as e:
        reg.note_error()
        _log_failure(ctx, "memory", str(e) or "not enough memory")
        return RunResult(False, "memory", str(e))
    except Exception as e:  # the bridge itself failed: still only this script
        reg.note_error()
        ctx.log(ERR, f"Lua script {ctx.name} failed: {_describe(e)}\n")
        return RunResult(False, "error", _describe(e))
    finally:
        if state is not None:
            used = _memory_used(state)
            state.close()
            del state
            if used > _TRIM_AFTER:
                _trim_heap()
        reg.remove(ctx)
        ctx.thread = None


#: A run whose Lua heap grew past this hands the freed memory back to the OS at its end
#: (glibc keeps freed small blocks otherwise: a capped table-growth loop left 150 MB).
_TRIM_AFTER = 16 * 1024 * 1024


def _memory_used(state: LuaState) -> int:
    try:
        return int(state.lua.get_memory_used() or 0)  # known when max-memory is set
    except Exception:  # no accounting (no cap): nothing to decide on
        return 0


def _trim_heap() -> None:
    """glibc's malloc_trim: give free heap pages back to the OS (a no-op elsewhere)."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim: Any = None


#: The process-wide registry the entry points use.
REGISTRY = ScriptRegistry()

__all__ = ["DEBUG", "RunContext", "RunResult", "LuaState", "ScriptKilled", "ScriptRegistry",
           "REGISTRY", "run", "to_python"]
