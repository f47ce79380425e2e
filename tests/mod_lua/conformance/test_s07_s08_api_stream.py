"""Behaviour reference §7 (`freeswitch.API`) and §8 (`Stream`), through the running daemon."""

from __future__ import annotations

import time

from fsd.testing import wait_until


def test_7_execute_output_unknown_empty_and_session(call, daemon, lua):
    """§7 execute(cmd [, arg]) → the whole output; unknown → "INVALID COMMAND!\\n"; empty
    cmd → "-ERR No application specified"; a constructor session is given to the API."""
    out = lua('local a = freeswitch.API() stream:write(a:execute("global_getvar", "c7_none") .. "|" .. '
              'a:execute("nosuch") .. "|" .. a:execute(""))')
    assert out == "|INVALID COMMAND!\n|-ERR No application specified"
    name = daemon.script('stream:write("sess=" .. tostring(session and session:get_uuid()))')
    c, a, b = call(f'local api = freeswitch.API(session) R("o", api:execute("lua", "{name}.lua")) '
                   f'R("n", freeswitch.API():execute("lua", "{name}.lua"))')
    assert daemon.result(c, "o") == f"sess={b}"
    assert daemon.result(c, "n") == "sess=nil"


def test_7_executeString_splits_at_first_space(lua, daemon):
    """§7 executeString("cmd args") splits at the first space."""
    daemon.sw.globals.set("c7_v", "a b")
    assert lua('stream:write(freeswitch.API():executeString("global_getvar c7_v"))') == "a b"


def test_7_getTime_string_ms(lua):
    """§7 getTime() → a string with epoch milliseconds."""
    out = lua('local t = freeswitch.API():getTime() stream:write(type(t) .. "|" .. t)')
    typ, val = out.split("|")
    assert typ == "string" and abs(int(val) / 1000 - time.time()) < 5


def test_7_each_call_fires_api_event(daemon, lua):
    """§7 Each call fires an API event (§1.3)."""
    sub = daemon.sw.events.subscribe(name="c7")
    sub.bind("API")
    try:
        lua('freeswitch.API():execute("global_getvar", "c7_marker")')
        seen = []
        assert wait_until(lambda: (seen.append(sub.get(timeout=0.05)) or any(
            e is not None and e.get_header("API-Command-Argument") == "c7_marker" for e in seen)), 3)
    finally:
        sub.close()


def test_8_private_stream_and_api_stream(lua):
    """§8 freeswitch.Stream() is a private growable buffer; `stream` wraps the API's
    output."""
    out = lua('local s = freeswitch.Stream() s:write("private") stream:write("api:" .. s:get_data())')
    assert out == "api:private"


def test_8_write_appends_as_is(lua):
    """§8 write(text) appends the text as-is."""
    assert lua('stream:write("a\\n") stream:write("") stream:write("b %s")') == "a\nb %s"


def test_8_raw_write_bytes(lua):
    """§8 raw_write(data, len) appends bytes (len of them)."""
    assert lua('stream:raw_write("abcdef", 3) stream:write("|")') == "abc|"


def test_8_get_data(lua):
    """§8 get_data() returns the accumulated text."""
    assert lua('local s = freeswitch.Stream() s:write("x") s:write("y") stream:write(s:get_data() .. s:get_data())') == "xyxy"


def test_8_read_two_values(lua):
    """§8 read() takes no argument and returns two values (bytes, length); ("", 0) without
    a reader."""
    assert lua('local d, n = freeswitch.Stream():read() stream:write("[" .. d .. "]" .. n)') == "[]0"
