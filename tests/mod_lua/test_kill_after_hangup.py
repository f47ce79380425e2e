"""lua.conf.xml ``kill-after-hangup-sec`` (fsd, off by default): a script still running that
long after its channel hung up is stopped."""

from __future__ import annotations

from fsd_modules.mod_lua.config import parse_config
from fsd_modules.mod_lua.runtime import REGISTRY
from lxml import etree

from fsd.testing import other_leg, running_switch, wait_until

LUA_CONF = """<configuration name="lua.conf" description="LUA Configuration"><settings>
  <param name="kill-after-hangup-sec" value="0.3"/>
</settings></configuration>
"""
DIALPLAN = """<include><context name="t">
<extension name="run"><condition field="destination_number" expression="^run-(.+)$">
  <action application="lua" data="$1.lua"/>
</condition></extension>
</context></include>
"""


def test_parse_default_off_and_bad_value():
    assert parse_config(etree.fromstring(
        '<configuration name="lua.conf"><settings/></configuration>')).kill_after_hangup is None
    bad = parse_config(etree.fromstring(
        '<configuration name="lua.conf"><settings><param name="kill-after-hangup-sec" '
        'value="soon"/></settings></configuration>'))
    assert bad.kill_after_hangup is None
    assert parse_config(etree.fromstring(LUA_CONF)).kill_after_hangup == 0.3


def test_script_stopped_after_the_limit(tmp_path):
    files = {"conf/autoload/lua.conf.xml": LUA_CONF, "conf/dialplan/t.xml": DIALPLAN,
             "scripts/spin.lua": 'session:answer() freeswitch.setGlobalVariable("spin", "1") '
                                 'while true do end'}
    mods = ["mod_commands", "mod_dptools", "mod_loopback", "mod_dialplan_xml", "mod_lua"]
    with running_switch(tmp_path, mods, extra_files=files) as sw:
        out = sw.api_execute("originate loopback/run-spin/t &park()")
        assert out.startswith("+OK ")
        b = other_leg(sw, out[4:].strip())
        assert wait_until(lambda: sw.globals.get("spin") == "1")
        assert [c for c in REGISTRY.list() if c.name == "spin.lua"]
        sw.api_execute(f"uuid_kill {b}")
        assert wait_until(lambda: not [c for c in REGISTRY.list() if c.name == "spin.lua"], 5)
