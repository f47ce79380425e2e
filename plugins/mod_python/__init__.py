"""mod_python: Python scripts as FreeSWITCH's mod_python3 runs them, on fsd's
language-neutral script API (:mod:`fsd.scripting`).  Thin module entry: the start-up paths
are in entry.py, one run in runner.py, the ``freeswitch`` module scripts import in
freeswitch.py.

Interfaces: the ``python`` language (dialplan and chat application ``python``, APIs
``python`` and ``pyrun``) through ``module.add_language``; ``python_list`` and
``python_kill``; python.conf.xml's XML handler and startup scripts.
"""

from __future__ import annotations

import sys
from typing import Any

import fsd
from fsd.module import APP_SUPPORT_NOMEDIA
from fsd.scripting.host import ScriptHost

from . import freeswitch as _freeswitch
from . import state
from .config import parse_config
from .entry import PythonEntry


@fsd.hookimpl
def fsd_module_load(module: Any) -> None:
    sw = module.switch
    cfg = parse_config(sw.config.get_configuration("python.conf") if sw.config else None)
    host = ScriptHost.from_switch(sw)
    state.set_host(host)
    # `import freeswitch` / `from freeswitch import *` in scripts
    sys.modules["freeswitch"] = _freeswitch
    entry = PythonEntry(host, cfg)
    module.state["entry"] = entry
    module.add_language("python", (".py",), app=entry.app_python, api=entry.api_python,
                        background=entry.pyrun, background_api="pyrun",
                        declare_background_api=False, inline=entry.run_inline,
                        syntax="<script> [additional_vars [...]]", app_flags=APP_SUPPORT_NOMEDIA,
                        app_description="Launch python ivr",
                        api_description="run a python script")
    module.add_api("pyrun", "run a python script", "python </path/to/script>", entry.api_pyrun)
    module.add_api("python_list", "list running Python scripts (fsd)", "", entry.api_python_list)
    module.add_api("python_kill", "stop a running Python script (fsd)", "<id>|all",
                   entry.api_python_kill)
    if hasattr(sw, "chat_applications"):
        module.add_chat_application("python", entry.chat_python)
    if cfg.xml_handler_script and cfg.xml_handler_sections:
        module.bind_xml(set(cfg.xml_handler_sections), entry.xml_fetch)


@fsd.hookimpl
def fsd_module_runtime(module: Any) -> None:
    entry: PythonEntry | None = module.state.get("entry")
    if entry is not None and entry.config.startup_scripts:
        module.spawn_thread(entry.start_startup_scripts, name="python-startup")


@fsd.hookimpl
def fsd_module_shutdown(module: Any) -> None:
    entry: PythonEntry | None = module.state.pop("entry", None)
    if entry is not None:
        entry.shutdown()
    if sys.modules.get("freeswitch") is _freeswitch:
        del sys.modules["freeswitch"]
