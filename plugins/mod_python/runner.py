"""One Python script run: finding and (re)loading the script module, calling its function,
containment (traceback with file:line in the log, ``python_kill``).

FreeSWITCH's mod_python3 (``eval_some_python``) imports the module named by the first word
of the arguments (``mod`` or ``mod::func``), reloads it, and calls ``handler``/``fsapi``/
``runtime``/``xml_fetch``/``chat``; errors are printed with a traceback and end only that
call.  fsd does the same, with two differences documented in docs/python.md: a module
(and any module it imports from the script directories) is re-read when its file changed,
not on every call; and a run can be stopped (``python_kill``) by an asynchronous exception.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any

from fsd.log import DEBUG, ERR, NOTICE, WARNING, log
from fsd.scripting.context import ScriptContext, ScriptKilled, ScriptRegistry


class ScriptStopped(BaseException):
    """Raised asynchronously in a script's thread by ``python_kill``.  A BaseException, so
    a script's ``except Exception`` does not swallow it."""


_CURRENT = threading.local()
#: seconds between two asynchronous exceptions while a killed run has not ended
_KILL_REPEAT = 0.2
_FSD_DIRS = tuple(os.path.dirname(os.path.abspath(m.__file__)) + os.sep
                  for m in (importlib.import_module("fsd"), importlib.import_module("fsd_modules")))


def _in_fsd_code(ident: int) -> bool:
    """Is that thread executing fsd's own Python code right now (its innermost frame)?"""
    frame = sys._current_frames().get(ident)
    if frame is None:
        return False
    return os.path.abspath(frame.f_code.co_filename).startswith(_FSD_DIRS)


def current() -> PyContext | None:
    """The run the calling thread executes (``None`` outside any run)."""
    return getattr(_CURRENT, "ctx", None)


class PyContext(ScriptContext):
    """One run of a Python script (what ``python_list`` shows, ``python_kill`` stops)."""

    log_file = "mod_python3.c"
    language = "python"

    def __init__(self, host: Any, name: str = "", *, uuid: str = "") -> None:
        super().__init__(host, name, uuid=uuid)
        self._alock = threading.Lock()
        self._running = False
        self._ended = threading.Event()

    # -- calls from the script objects (hooks, input callbacks, DB rows) -------------------
    def call(self, fn: Any, *args: Any) -> tuple[bool, Any]:
        """``(True, result)``, or ``(False, traceback text)`` when ``fn`` raised.  A kill
        propagates."""
        try:
            res = fn(*args)
        except (ScriptKilled, ScriptStopped):
            raise
        except Exception:
            return False, "Python Error in callback:\n" + traceback.format_exc().rstrip()
        if self.killed():
            raise ScriptKilled(self.kill_reason)
        return True, res

    def table(self, value: Any) -> Any:
        return value

    def raise_in_script(self, message: str) -> None:
        raise ScriptKilled(message)

    # -- asynchronous stop -------------------------------------------------------------
    def kill(self, reason: str = "killed") -> None:
        first = not self.kill_event.is_set()
        super().kill(reason)  # flag + break the session's media: blocking calls return
        if first and self.thread is not None:
            t = threading.Thread(target=self._stopper, name=f"python-kill-{self.id}", daemon=True)
            t.start()

    def _stopper(self) -> None:
        """Until the run ends: raise ScriptStopped in its thread (a loop that never calls
        fsd gets it at its next bytecode).  The exception is sent only while the thread
        runs script code: inside fsd's own code (a blocking call, whose state it could
        leave half-done) the stop flag ends the call instead; only a run that still has
        not ended after a few seconds gets it wherever it is."""
        start = time.monotonic()
        while time.monotonic() - start < 30:
            with self._alock:
                if not self._running or self.thread is None or self.thread.ident is None:
                    return
                ident = self.thread.ident
                if time.monotonic() - start > 3 or not _in_fsd_code(ident):
                    _set_async_exc(ident, ScriptStopped)
                    wait = _KILL_REPEAT
                else:
                    wait = 0.01
            if self._ended.wait(wait):
                return
        log(ERR, f"python script {self.name} (id {self.id}) does not stop: blocked in C code?\n",
            uuid=self.uuid)

    def begin(self) -> None:
        self.thread = threading.current_thread()
        self.started = time.time()
        self._ended.clear()
        with self._alock:
            self._running = True

    def finish(self) -> None:
        """Mark the run over and drop a pending asynchronous exception, so none can reach
        the thread's later work (a call's dialplan).  Retried if one lands meanwhile."""
        while True:
            try:
                with self._alock:
                    self._running = False
                    ident = threading.get_ident()
                    _set_async_exc(ident, None)
                self._ended.set()
                return
            except ScriptStopped:
                continue


def _set_async_exc(ident: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident),
                                               ctypes.py_object(exc) if exc else None)


# -- finding the script module ----------------------------------------------------------------
@dataclass
class Target:
    module: str
    func: str
    args: str


def parse_target(text: str, default_func: str) -> Target | None:
    """``"mod[::func] rest of args"`` (FreeSWITCH's split: first word, then the rest)."""
    text = (text or "").strip()
    if not text:
        return None
    first, _, rest = text.partition(" ")
    mod, sep, func = first.partition("::")
    return Target(mod, func if sep and func else default_func, rest.strip())


class ModuleLoader:
    """Imports script modules from the script directories; when a file of one of them
    changed since it was imported, they are all imported afresh on their next use."""

    def __init__(self, dirs: list[str]) -> None:
        self.dirs = [os.path.abspath(d) for d in dirs if d]
        self._lock = threading.RLock()
        self._mtimes: dict[str, int] = {}  # file -> mtime when imported
        self._known: dict[str, str] = {}  # module name -> file, for our modules
        self._seen = -1  # len(sys.modules) at the last scan
        for d in self.dirs:
            if d not in sys.path:
                sys.path.append(d)  # after the standard library: a script never shadows it

    def add_dir(self, d: str) -> None:
        d = os.path.abspath(d)
        with self._lock:
            if d not in self.dirs:
                self.dirs.append(d)
            if d not in sys.path:
                sys.path.append(d)

    def _ours(self, mod: Any) -> str | None:
        f = getattr(mod, "__file__", None)
        if not f:
            return None
        f = os.path.abspath(f)
        return f if any(f.startswith(d + os.sep) for d in self.dirs) else None

    def _scan(self) -> None:
        """Note the script modules (and their files' mtimes) imported since the last
        scan; cheap when nothing was imported (sys.modules did not grow)."""
        if len(sys.modules) == self._seen:
            return
        for name, mod in list(sys.modules.items()):
            if name in self._known:
                continue
            f = self._ours(mod)
            if f is not None:
                self._known[name] = f
                try:
                    self._mtimes.setdefault(f, os.stat(f).st_mtime_ns)
                except OSError:
                    self._mtimes.setdefault(f, -1)
        self._seen = len(sys.modules)

    def _evict_changed(self) -> bool:
        """When any module of the script directories changed on disk, forget them all:
        a script importing a changed helper must be imported afresh as well."""
        changed = False
        for f, m0 in self._mtimes.items():
            try:
                m = os.stat(f).st_mtime_ns
            except OSError:
                m = -1
            if m != m0:
                changed = True
                break
        if changed:
            for name in self._known:
                sys.modules.pop(name, None)
            self._known.clear()
            self._mtimes.clear()
            self._seen = -1
        return changed

    def close(self) -> None:
        """Module unload: forget the script modules and the directories."""
        with self._lock:
            for name, mod in list(sys.modules.items()):
                if self._ours(mod) is not None:
                    sys.modules.pop(name, None)
            for d in self.dirs:
                while d in sys.path:
                    sys.path.remove(d)
            self._mtimes.clear()
            self._known.clear()

    def _shadowed(self, name: str) -> None:
        """A module of that name imported from elsewhere (another switch's script
        directory) while one of ours has the file: ours wins."""
        top = name.split(".", 1)[0]
        mod = sys.modules.get(top)
        if mod is None or self._ours(mod) is not None:
            return
        f = getattr(mod, "__file__", None) or ""
        if any(os.path.exists(os.path.join(d, top + ".py")) for d in self.dirs) and \
                "site-packages" not in f and not f.startswith(sys.prefix):
            for n in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
                sys.modules.pop(n, None)

    def load(self, name: str) -> Any:
        with self._lock:
            self._scan()
            if self._evict_changed():
                importlib.invalidate_caches()
            self._shadowed(name)
            mod = sys.modules.get(name)
            if mod is None or name not in self._known:
                try:
                    mod = importlib.import_module(name)
                except ModuleNotFoundError as e:
                    if e.name != name:
                        raise
                    importlib.invalidate_caches()  # a file added since the last import
                    mod = importlib.import_module(name)
            self._scan()
            return mod


def format_error(script: str, exc: BaseException) -> str:
    """The log text of a failed script: mod_python3's header, then Python's traceback
    (each frame's file:line)."""
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
    return (f'Python Error by calling script "{script}": {type(exc).__name__}\n'
            f"Message: {exc}\n{tb}\n")


@dataclass
class RunResult:
    ok: bool
    status: str  # ok | import | nofunc | error | killed | empty
    value: Any = None


def run(ctx: PyContext, loader: ModuleLoader, target: Target, make_args: Any,
        registry: ScriptRegistry, extra_path: str | None = None) -> RunResult:
    """Import ``target.module`` and call its function with ``make_args(ctx)`` in the
    calling thread.  Never raises for script faults (a stop that lands in the last few
    bytecodes is caught by :func:`guarded`)."""
    ctx.name = ctx.name or target.module
    prev = current()
    _CURRENT.ctx = ctx
    ctx.begin()
    registry.add(ctx)
    try:
        return _call(ctx, loader, target, make_args, registry, extra_path)
    except ScriptStopped:
        return RunResult(False, "killed")
    finally:
        end_run(ctx, registry, prev)


def end_run(ctx: PyContext, registry: ScriptRegistry, prev: Any = None) -> None:
    """Close what the run opened (idempotent).  After ``finish()`` no asynchronous stop
    can reach the thread any more."""
    ctx.finish()
    try:
        ctx.close_resources()
    finally:
        ctx.drop_kill_callbacks()
        ctx.sessions = []
        registry.remove(ctx)
        _CURRENT.ctx = prev
        ctx.thread = None


def guarded(ctx: PyContext, registry: ScriptRegistry, body: Any) -> Any:
    """Run ``body()`` (which calls :func:`run`) so that a stop landing outside run's own
    handlers still ends only the script."""
    try:
        return body()
    except ScriptStopped:
        end_run(ctx, registry)
        return RunResult(False, "killed")


def _call(ctx: PyContext, loader: ModuleLoader, target: Target, make_args: Any,
          registry: ScriptRegistry, extra_path: str | None) -> RunResult:
    where = {"uuid": ctx.uuid, "file": ctx.log_file, "func": "eval_some_python", "line": 0}
    log(NOTICE, f"Invoking py module: {target.module}\n", **where)
    if extra_path:
        loader.add_dir(extra_path)
    try:
        mod = loader.load(target.module)
    except (ScriptStopped, ScriptKilled):
        raise
    except BaseException as e:  # SyntaxError, ImportError, a fault at import time
        log(ERR, "Error importing module\n" + format_error(target.module, e), **where)
        registry.note_error()
        return RunResult(False, "import")
    fn = getattr(mod, target.func, None)
    if fn is None or not callable(fn):
        log(ERR, f"Module does not define {target.func} "
                 f"({getattr(mod, '__file__', target.module)})\n", **where)
        registry.note_error()
        return RunResult(False, "nofunc")
    try:
        args = make_args(ctx)
        log(DEBUG, "Call python script \n", uuid=ctx.uuid)
        value = fn(*args)
        log(DEBUG, "Finished calling python script \n", uuid=ctx.uuid)
        return RunResult(True, "ok", value)
    except SystemExit:
        return RunResult(True, "ok")  # as mod_python3: a script may sys.exit()
    except (ScriptStopped, ScriptKilled):
        log(WARNING, f"Python script {target.module} stopped: {ctx.kill_reason or 'killed'}\n",
            **where)
        registry.note_error()
        return RunResult(False, "killed")
    except Exception as e:
        log(ERR, "Error calling python script\n" + format_error(target.module, e), **where)
        registry.note_error()
        return RunResult(False, "error")
