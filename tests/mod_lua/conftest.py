"""Fixtures: a LuaHost built from real parts (EventBus, GlobalVariables, the API table of
a ModuleInterface-free dispatcher following fsd.api's rules), and log capture."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fsd_modules.mod_lua.config import LuaConfig
from fsd_modules.mod_lua.entry import LuaEntry
from fsd_modules.mod_lua.host import LuaHost

from fsd.api import Stream
from fsd.events import Event, EventBus
from fsd.globals import GlobalVariables
from fsd.log import logger


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


# -- a running daemon -----------------------------------------------------------------------
DAEMON_MODULES = ["mod_commands", "mod_dptools", "mod_loopback", "mod_dialplan_xml", "mod_lua",
                  "mod_db", "mod_email"]

DIALPLAN = """<include><context name="t">
<extension name="run"><condition field="destination_number" expression="^run-(.+)$">
  <action application="lua" data="$1.lua"/>
  <action application="set" data="after_lua=1"/>
  <action application="park"/>
</condition></extension>
<extension name="args"><condition field="destination_number" expression="^args-(.+)$">
  <action application="lua" data="$1.lua 'one two' three\\ four"/>
  <action application="park"/>
</condition></extension>
<extension name="noargs"><condition field="destination_number" expression="^noargs$">
  <action application="lua" data=""/>
  <action application="set" data="after_lua=1"/>
  <action application="answer"/>
  <action application="park"/>
</condition></extension>
<extension name="expand"><condition field="destination_number" expression="^expand-(.+)$">
  <action application="set" data="expanded=${lua($1.lua)}"/>
  <action application="answer"/>
  <action application="park"/>
</condition></extension>
<extension name="hook"><condition field="destination_number" expression="^hook-(.+)$">
  <action application="set" data="my_custom_var=custom42"/>
  <action application="set" data="api_hangup_hook=lua $1.lua ${my_custom_var}"/>
  <action application="answer"/>
  <action application="park"/>
</condition></extension>
<extension name="err"><condition field="destination_number" expression="^err-(.+)$">
  <action application="lua" data="$1.lua"/>
  <action application="hangup"/>
</condition></extension>
<extension name="parked"><condition field="destination_number" expression="^parked$">
  <action application="answer"/>
  <action application="park"/>
</condition></extension>
<extension name="target"><condition field="destination_number" expression="^target$">
  <action application="set" data="reached_target=1"/>
  <action application="answer"/>
  <action application="park"/>
</condition></extension>
</context></include>
"""


class Daemon:
    """A running switch plus helpers to run a script on a loopback call."""

    def __init__(self, sw: Any) -> None:
        import itertools

        self.sw = sw
        self._n = itertools.count(1)

    def script(self, body: str, name: str | None = None) -> str:
        """Write a script and return its name.  Prepended on the first line (so line numbers
        are unchanged): ``R(key, value)`` stores a result as a global, ``W(key)`` waits
        until the test calls :meth:`go`."""
        import os

        name = name or f"s{next(self._n)}"
        prelude = (f"local function R(k, v) freeswitch.setGlobalVariable('{name}_' .. k, "
                   "tostring(v)) end "
                   f"local function W(k) while freeswitch.getGlobalVariable('{name}_go_' .. k) "
                   "== nil do freeswitch.msleep(10) end end ")
        with open(os.path.join(self.sw.dirs.scripts, f"{name}.lua"), "w") as f:
            f.write(prelude + body)
        return name

    def go(self, name: str, key: str) -> None:
        """Release a script waiting in ``W(key)``."""
        self.sw.globals.set(f"{name}_go_{key}", "1")

    def result(self, name: str, key: str, timeout: float = 5.0) -> str | None:
        from fsd.testing import wait_until

        wait_until(lambda: self.sw.globals.get(f"{name}_{key}") is not None, timeout)
        return self.sw.globals.get(f"{name}_{key}")

    def call(self, dest: str, wait: bool = True) -> tuple[str | None, str | None]:
        """Originate loopback/<dest>/t; returns (a_uuid, b_uuid).  With ``wait=False``
        the originate runs in a thread (for scripts that do not answer)."""
        import re

        from fsd.testing import wait_until

        if not wait:
            before = set(self.sw.sessions)
            threading.Thread(target=self.sw.api_execute,
                             args=(f"originate {{originate_timeout=10}}loopback/{dest}/t &park()",),
                             daemon=True).start()
            assert wait_until(lambda: len(set(self.sw.sessions) - before) >= 2, 5)
            new = [self.sw.sessions[u] for u in set(self.sw.sessions) - before if u in self.sw.sessions]
            b = [s for s in new if s.direction == "inbound"]
            a = [s for s in new if s.direction == "outbound"]
            return (a[0].uuid if a else None), (b[0].uuid if b else None)
        out = self.sw.api_execute(f"originate loopback/{dest}/t &park()")
        m = re.match(r"^\+OK ([0-9a-f-]{36})\n$", out)
        if not m:
            return None, None
        a = m.group(1)
        return a, self.sw.api_execute(f"uuid_getvar {a} other_loopback_leg_uuid")

    def run(self, body: str, wait: bool = True) -> tuple[str, str | None, str | None]:
        name = self.script(body)
        a, b = self.call(f"run-{name}", wait)
        return name, a, b

    def session(self, uuid: str | None) -> Any:
        return self.sw.sessions.get(uuid or "")

    def gone(self, uuid: str | None, timeout: float = 5.0) -> bool:
        from fsd.testing import wait_until

        return wait_until(lambda: (uuid or "") not in self.sw.sessions, timeout)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    from fsd.testing import running_switch

    base = tmp_path_factory.mktemp("fsd")
    with running_switch(base, DAEMON_MODULES, extra_files={"conf/dialplan/t.xml": DIALPLAN},
                        switch_settings={"sessions-per-second": "1000",
                                         "max-sessions": "2000"}) as sw:
        d = Daemon(sw)
        yield d
        sw.api_execute("hupall")
        from fsd.testing import wait_until

        wait_until(lambda: not sw.sessions, 5)


@pytest.fixture
def lua_daemon_api(daemon):
    """Run ``lua <script string>`` through the daemon's API table."""
    return lambda text: daemon.sw.api_execute("lua", text)
