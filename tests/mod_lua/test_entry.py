"""Entry points without sessions (§1.2, §1.4): lua API, luarun, lua.conf.xml, hooks, the
XML handler, startup scripts, lua_list / lua_kill, require paths."""

import os
import threading
import time

from fsd_modules.mod_lua.config import parse_config, parse_sections
from fsd_modules.mod_lua.entry import LuaEntry
from fsd_modules.mod_lua.host import LuaHost
from lxml import etree

from fsd.api import Stream
from fsd.events import Event
from fsd.globals import GlobalVariables


def _conf(xml: str):
    return etree.fromstring(f'<configuration name="lua.conf">{xml}</configuration>')


def test_lua_api_stream_env_argv(entry, tmp_path):
    (tmp_path / "hello.lua").write_text(
        "stream:write('hello world ' .. argv[0] .. ' ' .. #argv .. ' ' .. argv[2])\n"
        "stream:write(' ' .. env:getHeader('API-Command'))\n")
    ev = Event("API")
    ev.add_header("API-Command", "lua")
    s = Stream(ev)
    entry.api_lua("hello.lua a 'b c'", None, s)
    assert s.get_data() == "hello world hello.lua 2 b c lua"


def test_lua_api_empty_and_inline_has_no_argv(entry):
    s = Stream()
    entry.api_lua("", None, s)
    assert s.get_data() == ""
    s = Stream()
    entry.api_lua("#!/lua stream:write(tostring(argv))", None, s)
    assert s.get_data() == "nil"


def test_lua_api_http_error_text(entry):
    ev = Event("API")
    ev.add_header("http-uri", "/webapi/lua")
    s = Stream(ev)
    entry.api_lua("~error('x')", None, s)
    assert s.get_data() == "<H2>Error Executing Script</H2>"


def test_lua_api_through_api_table(apis, entry, tmp_path):
    (tmp_path / "api.lua").write_text("stream:write('via ' .. env:getHeader('API-Command-Argument'))")
    assert apis.execute("lua", "api.lua") == "via api.lua"
    # and from inside Lua, API:execute("lua", ...) runs a nested script
    (tmp_path / "outer.lua").write_text("stream:write('[' .. freeswitch.API():execute('lua', 'api.lua') .. ']')")
    assert apis.execute("lua", "outer.lua") == "[via api.lua]"


def test_luarun(entry, host, tmp_path):
    (tmp_path / "bg.lua").write_text("freeswitch.setGlobalVariable('bg_' .. argv[1], tostring(stream))")
    s = Stream()
    entry.api_luarun("bg.lua one", None, s)
    assert s.get_data() == "+OK\n"
    deadline = time.monotonic() + 3
    while host.globals.get("bg_one") is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert host.globals.get("bg_one") == "nil"  # luarun gets argv only
    s = Stream()
    entry.api_luarun("  ", None, s)
    assert s.get_data() == "-ERR no args specified!\n"


def test_luarun_runs_in_its_own_thread(entry, host):
    t = entry.luarun("~freeswitch.setGlobalVariable('tname', 'set')")
    assert t is not threading.current_thread()
    t.join(3)
    assert host.globals.get("tname") == "set"


def test_lua_list_and_kill(entry, apis):
    entry.luarun("~while true do end")
    deadline = time.monotonic() + 3
    while not len(entry.registry) and time.monotonic() < deadline:
        time.sleep(0.01)
    listing = apis.execute("lua_list")
    assert listing.startswith("id,script,uuid,thread,seconds\n") and "(inline)" in listing
    run_id = entry.registry.list()[0].id
    t0 = time.monotonic()
    assert apis.execute("lua_kill", str(run_id)) == "+OK\n"
    while len(entry.registry) and time.monotonic() - t0 < 2:
        time.sleep(0.01)
    assert len(entry.registry) == 0 and time.monotonic() - t0 < 1.0
    assert apis.execute("lua_kill", "999999").startswith("-ERR no running script")
    assert apis.execute("lua_kill", "x").startswith("-ERR Usage")
    assert apis.execute("lua_kill", "all") == "+OK 0 stopped\n"


def test_config_parsing():
    cfg = parse_config(_conf("""
      <settings>
        <param name="script-directory" value="/a/?.lua"/>
        <param name="script-directory" value="/b/?.lua"/>
        <param name="module-directory" value="/m/?.so"/>
        <param name="startup-script" value="s1.lua"/>
        <param name="startup-script" value="s2.lua x"/>
        <param name="xml-handler-script" value="gen.lua"/>
        <param name="xml-handler-bindings" value="configuration,Directory"/>
        <param name="max-memory" value="8m"/>
        <param name="cpu-limit" value="2.5"/>
      </settings>
      <hooks>
        <hook event="custom" subclass="a::b" script="h.lua"/>
        <hook event="SWITCH_EVENT_channel_answer" script="ans.lua"/>
        <hook event="nonsense" script="x.lua"/>
        <hook event="API" subclass="" script=""/>
      </hooks>"""))
    assert cfg.script_dirs == ["/a/?.lua", "/b/?.lua"] and cfg.module_dirs == ["/m/?.so"]
    assert cfg.startup_scripts == ["s1.lua", "s2.lua x"]
    assert cfg.xml_handler_script == "gen.lua"
    assert cfg.xml_handler_sections == {"configuration", "directory"}
    assert cfg.max_memory == 8 * 1024 * 1024 and cfg.cpu_limit == 2.5
    assert [(h.event, h.subclass, h.script) for h in cfg.hooks] == [
        ("CUSTOM", "a::b", "h.lua"), ("CHANNEL_ANSWER", None, "ans.lua")]


def test_xml_handler_bindings_order_rule():
    cfg = parse_config(_conf("""<settings>
        <param name="xml-handler-bindings" value="dialplan"/>
        <param name="xml-handler-script" value="gen.lua"/></settings>"""))
    assert cfg.xml_handler_script == "gen.lua" and cfg.xml_handler_sections is None


def test_section_matching():
    assert parse_sections("CONFIGURATION") == {"configuration"}
    assert parse_sections("dialplan|languages") == {"dialplan", "languages", "phrases"}
    assert parse_sections("nothing") == set()


def test_xml_handler(host, tmp_path, logs):
    (tmp_path / "gen.lua").write_text(
        "if XML_REQUEST.section == 'directory' then\n"
        "  XML_STRING = '<document type=\"freeswitch/xml\"><section name=\"directory\"><domain name=\"' .."
        " params:getHeader('domain') .. '\"/></section></document>'\n"
        "elseif XML_REQUEST.section == 'dialplan' then XML_STRING = '<broken'\n"
        "end\n")
    cfg = parse_config(_conf('<settings><param name="xml-handler-script" value="gen.lua"/>'
                             '<param name="xml-handler-bindings" value="directory"/></settings>'))
    e = LuaEntry(host, cfg)
    params = Event("REQUEST_PARAMS")
    params.add_header("domain", "example.com")
    out = e.xml_fetch("directory", "domain", "name", "example.com", params)
    assert out is not None and 'domain name="example.com"' in out
    assert e.xml_fetch("dialplan", "", "", "", params) is None
    assert any(r.text == "Error Parsing XML Result!\n" for r in logs)
    assert e.xml_fetch("configuration", "configuration", "name", "x.conf", params) is None
    assert any(r.text == "No Result\n" for r in logs)


def test_event_hook(host, bus, tmp_path):
    (tmp_path / "hook.lua").write_text(
        "freeswitch.setGlobalVariable('hooked', event:getHeader('Event-Subclass') .. ':' .. tostring(event:fire()))")
    cfg = parse_config(_conf('<hooks><hook event="custom" subclass="hook::me" script="hook.lua"/></hooks>'))
    e = LuaEntry(host, cfg)
    h = cfg.hooks[0]
    binding = bus.bind(h.event, h.subclass, e.hook_callback(h))
    try:
        bus.fire(Event("CUSTOM", "other::one"))
        bus.fire(Event("CUSTOM", "hook::me"))
        deadline = time.monotonic() + 3
        while host.globals.get("hooked") is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert host.globals.get("hooked") == "hook::me:false"  # the hook's event is not its own
    finally:
        bus.unbind(binding)
        e.shutdown()


def test_startup_scripts(host, tmp_path):
    (tmp_path / "boot.lua").write_text("freeswitch.setGlobalVariable('boot_' .. argv[1], 'yes')")
    cfg = parse_config(_conf('<settings><param name="startup-script" value="boot.lua a"/>'
                             '<param name="startup-script" value="boot.lua b"/></settings>'))
    e = LuaEntry(host, cfg)
    for t in e.start_startup_scripts():
        t.join(3)
    assert host.globals.get("boot_a") == "yes" and host.globals.get("boot_b") == "yes"


def test_require_from_script_directory(bus, apis, tmp_path):
    libdir = tmp_path / "lib"
    libdir.mkdir()
    (libdir / "mylib.lua").write_text("return { twice = function(x) return x * 2 end }")
    cfg = parse_config(_conf(f'<settings><param name="script-directory" value="{libdir}/?.lua"/></settings>'))
    h = LuaHost(api_execute=apis.execute, globals=GlobalVariables(), events=bus,
                scripts_dir=str(tmp_path))
    e = LuaEntry(h, cfg)
    s = Stream()
    e.api_lua("~stream:write(require('mylib').twice(21) .. ' ' .. package.path)", None, s)
    assert s.get_data() == f"42 {libdir}/?.lua"


def test_module_registers_apis(tmp_path):
    """The thin module entry wires the APIs to a real (not started) Switch."""
    import fsd_modules.mod_lua as mod

    from fsd.dirs import Dirs
    from fsd.module import ModuleInterface
    from fsd.switch import Switch

    sw = Switch(Dirs.from_base(str(tmp_path)))
    sw.events.start()
    try:
        m = ModuleInterface("mod_lua", sw)
        mod.fsd_module_load(m)
        assert {"lua", "luarun", "lua_list", "lua_kill"} <= set(sw.apis)
        os.makedirs(sw.dirs.scripts, exist_ok=True)
        with open(os.path.join(sw.dirs.scripts, "x.lua"), "w") as f:
            f.write("stream:write('ok ' .. freeswitch.API():execute('lua', '~stream:write(1)'))")
        assert sw.api_execute("lua", "x.lua") == "ok 1"
        mod.fsd_module_shutdown(m)
    finally:
        sw.events.stop()
