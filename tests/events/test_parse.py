"""Building events from JSON (§5) and from the plain form."""

from __future__ import annotations

import pytest

from fsd.events import Event


def test_from_json_basic():
    e = Event.from_json('{"Event-Name":"CHANNEL_ANSWER","A":"1","L":["x","y"],"_body":"hi"}')
    assert e.name == "CHANNEL_ANSWER"
    assert e.headers == [["Event-Name", "CHANNEL_ANSWER"], ["A", "1"], ["L", ["x", "y"]]]
    assert e.body == "hi"
    assert e.get_header("Event-Sequence") is None  # no standard headers


def test_from_json_defaults_to_custom_and_ignores_non_strings():
    e = Event.from_json('{"n":1,"b":true,"z":null,"o":{"k":"v"},"s":"ok","L":["a",2,"b"]}')
    assert e.name == "CUSTOM"
    assert e.headers == [["s", "ok"], ["L", ["a", "b"]]]
    assert e.body is None


def test_from_json_event_name_rules():
    e = Event.from_json('{"event-name":"heartbeat","Event-Name":"API"}')
    assert e.name == "API"
    assert e.headers == [["Event-Name", "API"]]
    u = Event.from_json('{"Event-Name":"bogus"}')
    assert u.name == "CUSTOM"
    assert u.get_header("Event-Name") == "bogus"


def test_from_json_body_key_any_case_and_empty():
    assert Event.from_json('{"_BODY":""}').body == ""


def test_from_json_duplicates_kept():
    e = Event.from_json('{"A":"1","A":"2"}')
    assert e.headers == [["A", "1"], ["A", "2"]]
    assert e.serialize("json") == '{"A":"1","A":"2"}'


def test_from_json_round_trip_of_serialised_event(spec_event):
    text = spec_event.serialize("json")
    back = Event.from_json(text)
    # Content-Length comes back as a header: that is what FreeSWITCH does too
    assert back.get_header("Call-Disposition") == "answered & bridged"
    assert back.body == spec_event.body
    assert back.name == "CUSTOM"


@pytest.mark.parametrize("bad", ["", "{", "not json", '{"a":}', "NaN", None, 5])
def test_from_json_invalid_gives_none(bad):
    assert Event.from_json(bad) is None


def test_from_json_valid_non_object_gives_empty_event():
    e = Event.from_json('["a","b"]')
    assert e is not None and e.headers == []
    assert Event.from_json('  {"a":"b"} trailing').get_header("a") == "b"


def test_from_plain_round_trip(spec_event):
    spec_event.add_header("L", "ARRAY::x y|:z")
    spec_event.add_body("é body\nwith lines\n")
    text = spec_event.serialize()
    back = Event.from_plain(text)
    assert back.serialize() == text
    assert back.subclass == "dial::result"
    assert back.get_header("Call-Disposition") == "answered & bridged"
    assert back.get_header_array("L") == ["x y", "z"]
    assert back.body == "é body\nwith lines\n"


def test_from_plain_without_body_and_undef():
    e = Event.from_plain("Event-Name: MESSAGE\nA: _undef_\nB: a%20b\n\n")
    assert e.name == "MESSAGE" and e.unique_names
    assert e.headers == [["Event-Name", "MESSAGE"], ["A", ""], ["B", "a b"]]
    assert e.body is None


@pytest.mark.parametrize("bad", ["", "\n", "no colon here\n\n", None])
def test_from_plain_nothing_usable(bad):
    assert Event.from_plain(bad) is None
