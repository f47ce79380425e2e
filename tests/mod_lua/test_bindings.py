"""Binding conventions (§2) and freeswitch.* functions (§3)."""

import pytest

from fsd.log import DEBUG, ERR, INFO, WARNING

W = ("local function w(...) local t = {} for i = 1, select('#', ...) do"
     " t[i] = tostring((select(i, ...))) end stream:write(table.concat(t)) end ")


def test_arg_count_error(lua):
    out = lua("local e = freeswitch.Event('CUSTOM') local ok, m = pcall(e.addHeader, e, 'a') stream:write(m)")
    assert out == "Error in Event::addHeader expected 3..3 args, got 2"


def test_arg_count_error_has_script_position(lua):
    out = lua("local e = freeswitch.Event('CUSTOM')\nlocal ok, m = pcall(function() e:getHeader() end) stream:write(m)")
    assert out == '[string "line"]:2: Error in Event::getHeader expected 2..2 args, got 1'


def test_type_error_boolean_for_string(lua):
    out = lua("local e = freeswitch.Event('CUSTOM')\nlocal ok, m = pcall(function() e:addHeader('a', true) end) stream:write(m)")
    assert out == ('[string "line"]:2: Error in Event::addHeader (arg 3), expected '
                   "'char const *' got 'boolean'")


def test_type_error_table_for_string(lua):
    out = lua("local ok, m = pcall(freeswitch.consoleLog, 'info', {}) stream:write(m)")
    assert out.endswith("Error in consoleLog (arg 2), expected 'char *' got 'table'")


def test_dot_call_is_a_self_type_error(lua):
    out = lua("local e = freeswitch.Event('CUSTOM') local ok, m = pcall(e.getHeader, 'x', 'y') stream:write(m)")
    assert out.endswith("Error in Event::getHeader (arg 1), expected 'Event *' got 'string'")


def test_no_argument_fast_path_keeps_swig_checks(lua):
    """No-argument methods take a fast path (bound once per instance); extra arguments,
    even an explicit nil, and a wrong self still raise SWIG's errors at the script's line,
    and each instance calls its own object."""
    out = lua("local s = freeswitch.Stream() s:write('a')\n"
              "local ok, m = pcall(function() s:get_data(nil) end) stream:write(m .. '|')\n"
              "ok, m = pcall(function() s.get_data(freeswitch.Event('CUSTOM')) end) stream:write(m .. '|')\n"
              "ok, m = pcall(function() s.get_data() end) stream:write(m .. '|')\n"
              "local t = freeswitch.Stream() t:write('b') stream:write(s:get_data() .. t:get_data() .. s:get_data())")
    a, b, c, d = out.split("|")
    assert a == '[string "line"]:2: Error in Stream::get_data expected 1..1 args, got 2'
    assert b == "[string \"line\"]:3: Error in Stream::get_data (arg 1), expected 'Stream *' got 'Event *'"
    assert c == '[string "line"]:4: Error in Stream::get_data expected 1..1 args, got 0'
    assert d == "aba"


def test_string_param_accepts_number_and_nil(lua):
    out = lua("local e = freeswitch.Event('CUSTOM') e:addHeader('n', 42) e:addHeader('f', 1.5)"
              " stream:write(e:getHeader('n') .. ' ' .. e:getHeader('f') .. ' ' .. tostring(e:addHeader('x', nil)))")
    assert out == "42 1.5 false"


def test_int_param_numeric_string_truncated(lua, logs):
    out = lua("local t = os.clock() freeswitch.msleep('10.9') freeswitch.msleep(-0.5) stream:write('ok')")
    assert out == "ok"
    out = lua("local ok, m = pcall(freeswitch.msleep, 'abc') stream:write(m)")
    assert out.endswith("Error in msleep (arg 1), expected 'unsigned int' got 'string'")


def test_bool_param_requires_boolean(lua):
    out = lua("local j = freeswitch.JSON() local ok, m = pcall(j.return_unformatted_json, j, 1) stream:write(m)")
    assert out.endswith("Error in JSON::return_unformatted_json (arg 2), expected 'bool' got 'number'")


def test_object_param_accepts_object_or_nil(lua):
    out = lua("local a = freeswitch.Event('CUSTOM') a:addHeader('A', '1')"
              " local b = freeswitch.Event('CUSTOM') stream:write(tostring(b:merge(a)) .. b:getHeader('A'))"
              " local ok, m = pcall(b.merge, b, {}) stream:write(' ' .. m)")
    assert out.startswith("true1 ")
    assert out.endswith("Error in Event::merge (arg 2), expected 'Event *' got 'table'")
    out = lua("local ok, m = pcall(freeswitch.API, freeswitch.Event('CUSTOM')) stream:write(m)")
    assert out.endswith("Error in new_API (arg 1), expected 'CoreSession *' got 'Event *'")


def test_nil_string_result_is_nil(lua):
    assert lua("local e = freeswitch.Event('CUSTOM') stream:write(tostring(e:getHeader('nope')))") == "nil"


@pytest.mark.parametrize("level,expected", [
    ("info", INFO), ("INFO", INFO), ("err", ERR), ("warning", WARNING), ("debug", DEBUG),
    ("console", 0), ("alert", 1), ("crit", 2), ("notice", 5),
    ("error", DEBUG), ("warn", DEBUG), ("nonsense", DEBUG), ("3", 3), ("0", 0),
])
def test_console_log_levels(lua, logs, level, expected):
    lua(f"freeswitch.consoleLog('{level}', 'marker-{level}')")
    rec = [r for r in logs if r.text == f"marker-{level}"]
    assert len(rec) == 1 and rec[0].level == expected


def test_console_log_numeric_clamp_and_nil(lua, logs):
    from fsd.log import logger

    old = logger.level
    logger.level = 100
    seen = []
    sid = logger.add_sink(seen.append, level=100)
    try:
        lua("freeswitch.consoleLog('100', 'big') freeswitch.consoleLog('-5', 'neg')"
            " freeswitch.consoleLog(nil, 'nil-level') freeswitch.consoleLog(4, 'number')")
    finally:
        logger.level = old
        logger.remove_sink(sid)
    by = {r.text: r.level for r in seen}
    assert by["big"] == 63 and by["neg"] == 0 and by["nil-level"] == DEBUG and by["number"] == 4


def test_console_log_verbatim_and_aliases(lua, logs):
    lua("freeswitch.consoleLog('info', 'no newline') freeswitch.console_log('info', 'alias\\n')"
        " freeswitch.consoleLog2('notice', 'f.lua', 'fn', 12, 'two')"
        " freeswitch.console_log2('notice', 'g.lua', 'gn', 3, 'two-alias')")
    texts = {r.text: r for r in logs}
    assert "no newline" in texts and "alias\n" in texts
    r = texts["two"]
    assert (r.level, r.file, r.func, r.line) == (5, "f.lua", "fn", 12)
    assert texts["two-alias"].file == "g.lua"


def test_console_clean_log(lua, logs):
    lua("freeswitch.consoleCleanLog('This Rocks!!!\\n') freeswitch.console_clean_log('x')")
    r = [r for r in logs if r.text == "This Rocks!!!\n"][0]
    assert r.clean and r.level == DEBUG
    assert any(r.text == "x" and r.clean for r in logs)


def test_global_variables(lua, host):
    host.globals.set("hold_music", "moh.wav")
    assert lua("stream:write(freeswitch.getGlobalVariable('hold_music'))") == "moh.wav"
    assert lua("stream:write(tostring(freeswitch.getGlobalVariable('nope')))") == "nil"
    lua("freeswitch.setGlobalVariable('answer', 42)")
    assert host.globals.get("answer") == "42"
    lua("freeswitch.setGlobalVariable('answer', nil)")
    assert host.globals.get("answer") is None


def test_running_and_constants(lua):
    assert lua("stream:write(tostring(freeswitch.running()))") == "true"
    assert lua(W + "w(freeswitch.S_HUP, freeswitch.S_FREE, freeswitch.S_RDLOCK)") == "124"


def test_msleep_blocks(lua):
    import time

    t0 = time.monotonic()
    lua("freeswitch.msleep(200)")
    assert time.monotonic() - t0 >= 0.19


def test_compat_layer(lua):
    out = lua(W + "w(bit32.band(0xFF, 0x0F), ' ', bit32.bor(1, 2), ' ', bit32.bxor(3, 1), ' ',"
              " bit32.lshift(1, 31), ' ', bit32.rshift(-1, 28), ' ', bit32.arshift(0x80000000, 4), ' ',"
              " bit32.bnot(0), ' ', bit32.extract(0xF0, 4, 4), ' ', bit32.replace(0, 1, 31), ' ',"
              " bit32.lrotate(0x80000001, 1), ' ', tostring(bit32.btest(2, 1)))")
    assert out == "15 3 2 2147483648 15 4160749568 4294967295 15 2147483648 3 false"
    out = lua(W + "w(math.pow(2, 10), ' ', math.ldexp(0.5, 3), ' ', math.log10(1000), ' ',"
              " select(1, math.frexp(8)), ' ', select(2, math.frexp(8)))")
    assert out == "1024.0 4.0 3.0 0.5 4"
    out = lua(W + "local t = setmetatable({}, {__ipairs = function(t) return function(_, i)"
              " if i < 3 then return i + 1, 'v' end end, t, 0 end})"
              " local n = 0 for i, v in ipairs(t) do n = n + 1 end w(n, table.concat({unpack({'a', 'b'})}), loadstring('return 5')())")
    assert out == "3ab5"


def test_numbers_are_integers_where_integral(lua):
    # docs/lua.md "Numbers": integral results come back as Lua integers ("3", not "3.0")
    out = lua(W + "local t = freeswitch.JSON():decode('{\"n\": 3, \"f\": 2.5}') w(t.n, ' ', t.f)")
    assert out == "3 2.5"
