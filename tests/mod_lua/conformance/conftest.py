"""Fixtures for the §1–§12 conformance suite: one running daemon per test module, with a
lua.conf.xml exercising every entry point (startup script, hooks, XML handler, a memory
cap, a require path), a real mail path (msmtp relaying to aiosmtpd) and WAV prompts.

The ``Daemon`` helper and the base dialplan come from ``tests/mod_lua/conftest.py``
(loaded by path: test folders are not packages)."""

from __future__ import annotations

import importlib.util
import math
import os
import struct
import sys
import threading
import time
import wave
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
REPO = HERE.parents[2]


def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


base = _load("mod_lua_base_conftest", HERE.parent / "conftest.py")
email_helpers = _load("mod_email_conftest_helpers", REPO / "tests" / "mod_email" / "conftest.py")

MAX_MEMORY_MB = 24

EXTRA_DIALPLAN = """<include><context name="c">
<extension name="run"><condition field="destination_number" expression="^run-(.+)$">
  <action application="lua" data="$1.lua"/>
  <action application="set" data="after_lua=1"/>
  <action application="answer"/>
  <action application="park"/>
</condition></extension>
<extension name="xfer"><condition field="destination_number" expression="^xfer-target$">
  <action application="set" data="reached_xfer=1"/>
  <action application="park"/>
</condition></extension>
<extension name="wait"><condition field="destination_number" expression="^wait-(\\d+)$">
  <action application="sleep" data="$1"/>
  <action application="answer"/>
  <action application="park"/>
</condition></extension>
<extension name="busy"><condition field="destination_number" expression="^busy$">
  <action application="hangup" data="USER_BUSY"/>
</condition></extension>
<extension name="echo"><condition field="destination_number" expression="^echo$">
  <action application="answer"/>
  <action application="echo"/>
</condition></extension>
<extension name="answer"><condition field="destination_number" expression="^answer$">
  <action application="answer"/>
  <action application="park"/>
</condition></extension>
</context></include>
"""

LUA_CONF = f"""<configuration name="lua.conf" description="LUA Configuration">
  <settings>
    <param name="script-directory" value="$${{base_dir}}/lualib/?.lua"/>
    <param name="xml-handler-script" value="xmlh.lua"/>
    <param name="xml-handler-bindings" value="directory"/>
    <param name="startup-script" value="startup.lua first 'second arg'"/>
    <param name="max-memory" value="{MAX_MEMORY_MB}m"/>
  </settings>
  <hooks>
    <hook event="custom" subclass="conformance::hook" script="hook.lua"/>
    <hook event="SWITCH_EVENT_RELOADXML" subclass="" script="hook_any.lua"/>
  </hooks>
</configuration>
"""

SCRIPTS = {
    "startup.lua": """freeswitch.setGlobalVariable("startup_ran", argv[0] .. "|" .. argv[1] .. "|" .. argv[2])""",
    "hook.lua": """
freeswitch.setGlobalVariable("hook_seen", event:getHeader("Event-Subclass") .. "|" .. tostring(event:getHeader("X-Val")))
freeswitch.setGlobalVariable("hook_fire", tostring(event:fire()))
freeswitch.setGlobalVariable("hook_session", tostring(session))
""",
    "hook_any.lua": """freeswitch.setGlobalVariable("hook_any_seen", event:getType() .. "|" .. tostring(event:getHeader("X-Val")))""",
    "xmlh.lua": """
local r = XML_REQUEST
freeswitch.setGlobalVariable("xmlh_req", r.section .. "|" .. r.tag_name .. "|" .. r.key_name .. "|" .. r.key_value .. "|" .. tostring(params:getHeader("purpose")) .. "|" .. tostring(session))
if r.key_value == "lua.example" then
  XML_STRING = [[<document type="freeswitch/xml"><section name="directory">
    <domain name="lua.example"><user id="1000"><params><param name="password" value="from-lua"/></params></user></domain>
  </section></document>]]
elseif r.key_value == "broken.example" then
  XML_STRING = "<document><unclosed>"
end
""",
    "chat.lua": """freeswitch.setGlobalVariable("chat_seen", message:getHeader("from") .. "|" .. tostring(message:getBody()) .. "|" .. tostring(session) .. "|" .. tostring(argv[1]))""",
}


def write_wav(path: str | os.PathLike, seconds: float = 1.0, freq: float = 1000.0,
              amp: int = 8000, rate: int = 8000) -> str:
    """A mono 16-bit sine WAV (the prompts the media tests play)."""
    n = int(rate * seconds)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(amp * math.sin(2 * math.pi * freq * i / rate)))
                               for i in range(n)))
    return str(path)


@pytest.fixture
def make_wav():
    """``make_wav(path, seconds=1.0, freq=1000.0, amp=8000, rate=8000)`` → path."""
    return write_wav


@pytest.fixture(scope="session")
def smtp():
    srv = email_helpers.SmtpServer()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, smtp):
    from fsd.testing import running_switch, wait_until

    root = tmp_path_factory.mktemp("fsdc")
    rc = root / "msmtprc"
    rc.write_text("defaults\nauth off\ntls off\nlogfile -\n"
                  f"account default\nhost 127.0.0.1\nport {smtp.port}\ntimeout 5\n")
    os.chmod(rc, 0o600)
    bdir = root / "fsd"
    files = {"conf/dialplan/t.xml": base.DIALPLAN, "conf/dialplan/c.xml": EXTRA_DIALPLAN,
             "conf/autoload/lua.conf.xml": LUA_CONF,
             "lualib/conf_mod.lua": "return {answer = 42}\n"}
    files.update({f"scripts/{k}": v for k, v in SCRIPTS.items()})
    with running_switch(bdir, base.DAEMON_MODULES + ["mod_say_en"], extra_files=files,
                        switch_settings={"sessions-per-second": "1000", "max-sessions": "2000",
                                         "mailer-app": "msmtp",
                                         "mailer-app-args": f"-C {rc} -t"}) as sw:
        d = base.Daemon(sw)
        d.root = root
        d.smtp = smtp
        d.wav = write_wav(root / "tone1s.wav", 1.0)
        d.wav2 = write_wav(root / "tone2s.wav", 2.0, freq=500)
        yield d
        sw.api_execute("hupall")
        wait_until(lambda: not sw.sessions, 5)


@pytest.fixture(autouse=True)
def _hang_up_after(daemon):
    """Every test leaves no call behind for the next one."""
    yield
    from fsd.testing import wait_until

    if daemon.sw.sessions:
        daemon.sw.api_execute("hupall")
        wait_until(lambda: not daemon.sw.sessions, 5)


@pytest.fixture
def lua(daemon):
    """``lua(code)``: run inline code through the daemon's ``lua`` API; its stream output."""
    return lambda code: daemon.sw.api_execute("lua", "~" + code)


@pytest.fixture
def call(daemon):
    """``call(body, a_app="park()")`` runs ``body`` as the script of a new loopback call's B leg (context
    c; the dialplan answers after the script and parks).  The originate runs in a thread,
    so a script may block as long as it likes; returns (name, a_uuid, b_uuid) once both
    legs exist."""
    def run(body: str, a_app: str = "park()") -> tuple[str, str | None, str | None]:
        name = daemon.script(body)
        sw = daemon.sw
        tag = f"/run-{name}-"
        # legs are found through CHANNEL_CREATE, so a script that hangs up at once is fine
        sub = sw.events.subscribe(name="conformance-call")
        sub.bind("CHANNEL_CREATE")
        legs: dict[str, str] = {}
        try:
            threading.Thread(target=sw.api_execute, daemon=True,
                             args=(f"originate {{originate_timeout=30}}loopback/run-{name}/c &{a_app}",)).start()
            deadline = time.monotonic() + 5
            while len(legs) < 2 and time.monotonic() < deadline:
                ev = sub.get(timeout=0.1)
                if ev is not None and tag in (ev.get_header("Channel-Name") or ""):
                    legs[ev.get_header("Call-Direction") or ""] = ev.get_header("Unique-ID") or ""
        finally:
            sub.close()
        assert len(legs) == 2, legs
        return name, legs.get("outbound"), legs.get("inbound")

    return run


@pytest.fixture
def prompts(daemon):
    """``prompts(b_uuid, files, seconds)`` writes a short WAV for every prompt file that a
    say or phrase will play on that channel (under its sound prefix); returns the prefix."""

    def make(uuid: str, files: list[str], seconds: float = 0.3, prefix: str | None = None) -> str:
        from fsd.session_media import sound_prefix

        if prefix is None:
            prefix = sound_prefix(daemon.session(uuid)) or daemon.sw.dirs.sounds
        for f in files:
            p = f if os.path.isabs(f) else os.path.join(prefix, f)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            if not os.path.exists(p):
                write_wav(p, seconds)
        return prefix

    return make


def lua_errors(logs: list[Any]) -> list[str]:
    from fsd.log import ERR

    return [r.text for r in logs if r.level <= ERR]


@pytest.fixture
def errors(logs):
    """``errors()``: the ERR-or-worse log lines so far in this test."""
    return lambda: lua_errors(logs)
