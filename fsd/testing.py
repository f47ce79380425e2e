"""Helpers for tests (fsd's own and plugin authors'): a real switch on a temporary base.

    from fsd.testing import running_switch
    with running_switch(tmp_path, modules=["mod_commands", "mod_loopback"]) as sw:
        assert sw.api_execute("version").startswith("FreeSWITCH Version")

The configuration is the embedded default, copied into ``<base>/conf``; listeners (the
event socket, SIP profiles) are moved to ephemeral ports (never 5060/8021/8080), and
``modules`` replaces the module list.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from fsd.dirs import Dirs, embedded_conf_dir, embedded_scripts_dir
from fsd.switch import Switch

#: Every bundled module, in the default load order.
ALL_MODULES = ["mod_commands", "mod_event_socket", "mod_db", "mod_email", "mod_hash", "mod_dptools",
               "mod_loopback", "mod_dialplan_xml", "mod_say_en", "mod_lua", "mod_python",
               "mod_xml_rpc"]


def prepare_base(base: str | os.PathLike, modules: list[str] | None = None,
                 extra_files: dict[str, str] | None = None,
                 switch_settings: dict[str, str] | None = None) -> Dirs:
    """Lay out a base directory with the embedded config, made safe for tests."""
    base = Path(base)
    conf = base / "conf"
    if not conf.exists():
        shutil.copytree(embedded_conf_dir(), conf)
    scripts = embedded_scripts_dir()
    if scripts and not (base / "scripts").exists():
        shutil.copytree(scripts, base / "scripts")
    esl = conf / "autoload" / "event_socket.conf.xml"
    if esl.exists():
        text = esl.read_text()
        text = re.sub(r'(name="listen-port"\s+value=")[^"]*(")', r"\g<1>0\2", text)
        esl.write_text(text)
    sofia = conf / "autoload" / "sofia.conf.xml"
    if sofia.exists():
        # SIP profiles on ephemeral ports too (the shipped internal profile wants 5060).
        text = re.sub(r'(name="sip-port"\s+value=")[^"]*(")', r"\g<1>0\2", sofia.read_text())
        sofia.write_text(text)
    http = conf / "autoload" / "xml_rpc.conf.xml"
    if http.exists():
        text = http.read_text()
        http.write_text(re.sub(r'(name="http-port"\s+value=")[^"]*(")', r"\g<1>0\2", text))
    if modules is not None:
        lines = "\n".join(f'    <load module="{m}"/>' for m in modules)
        (conf / "autoload" / "modules.conf.xml").write_text(
            f'<configuration name="modules.conf" description="Modules">\n  <modules>\n{lines}\n'
            f"  </modules>\n</configuration>\n")
    if switch_settings:
        sw = conf / "autoload" / "switch.conf.xml"
        text = sw.read_text()
        for k, v in switch_settings.items():
            # Drop every line naming the param (commented or not), then set it once.
            text = re.sub(rf'^.*<param name="{re.escape(k)}"[^>]*/>.*\n', "", text, flags=re.M)
            text = text.replace("<settings>", f'<settings>\n    <param name="{k}" value="{v}"/>', 1)
        sw.write_text(text)
    for rel, content in (extra_files or {}).items():
        p = base / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
    return Dirs.from_base(str(base))


@contextlib.contextmanager
def running_switch(base: str | os.PathLike, modules: list[str] | None = None,
                   extra_files: dict[str, str] | None = None,
                   switch_settings: dict[str, str] | None = None) -> Iterator[Switch]:
    """Start a real Switch; on exit hang up everything, stop it, and check that no session
    or session thread is left behind."""
    dirs = prepare_base(base, modules, extra_files, switch_settings)
    sw = Switch(dirs)
    sw.start()
    try:
        yield sw
    finally:
        sw.shutdown()
        leftover = [t.name for t in threading.enumerate() if t.name.startswith("session-")]
        deadline = time.time() + 5
        while leftover and time.time() < deadline:
            time.sleep(0.05)
            leftover = [t.name for t in threading.enumerate() if t.name.startswith("session-")]
        assert not sw.sessions, f"sessions left behind: {list(sw.sessions)}"
        assert not leftover, f"session threads left behind: {leftover}"


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until true or ``timeout``; returns its last value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


class EventLog:
    """Every event the switch fires from now on, for assertions in tests."""

    def __init__(self, switch: Switch) -> None:
        self.events: list = []
        self.lock = threading.Lock()
        self.binding = switch.events.bind("ALL", None, self._add)

    def _add(self, ev) -> None:
        with self.lock:
            self.events.append(ev)

    def of(self, name: str, uuid: str | None = None, **headers: str) -> list:
        """Events of type ``name`` (for channel ``uuid``), whose headers match ``headers``
        (``Answer_State="early"`` means header ``Answer-State``)."""
        with self.lock:
            out = [e for e in self.events if e.name == name
                   and (uuid is None or e.get_header("Unique-ID") == uuid)]
        for k, v in headers.items():
            out = [e for e in out if e.get_header(k.replace("_", "-")) == v]
        return out

    def wait(self, name: str, uuid: str | None = None, timeout: float = 8, **headers: str) -> list:
        """Like :meth:`of`, waiting up to ``timeout`` for at least one; asserts."""
        assert wait_until(lambda: self.of(name, uuid, **headers), timeout), \
            f"no {name} {headers or ''} for {uuid}"
        return self.of(name, uuid, **headers)


def originate(switch: Switch, text: str) -> tuple[str | None, str]:
    """``originate <text>`` through the API: (the new leg's UUID or None, the reply)."""
    out = switch.api_execute(f"originate {text}")
    m = re.match(r"^\+OK ([0-9a-f-]{36})\n$", out)
    return (m.group(1) if m else None), out


def other_leg(switch: Switch, uuid: str) -> str:
    """The other channel of a loopback pair."""
    return switch.api_execute(f"uuid_getvar {uuid} other_loopback_leg_uuid")

