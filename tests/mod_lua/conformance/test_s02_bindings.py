"""Behaviour reference §2 — binding conventions (argument checks, conversions, return
values, object lifetime), through the running daemon's `lua` API and live calls."""

from __future__ import annotations

from fsd.testing import wait_until


def _pcall(lua, expr: str) -> str:
    return lua(f'local ok, e = pcall(function() {expr} end) stream:write(tostring(ok) .. "|" .. tostring(e))')


def test_2_methods_colon_arg_count_and_type_errors(lua):
    """§2 Methods are called with `:`; a wrong count raises `Error in <Class>::<method>
    expected N..M args, got K`; a wrong type `Error in <fn> (arg i), expected '<ctype>' got
    '<luatype>'`."""
    out = _pcall(lua, 'local e = freeswitch.Event("CUSTOM") e:addHeader("x")')
    assert out.startswith("false|") and "Error in Event::addHeader expected 3..3 args, got 2" in out
    out = _pcall(lua, 'local e = freeswitch.Event("CUSTOM") e:addHeader("x", true)')
    assert "Error in Event::addHeader (arg 3), expected 'char const *' got 'boolean'" in out
    out = _pcall(lua, 'local e = freeswitch.Event("CUSTOM") e.addHeader("x", "y", "z")')
    assert "Error in Event::addHeader" in out and "(arg 1), expected 'Event *' got 'string'" in out


def test_2_string_params_accept_string_number_nil(lua):
    """§2 String parameters accept a string, a number (converted) or nil (NULL); booleans
    and tables are rejected."""
    out = lua('local e = freeswitch.Event("CUSTOM") e:addHeader("n", 42) e:addHeader("f", 1.5) '
              'stream:write(e:getHeader("n") .. "|" .. e:getHeader("f") .. "|" .. tostring(e:addHeader("z", nil)))')
    assert out == "42|1.5|false"
    assert "expected 'char const *' got 'table'" in _pcall(
        lua, 'freeswitch.Event("CUSTOM"):addHeader("x", {})')
    assert "got 'boolean'" in _pcall(lua, 'freeswitch.Event("CUSTOM"):getHeader(false)')


def test_2_integer_params_numeric_string_truncated(lua):
    """§2 Integer parameters accept a number or a numeric string, truncated toward zero."""
    out = lua('stream:write(freeswitch.DTMF("1", "450.9").duration .. "|" .. freeswitch.DTMF("2", 999.99).duration)')
    assert out == "450|999"
    assert "expected 'uint32_t' got 'string'" in _pcall(lua, 'freeswitch.DTMF("1", "abc")')


def test_2_bool_params_need_real_booleans(call, daemon):
    """§2 `bool` parameters (setAutoHangup, JSON flags) must be real booleans; 0/1 are
    rejected."""
    name, a, b = call('local ok, e = pcall(function() session:setAutoHangup(1) end) R("e", e) '
                      'local ok2, e2 = pcall(function() freeswitch.JSON():return_unformatted_json(0) end) R("e2", e2) '
                      'R("ok", session:setAutoHangup(false))')
    assert "expected 'bool' got 'number'" in daemon.result(name, "e")
    assert "got 'number'" in daemon.result(name, "e2")
    assert daemon.result(name, "ok") == "0"


def test_2_object_params_wrapped_object_or_nil(lua):
    """§2 Object parameters accept the wrapped object or nil (NULL)."""
    assert lua('local a = freeswitch.API(nil) stream:write(type(a))') == "table"
    out = _pcall(lua, 'freeswitch.API(freeswitch.Event("CUSTOM"))')
    assert "(arg 1), expected 'CoreSession *' got 'Event *'" in out
    out = _pcall(lua, 'freeswitch.Event("CUSTOM"):merge("x")')
    assert "expected 'Event *' got 'string'" in out


def test_2_return_values_nil_bool_number(call, daemon):
    """§2 A NULL C string comes back as nil, bool as a boolean, int as a number; 0
    ("success" status codes) is truthy in Lua."""
    name, a, b = call('local e = freeswitch.Event("CUSTOM") R("nil", e:getHeader("missing") == nil) '
                      'R("bool", type(e:addHeader("a", "b"))) R("int", math.type(session:answer())) '
                      'R("zero", session:flushDigits() == 0 and (session:flushDigits() and "truthy"))')
    assert daemon.result(name, "nil") == "true"
    assert daemon.result(name, "bool") == "boolean"
    assert daemon.result(name, "int") == "integer"
    assert daemon.result(name, "zero") == "truthy"


def test_2_object_lifetime_released_when_collected_or_at_end(daemon, lua):
    """§2 Wrapper objects are garbage-collected; Sessions, Events and Dbh handles release
    their resources when collected or when the state closes at script end."""
    def in_use() -> int:
        out = daemon.sw.api_execute("db_cache", "status")
        total = 0
        for line in out.splitlines():
            if "conformance_gc" in line and "in-use" in line:
                total += int(line.split("in-use")[1].split()[0])
        return total

    lua('local d = freeswitch.Dbh("sqlite://conformance_gc") d:query("select 1")')
    assert wait_until(lambda: in_use() == 0, 2)
    subs_before = len(daemon.sw.events.subscribers()) if hasattr(daemon.sw.events, "subscribers") else None
    lua('local c = freeswitch.EventConsumer("CUSTOM") c = nil collectgarbage() collectgarbage()')
    if subs_before is not None:
        assert len(daemon.sw.events.subscribers()) == subs_before
    # an originated leg is destroyed (hung up) when the state closes
    name = daemon.script('local s = freeswitch.Session("loopback/answer/c") R("u", s:get_uuid())')
    daemon.sw.api_execute("lua", f"{name}.lua")
    u = daemon.result(name, "u")
    assert wait_until(lambda: u not in daemon.sw.sessions, 3)
