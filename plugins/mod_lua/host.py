"""What a Lua script reaches of the switch, behind one small object.

The bindings never touch the core directly: API calls, global variables, the event bus,
the scripts directory and the ``require`` paths all come from a :class:`LuaHost`.  The
module builds one from the running switch (:meth:`LuaHost.from_switch`); tests build one
from real parts (a real EventBus, GlobalVariables and an API table) without a daemon.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from fsd.scripting.host import ApiExecute, ScriptHost

from .argv import build_search_path

# Debian's lua5.3 compiled-in defaults (its luaconf.h adds the multiarch and /usr/share
# directories), used when lua.conf.xml sets nothing or asks for ";;": Debian's lua-cjson,
# lua-socket and lua-sql-* packages are found as a FreeSWITCH user expects.
LUA_DEFAULT_PATH = (
    "/usr/local/share/lua/5.3/?.lua;/usr/local/share/lua/5.3/?/init.lua;"
    "/usr/local/lib/lua/5.3/?.lua;/usr/local/lib/lua/5.3/?/init.lua;"
    "/usr/share/lua/5.3/?.lua;/usr/share/lua/5.3/?/init.lua;./?.lua;./?/init.lua"
)
LUA_DEFAULT_CPATH = (
    "/usr/local/lib/lua/5.3/?.so;/usr/lib/x86_64-linux-gnu/lua/5.3/?.so;"
    "/usr/lib/lua/5.3/?.so;/usr/local/lib/lua/5.3/loadall.so;./?.so"
)


def _env_or_default(env_value: str | None, default: str) -> str:
    """What a stand-alone lua5.3 uses without lua.conf.xml settings: LUA_PATH (";;" is the
    default) or the default."""
    if not env_value:
        return default
    return env_value.replace(";;", f";{default};", 1).replace(";;", ";")


class LuaHost(ScriptHost):
    """The switch as the Lua bindings see it: :class:`fsd.scripting.host.ScriptHost` plus
    the ``require`` paths and the Lua limits."""

    def __init__(
        self,
        *,
        api_execute: ApiExecute,
        globals: Any,
        events: Any,
        scripts_dir: str,
        running: Callable[[], bool] | None = None,
        script_dirs: list[str] | None = None,
        module_dirs: list[str] | None = None,
        max_memory: int | None = None,
        cpu_limit: float | None = None,
        kill_after_hangup: float | None = None,
        switch: Any = None,
    ) -> None:
        super().__init__(api_execute=api_execute, globals=globals, events=events,
                         scripts_dir=scripts_dir, running=running, switch=switch)
        self.max_memory = max_memory
        self.cpu_limit = cpu_limit
        self.kill_after_hangup = kill_after_hangup
        self.set_search_dirs(script_dirs or [], module_dirs or [])

    def set_search_dirs(self, script_dirs: list[str], module_dirs: list[str]) -> None:
        """lua.conf.xml ``script-directory`` / ``module-directory`` values."""
        env_path, env_cpath = os.environ.get("LUA_PATH"), os.environ.get("LUA_CPATH")
        self.package_path = (build_search_path(script_dirs, env_path, LUA_DEFAULT_PATH)
                             or _env_or_default(env_path, LUA_DEFAULT_PATH))
        self.package_cpath = (build_search_path(module_dirs, env_cpath, LUA_DEFAULT_CPATH)
                              or _env_or_default(env_cpath, LUA_DEFAULT_CPATH))
