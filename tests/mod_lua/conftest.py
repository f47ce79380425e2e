"""Fixtures: a LuaHost built from real parts (EventBus, GlobalVariables, the API table of
a ModuleInterface-free dispatcher following fsd.api's rules), and log capture."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from fsd.api import Stream
from fsd.events import Event, EventBus
from fsd.globals import GlobalVariables
from fsd.log import logger
from plugins.mod_lua.config import LuaConfig
from plugins.mod_lua.entry import LuaEntry
from plugins.mod_lua.host import LuaHost


class Apis:
    """A minimal API table: registered functions, fsd.api's unknown/failed texts, and the
    parameter event (fired after the call) — what switch.api_execute does."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.funcs: dict[str, Any] = {}

    def execute(self, cmd: str, args: str = "", session: Any = None) -> str:
        cmd, args = (cmd or "").strip(), (args or "").strip()
        ev = Event("API", calling_file="switch_loadable_module.c",
                   calling_func="switch_api_execute", calling_line=0)
        ev.add_header("API-Command", cmd)
        if args:
            ev.add_header("API-Command-Argument", args)
        stream = Stream(ev)
        fn = self.funcs.get(cmd.lower())
        if fn is None:
            stream.write("INVALID COMMAND!\n")
        elif fn(args, session, stream) is False:
            stream.write("COMMAND RETURNED ERROR!\n")
        self.bus.fire(ev)
        return stream.get_data()


@pytest.fixture
def bus():
    b = EventBus()
    b.start()
    yield b
    b.stop()


@pytest.fixture
def logs():
    records: list[Any] = []
    lock = threading.Lock()

    def sink(rec: Any) -> None:
        with lock:
            records.append(rec)

    sid = logger.add_sink(sink)
    yield records
    logger.remove_sink(sid)


@pytest.fixture
def apis(bus):
    return Apis(bus)


@pytest.fixture
def host(bus, apis, tmp_path):
    return LuaHost(api_execute=apis.execute, globals=GlobalVariables(), events=bus,
                   scripts_dir=str(tmp_path))


@pytest.fixture
def entry(host, apis):
    e = LuaEntry(host, LuaConfig())
    apis.funcs["lua"] = e.api_lua
    apis.funcs["luarun"] = e.api_luarun
    apis.funcs["lua_kill"] = e.api_lua_kill
    apis.funcs["lua_list"] = e.api_lua_list
    yield e
    e.shutdown()


@pytest.fixture
def lua(entry):
    """``lua(code, *args)`` runs inline code through the ``lua`` API and returns what
    it wrote to ``stream``."""

    def run(code: str) -> str:
        s = Stream(Event("API"))
        entry.api_lua("~" + code, None, s)
        return s.get_data()

    return run
