"""mod_lua: FreeSWITCH's Lua scripting on lupa (Lua 5.3).  Thin module entry: the logic is
in entry.py (start-up paths), runtime.py (one run), bindings/ (the Lua API).

The ``lua`` dialplan application is registered once the Session binding exists; until
then scripts run through the ``lua`` and ``luarun`` APIs, hooks, the XML handler and
startup scripts.
"""

from __future__ import annotations

from typing import Any

import fsd

from .config import parse_config
from .entry import LuaEntry
from .host import LuaHost


@fsd.hookimpl
def fsd_module_load(module: Any) -> None:
    sw = module.switch
    cfg = parse_config(sw.config.get_configuration("lua.conf") if sw.config else None)
    entry = LuaEntry(LuaHost.from_switch(sw), cfg)
    module.state["entry"] = entry
    module.add_api("lua", "run a script as an api function", "<script>", entry.api_lua)
    module.add_api("luarun", "run a script", "<script>", entry.api_luarun)
    module.add_api("lua_list", "list running Lua scripts (fsd)", "", entry.api_lua_list)
    module.add_api("lua_kill", "stop a running Lua script (fsd)", "<id>|all", entry.api_lua_kill)
    for hook in cfg.hooks:
        module.bind_event(hook.event, hook.subclass, entry.hook_callback(hook))
    if cfg.xml_handler_script and cfg.xml_handler_sections:
        module.bind_xml(set(cfg.xml_handler_sections), entry.xml_fetch)


@fsd.hookimpl
def fsd_module_runtime(module: Any) -> None:
    entry: LuaEntry | None = module.state.get("entry")
    if entry is not None and entry.config.startup_scripts:
        # started off the event loop: the 10 ms spacing must not block it
        module.spawn_thread(entry.start_startup_scripts, name="lua-startup")


@fsd.hookimpl
def fsd_module_shutdown(module: Any) -> None:
    entry: LuaEntry | None = module.state.pop("entry", None)
    if entry is not None:
        entry.shutdown()
