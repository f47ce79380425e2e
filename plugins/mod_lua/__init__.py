"""mod_lua: FreeSWITCH's Lua scripting on lupa (Lua 5.3).  Thin module entry: the logic is
in entry.py (start-up paths), runtime.py (one run), bindings/ (the Lua API).

Interfaces: the ``lua`` dialplan and chat applications, the ``lua``, ``luarun``,
``lua_list`` and ``lua_kill`` APIs, the ``LUA`` dialplan, lua.conf.xml hooks, XML handler
and startup scripts.
"""

from __future__ import annotations

from typing import Any

import fsd
from fsd.module import APP_ROUTING_EXEC, APP_SUPPORT_NOMEDIA, APP_ZOMBIE_EXEC

from .config import parse_config
from .entry import LuaEntry
from .host import LuaHost

_entries: dict[int, LuaEntry] = {}  # by id(switch), for the broadcast hooks


@fsd.hookimpl
def fsd_module_load(module: Any) -> None:
    sw = module.switch
    cfg = parse_config(sw.config.get_configuration("lua.conf") if sw.config else None)
    entry = LuaEntry(LuaHost.from_switch(sw), cfg, spares=2)
    module.state["entry"] = entry
    _entries[id(sw)] = entry
    # the `lua` application and API and `luarun`, through the language contract
    module.add_language("lua", (".lua",), app=entry.app_lua, api=entry.api_lua,
                        background=entry.luarun, background_api="luarun",
                        inline=entry.run_inline, syntax="<script>",
                        app_flags=APP_ROUTING_EXEC | APP_SUPPORT_NOMEDIA | APP_ZOMBIE_EXEC,
                        app_description="Launch LUA ivr",
                        api_description="run a script as an api function",
                        background_description="run a script")
    module.add_api("lua_list", "list running Lua scripts (fsd)", "", entry.api_lua_list)
    module.add_api("lua_kill", "stop a running Lua script (fsd)", "<id>|all", entry.api_lua_kill)
    if hasattr(module, "add_chat_application") and hasattr(sw, "chat_applications"):
        module.add_chat_application("lua", entry.chat_lua)
    module.add_dialplan("LUA", entry.dialplan_hunt)
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
    _entries.pop(id(module.switch), None)
    if entry is not None:
        entry.shutdown()


@fsd.hookimpl
def fsd_metrics(switch: Any) -> list[Any]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    entry: LuaEntry | None = _entries.get(id(switch))
    if entry is None:
        return []
    reg = entry.registry
    running = GaugeMetricFamily("fsd_lua_scripts_running", "Lua scripts running now")
    running.add_metric([], len(reg))
    started = CounterMetricFamily("fsd_lua_scripts_started", "Lua scripts started since start")
    started.add_metric([], reg.started)
    errors = CounterMetricFamily("fsd_lua_script_errors",
                                 "Lua scripts that ended in an error, a kill or the memory cap")
    errors.add_metric([], reg.errors)
    return [running, started, errors]
