"""Behaviour reference §5 — `freeswitch.Event`: construction rules and every method of the
table, through the running daemon's `lua` API; golden serialize() tests (plain, json,
xml) with the reference's worked example (§13.5–§13.7), built through Lua."""

from __future__ import annotations

import json
from pathlib import Path

from fsd.log import ERR, WARNING
from fsd.testing import wait_until

# The worked example of §13.5–13.7 (tests/fixtures/golden/event.*, shared with
# tests/events): every standard header fixed, so the output is exact.
_GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "golden"


def golden_event_text(fmt: str) -> str:
    return (_GOLDEN / f"event.{fmt}").read_bytes().decode("utf-8")


GOLDEN_PLAIN = golden_event_text("plain")
GOLDEN_JSON_TEXT = golden_event_text("json")
GOLDEN_XML = golden_event_text("xml")
GOLDEN_JSON = {k: v for k, v in json.loads(GOLDEN_JSON_TEXT).items() if k != "Content-Length"}


def _lstr(text: str) -> str:
    """A Lua long string literal holding ``text`` exactly."""
    return "[==[" + ("\n" if text.startswith("\n") else "") + text + "]==]"


def golden_event_lua() -> str:
    return f'local e = freeswitch.Event("json", {_lstr(json.dumps(GOLDEN_JSON))}) '


def test_5_golden_serialize_plain(lua):
    """§5 serialize() / serialize("plain") / unknown formats: plain url-encoded text
    (golden: the §13.5 worked example, 564 bytes)."""
    out = lua(golden_event_lua() + 'stream:write(e:serialize())')
    assert out == GOLDEN_PLAIN and len(out.encode()) == 564
    assert lua(golden_event_lua() + 'stream:write(e:serialize("text"))') == GOLDEN_PLAIN
    assert lua(golden_event_lua() + 'stream:write(e:serialize(nil))') == GOLDEN_PLAIN


def test_5_golden_serialize_json(lua):
    """§5 serialize("json") (any case): one unformatted JSON object (golden §13.6)."""
    assert lua(golden_event_lua() + 'stream:write(e:serialize("json"))') == GOLDEN_JSON_TEXT
    assert lua(golden_event_lua() + 'stream:write(e:serialize("JSON"))') == GOLDEN_JSON_TEXT


def test_5_golden_serialize_xml(lua):
    """§5 serialize("xml"): the <event> document (golden §13.7)."""
    assert lua(golden_event_lua() + 'stream:write(e:serialize("Xml"))') == GOLDEN_XML


def test_5_serialize_edge_values(lua):
    """§5/§13 plain: arrays as ARRAY::, no body → one blank line; json: array headers as
    arrays; xml: array items repeated.  (An empty JSON member adds no header, as adding an
    empty value deletes.)"""
    code = ('local e = freeswitch.Event("json", \'{"Event-Name":"CUSTOM","A":"","M":["x y","z"]}\') '
            'stream:write(e:serialize() .. "#" .. e:serialize("json") .. "#" .. e:serialize("xml"))')
    plain, js, xml = lua(code).split("#")
    assert plain == "Event-Name: CUSTOM\nM: ARRAY%3A%3Ax%20y%7C%3Az\n\n"
    assert js == '{"Event-Name":"CUSTOM","M":["x y","z"]}'
    assert "<M>x%20y</M>\n    <M>z</M>" in xml


def test_5_type_resolution_unknown_is_message(lua):
    """§5 type is resolved case-insensitively, SWITCH_EVENT_ prefix allowed; an unknown name
    silently becomes MESSAGE."""
    out = lua('stream:write(freeswitch.Event("channel_answer"):getType() .. "|" .. '
              'freeswitch.Event("SWITCH_EVENT_HEARTBEAT"):getType() .. "|" .. freeswitch.Event("bogus"):getType())')
    assert out == "CHANNEL_ANSWER|HEARTBEAT|MESSAGE"


def test_5_subclass_forces_custom_with_warning(lua, logs):
    """§5 A subclass with a non-CUSTOM type logs a warning and forces CUSTOM; Event-Subclass
    is added after the standard headers."""
    out = lua('local e = freeswitch.Event("MESSAGE", "my::sub") stream:write(e:getType() .. "|" .. e:getHeader("Event-Subclass") '
              '.. "|" .. e:serialize("json"))')
    typ, sub, js = out.split("|", 2)
    assert typ == "CUSTOM" and sub == "my::sub"
    keys = list(json.loads(js).keys())
    assert keys[-1] == "Event-Subclass" and keys.index("Event-Sequence") < keys.index("Event-Subclass")
    assert any(r.level == WARNING and "custom" in r.text.lower() for r in logs)


def test_5_event_from_json(lua):
    """§5 Event("json", text): string members → headers, arrays → multi-value, _body →
    body, Event-Name sets the type (else CUSTOM), no standard headers; invalid JSON gives an
    unusable object."""
    out = lua('local e = freeswitch.Event("json", \'{"Event-Name":"HEARTBEAT","h":"v","arr":["a","b"],"_body":"B"}\') '
              'local f = freeswitch.Event("json", \'{"x":"1"}\') local bad = freeswitch.Event("json", "{not json") '
              'stream:write(e:getType() .. "|" .. e:getHeader("h") .. "|" .. e:getHeader("arr") .. "|" .. e:getBody() '
              '.. "|" .. tostring(e:getHeader("Core-UUID")) .. "|" .. f:getType() .. "|" .. bad:getType() .. "|" .. bad:serialize())')
    assert out == "HEARTBEAT|v|ARRAY::a|:b|B|nil|CUSTOM|invalid|"


def test_5_standard_headers_at_construction(lua):
    """§5 Standard headers are added at construction, with Event-Calling-File switch_cpp.cpp
    and Event-Calling-Function Event."""
    out = lua('local e = freeswitch.Event("CUSTOM") stream:write(e:getHeader("Event-Calling-File") .. "|" .. '
              'e:getHeader("Event-Calling-Function") .. "|" .. tostring(e:getHeader("Core-UUID") ~= nil) .. "|" .. '
              'tostring(e:getHeader("Event-Date-Timestamp") ~= nil))')
    assert out == "switch_cpp.cpp|Event|true|true"


def test_5_unique_header_types(lua):
    """§5 MESSAGE, CHANNEL_DATA and REQUEST_PARAMS keep names unique (re-adding replaces);
    other types append duplicates and getHeader returns the first."""
    out = lua('local m = freeswitch.Event("MESSAGE") m:addHeader("k", "1") m:addHeader("k", "2") '
              'local c = freeswitch.Event("CUSTOM") c:addHeader("k", "1") c:addHeader("k", "2") '
              'local _, n = c:serialize():gsub("\\nk: ", "") local _, nm = m:serialize():gsub("\\nk: ", "") '
              'stream:write(m:getHeader("k") .. nm .. "|" .. c:getHeader("k") .. n)')
    assert out == "21|12"


def test_5_addHeader_rules(lua):
    """§5 addHeader(name, value): appends; nil → false; "" deletes that name (true);
    ARRAY:: splits on |:; name[i] sets an element; _body sets the body."""
    out = lua('local e = freeswitch.Event("CUSTOM") local r1 = e:addHeader("a", "1") local r2 = e:addHeader("a", nil) '
              'local r3 = e:addHeader("a", "") e:addHeader("arr", "ARRAY::x|:y|:z") e:addHeader("arr[1]", "Y") '
              'e:addHeader("_body", "the body") '
              'stream:write(tostring(r1) .. tostring(r2) .. tostring(r3) .. "|" .. tostring(e:getHeader("a")) .. "|" '
              '.. e:getHeader("arr") .. "|" .. e:getBody())')
    assert out == "truefalsetrue|nil|ARRAY::x|:Y|:z|the body"


def test_5_getHeader_rules(lua, logs):
    """§5 getHeader(name): case-insensitive; arrays in ARRAY:: form; "_body" returns the
    body when no such header; empty/nil name → nil and an error log."""
    out = lua('local e = freeswitch.Event("CUSTOM") e:addHeader("Mixed-Case", "v") e:addBody("bb") '
              'stream:write(e:getHeader("mixed-case") .. "|" .. e:getHeader("_body") .. "|" .. tostring(e:getHeader("")) '
              '.. "|" .. tostring(e:getHeader(nil)))')
    assert out == "v|bb|nil|nil"
    assert any(r.level <= ERR for r in logs)


def test_5_delHeader(lua):
    """§5 delHeader(name): true if at least one header was removed."""
    out = lua('local e = freeswitch.Event("CUSTOM") e:addHeader("d", "1") e:addHeader("d", "2") '
              'stream:write(tostring(e:delHeader("d")) .. tostring(e:getHeader("d")) .. tostring(e:delHeader("d")))')
    assert out == "truenilfalse"


def test_5_addBody_replaces_and_getBody(lua):
    """§5 addBody(text) replaces the body (does not append); "" stores an empty body;
    getBody() returns it or nil."""
    out = lua('local e = freeswitch.Event("CUSTOM") local none = tostring(e:getBody()) e:addBody("one") e:addBody("two") '
              'local b = e:getBody() e:addBody("") stream:write(none .. "|" .. b .. "|[" .. e:getBody() .. "]|" .. '
              'tostring(e:serialize("json"):find(\'"_body":""\', 1, true) ~= nil))')
    assert out == "nil|two|[]|true"


def test_5_getType(lua):
    """§5 getType(): the type name (not the subclass); "invalid" without an event."""
    assert lua('stream:write(freeswitch.Event("CUSTOM", "a::b"):getType())') == "CUSTOM"


def test_5_fire_own_copies_and_not_mine(daemon, lua, logs):
    """§5 fire(): only for events the script owns (created, or popped from a consumer); a
    copy is fired so the object can be fired again; handed-in events (env…) → false with
    "Not My event!"."""
    sub = daemon.sw.events.subscribe(name="c5-fire")
    sub.bind("CUSTOM", "c5::fire")
    try:
        out = lua('local e = freeswitch.Event("CUSTOM", "c5::fire") e:addHeader("n", "1") local a = e:fire() '
                  'e:addHeader("n2", "2") local b = e:fire() stream:write(tostring(a) .. tostring(b) .. tostring(env:fire()))')
        assert out == "truetruefalse"
        got = []
        assert wait_until(lambda: (got.append(sub.get(timeout=0.1)) or len([g for g in got if g]) >= 2), 3)
        got = [g for g in got if g]
        assert got[0].get_header("n2") is None and got[1].get_header("n2") == "2"
        assert any("Not My event!" in r.text for r in logs)
    finally:
        sub.close()


def test_5_setPriority_no_argument_only(lua):
    """§5 setPriority(): without an argument adds `priority: NORMAL` at the top; a number
    raises a type error."""
    out = lua('local e = freeswitch.Event("json", \'{"Event-Name":"CUSTOM","a":"1"}\') e:setPriority() '
              'local ok, err = pcall(function() e:setPriority(1) end) stream:write(e:serialize() .. "|" .. tostring(ok) .. "|" .. err)')
    plain, ok, err = out.split("|", 2)
    assert plain.startswith("priority: NORMAL\nEvent-Name: CUSTOM\n")
    assert ok == "false" and "expected 'switch_priority_t' got 'number'" in err


def test_5_merge(lua):
    """§5 merge(other): appends all of other's headers."""
    out = lua('local a = freeswitch.Event("json", \'{"Event-Name":"CUSTOM","x":"1"}\') '
              'local b = freeswitch.Event("json", \'{"Event-Name":"CUSTOM","y":"2","z":"3"}\') '
              'local r = a:merge(b) stream:write(tostring(r) .. "|" .. a:serialize("json"))')
    assert out == 'true|{"Event-Name":"CUSTOM","x":"1","Event-Name":"CUSTOM","y":"2","z":"3"}' or \
        out == 'true|{"Event-Name":"CUSTOM","x":"1","y":"2","z":"3"}'


def test_5_chat_execute_and_chat_send(daemon, lua, logs):
    """§5 chat_execute(app [, data]) runs a chatplan application on the event (0 = ok);
    chat_send([proto]) → a status (non-zero when there is no such chat interface)."""
    name = daemon.script('R("from", message:getHeader("from"))')
    out = lua(f'local e = freeswitch.Event("MESSAGE") e:addHeader("from", "1001@x") '
              f'stream:write(e:chat_execute("lua", "{name}.lua") .. "|" .. e:chat_execute("nosuchapp") .. "|" .. '
              f'e:chat_send("nosuchproto"))')
    assert out == "0|1|1"
    assert daemon.result(name, "from") == "1001@x"


def test_5_attributes(lua):
    """§5 attributes serialized_string and mine."""
    out = lua('local e = freeswitch.Event("CUSTOM") local s = e:serialize() '
              'stream:write(tostring(e.serialized_string == s) .. e.mine .. env.mine)')
    assert out == "true10"
