"""A real Switch (not started), real mod_dptools and mod_dialplan_xml loaded through their
hooks, real XML config files and real (thread-less) Sessions.  Hunting is a function of
the session's fields, so no daemon is needed here; end-to-end routing is tested by the
session/core tests."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from fsd.caller_profile import CallerProfile
from fsd.config.xmlconfig import XmlConfig
from fsd.dirs import Dirs
from fsd.log import logger
from fsd.module import ModuleInterface
from fsd.session import Session
from fsd.switch import Switch


class DialplanEnv:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.switch = Switch(Dirs.from_base(str(tmp_path)))
        self.conf = tmp_path / "conf"
        self.conf.mkdir(parents=True, exist_ok=True)
        import fsd_modules.mod_dialplan_xml as dpx
        import fsd_modules.mod_dptools as dptools

        self.dptools = ModuleInterface("mod_dptools", self.switch)
        dptools.fsd_module_load(module=self.dptools)
        self.module = ModuleInterface("mod_dialplan_xml", self.switch)
        dpx.fsd_module_load(module=self.module)
        self.records: list[Any] = []
        self._sink = logger.add_sink(self.records.append)
        self._n = 0

    def load(self, contexts: str) -> None:
        """Install a configuration whose dialplan section holds ``contexts``."""
        body = textwrap.dedent(contexts)
        (self.conf / "freeswitch.xml").write_text(
            '<?xml version="1.0"?>\n<document type="freeswitch/xml">\n'
            '  <section name="dialplan" description="test">\n'
            f"{body}\n  </section>\n</document>\n")
        cfg = XmlConfig.load(str(self.conf))
        cfg.bindings = self.switch.xml_bindings
        self.switch.config = cfg

    def session(self, dest: str, context: str = "default", variables: dict | None = None,
                **profile: Any) -> Session:
        self._n += 1
        prof = CallerProfile(destination_number=dest, context=context,
                             caller_id_name=profile.pop("caller_id_name", "Alice"),
                             caller_id_number=profile.pop("caller_id_number", "1001"),
                             **profile)
        return Session(self.switch, name=f"test/{dest}-{self._n}", direction="inbound",
                       profile=prof, variables=variables)

    def hunt(self, session: Session, args: str = "", now: Any = None) -> Any:
        from fsd_modules.mod_dialplan_xml import hunt

        if now is None:
            return self.switch.dialplans["xml"].hunt(session, args)
        return hunt(session, args, now=now)

    def logs(self, level: int | None = None, uuid: str | None = None) -> list[str]:
        return [r.text for r in self.records
                if (level is None or r.level == level) and (uuid is None or r.uuid == uuid)]

    def close(self) -> None:
        logger.remove_sink(self._sink)
        self.dptools.remove_interfaces()
        self.module.remove_interfaces()
        self.switch.loop.close()


@pytest.fixture
def dp(tmp_path: Path):
    env = DialplanEnv(tmp_path)
    yield env
    env.close()
