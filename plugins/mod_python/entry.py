"""The ways a Python script is started (FreeSWITCH's mod_python3), without the daemon.

* application ``python mod[::func] args``  -> ``handler(session, args)``
* API ``python mod[::func] args``          -> ``fsapi(session, stream, env, args)`` where
  ``session`` is the string ``"na"`` outside a call
* API ``pyrun mod[::func] args``           -> ``runtime(args)`` in a thread of its own
* chat application ``python``              -> ``chat(message, args)``
* ``xml-handler-script``                   -> ``xml_fetch(params)`` returns the XML text
* ``startup-script``                       -> as ``pyrun``
* fsd: ``python_list``, ``python_kill <id>|all``.

fsd addition: ``python pkg.mod.func`` where ``pkg.mod.func`` is not a module but ``func`` is a
callable of module ``pkg.mod`` calls that function with the entry point's arguments (so
``api_hangup_hook=python mod.func`` works as the issue's users write it).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from lxml import etree

from fsd.events import Event
from fsd.log import ERR, log
from fsd.scripting.context import ScriptRegistry, kill_command, write_list

from .config import PythonConfig
from .runner import ModuleLoader, PyContext, RunResult, Target, guarded, parse_target, run

_HTTP_ERROR = "<H2>Error Executing Script</H2>"


class PythonEntry:
    def __init__(self, host: Any, config: PythonConfig | None = None,
                 registry: ScriptRegistry | None = None) -> None:
        self.host = host
        self.config = config or PythonConfig()
        self.registry = registry if registry is not None else ScriptRegistry()
        self.loader = ModuleLoader([host.scripts_dir, *self.config.module_paths])
        self._threads: set[threading.Thread] = set()
        self._tlock = threading.Lock()

    # -- one run ------------------------------------------------------------------------
    def _resolve(self, target: Target) -> Target:
        """``mod.func`` (fsd addition): when no file of the script directories is the
        module ``mod.func`` (``mod/func.py``), call ``func`` of module ``mod``."""
        if "." not in target.module:
            return target
        rel = target.module.replace(".", os.sep)
        for d in self.loader.dirs:
            if os.path.exists(os.path.join(d, rel + ".py")) or \
                    os.path.exists(os.path.join(d, rel, "__init__.py")):
                return target
        mod, _, func = target.module.rpartition(".")
        return Target(mod, func, target.args)

    def run_text(self, text: str, default_func: str, make_args: Any, *, uuid: str = "",
                 extra_path: str | None = None) -> RunResult:
        target = parse_target(text, default_func)
        if target is None:
            log(ERR, "No module name specified!\n", uuid=uuid, file="mod_python3.c",
                func="eval_some_python", line=0)
            return RunResult(False, "empty")
        target = self._resolve(target)
        ctx = PyContext(self.host, target.module, uuid=uuid)
        return guarded(ctx, self.registry,
                       lambda: run(ctx, self.loader, target, lambda c: make_args(c, target),
                                   self.registry, extra_path))

    # -- application `python` --------------------------------------------------------------
    def app_python(self, session: Any, data: str) -> None:
        from .freeswitch import adopt_session

        if not data or not data.strip():
            log(ERR, "No module name specified!\n", uuid=session.uuid, file="mod_python3.c",
                func="eval_some_python", line=0)
            return
        extra = session.get_variable("python_script_path") or None
        self.run_text(data, "handler",
                      lambda c, t: (adopt_session(c, session), t.args),
                      uuid=session.uuid, extra_path=extra)

    # -- API `python` ------------------------------------------------------------------------
    def api_python(self, args: str, session: Any, stream: Any) -> None:
        from .freeswitch import adopt_event, adopt_session

        env = getattr(stream, "param_event", None)
        if env is None:
            env = Event("API")

        def make(c: Any, t: Target) -> tuple[Any, ...]:
            s = adopt_session(c, session) if session is not None else "na"
            return s, stream, adopt_event(c, env), t.args

        uuid = getattr(session, "uuid", "") if session is not None else ""
        extra = session.get_variable("python_script_path") if session is not None else None
        res = self.run_text(args, "fsapi", make, uuid=uuid or "", extra_path=extra or None)
        if not res.ok and res.status != "empty":
            uri = env.get_header("http-uri") if env is not None else None
            if uri and (uri.startswith("/api/") or uri.startswith("/webapi/")):
                stream.write(_HTTP_ERROR)
        return None

    # -- chat application `python` ------------------------------------------------------------
    def chat_python(self, message: Any, data: str) -> None:
        from .freeswitch import adopt_event

        self.run_text(data, "chat", lambda c, t: (adopt_event(c, message), t.args))

    # -- `pyrun` and startup scripts ---------------------------------------------------------
    def pyrun(self, text: str) -> threading.Thread:
        """Start ``runtime(args)`` of ``text``'s module in its own thread."""

        def body() -> None:
            try:
                self.run_text(text, "runtime", lambda c, t: (t.args,))
            finally:
                with self._tlock:
                    self._threads.discard(threading.current_thread())

        t = threading.Thread(target=body, name="python-run", daemon=True)
        with self._tlock:
            self._threads.add(t)
        t.start()
        return t

    def api_pyrun(self, args: str, session: Any, stream: Any) -> None:
        if not args or not args.strip():
            stream.write("USAGE: python </path/to/script>\n")
            return None
        self.pyrun(args.strip())
        stream.write("OK\n")
        return None

    def start_startup_scripts(self) -> list[threading.Thread]:
        return [self.pyrun(text) for text in self.config.startup_scripts]

    # -- inline code (the language contract's ``inline`` entry) ------------------------------
    def run_inline(self, code: str, session: Any = None) -> str | None:
        """Run Python source text with ``freeswitch``'s names and ``session`` in scope;
        returns the error text, or None."""
        import traceback

        from . import freeswitch as fs
        from .freeswitch import adopt_session
        from .runner import ScriptStopped, end_run

        uuid = getattr(session, "uuid", "") if session is not None else ""
        ctx = PyContext(self.host, "(inline)", uuid=uuid or "")
        from . import runner

        prev = runner.current()
        runner._CURRENT.ctx = ctx
        ctx.begin()
        self.registry.add(ctx)
        try:
            scope: dict[str, Any] = {n: getattr(fs, n) for n in fs.__all__}
            if session is not None:
                scope["session"] = adopt_session(ctx, session)
            exec(compile(code, "<inline>", "exec"), scope)  # noqa: S102  (the point)
            return None
        except (ScriptStopped, SystemExit):
            return None
        except Exception:
            text = traceback.format_exc()
            log(ERR, f"Python inline code failed:\n{text}", uuid=ctx.uuid)
            return text
        finally:
            end_run(ctx, self.registry, prev)

    # -- XML handler ------------------------------------------------------------------------
    def xml_fetch(self, section: str, tag: str | None, key: str | None, value: str | None,
                  params: Any = None) -> str | None:
        from .freeswitch import adopt_event

        script = self.config.xml_handler_script
        if not script:
            return None
        ev = Event("REQUEST_PARAMS", standard_headers=False)
        if isinstance(params, dict):
            for k, v in params.items():
                ev.add_header(str(k), str(v))
        elif params is not None:
            ev = params
        for k, v in (("section", section), ("tag_name", tag), ("key_name", key),
                     ("key_value", value)):
            ev.add_header(k, v or "")
        res = self.run_text(script, "xml_fetch", lambda c, t: (adopt_event(c, ev),))
        text = res.value if res.ok else None
        if text is None:
            return None
        if not isinstance(text, str) or not text.strip():
            log(ERR, "No Result\n", file="mod_python3.c", func="python_fetch", line=0)
            return None
        try:
            etree.fromstring(text.strip().encode("utf-8"))
        except etree.XMLSyntaxError:
            log(ERR, "Error Parsing XML Result!\n", file="mod_python3.c", func="python_fetch",
                line=0)
            return None
        return text.strip()

    # -- python_list / python_kill ------------------------------------------------------------
    def api_python_list(self, args: str, session: Any, stream: Any) -> None:
        write_list(self.registry, stream)

    def api_python_kill(self, args: str, session: Any, stream: Any) -> bool | None:
        return kill_command(self.registry, args, stream, "python_kill")

    # -- shutdown -------------------------------------------------------------------------------
    def shutdown(self, timeout: float = 2.0) -> None:
        self.registry.kill_all("module unloading")
        with self._tlock:
            threads = list(self._threads)
        deadline = time.monotonic() + timeout
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self.loader.close()
