"""Byte-exact serialisation against the worked examples of §13.5-13.7."""

from __future__ import annotations

from pathlib import Path

from fsd.events import Event

# The worked example of §13.5–13.7 (tests/fixtures/golden/event.*), shared with the Lua
# conformance tests.
_GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"


def golden_event_text(fmt: str) -> str:
    return (_GOLDEN / f"event.{fmt}").read_bytes().decode("utf-8")


PLAIN = golden_event_text("plain")
JSON = golden_event_text("json")
XML = golden_event_text("xml")


def test_plain_worked_example(spec_event):
    text = spec_event.serialize()
    assert text == PLAIN
    assert len(text.encode()) == 564
    assert len(spec_event.body.encode()) == 34
    assert spec_event.serialize("plain") == PLAIN
    assert spec_event.serialize("text") == PLAIN
    assert spec_event.serialize(None) == PLAIN


def test_json_worked_example(spec_event):
    assert spec_event.serialize("json") == JSON
    assert spec_event.serialize("JSON") == JSON


def test_xml_worked_example(spec_event):
    assert spec_event.serialize("xml") == XML
    assert spec_event.serialize("Xml") == XML


def test_copy_moves_subclass_first_in_every_format(spec_event):
    dup = spec_event.copy()
    lines = dup.serialize().split("\n")
    assert lines[0] == "Event-Subclass: dial%3A%3Aresult"
    assert lines[1] == "Event-Name: CUSTOM"
    assert dup.serialize().count("Event-Subclass") == 1
    assert dup.serialize("json").startswith('{"Event-Subclass":"dial::result","Event-Name"')
    assert dup.serialize("xml").startswith(
        "<event>\n  <headers>\n    <Event-Subclass>dial%3A%3Aresult</Event-Subclass>\n"
    )
    # same bytes otherwise, the original untouched
    assert sorted(dup.serialize().split("\n")) == sorted(PLAIN.split("\n"))
    assert spec_event.serialize() == PLAIN


def test_plain_without_body_ends_with_blank_line():
    e = Event("CUSTOM", standard_headers=False)
    e.add_header("A", "1")
    assert e.serialize() == "A: 1\n\n"
    e.add_body("")
    assert e.body == ""
    assert e.serialize() == "A: 1\n\n"
    e.add_body("x")
    assert e.serialize() == "A: 1\nContent-Length: 1\n\nx"
    assert e.serialize().endswith("x")


def test_plain_empty_value_is_undef_and_names_are_not_encoded():
    e = Event("CUSTOM", standard_headers=False)
    e.set_header("Odd Name:", "")
    assert e.serialize() == "Odd Name:: _undef_\n\n"


def test_plain_content_length_counts_utf8_bytes():
    e = Event("CUSTOM", standard_headers=False)
    e.add_body("é€")
    assert e.serialize() == "Content-Length: 5\n\né€"
    assert e.serialize("json") == '{"Content-Length":"5","_body":"é€"}'


def test_plain_array_header_written_once_encoded():
    e = Event("CUSTOM", standard_headers=False)
    e.add_header("A", "ARRAY::x y|:z")
    assert e.serialize() == "A: ARRAY%3A%3Ax%20y%7C%3Az\n\n"


def test_empty_event_forms():
    e = Event("CUSTOM", standard_headers=False)
    assert e.serialize() == "\n"
    assert e.serialize("json") == "{}"
    assert e.serialize("xml") == "<event>\n  <headers></headers>\n</event>\n"
