"""Event (§5), EventConsumer (§6), API (§7), Stream (§8), JSON (§10), DTMF (§12)."""

import json
import threading
import time

from fsd.api import Stream
from fsd.events import Event
from fsd.log import ERR, WARNING

W = ("local function w(...) local t = {} for i = 1, select('#', ...) do"
     " t[i] = tostring((select(i, ...))) end stream:write(table.concat(t)) end ")


# -- Event -------------------------------------------------------------------------------
def test_unknown_type_becomes_message(lua):
    assert lua("stream:write(freeswitch.Event('nonsense'):getType())") == "MESSAGE"
    assert lua("stream:write(freeswitch.Event('SWITCH_EVENT_custom'):getType())") == "CUSTOM"
    assert lua("stream:write(freeswitch.Event('message_waiting'):getType())") == "MESSAGE_WAITING"


def test_subclass_forces_custom_with_warning(lua, logs):
    out = lua("local e = freeswitch.Event('channel_create', 'x::y')"
              " stream:write(e:getType() .. ' ' .. e:getHeader('Event-Subclass'))")
    assert out == "CUSTOM x::y"
    assert any(r.level == WARNING and "Changing event type to custom" in r.text for r in logs)


def test_standard_headers_at_construction(lua):
    out = lua("local e = freeswitch.Event('custom', 'dial::dial-result') stream:write(e:serialize())")
    lines = out.split("\n")
    assert lines[0] == "Event-Name: CUSTOM"
    assert "Event-Calling-File: switch_cpp.cpp" in lines
    assert "Event-Calling-Function: Event" in lines
    assert lines[-3] == "Event-Subclass: dial%3A%3Adial-result"  # after the standard ones
    assert out.endswith("\n\n")


def test_headers_duplicates_and_unique_types(lua):
    out = lua(W + "local e = freeswitch.Event('CUSTOM') e:addHeader('A', '1') e:addHeader('A', '2')"
              " local m = freeswitch.Event('MESSAGE') m:addHeader('A', '1') m:addHeader('A', '2')"
              " local _, n = e:serialize():gsub('\\nA: ', '') w(e:getHeader('A'), n, m:getHeader('A'))")
    assert out == "122"
    out = lua(W + "local e = freeswitch.Event('CUSTOM') e:addHeader('A', '1') e:addHeader('A', '2')"
              " w(e:addHeader('A', ''), tostring(e:getHeader('A')), e:delHeader('B'))")
    assert out == "truenilfalse"


def test_body_and_getheader_body(lua):
    out = lua(W + "local e = freeswitch.Event('CUSTOM') e:addBody('one') e:addBody('two')"
              " w(e:getBody(), ' ', e:getHeader('_body'), ' ', e:getHeader('Content-Length'))")
    assert out == "two two nil"
    out = lua("local e = freeswitch.Event('CUSTOM') e:addBody('hello') stream:write(e:serialize())")
    assert out.endswith("Content-Length: 5\n\nhello")


def test_serialize_formats(lua):
    out = lua("local e = freeswitch.Event('CUSTOM') e:addHeader('X', 'a b') stream:write(e:serialize('JSON'))")
    assert json.loads(out)["X"] == "a b"
    out = lua("local e = freeswitch.Event('CUSTOM') e:addHeader('X', 'a b') stream:write(e:serialize('xml'))")
    assert out.startswith("<event>\n  <headers>\n") and "<X>a%20b</X>" in out
    out = lua("local e = freeswitch.Event('CUSTOM') e:addHeader('X', 'a b') stream:write(e:serialize('text'))")
    assert "X: a%20b\n" in out
    out = lua("local e = freeswitch.Event('CUSTOM') local s = e:serialize() stream:write(tostring(e.serialized_string == s))")
    assert out == "true"


def test_fire_own_event_is_delivered_and_reusable(lua, bus):
    sub = bus.subscribe(name="t")
    sub.bind("CUSTOM", "my::event")
    out = lua("local e = freeswitch.Event('custom', 'my::event') e:addHeader('My-Header', 'test')"
              " stream:write(tostring(e:fire()) .. tostring(e:fire()) .. e.mine)")
    assert out == "truetrue1"
    got = [sub.get(timeout=2), sub.get(timeout=2)]
    assert all(g is not None and g.get_header("My-Header") == "test" for g in got)
    assert got[0].headers[0][0] == "Event-Subclass"  # copies put Event-Subclass first
    sub.close()


def test_env_event_is_not_mine(entry, logs):
    s = Stream(Event("API"))
    entry.api_lua("~stream:write(tostring(env:fire()) .. env.mine)", None, s)
    assert s.get_data() == "false0"
    assert any(r.level == ERR and r.text == "Not My event!\n" for r in logs)


def test_set_priority(lua):
    out = lua("local e = freeswitch.Event('CUSTOM') e:setPriority() stream:write(e:serialize():match('^[^\\n]*'))")
    assert out == "priority: NORMAL"
    out = lua("local e = freeswitch.Event('CUSTOM') local ok, m = pcall(e.setPriority, e, 1) stream:write(m)")
    assert out.endswith("Error in Event::setPriority (arg 2), expected 'switch_priority_t' got 'number'")


def test_event_from_json(lua):
    out = lua(W + "local e = freeswitch.Event('json', '{\"Event-Name\":\"CUSTOM\",\"A\":\"1\",\"L\":[\"x\",\"y\"],\"_body\":\"b\"}')"
              " w(e:getType(), e:getHeader('A'), e:getHeader('L'), e:getBody(), tostring(e:getHeader('Core-UUID')))")
    assert out == "CUSTOM1ARRAY::x|:ybnil"
    out = lua(W + "local e = freeswitch.Event('json', 'not json') w(e:getType(), '[', e:serialize(), ']')")
    assert out == "invalid[]"


# -- EventConsumer -------------------------------------------------------------------------
def test_consumer_pop_own_event(lua):
    out = lua("local c = freeswitch.EventConsumer('CUSTOM', 'ping::x')"
              " local e = freeswitch.Event('CUSTOM', 'ping::x') e:addHeader('hi', 'there') e:fire()"
              " local got = c:pop(1, 2000) local none = c:pop()"
              " stream:write(got:getHeader('hi') .. ' ' .. tostring(none) .. ' ' .. tostring(got:fire()))"
              " local again = c:pop(1, 2000) stream:write(' ' .. again:getHeader('hi'))")
    # a popped event is the script's own: it fires, and the consumer receives it again
    assert out == "there nil true there"


def test_consumer_bind_unknown_and_all(lua, logs):
    out = lua("local c = freeswitch.EventConsumer() stream:write(c:bind('nope') .. c:bind('all') .. c:bind('RELOADXML'))")
    assert out == "011"
    assert any("Can't bind to nope, event not found" in r.text for r in logs)


def test_consumer_timeouts(lua):
    t0 = time.monotonic()
    out = lua("local c = freeswitch.EventConsumer('CUSTOM', 'never::comes')"
              " stream:write(tostring(c:pop()) .. tostring(c:pop(1, 300)))")
    assert out == "nilnil"
    assert 0.25 < time.monotonic() - t0 < 2


def test_consumer_cleanup(lua):
    out = lua("local c = freeswitch.EventConsumer('CUSTOM') c:cleanup()"
              " stream:write(c:bind('CUSTOM') .. tostring(c:pop(1, 100)))")
    assert out == "0nil"


def test_consumer_receives_bus_events_and_cleans_up_at_end(entry, bus):
    s = Stream()
    before = len(bus._subscribers)

    def fire_later():
        time.sleep(0.2)
        e = Event("CUSTOM", "ext::thing")
        e.add_header("k", "v")
        bus.fire(e)

    threading.Thread(target=fire_later).start()
    entry.api_lua("~local c = freeswitch.EventConsumer('all') local e = c:pop(1)"
                  " stream:write(e:getHeader('k'))", None, s)
    assert s.get_data() == "v"
    assert len(bus._subscribers) == before  # the subscription ended with the script


def test_consumer_header_filter(lua):
    out = lua("local c = freeswitch.EventConsumer('CUSTOM', 'f::t') stream:write(c:filter('Color', 'blue'))"
              " for _, col in ipairs({'red', 'blue'}) do local e = freeswitch.Event('CUSTOM', 'f::t')"
              " e:addHeader('Color', col) e:fire() end"
              " local a = c:pop(1, 2000) local b = c:pop(1, 200)"
              " stream:write(a:getHeader('Color') .. tostring(b))")
    assert out == "1bluenil"
    out = lua("local c = freeswitch.EventConsumer('CUSTOM', 'f::r') c:filter('Color', '/^gr/')"
              " for _, col in ipairs({'red', 'green'}) do local e = freeswitch.Event('CUSTOM', 'f::r')"
              " e:addHeader('Color', col) e:fire() end"
              " local a = c:pop(1, 2000) stream:write(a:getHeader('Color') .. c:filter_delete('Color'))")
    assert out == "green1"


def test_consumer_queue_full_logs(lua, logs):
    out = lua("local c = freeswitch.EventConsumer('CUSTOM', 'q::full', 2)"
              " for i = 1, 5 do freeswitch.Event('CUSTOM', 'q::full'):fire() end"
              " freeswitch.msleep(300) local n = 0 while c:pop() do n = n + 1 end stream:write(n)")
    assert out == "2"
    assert any("Cannot queue any more events" in r.text for r in logs)


# -- API / Stream ----------------------------------------------------------------------------
def test_api_execute(lua, apis):
    apis.funcs["echo"] = lambda args, session, stream: stream.write(f"[{args}]")
    assert lua("stream:write(freeswitch.API():execute('echo', 'a b'))") == "[a b]"
    assert lua("stream:write(freeswitch.API():executeString('echo  x y'))") == "[x y]"
    assert lua("stream:write(freeswitch.API():execute('nope'))") == "INVALID COMMAND!\n"
    assert lua("stream:write(freeswitch.API():execute(''))") == "-ERR No application specified"


def test_api_fires_api_event(lua, apis, bus):
    apis.funcs["echo"] = lambda args, session, stream: stream.write(args)
    sub = bus.subscribe(name="t")
    sub.bind("API")
    lua("freeswitch.API():execute('echo', 'zz')")
    evs = []
    while (e := sub.get(timeout=0.5)) is not None:
        evs.append(e)
    assert any(e.get_header("API-Command") == "echo" and e.get_header("API-Command-Argument") == "zz"
               for e in evs)
    sub.close()


def test_api_get_time(lua):
    out = lua("local t = freeswitch.API():getTime() stream:write(type(t) .. ' ' .. t)")
    kind, value = out.split()
    assert kind == "string" and abs(int(value) - time.time() * 1000) < 5000


def test_private_stream(lua):
    out = lua("local s = freeswitch.Stream() s:write('ab') s:write('cd') s:raw_write('xyz', 2)"
              " local d, n = s:read() stream:write(s:get_data() .. '|' .. d .. '|' .. n)")
    assert out == "abcdxy||0"


# -- JSON ------------------------------------------------------------------------------------
def test_json_decode(lua):
    out = lua(W + "local j = freeswitch.JSON()"
              " local x = j:decode('{\"a\": \"1\", \"b\": 2, \"c\": true, \"d\": false, \"e\": [], \"f\": {}, \"g\": [1, 2, \"3\"], \"n\": null}')"
              " w(x.a, x.b, tostring(x.c), tostring(x.d), #x.e, type(x.f), #x.g, x.g[3], tostring(x.n))")
    assert out == "12truefalse0table33nil"
    out = lua(W + "local j = freeswitch.JSON() local x = j:decode('[\"a\", [1, 2], null, \"b\"]')"
              " w(#x, x[1], x[2])")
    assert out == "2ab"
    out = lua(W + "local j = freeswitch.JSON() w(tostring(j:decode('blah')), type(j:decode('5')),"
              " type(j:decode('[]')), j:decode('{\"a\":1} trailing').a)")
    assert out == "niltabletable1"


def test_json_encode_unformatted(lua):
    pre = "local j = freeswitch.JSON() j:return_unformatted_json(true) "
    assert lua(pre + "stream:write(j:encode({}))") == "{}"
    assert lua(pre + "j:encode_empty_table_as_object(false) stream:write(j:encode({}))") == "[]"
    assert lua(pre + "stream:write(j:encode({[1] = 'a'}))") == '["a"]'
    assert lua(pre + "stream:write(j:encode({'a', 'b', 'c'}))") == '["a","b","c"]'
    assert lua(pre + "stream:write(j:encode({[3] = 'c'}))") == '{"3":"c"}'
    assert lua(pre + "stream:write(j:encode({{name = 'seven'}, {name = 'nine'}}))") == \
        '[{"name":"seven"},{"name":"nine"}]'
    assert lua(pre + "stream:write(j:encode({{name = '中文'}, {['中文'] = '也行'}}))") == \
        '[{"name":"中文"},{"中文":"也行"}]'
    assert lua(pre + "stream:write(j:encode({1.5, 2, 1e10, 3.0, true, 'q\"\\n\\1'}))") == \
        '[1.500000, 2, 10000000000, 3, true, "q\\"\\n\\u0001"]'.replace(", ", ",")


def test_json_encode_formatted_default(lua):
    out = lua("stream:write(freeswitch.JSON():encode({a = {b = 'c'}}))")
    assert out == '{\n\t"a":\t{\n\t\t"b":\t"c"\n\t}\n}'
    assert lua("stream:write(freeswitch.JSON():encode({1, 2}))") == "[1, 2]"
    assert lua("stream:write(freeswitch.JSON():encode({}))") == "{\n}"


# -- DTMF --------------------------------------------------------------------------------------
def test_dtmf(lua):
    assert lua(W + "local d = freeswitch.DTMF('5') w(d.digit, ' ', d.duration)") == "5 2000"
    assert lua(W + "local d = freeswitch.DTMF('#', 0) w(d.digit, ' ', d.duration)") == "# 2000"
    assert lua(W + "local d = freeswitch.DTMF('12', 800) w(d.digit, ' ', d.duration)") == "1 800"
    out = lua("local ok, m = pcall(freeswitch.DTMF) stream:write(m)")
    assert out.endswith("Error in new_DTMF expected 1..2 args, got 0")
