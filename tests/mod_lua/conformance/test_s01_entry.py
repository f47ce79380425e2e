"""Behaviour reference §1 — how scripts are started and which globals they get (§1.1
common mechanics, §1.2 entry points, §1.3 env, §1.4 lua.conf.xml), against a running
daemon.  Each test names the statement it checks; COVERAGE.md maps every checkbox here."""

from __future__ import annotations

import threading

from fsd_modules.mod_lua.config import LuaConfig, parse_config, parse_sections
from lxml import etree

from fsd.events import Event
from fsd.log import ERR
from fsd.testing import wait_until


# -- §1.1 Common mechanics ------------------------------------------------------------------
def test_1_1_fresh_state_per_invocation_stdlibs_and_freeswitch_global(daemon, lua):
    """§1.1 Every invocation gets a fresh Lua state; nothing is shared between scripts or
    between two runs of the same script; stdlibs opened; `freeswitch` is a global."""
    name = daemon.script('R("seen", tostring(leak)) leak = "x" string.leak = 1 '
                         'R("libs", type(string.format) .. type(table.concat) .. type(math.floor)'
                         ' .. type(io.write) .. type(os.time) .. type(coroutine.create) .. type(debug.traceback))'
                         ' R("fs", type(freeswitch))')
    for _ in range(2):
        assert daemon.sw.api_execute("lua", f"{name}.lua") == ""
        assert daemon.sw.globals.get(f"{name}_seen") == "nil"
    assert daemon.sw.globals.get(f"{name}_libs") == "function" * 7
    assert daemon.sw.globals.get(f"{name}_fs") == "table"
    assert lua('stream:write(tostring(leak) .. tostring(string.leak))') == "nilnil"


def test_1_1_os_exit_only_logs_surely_you_jest(lua, logs):
    """§1.1 os.exit only logs "Surely you jest! exiting is a bad plan...." at err; no exit."""
    assert lua('os.exit(1) stream:write("still here")') == "still here"
    hits = [r for r in logs if "Surely you jest! exiting is a bad plan...." in r.text]
    assert hits and hits[0].level == ERR


def test_1_1_script_string_parsing(daemon):
    """§1.1 Leading spaces/CR/LF skipped; `~` inline; `#!/lua` (any case) inline; else the
    first word is the file; inline code gets no argv."""
    api = daemon.sw.api
    assert api.execute("lua", ' \r\n ~stream:write("a")')[0] == "a"
    assert api.execute("lua", '#!/lua stream:write("b" .. type(argv))')[0] == "bnil"
    assert api.execute("lua", '#!/LuA stream:write("c")')[0] == "c"
    assert api.execute("lua", '~stream:write(type(argv))')[0] == "nil"
    name = daemon.script('stream:write(argv[0] .. ":" .. argv[1])')
    assert api.execute("lua", f"\n  {name}.lua word")[0] == f"{name}.lua:word"


def test_1_1_argv_table_quotes_escapes_and_limit(daemon):
    """§1.1 argv[0] is the script, argv[1..n] the arguments split on spaces; single quotes
    group and are stripped; backslash escapes; no arguments gives {[0]=script}; at most 128."""
    name = daemon.script('local t = {} for i = 0, #argv do t[#t+1] = argv[i] end '
                         'stream:write(table.concat(t, "|") .. "#" .. #argv)')
    out = daemon.sw.api_execute("lua", f"{name}.lua one 'two three' four\\ five x'y'")
    assert out == f"{name}.lua|one|two three|four five|xy#4"
    assert daemon.sw.api_execute("lua", f"{name}.lua") == f"{name}.lua#0"
    many = " ".join(str(i) for i in range(200))
    out = daemon.sw.api_execute("lua", f"{name}.lua {many}")
    assert out.endswith("#127") or out.endswith("#128")
    assert len(out.split("|")) <= 129


def test_1_1_script_path_resolution(daemon, tmp_path):
    """§1.1 `/abs` (or a URL) is used as-is; anything else is <scripts dir>/<name>, not the
    lua.conf script-directory (which only feeds require)."""
    p = tmp_path / "abs.lua"
    p.write_text('stream:write("abs ok")')
    assert daemon.sw.api_execute("lua", str(p)) == "abs ok"
    name = daemon.script('stream:write("rel ok")')
    assert daemon.sw.api_execute("lua", f"{name}.lua") == "rel ok"
    # conf_mod.lua lives only in script-directory: require finds it, `lua` does not
    assert daemon.sw.api_execute("lua", "conf_mod.lua") == "-ERR Cannot execute script\n"
    assert daemon.sw.api_execute("lua", '~stream:write(require("conf_mod").answer)') == "42"


def test_1_1_errors_logged_at_err_with_traceback(daemon, logs):
    """§1.1 Top-level errors (load or runtime) are logged at ERROR with a Lua traceback."""
    name = daemon.script('\nlocal function f() error("kaboom") end\nf()\n')
    assert daemon.sw.api_execute("lua", f"{name}.lua") == "-ERR Cannot execute script\n"
    err = [r.text for r in logs if r.level <= ERR and "kaboom" in r.text]
    assert err and f"{name}.lua:2: kaboom" in err[0] and "stack traceback:" in err[0]
    bad = daemon.script("this is not lua")
    assert daemon.sw.api_execute("lua", f"{bad}.lua") == "-ERR Cannot execute script\n"
    assert any(r.level <= ERR and f"{bad}.lua:1:" in r.text for r in logs)


def test_1_1_lua_version_and_integer_results(lua):
    """§1.1 Lua version: fsd emulates 5.3 and returns integral results as integers
    (decision documented in docs/compat.md)."""
    assert lua('stream:write(_VERSION)') == "Lua 5.3"
    out = lua('local s = freeswitch.Stream() s:write("x") '
              'local d = freeswitch.JSON():decode("{\\"n\\": 3}") '
              'stream:write(tostring(d.n) .. " " .. math.type(d.n))')
    assert out == "3 integer"


# -- §1.2 Entry points ----------------------------------------------------------------------
def test_1_2_lua_app_no_auto_hangup_dialplan_continues(daemon, call):
    """§1.2 In the `lua` app the session is wrapped without auto-hangup: when the script
    ends the channel is not hung up and the dialplan goes on with the next action."""
    name, a, b = call('session:answer() R("flags", session.flags) R("argv0", argv[0])')
    assert daemon.result(name, "flags") == "0"
    assert daemon.result(name, "argv0") == f"{name}.lua"
    assert wait_until(lambda: daemon.sw.api_execute(f"uuid_getvar {b} after_lua") == "1")
    assert daemon.session(b).up()


def test_1_2_table_app_lua_empty_data_and_flags(daemon, logs):
    """§1.2 table, app `lua`: globals session+argv, synchronous in the channel thread;
    empty data logs "no args specified!"; allowed in routing, no-media, zombie."""
    from fsd.module import APP_ROUTING_EXEC, APP_SUPPORT_NOMEDIA, APP_ZOMBIE_EXEC

    app = daemon.sw.applications["lua"]
    assert app.flags & APP_ROUTING_EXEC and app.flags & APP_SUPPORT_NOMEDIA
    assert app.flags & APP_ZOMBIE_EXEC
    a, b = daemon.call("noargs")
    assert wait_until(lambda: any("no args specified!" in r.text for r in logs))
    assert wait_until(lambda: daemon.sw.api_execute(f"uuid_getvar {b} after_lua") == "1")


def test_1_2_table_api_lua_globals_empty_and_errors(daemon):
    """§1.2 table, API `lua`: stream, env, session only with one, argv; empty command writes
    ""; failure appends "-ERR Cannot execute script\\n", or the HTTP text for /api/ and
    /webapi/ requests."""
    name = daemon.script('stream:write(type(stream) .. type(env) .. type(session) .. argv[1])')
    assert daemon.sw.api_execute("lua", f"{name}.lua x") == "tabletablenilx"
    assert daemon.sw.api_execute("lua", "") == ""
    assert daemon.sw.api_execute("lua", "~error('x')") == "-ERR Cannot execute script\n"
    for uri in ("/api/lua", "/webapi/lua"):
        ev = Event("API")
        ev.add_header("http-uri", uri)
        out, _ = daemon.sw.api.execute("lua", "~error('x')", param_event=ev)
        assert out == "<H2>Error Executing Script</H2>"
    ev = Event("API")
    ev.add_header("http-uri", "/txtapi/lua")
    assert daemon.sw.api.execute("lua", "~error('x')", param_event=ev)[0] == "-ERR Cannot execute script\n"


def test_1_2_table_luarun_thread_ok_and_usage(daemon):
    """§1.2 table, `luarun`: a detached thread, `+OK\\n` at once, only argv;
    empty argument gives `-ERR no args specified!\\n`."""
    name = daemon.script('freeswitch.msleep(200) R("t", type(stream) .. type(env) .. type(session) .. argv[1])')
    assert daemon.sw.api_execute("luarun", f"{name}.lua go") == "+OK\n"
    assert daemon.sw.globals.get(f"{name}_t") is None  # returned before the script ended
    assert daemon.result(name, "t") == "nilnilnilgo"
    assert daemon.sw.api_execute("luarun", "") == "-ERR no args specified!\n"


def test_1_2_table_startup_script_runs_with_argv(daemon):
    """§1.2 table, `startup-script`: at module load, in its own thread, with argv."""
    assert wait_until(lambda: daemon.sw.globals.get("startup_ran") is not None)
    assert daemon.sw.globals.get("startup_ran") == "startup.lua|first|second arg"


def test_1_2_table_hook_gets_event_global(daemon, lua):
    """§1.2 table, `<hook>`: the script runs once per matching event with global `event`
    (which it cannot fire), and no session."""
    lua('local e = freeswitch.Event("custom", "conformance::hook") e:addHeader("X-Val", "7") e:fire()')
    assert wait_until(lambda: daemon.sw.globals.get("hook_seen") == "conformance::hook|7")
    assert daemon.sw.globals.get("hook_fire") == "false"
    assert daemon.sw.globals.get("hook_session") == "nil"


def test_1_2_hook_event_name_case_prefix_and_empty_subclass(daemon, lua):
    """§1.2 A hook's event name is case-insensitive, `SWITCH_EVENT_` is accepted, an empty
    subclass means any subclass."""
    daemon.sw.globals.set("hook_any_seen", None)
    lua('local e = freeswitch.Event("RELOADXML") e:addHeader("X-Val", "r1") e:fire()')
    assert wait_until(lambda: daemon.sw.globals.get("hook_any_seen") == "RELOADXML|r1")
    cfg = parse_config(etree.fromstring(
        '<configuration name="lua.conf"><hooks><hook event="Switch_Event_Channel_Answer" '
        'subclass="" script="a.lua"/><hook event="nosuchevent" script="b.lua"/></hooks></configuration>'))
    assert [(h.event, h.subclass) for h in cfg.hooks] == [("CHANNEL_ANSWER", None)]


def test_1_2_table_xml_handler(daemon, logs):
    """§1.2 table, xml-handler-script: XML_REQUEST {section, tag_name, key_name, key_value}
    and `params`; the script sets XML_STRING; empty → "No Result"; unparseable →
    "Error Parsing XML Result!"."""
    el = daemon.sw.config.lookup("directory", "domain", "name", "lua.example", {"purpose": "test"})
    assert el is not None and el.get("name") == "lua.example"
    assert el.find(".//param").get("value") == "from-lua"
    assert daemon.sw.globals.get("xmlh_req") == "directory|domain|name|lua.example|test|nil"
    assert daemon.sw.config.lookup("directory", "domain", "name", "none.example") is None
    assert any("No Result" in r.text for r in logs)
    assert daemon.sw.config.lookup("directory", "domain", "name", "broken.example") is None
    assert any("Error Parsing XML Result!" in r.text for r in logs)


def test_1_2_xml_handler_bindings_order_and_section_names(daemon):
    """§1.2 xml-handler-bindings is honoured only after xml-handler-script; section names
    match case-insensitively as substrings ("configuration" matches "config")."""
    before = etree.fromstring('<configuration name="lua.conf"><settings>'
                              '<param name="xml-handler-bindings" value="dialplan"/>'
                              '<param name="xml-handler-script" value="x.lua"/></settings></configuration>')
    assert parse_config(before).xml_handler_sections is None
    after = etree.fromstring('<configuration name="lua.conf"><settings>'
                             '<param name="xml-handler-script" value="x.lua"/>'
                             '<param name="xml-handler-bindings" value="DialPlan"/></settings></configuration>')
    assert parse_config(after).xml_handler_sections == {"dialplan"}
    assert parse_sections("configuration,directory") == {"configuration", "directory"}
    assert "configuration" in parse_sections("config")
    assert parse_sections("Languages|chatplan|channels") >= {"languages", "chatplan", "channels"}
    # the running daemon bound only "directory": configuration lookups never reach the script
    daemon.sw.globals.set("xmlh_req", None)
    daemon.sw.config.get_configuration("nosuch.conf")
    assert daemon.sw.globals.get("xmlh_req") is None


def test_1_2_table_chat_application(daemon):
    """§1.2 table, chat application `lua`: global `message` (an Event), no session."""
    msg = Event("MESSAGE")
    msg.add_header("from", "1000@example")
    msg.add_body("hello")
    daemon.sw.chat_applications["lua"].func(msg, "chat.lua arg1")
    assert daemon.sw.globals.get("chat_seen") == "1000@example|hello|nil|arg1"


def test_1_2_table_lua_dialplan_actions(daemon):
    """§1.2 table, dialplan interface `LUA`: the context names the script; ACTIONS items
    "app", {"app"} or {"app","data"}; a bad item or non-table → empty extension."""
    name = daemon.script('ACTIONS = {"answer", {"set", "dp_lua=yes"}, {"park"}}')
    out = daemon.sw.api_execute(f"originate loopback/dp/{name}.lua/LUA &park()")
    assert out.startswith("+OK")
    a = out.split()[1]
    b = daemon.sw.api_execute(f"uuid_getvar {a} other_loopback_leg_uuid")
    assert wait_until(lambda: daemon.sw.api_execute(f"uuid_getvar {b} dp_lua") == "yes")
    bad = daemon.script('ACTIONS = {"answer", {42}}')
    out = daemon.sw.api_execute(f"originate loopback/dp/{bad}.lua/LUA &park()")
    assert out.startswith("-ERR")
    notab = daemon.script('ACTIONS = "answer"')
    assert daemon.sw.api_execute(f"originate loopback/dp/{notab}.lua/LUA &park()").startswith("-ERR")


def test_1_2_dialplan_interface_not_ready_and_no_session_elsewhere(daemon):
    """§1.2 In the LUA dialplan the channel is routing, so session:ready() is false; the XML
    handler, hooks, the chat app and luarun get no `session` global."""
    name = daemon.script('R("ready", session:ready()) R("state", session:getState()) ACTIONS = {"hangup"}')
    daemon.sw.api_execute(f"originate loopback/dp/{name}.lua/LUA &park()")
    assert daemon.result(name, "ready") == "false"
    assert daemon.result(name, "state") == "CS_ROUTING"
    assert daemon.sw.globals.get("hook_session") in (None, "nil")
    assert daemon.sw.globals.get("chat_seen") is None or "|nil|" in daemon.sw.globals.get("chat_seen")
    lr = daemon.script('R("s", type(session))')
    daemon.sw.api_execute("luarun", f"{lr}.lua")
    assert daemon.result(lr, "s") == "nil"


# -- §1.3 env ---------------------------------------------------------------------------------
def test_1_3_param_event_headers_and_fired_after(daemon):
    """§1.3 Every API execution gets a parameter event (API, standard headers) with
    API-Command and API-Command-Argument (trimmed); it is fired after the API returns."""
    sub = daemon.sw.events.subscribe(name="conf-1-3")
    sub.bind("API")
    try:
        out = daemon.sw.api_execute("lua", "  ~stream:write(env:getHeader('API-Command') .. '|' "
                                    "..env:getHeader('API-Command-Argument') .. '|' .. env:getHeader('Event-Name')"
                                    " .. '|' .. tostring(env:getHeader('Core-UUID') ~= nil))   ")
        assert out == "lua|~stream:write(env:getHeader('API-Command') .. '|' ..env:getHeader(" \
                      "'API-Command-Argument') .. '|' .. env:getHeader('Event-Name') .. '|' .. " \
                      "tostring(env:getHeader('Core-UUID') ~= nil))|API|true"
        got = None
        for _ in range(50):
            ev = sub.get(timeout=0.1)
            if ev is not None and ev.get_header("API-Command") == "lua":
                got = ev
                break
        assert got is not None
    finally:
        sub.close()


def test_1_3_unknown_api_and_failed_api_texts(lua):
    """§1.3 Unknown API → `INVALID COMMAND!\\n`; an API returning failure gets
    `COMMAND RETURNED ERROR!\\n` appended."""
    assert lua('stream:write(freeswitch.API():execute("no_such_api", ""))') == "INVALID COMMAND!\n"
    out = lua('stream:write(freeswitch.API():execute("lua_kill", "notanumber"))')
    assert out == "-ERR Usage: lua_kill <id>|all\nCOMMAND RETURNED ERROR!\n"


def test_1_3_api_hangup_hook_env(daemon):
    """§1.3 api_hangup_hook: split at `::` or the first space; env = channel variables by
    plain name plus Channel-*/Caller-*/variable_*, argument ${}-expanded, no Event-Name;
    session only with session_in_hangup_hook; hangup_cause already set."""
    hook = daemon.script('R("v", env:getHeader("my_custom_var") .. "|" .. env:getHeader("variable_my_custom_var")'
                         ' .. "|" .. tostring(env:getHeader("Channel-State")) .. "|" .. tostring(env:getHeader("Unique-ID") ~= nil)'
                         ' .. "|" .. tostring(env:getHeader("Event-Name")) .. "|" .. env:getHeader("hangup_cause")'
                         ' .. "|" .. tostring(env:getHeader("hangup_cause_q850")) .. "|" .. type(session) .. "|" .. argv[1])')
    a, b = daemon.call(f"hook-{hook}")
    daemon.sw.api_execute(f"uuid_kill {b} USER_BUSY")
    v = daemon.result(hook, "v")
    parts = v.split("|")
    assert parts[0] == parts[1] == "custom42"
    assert parts[2] == "CS_HANGUP" and parts[3] == "true" and parts[4] == "nil"
    assert parts[5] == "USER_BUSY" and parts[6] == "17" and parts[7] == "nil"
    assert parts[8] == "custom42"  # ${my_custom_var} expanded
    # `::` split and session_in_hangup_hook
    hook2 = daemon.script('R("s", type(session) .. "|" .. tostring(session and session:get_uuid()) .. "|" .. argv[1])')
    name = daemon.script(f'session:setVariable("session_in_hangup_hook", "true") '
                         f'session:setVariable("api_hangup_hook", "lua::{hook2}.lua ${{uuid}}") session:answer()')
    a2, b2 = daemon.call(f"run-{name}")
    daemon.sw.api_execute(f"uuid_kill {b2}")
    s = daemon.result(hook2, "s")
    assert s == f"table|{b2}|{b2}"


def test_1_3_api_reporting_hook(daemon):
    """§1.3 api_reporting_hook works the same way, in CS_REPORTING."""
    hook = daemon.script('R("r", env:getHeader("my_rep") .. "|" .. tostring(env:getHeader("Event-Name")))')
    name = daemon.script(f'session:setVariable("my_rep", "rep1") '
                         f'session:setVariable("api_reporting_hook", "lua {hook}.lua") session:answer()')
    a, b = daemon.call(f"run-{name}")
    daemon.sw.api_execute(f"uuid_kill {b}")
    assert daemon.result(hook, "r") == "rep1|nil"


def test_1_3_lua_expansion(daemon):
    """§1.3 ${lua(args)} runs API lua with the channel's session (session, stream and an API
    env exist); the whole output, trailing newline included, is substituted; with
    api-expansion off the text `<API Execute Permission Denied>` is substituted."""
    name = daemon.script('stream:write(session:get_uuid() .. "|" .. env:getType() .. "|x\\n")')
    a, b = daemon.call(f"expand-{name}")
    assert wait_until(lambda: daemon.sw.api_execute(f"uuid_getvar {b} expanded") != "_undef_")
    assert daemon.sw.api_execute(f"uuid_getvar {b} expanded") == f"{b}|API|x\n"
    sess = daemon.session(b)
    old = daemon.sw.settings.get("api-expansion")
    daemon.sw.settings["api-expansion"] = "false"
    try:
        assert sess.expand(f"${{lua({name}.lua)}}") == "<API Execute Permission Denied>"
    finally:
        if old is None:
            daemon.sw.settings.pop("api-expansion", None)
        else:
            daemon.sw.settings["api-expansion"] = old


# -- §1.4 lua.conf.xml -------------------------------------------------------------------------
def test_1_4_no_hangup_hook_script_param(daemon):
    """§1.4 There is no `hangup-hook-script` parameter: it is ignored."""
    cfg = parse_config(etree.fromstring(
        '<configuration name="lua.conf"><settings><param name="hangup-hook-script" value="h.lua"/>'
        '</settings></configuration>'))
    assert cfg == LuaConfig()


def test_1_4_table_script_and_module_directory_feed_package_paths(lua):
    """§1.4 table: script-directory → package.path (joined with `;`, default kept only for
    `;;`), module-directory → package.cpath; set per state."""
    out = lua('stream:write(package.path)')
    assert out.split(";")[0].endswith("/lualib/?.lua")
    assert "/usr/local/share/lua/5.3/?.lua" not in out


def test_1_4_table_startup_script_is_a_thread(daemon):
    """§1.4 table: startup-script is repeatable and each one starts like luarun (own
    thread)."""
    name = daemon.script('R("th", "ok")')
    entry = daemon.sw.modules.loaded["mod_lua"].state["entry"]
    entry.config.startup_scripts.extend([f"{name}.lua", f"{name}.lua"])
    try:
        threads = entry.start_startup_scripts()
    finally:
        del entry.config.startup_scripts[-2:]
    assert all(isinstance(t, threading.Thread) for t in threads) and len(threads) == 3
    assert daemon.result(name, "th") == "ok"
