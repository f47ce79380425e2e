"""Byte-exact serialisation against the worked examples of §13.5-13.7."""

from __future__ import annotations

from fsd.events import Event

PLAIN = (
    "Event-Name: CUSTOM\n"
    "Core-UUID: 6a2b8f0e-3c1d-4e55-9a7b-0c1d2e3f4a5b\n"
    "FreeSWITCH-Hostname: pbx1\n"
    "FreeSWITCH-Switchname: pbx1\n"
    "FreeSWITCH-IPv4: 192.0.2.10\n"
    "FreeSWITCH-IPv6: %3A%3A1\n"
    "Event-Date-Local: 2024-03-05%2014%3A07%3A09\n"
    "Event-Date-GMT: Tue,%2005%20Mar%202024%2014%3A07%3A09%20GMT\n"
    "Event-Date-Timestamp: 1709647629123456\n"
    "Event-Calling-File: switch_cpp.cpp\n"
    "Event-Calling-Function: Event\n"
    "Event-Calling-Line-Number: 315\n"
    "Event-Sequence: 4711\n"
    "Event-Subclass: dial%3A%3Aresult\n"
    "Call-Disposition: answered%20%26%20bridged\n"
    "Content-Length: 34\n"
    "\n"
    "dial_record_id: 1234\n"
    "campaign: 20\n"
)

JSON = (
    '{"Event-Name":"CUSTOM","Core-UUID":"6a2b8f0e-3c1d-4e55-9a7b-0c1d2e3f4a5b",'
    '"FreeSWITCH-Hostname":"pbx1","FreeSWITCH-Switchname":"pbx1","FreeSWITCH-IPv4":"192.0.2.10",'
    '"FreeSWITCH-IPv6":"::1","Event-Date-Local":"2024-03-05 14:07:09",'
    '"Event-Date-GMT":"Tue, 05 Mar 2024 14:07:09 GMT","Event-Date-Timestamp":"1709647629123456",'
    '"Event-Calling-File":"switch_cpp.cpp","Event-Calling-Function":"Event",'
    '"Event-Calling-Line-Number":"315","Event-Sequence":"4711","Event-Subclass":"dial::result",'
    '"Call-Disposition":"answered & bridged","Content-Length":"34",'
    '"_body":"dial_record_id: 1234\\ncampaign: 20\\n"}'
)

XML = """<event>
  <headers>
    <Event-Name>CUSTOM</Event-Name>
    <Core-UUID>6a2b8f0e-3c1d-4e55-9a7b-0c1d2e3f4a5b</Core-UUID>
    <FreeSWITCH-Hostname>pbx1</FreeSWITCH-Hostname>
    <FreeSWITCH-Switchname>pbx1</FreeSWITCH-Switchname>
    <FreeSWITCH-IPv4>192.0.2.10</FreeSWITCH-IPv4>
    <FreeSWITCH-IPv6>%3A%3A1</FreeSWITCH-IPv6>
    <Event-Date-Local>2024-03-05%2014%3A07%3A09</Event-Date-Local>
    <Event-Date-GMT>Tue,%2005%20Mar%202024%2014%3A07%3A09%20GMT</Event-Date-GMT>
    <Event-Date-Timestamp>1709647629123456</Event-Date-Timestamp>
    <Event-Calling-File>switch_cpp.cpp</Event-Calling-File>
    <Event-Calling-Function>Event</Event-Calling-Function>
    <Event-Calling-Line-Number>315</Event-Calling-Line-Number>
    <Event-Sequence>4711</Event-Sequence>
    <Event-Subclass>dial%3A%3Aresult</Event-Subclass>
    <Call-Disposition>answered%20%26%20bridged</Call-Disposition>
  </headers>
  <Content-Length>34</Content-Length>
  <body>dial_record_id: 1234
campaign: 20
  </body>
</event>
"""


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
