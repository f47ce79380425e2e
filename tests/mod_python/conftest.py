"""Fixtures: one running switch (in-process) with mod_python and mod_lua side by side, a
dialplan that runs either language on a loopback call, and log capture."""

from __future__ import annotations

import itertools
import os
import re
import threading
from typing import Any

import pytest

from fsd.log import logger
from fsd.testing import running_switch, wait_until

MODULES = ["mod_commands", "mod_dptools", "mod_loopback", "mod_dialplan_xml", "mod_db",
           "mod_email", "mod_lua", "mod_python"]

DIALPLAN = """<include><context name="t">
<extension name="py"><condition field="destination_number" expression="^py-(\\S+?)(?:~(.*))?$">
  <action application="python" data="$1 $2"/>
  <action application="set" data="after_python=1"/>
  <action application="park"/>
</condition></extension>
<extension name="lua"><condition field="destination_number" expression="^lua-(.+)$">
  <action application="lua" data="$1.lua"/>
  <action application="park"/>
</condition></extension>
<extension name="pyhook"><condition field="destination_number" expression="^pyhook-(.+)$">
  <action application="set" data="session_in_hangup_hook=true"/>
  <action application="set" data="api_hangup_hook=python $1 hookarg"/>
  <action application="answer"/>
  <action application="set" data="answered_by_dialplan=1"/>
  <action application="park"/>
</condition></extension>
<extension name="pyexpand"><condition field="destination_number" expression="^pyexpand-(.+)$">
  <action application="set" data="expanded=${python($1 xyz)}"/>
  <action application="answer"/>
  <action application="set" data="answered_by_dialplan=1"/>
  <action application="park"/>
</condition></extension>
<extension name="parked"><condition field="destination_number" expression="^parked$">
  <action application="answer"/>
  <action application="park"/>
</condition></extension>
</context></include>
"""

PYTHON_CONF = """<configuration name="python.conf" description="PYTHON Configuration">
  <settings>
    <param name="xml-handler-script" value="xmlh"/>
    <param name="xml-handler-bindings" value="directory"/>
    <param name="startup-script" value="startup_mod boot"/>
  </settings>
</configuration>
"""

STARTUP = """from freeswitch import *
def runtime(args):
    setGlobalVariable("py_startup", args)
"""

XMLH = """def xml_fetch(params):
    v = params.getHeader("key_value") or ""
    if params.getHeader("section") != "directory" or not v.endswith("py.example"):
        return None
    if v == "broken.py.example":
        return "<broken"
    return ('<document type="freeswitch/xml"><section name="directory">'
            '<domain name="%s" purpose="%s"/></section></document>' % (v, params.getHeader("purpose")))
"""


class Daemon:
    def __init__(self, sw: Any) -> None:
        self.sw = sw
        self._n = itertools.count(1)

    def script(self, body: str, name: str | None = None, ext: str = "py") -> str:
        name = name or f"m{next(self._n)}"
        with open(os.path.join(self.sw.dirs.scripts, f"{name}.{ext}"), "w") as f:
            f.write(body)
        return name

    def call(self, dest: str) -> tuple[str | None, str | None]:
        """Originate loopback/<dest>/t in a thread; (a_uuid, b_uuid) once both legs were
        created (seen through CHANNEL_CREATE, so a script that ends at once is no race)."""
        legs: dict[str, str] = {}
        prefix = f"loopback/{dest}-"

        def on_create(ev: Any) -> None:
            name = ev.get_header("Channel-Name") or ""
            if name.startswith(prefix):
                legs[name[len(prefix):]] = ev.get_header("Unique-ID")

        binding = self.sw.events.bind("CHANNEL_CREATE", None, on_create)
        out: list[str] = []
        try:
            threading.Thread(target=lambda: out.append(self.sw.api_execute(
                f"originate {{originate_timeout=10}}loopback/{dest}/t &park()")),
                daemon=True).start()
            assert wait_until(lambda: len(legs) >= 2 or (out and not out[0].startswith("+OK")),
                              10), out
        finally:
            self.sw.events.unbind(binding)
        assert len(legs) >= 2, out
        return legs.get("a"), legs.get("b")

    def var(self, uuid: str | None, name: str) -> str | None:
        s = self.sw.sessions.get(uuid or "")
        return s.get_variable(name) if s is not None else None

    def wait_global(self, name: str, timeout: float = 5.0) -> str | None:
        wait_until(lambda: self.sw.globals.get(name) is not None, timeout)
        return self.sw.globals.get(name)

    def gone(self, uuid: str | None, timeout: float = 10.0) -> bool:
        return wait_until(lambda: (uuid or "") not in self.sw.sessions, timeout)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    base = tmp_path_factory.mktemp("fsd")
    scripts = base / "scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    (scripts / "startup_mod.py").write_text(STARTUP)
    (scripts / "xmlh.py").write_text(XMLH)
    with running_switch(base, MODULES,
                        extra_files={"conf/dialplan/t.xml": DIALPLAN,
                                     "conf/autoload/python.conf.xml": PYTHON_CONF},
                        switch_settings={"sessions-per-second": "1000",
                                         "max-sessions": "2000"}) as sw:
        yield Daemon(sw)
        sw.api_execute("hupall")
        wait_until(lambda: not sw.sessions, 5)


class Logs(list):
    """Captured log records, with the checks the tests make."""

    def text(self) -> str:
        return "".join(r.text for r in list(self))

    def has_file_line(self, filename: str, line: int) -> bool:
        """Python's traceback form: File ".../<filename>", line N."""
        return re.search(rf'File "[^"]*{re.escape(filename)}", line {line}\b',
                         self.text()) is not None


@pytest.fixture
def logs():
    records = Logs()
    lock = threading.Lock()

    def sink(rec: Any) -> None:
        with lock:
            records.append(rec)

    sid = logger.add_sink(sink)
    yield records
    logger.remove_sink(sid)
