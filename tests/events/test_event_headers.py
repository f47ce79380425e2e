"""Event construction and the header rules of §5."""

from __future__ import annotations

import re

import pytest

from fsd.events import Event, event_id


def blank(kind: str = "CUSTOM") -> Event:
    return Event(kind, standard_headers=False)


def test_type_resolution_and_errors():
    assert Event("channel_create").name == "CHANNEL_CREATE"
    assert Event("SWITCH_EVENT_HEARTBEAT").event_id == 50
    assert Event(6).name == "CHANNEL_ANSWER"
    for bad in ("nonsense", "", None, -1, 94, 2.5, True):
        with pytest.raises(ValueError):
            Event(bad)


def test_subclass_forces_custom():
    e = Event("channel_create", "x::y")
    assert e.get_type() == "CUSTOM"
    assert e.subclass == "x::y"
    assert e.subclass_forced
    assert e.get_header("Event-Subclass") == "x::y"
    assert e.headers[-1] == ["Event-Subclass", "x::y"]
    assert e.get_header("Event-Name") == "CUSTOM"
    plain = Event("CUSTOM", "a::b")
    assert not plain.subclass_forced
    assert Event("CUSTOM", "").subclass is None


def test_clone_is_created_blank():
    e = Event("CLONE")
    assert e.name == "CUSTOM"
    assert e.headers == []


STANDARD = [
    "Event-Name",
    "Core-UUID",
    "FreeSWITCH-Hostname",
    "FreeSWITCH-Switchname",
    "FreeSWITCH-IPv4",
    "FreeSWITCH-IPv6",
    "Event-Date-Local",
    "Event-Date-GMT",
    "Event-Date-Timestamp",
    "Event-Calling-File",
    "Event-Calling-Function",
    "Event-Calling-Line-Number",
    "Event-Sequence",
]


def test_standard_headers_in_order_with_forms(spec_identity):
    e = Event(
        "CHANNEL_ANSWER", calling_file="/a/b/switch_cpp.cpp", calling_func="Event", calling_line=315
    )
    assert [n for n, _ in e] == STANDARD
    d = e.headers_dict()
    assert d["Core-UUID"] == "6a2b8f0e-3c1d-4e55-9a7b-0c1d2e3f4a5b"
    assert d["FreeSWITCH-Switchname"] == "pbx1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", d["Event-Date-Local"])
    assert re.fullmatch(
        r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT",
        d["Event-Date-GMT"],
    )
    assert re.fullmatch(r"\d{16}", d["Event-Date-Timestamp"])
    assert d["Event-Calling-File"] == "switch_cpp.cpp"
    assert d["Event-Calling-Function"] == "Event"
    assert d["Event-Calling-Line-Number"] == "315"


def test_calling_location_defaults_to_the_caller():
    e = Event("API")
    assert e.get_header("Event-Calling-File") == "test_event_headers.py"
    assert e.get_header("Event-Calling-Function") == "test_calling_location_defaults_to_the_caller"


def test_sequence_increments_per_created_event_and_copies_keep_it():
    a = Event("CUSTOM")
    b = Event("CUSTOM")
    sa, sb = int(a.get_header("Event-Sequence")), int(b.get_header("Event-Sequence"))
    assert sb == sa + 1
    assert a.copy().get_header("Event-Sequence") == str(sa)
    c = Event("CUSTOM")
    assert int(c.get_header("Event-Sequence")) == sb + 1


def test_duplicates_on_ordinary_types():
    e = blank()
    assert e.add_header("A", "1")
    assert e.add_header("A", "2")
    assert e.get_header("A") == "1"
    assert e.serialize() == "A: 1\nA: 2\n\n"
    assert e.get_header("a") == "1"


@pytest.mark.parametrize("kind", ["MESSAGE", "CHANNEL_DATA", "REQUEST_PARAMS"])
def test_unique_types_replace(kind):
    e = blank(kind)
    assert e.unique_names
    e.add_header("A", "1")
    e.add_header("B", "b")
    e.add_header("a", "2")
    assert e.serialize() == "B: b\na: 2\n\n"
    assert e.get_header("A") == "2"


def test_empty_value_deletes_and_none_is_refused():
    e = blank()
    e.add_header("A", "1")
    e.add_header("A", "2")
    assert e.add_header("A", "") is True
    assert e.get_header("A") is None
    assert e.add_header("A", None) is False
    assert e.get_header("A") is None
    assert e.add_header("", "x") is False
    assert e.add_header("N", 5) and e.get_header("N") == "5"


def test_array_values():
    e = blank()
    e.add_header("L", "ARRAY::a|:b|:c")
    assert e.headers == [["L", ["a", "b", "c"]]]
    assert e.get_header("L") == "ARRAY::a|:b|:c"
    assert e.get_header_array("L") == ["a", "b", "c"]
    # an array added to an existing name on a duplicate-allowing type joins it
    e2 = blank()
    e2.add_header("L", "first")
    e2.add_header("L", "ARRAY::x|:y")
    assert e2.headers == [["L", ["first", "x", "y"]]]
    # on a unique type it replaces
    m = blank("MESSAGE")
    m.add_header("L", "first")
    m.add_header("L", "ARRAY::x|:y")
    assert m.headers == [["L", ["x", "y"]]]
    # "ARRAY::" alone adds nothing; an empty first element is skipped (adding "" to a
    # missing header is a delete) but a later empty element is kept
    e3 = blank()
    e3.add_header("L", "ARRAY::")
    assert e3.headers == []
    e3.add_header("L", "ARRAY::|:a")
    assert e3.headers == [["L", ["a"]]]
    e3.del_header("L")
    e3.add_header("L", "ARRAY::a|:")
    assert e3.headers == [["L", ["a", ""]]]
    e3.del_header("L")
    e3.add_header("L", "ARRAY::solo")
    assert e3.headers == [["L", ["solo"]]]
    assert e3.get_header("L") == "solo"


def test_indexed_names():
    e = blank()
    e.add_header("L[2]", "c")
    assert e.headers == [["L", ["", "", "c"]]]
    e.add_header("L[0]", "a")
    assert e.get_header("L") == "ARRAY::a|:|:c"
    e.add_header("L[4]", "e")
    assert e.get_header_array("L") == ["a", "", "c", "", "e"]
    # out of range or negative: nothing changes, still true
    assert e.add_header("L[4001]", "x")
    assert e.add_header("L[-1]", "x")
    assert e.add_header("M[5000]", "x")
    assert e.get_header("M") is None
    assert len(e.get_header_array("L")) == 5
    # a plain value turned into an array loses its old value, as in FreeSWITCH
    p = blank()
    p.add_header("P", "old")
    p.add_header("P[1]", "new")
    assert p.get_header_array("P") == ["", "new"]
    # 4000 is the last index allowed
    q = blank()
    q.add_header("Q[4000]", "z")
    assert len(q.get_header_array("Q")) == 4001


def test_body_pseudo_header():
    e = blank()
    e.add_header("_body", "hello")
    assert e.body == "hello"
    assert e.get_header("_body") == "hello"  # a header of that name also exists
    f = blank()
    f.add_body("text")
    assert f.get_header("_body") == "text"
    assert f.get_header("_BODY") is None


def test_get_header_bad_names():
    e = blank()
    assert e.get_header("") is None
    assert e.get_header(None) is None
    assert e.get_header("missing", "dflt") == "dflt"


def test_del_header():
    e = blank()
    e.add_header("A", "1")
    e.add_header("B", "2")
    e.add_header("a", "3")
    assert e.del_header("A") is True
    assert e.headers == [["B", "2"]]
    assert e.del_header("A") is False
    assert e.del_header("") is False


def test_add_body_replaces():
    e = blank()
    assert e.add_body("one")
    assert e.add_body("two")
    assert e.get_body() == "two"
    assert e.add_body("") and e.body == ""
    assert e.add_body(None) is False
    assert e.body == ""


def test_set_header_replaces_first_regardless_of_type():
    e = blank()
    e.add_header("A", "1")
    e.add_header("A", "2")
    e.set_header("a", "x")
    assert e.headers == [["A", "x"], ["A", "2"]]
    e.set_header("New", "v")
    assert e.headers[-1] == ["New", "v"]
    e.set_header("A", None)
    assert e.get_header("A") is None


def test_set_priority_goes_on_top():
    e = blank()
    e.add_header("A", "1")
    e.set_priority()
    assert e.headers[0] == ["priority", "NORMAL"]


def test_merge_appends_through_the_rules():
    a = blank()
    a.add_header("A", "1")
    b = blank()
    b.add_header("B", "2")
    b.add_header("A", "3")
    b.add_header("L", "ARRAY::x|:y")
    assert a.merge(b)
    assert a.headers == [["A", "1"], ["B", "2"], ["A", "3"], ["L", ["x", "y"]]]
    m = blank("MESSAGE")
    m.add_header("A", "1")
    m.merge(b)
    assert m.get_header("A") == "3"


def test_copy_reorders_and_is_independent():
    e = Event("CUSTOM", "sub::one")
    e.add_header("A", "1")
    e.add_header("L", "ARRAY::x|:y")
    e.add_body("b")
    c = e.copy()
    assert c.headers[0] == ["Event-Subclass", "sub::one"]
    assert [n for n, _ in c][1:] == [n for n, _ in e if n != "Event-Subclass"]
    assert c.body == "b" and c.subclass == "sub::one" and c.name == "CUSTOM"
    # changing either side does not show on the other (copy-on-write)
    c.add_header("A", "")
    c.headers[-1][1].append("z")
    assert e.get_header("A") == "1"
    assert e.get_header("L") == "ARRAY::x|:y"
    e.set_header("A", "changed")
    e.add_header("L", "ARRAY::w")
    assert c.get_header("A") is None
    assert c.get_header("L") == "ARRAY::x|:y|:z"
    # no subclass: order unchanged
    p = Event("API")
    assert [n for n, _ in p.copy()] == [n for n, _ in p]
    # unique flag is kept
    m = blank("MESSAGE").copy()
    m.add_header("A", "1")
    m.add_header("A", "2")
    assert m.headers == [["A", "2"]]


def test_iteration_and_dict():
    e = blank()
    e.add_header("A", "1")
    e.add_header("A", "2")
    e.add_header("L", "ARRAY::x|:y")
    assert list(e) == [("A", "1"), ("A", "2"), ("L", ["x", "y"])]
    assert e.headers_dict() == {"A": "1", "L": "ARRAY::x|:y"}
    assert "CUSTOM" in repr(e)
    assert bool(Event("CUSTOM", standard_headers=False))


def test_event_id_attribute_matches_table():
    assert Event("DTMF").event_id == event_id("DTMF")
