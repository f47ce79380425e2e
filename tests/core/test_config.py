"""The XML pre-processor, lookups and reloadxml."""

from __future__ import annotations

import pytest

from fsd.config import ConfigError, XmlConfig
from fsd.testing import running_switch, wait_until


def write(p, text):
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def test_include_set_and_global_expansion(tmp_path):
    write(tmp_path / "freeswitch.xml", """<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="set" data="who=world"/>
  <X-PRE-PROCESS cmd="include" data="vars/*.xml"/>
  <section name="configuration">
    <X-PRE-PROCESS cmd="include" data="conf.d/*.xml"/>
  </section>
</document>
""")
    write(tmp_path / "vars" / "a.xml", '<include>\n  <X-PRE-PROCESS cmd="set" data="greeting=hello $${who}"/>\n</include>\n')
    write(tmp_path / "conf.d" / "x.conf.xml", '<?xml version="1.0"?>\n<configuration name="x.conf">\n'
          '  <settings><param name="msg" value="$${greeting}"/></settings>\n</configuration>\n')
    cfg = XmlConfig.load(str(tmp_path))
    el = cfg.get_configuration("x.conf")
    assert el is not None
    assert el.find("settings/param").get("value") == "hello world"
    assert cfg.variables["greeting"] == "hello world"


def test_commented_preprocess_is_ignored(tmp_path):
    write(tmp_path / "freeswitch.xml", '<document>\n<!-- <X-PRE-PROCESS cmd="include" data="missing.xml"/> -->\n'
          '<!--\n <X-PRE-PROCESS cmd="set" data="a=1"/>\n-->\n</document>\n')
    cfg = XmlConfig.load(str(tmp_path))
    assert "a" not in cfg.variables


def test_parse_error_names_included_file_and_line(tmp_path):
    write(tmp_path / "freeswitch.xml", '<document>\n<section name="configuration">\n'
          '<X-PRE-PROCESS cmd="include" data="inc/*.xml"/>\n</section>\n</document>\n')
    write(tmp_path / "inc" / "good.xml", "<configuration name=\"a.conf\"/>\n")
    write(tmp_path / "inc" / "zbad.xml", '<include>\n<configuration name="b.conf">\n  <settings>\n'
          '  </setting>\n</configuration>\n</include>\n')
    with pytest.raises(ConfigError) as e:
        XmlConfig.load(str(tmp_path))
    assert e.value.file.endswith("zbad.xml")
    assert e.value.line == 4


def test_missing_include_names_the_including_line(tmp_path):
    write(tmp_path / "freeswitch.xml", '<document>\n\n<X-PRE-PROCESS cmd="include" data="nope.xml"/>\n</document>\n')
    with pytest.raises(ConfigError) as e:
        XmlConfig.load(str(tmp_path))
    assert e.value.line == 3 and "nope.xml" in str(e.value)


def test_include_loop_is_an_error(tmp_path):
    write(tmp_path / "freeswitch.xml", '<document>\n<X-PRE-PROCESS cmd="include" data="loop.xml"/>\n</document>\n')
    write(tmp_path / "loop.xml", '<include>\n<X-PRE-PROCESS cmd="include" data="loop.xml"/>\n</include>\n')
    with pytest.raises(ConfigError) as e:
        XmlConfig.load(str(tmp_path))
    assert "nested deeper" in str(e.value)


def test_bad_set_syntax(tmp_path):
    write(tmp_path / "freeswitch.xml", '<document>\n<X-PRE-PROCESS cmd="set" data="novalue"/>\n</document>\n')
    with pytest.raises(ConfigError) as e:
        XmlConfig.load(str(tmp_path))
    assert e.value.line == 2


def test_freeswitch_vanilla_layout_loads(tmp_path):
    """A FreeSWITCH-style tree: autoload_configs/ instead of autoload/."""
    write(tmp_path / "freeswitch.xml", '<?xml version="1.0"?>\n<document type="freeswitch/xml">\n'
          '  <X-PRE-PROCESS cmd="include" data="vars.xml"/>\n'
          '  <section name="configuration" description="Various Configuration">\n'
          '    <X-PRE-PROCESS cmd="include" data="autoload_configs/*.xml"/>\n  </section>\n'
          '  <section name="dialplan"><X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/></section>\n'
          '</document>\n')
    write(tmp_path / "vars.xml", '<include>\n  <X-PRE-PROCESS cmd="set" data="domain=example.com"/>\n</include>\n')
    write(tmp_path / "autoload_configs" / "switch.conf.xml",
          '<configuration name="switch.conf" description="Core Configuration">\n'
          '  <settings>\n    <param name="max-sessions" value="77"/>\n  </settings>\n</configuration>\n')
    write(tmp_path / "autoload_configs" / "modules.conf.xml",
          '<configuration name="modules.conf"><modules><load module="mod_commands"/></modules></configuration>\n')
    write(tmp_path / "dialplan" / "default.xml", '<include><context name="default"/></include>\n')
    from fsd.dirs import Dirs
    from fsd.switch import Switch

    d = Dirs.from_base(str(tmp_path / "base"), conf=str(tmp_path))
    sw = Switch(d)
    sw.start()
    try:
        assert sw.setting_int("max-sessions", 0) == 77
        assert sw.globals.get("domain") == "example.com"
        assert "version" in sw.apis
    finally:
        sw.shutdown()


def test_reloadxml_keeps_old_config_on_error(tmp_path):
    with running_switch(tmp_path, ["mod_commands"]) as sw:
        got = []
        sw.events.bind("RELOADXML", None, lambda ev: got.append(ev))
        extra = tmp_path / "conf" / "autoload" / "extra.conf.xml"
        extra.write_text('<configuration name="extra.conf"><settings><param name="a" value="1"/></settings></configuration>\n')
        assert sw.api_execute("reloadxml") == "+OK [Success]\n"
        assert sw.config.get_configuration("extra.conf") is not None
        assert wait_until(lambda: len(got) == 1)
        extra.write_text('<configuration name="extra.conf">\n<settings>\n</configuration>\n')
        out = sw.api_execute("reloadxml")
        assert out.startswith("-ERR [") and "extra.conf.xml:3:" in out
        assert sw.config.get_configuration("extra.conf") is not None  # old tree in force
        assert sw.api_execute("version").startswith("FreeSWITCH Version")


def test_xml_binding_answers_lookups(tmp_path):
    with running_switch(tmp_path, ["mod_commands"]) as sw:
        from fsd.module import ModuleInterface

        mi = ModuleInterface("test", sw)
        seen = []

        def handler(section, tag, key, value, params):
            seen.append((section, tag, key, value))
            if value == "dyn.conf":
                return ('<document type="freeswitch/xml"><section name="configuration">'
                        '<configuration name="dyn.conf"><settings><param name="p" value="v"/></settings>'
                        '</configuration></section></document>')
            if value == "broken.conf":
                return "<document><oops></document>"
            return None

        mi.bind_xml("configuration", handler)
        el = sw.config.get_configuration("dyn.conf")
        assert el is not None and el.find("settings/param").get("value") == "v"
        assert sw.config.get_configuration("broken.conf") is None  # logged, not raised
        assert sw.config.get_configuration("switch.conf") is not None  # falls back to static
        mi.remove_interfaces()
        assert sw.config.get_configuration("dyn.conf") is None


def test_switch_settings_and_variables(tmp_path):
    with running_switch(tmp_path, ["mod_commands"], switch_settings={"switchname": "node7"}) as sw:
        assert sw.switchname == "node7"
        from fsd.events import Event

        ev = Event("CUSTOM", "x::y")
        assert ev.get_header("FreeSWITCH-Switchname") == "node7"
        assert sw.globals.get("default_password") == "1234"
        assert sw.globals.get("conf_dir").endswith("conf")


def test_rtp_port_range_setting(tmp_path):
    with running_switch(tmp_path / "a", ["mod_commands"],
                        switch_settings={"rtp-start-port": "20000", "rtp-end-port": "20100"}) as sw:
        assert sw.rtp_port_range == (20000, 20100)
    with running_switch(tmp_path / "b", ["mod_commands"],
                        switch_settings={"rtp-start-port": "9", "rtp-end-port": "x"}) as sw:
        assert sw.rtp_port_range == (16384, 32768)
    assert "invalid rtp-start-port" in (tmp_path / "b" / "log" / "fsd.log").read_text()
