"""Behaviour reference §10 (`JSON`), §11 (`IVRMenu`), §12 (`DTMF`), through the running
daemon (IVR menus on loopback calls with uuid_recv_dtmf)."""

from __future__ import annotations

import json

from fsd.testing import wait_until


def test_10_decode(lua):
    """§10 decode(text) → table or nil: objects keyed, arrays 1-based, nulls dropped,
    arrays directly inside arrays dropped, a scalar top value → empty table."""
    out = lua('local J = freeswitch.JSON() local t = J:decode(\'{"a":1,"b":[10,20,[1],null],"n":null,"o":{"k":"v"}}\') '
              'local s = J:decode("42") stream:write(t.a .. "|" .. #t.b .. t.b[1] .. t.b[2] .. "|" .. tostring(t.n) .. "|" .. '
              't.o.k .. "|" .. type(s) .. tostring(next(s)) .. "|" .. tostring(J:decode("{bad")))')
    assert out == "1|21020|nil|v|tablenil|nil"


def test_10_encode(lua):
    """§10 encode(table): array if the first next() key is 1, else object; {} for empty
    (`[]` after encode_empty_table_as_object(false)); formatted unless
    return_unformatted_json(true)."""
    out = lua('local J = freeswitch.JSON() J:return_unformatted_json(true) local a = J:encode({1, 2, "x"}) '
              'local o = J:encode({k = "v"}) local e = J:encode({}) J:encode_empty_table_as_object(false) '
              'local e2 = J:encode({}) local F = freeswitch.JSON() local f = F:encode({k = "v"}) '
              'stream:write(a .. "|" .. o .. "|" .. e .. "|" .. e2 .. "|" .. f)')
    assert out == '[1,2,"x"]|{"k":"v"}|{}|[]|{\n\t"k":\t"v"\n}'


def test_10_execute_and_execute2(lua):
    """§10 execute(jsonTextOrTable) → table: a JSON API's reply (fsd: the `fsapi` JSON API);
    execute2 returns it as a string; an unknown command gives nil."""
    out = lua('local J = freeswitch.JSON() J:return_unformatted_json(true) '
              'local r = J:execute(\'{"command":"fsapi","data":{"cmd":"global_getvar","arg":"c10_nope"}}\') '
              'local r2 = J:execute({command = "fsapi", data = {cmd = "no_such_api"}}) '
              'local s = J:execute2(\'{"command":"fsapi","data":{"cmd":"lua","arg":"~stream:write(7)"}}\') '
              'stream:write("[" .. r.message .. "]|" .. r2.message .. "|" .. s .. "|" .. tostring(J:execute(\'{"command":"x","data":1}\')))')
    assert out == '[]|INVALID CALL|{"message":"7"}|nil'
    assert json.loads(out.split("|")[2]) == {"message": "7"}


def _menu(sub_name: str = "") -> str:
    return ('local m = freeswitch.IVRMenu(nil, "c11_main", "silence_stream://100", "silence_stream://50", '
            '"silence_stream://50", "silence_stream://50", "", "", "", "", "", 0, 300, 1, 600, 2, 2) ')


def test_11_constructor_17_args_defaults(lua):
    """§11 The constructor takes exactly 17 arguments (confirm_macro 8th); defaults apply."""
    out = lua('local ok, e = pcall(freeswitch.IVRMenu, nil, "x", "", "", "", "", "", "", "", "", 0, 0, 0, 0, 0, 0) '
              'stream:write(tostring(ok) .. "|" .. tostring(e))')
    assert out.startswith("false|") and "expected 17..17 args, got 16" in out
    assert lua(_menu() + 'stream:write(type(m))') == "table"


def test_11_bindAction_valid_and_invalid(lua, logs):
    """§11 bindAction(action, arg, digits): menu-exit, menu-sub, menu-exec-app,
    menu-play-sound, menu-back, menu-top (any case); anything else logs "invalid action"."""
    lua(_menu() + 'm:bindAction("MENU-EXIT", nil, "*") m:bindAction("menu-say-phrase", "x", "1") '
        'm:bindAction("menu-top", nil, "2") m:bindAction("menu-back", nil, "3") '
        'm:bindAction("menu-play-sound", "silence_stream://10", "4")')
    bad = [r.text for r in logs if "invalid action" in r.text.lower()]
    assert len(bad) == 1


def test_11_execute_runs_menu_sets_status(call, daemon):
    """§11 execute(session, name) runs the named menu: menu-exec-app runs the app,
    menu-exit leaves; ivr_menu_status is set; an unknown name logs "Invalid Menu!"."""
    name, a, b = call(_menu() + 'm:bindAction("menu-exec-app", "set c11_pressed=yes", "1") m:bindAction("menu-exit", nil, "*") '
                      'session:answer() R("go", 1) W("d") m:execute(session, "c11_main") '
                      'R("p", session:getVariable("c11_pressed")) R("st", session:getVariable("ivr_menu_status")) '
                      'm:execute(session, "no_such_menu") R("done", 1)')
    daemon.result(name, "go")
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 1")
    daemon.go(name, "d")
    import time
    time.sleep(0.4)
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} *")
    assert daemon.result(name, "p") == "yes"
    assert daemon.result(name, "st") == "success"
    assert daemon.result(name, "done") == "1"


def test_11_execute_failures(call, daemon, logs):
    """§11 execute: max failures/timeouts end the menu with ivr_menu_status failure."""
    name, a, b = call(_menu() + 'session:answer() m:execute(session, "c11_main") R("st", session:getVariable("ivr_menu_status")) '
                      'm:execute(session, "nope") R("done", 1)')
    assert daemon.result(name, "st", timeout=10) == "failure"
    assert daemon.result(name, "done") == "1"
    assert wait_until(lambda: any("Invalid Menu!" in r.text for r in logs))


def test_12_dtmf_attributes_and_default_duration(lua):
    """§12 freeswitch.DTMF(digit [, duration]): attributes digit and duration; 0 → 2000."""
    out = lua('local d = freeswitch.DTMF("5") local e = freeswitch.DTMF("7", 0) local f = freeswitch.DTMF("#", 800) '
              'stream:write(d.digit .. d.duration .. "|" .. e.duration .. "|" .. f.digit .. f.duration)')
    assert out == "52000|2000|#800"
