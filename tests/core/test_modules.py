"""Module loading: modules.conf order, failures, load/unload/reload, a third-party plugin."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fsd.switch import StartupError
from fsd.testing import prepare_base, running_switch, wait_until
from fsd.testing_process import install_to_target

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "example_plugin"


def test_unknown_module_is_reported_and_daemon_goes_on(tmp_path, capfd):
    with running_switch(tmp_path, ["mod_commands", "mod_does_not_exist"]) as sw:
        assert "mod_commands" in sw.modules.loaded
        assert "mod_does_not_exist" not in sw.modules.loaded
    log = (tmp_path / "log" / "fsd.log").read_text()
    assert "Error Loading module mod_does_not_exist" in log


def test_unknown_critical_module_stops_startup(tmp_path):
    dirs = prepare_base(tmp_path, ["mod_commands"])
    mc = tmp_path / "conf" / "autoload" / "modules.conf.xml"
    mc.write_text(mc.read_text().replace('<load module="mod_commands"/>',
                                         '<load module="mod_commands"/><load module="mod_nope" critical="true"/>'))
    from fsd.switch import Switch

    sw = Switch(dirs)
    with pytest.raises(StartupError) as e:
        sw.start()
    assert "mod_nope" in str(e.value)


def test_load_unload_reload_api_and_events(tmp_path):
    with running_switch(tmp_path, ["mod_commands"]) as sw:
        events = []
        sw.events.bind("MODULE_LOAD", None, events.append)
        sw.events.bind("MODULE_UNLOAD", None, events.append)
        assert sw.api_execute("load mod_loopback") == "+OK\n"
        assert "loopback" in sw.endpoints
        assert sw.api_execute("load mod_loopback").startswith("-ERR [Module mod_loopback Already Loaded!")
        assert sw.api_execute("module_exists mod_loopback") == "true"
        assert sw.api_execute("unload mod_loopback") == "+OK\n"
        assert "loopback" not in sw.endpoints
        assert sw.api_execute("unload mod_loopback").startswith("-ERR")
        assert sw.api_execute("reload mod_loopback") == "+OK\n"
        assert "loopback" in sw.endpoints
        assert sw.api_execute("load mod_nothing_here").startswith("-ERR [module mod_nothing_here is not installed")
        assert wait_until(lambda: any(e.name == "MODULE_UNLOAD" for e in events))
        names = {(e.name, e.get_header("name")) for e in events}
        assert ("MODULE_LOAD", "loopback") in names and ("MODULE_UNLOAD", "loopback") in names


def test_show_modules_and_api_formats(tmp_path):
    with running_switch(tmp_path, ["mod_commands", "mod_loopback"]) as sw:
        out = sw.api_execute("show modules")
        assert out.startswith("type,name,ikey,filename\n")
        assert "endpoint,loopback,mod_loopback,mod_loopback" in out
        assert out.endswith(" total.\n")
        import json

        j = json.loads(sw.api_execute("show api as json"))
        assert j["row_count"] == len(j["rows"]) and any(r["name"] == "status" for r in j["rows"])
        d = sw.api_execute("show endpoint as delim |")
        assert d.splitlines()[0] == "type|name|ikey"


@pytest.fixture(scope="module")
def example_plugin_installed(tmp_path_factory):
    """The example plugin installed into a temporary target, on sys.path for this test
    only (entry points are read from sys.path when a module loads); never into the
    running environment."""
    target = install_to_target(FIXTURE, tmp_path_factory.mktemp("example") / "site")
    sys.path.insert(0, str(target))
    try:
        yield
    finally:
        sys.path.remove(str(target))
        for name in [m for m in sys.modules if m.split(".")[0] == "fsd_example_plugin"]:
            del sys.modules[name]


def test_third_party_plugin_loads_through_modules_conf(tmp_path, example_plugin_installed):
    with running_switch(tmp_path, ["mod_commands", "mod_example"],
                        extra_files={"conf/vars_example.xml": ""}) as sw:
        assert "mod_example" in sw.modules.loaded
        assert sw.api_execute("example_hello fsd") == "hello fsd\n"
        assert "example_set" in sw.applications
        assert sw.api_execute("unload mod_example") == "+OK\n"
        assert sw.globals.get("example_unloaded") == "true"
        assert "example_hello" not in sw.apis


def test_broadcast_session_and_status_hooks(tmp_path):
    import fsd
    from fsd.testing import originate

    seen = []

    class Watcher:
        @fsd.hookimpl
        def fsd_session_created(self, switch, session):
            seen.append(("created", session.uuid))

        @fsd.hookimpl
        def fsd_session_destroyed(self, switch, session):
            seen.append(("destroyed", session.uuid))

        @fsd.hookimpl
        def fsd_status_lines(self, switch):
            return ["watcher: ok"]

    with running_switch(tmp_path, ["mod_commands", "mod_dptools", "mod_loopback"]) as sw:
        sw.modules.pm.register(Watcher(), name="watcher")
        uuid, out = originate(sw, "null/w &park()")
        assert uuid, out
        sw.api_execute(f"uuid_kill {uuid}")
        assert wait_until(lambda: ("destroyed", uuid) in seen)
        assert ("created", uuid) in seen
        assert "watcher: ok" in sw.api_execute("status").splitlines()
