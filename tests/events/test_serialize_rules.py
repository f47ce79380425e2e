"""JSON and XML escaping rules (§13.6, §13.7)."""

from __future__ import annotations

import json

from fsd.events import Event


def blank() -> Event:
    return Event("CUSTOM", standard_headers=False)


def test_json_escapes_like_cjson():
    e = blank()
    e.add_header("q", 'a"b\\c/d')
    e.add_header("c", "\b\f\n\r\t\x01\x1f\x7f")
    e.add_header("u", "é€😀")
    text = e.serialize("json")
    assert text == ('{"q":"a\\"b\\\\c/d","c":"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f","u":"é€😀"}')
    # lowercase hex in \u escapes
    e2 = blank()
    e2.add_header("x", "\x1b")
    assert e2.serialize("json") == '{"x":"\\u001b"}'
    assert json.loads(text)["u"] == "é€😀"


def test_json_duplicate_keys_and_arrays():
    e = blank()
    e.add_header("A", "1")
    e.add_header("A", "2")
    e.add_header("L", "ARRAY::x|:y")
    assert e.serialize("json") == '{"A":"1","A":"2","L":["x","y"]}'


def test_json_single_element_array_stays_array():
    e = blank()
    e.add_header("L[0]", "only")
    assert e.get_header("L") == "only"
    assert e.serialize("json") == '{"L":["only"]}'
    assert e.serialize() == "L: only\n\n"


def test_json_body_none_vs_empty():
    e = blank()
    e.add_header("A", "1")
    assert e.serialize("json") == '{"A":"1"}'
    e.add_body("")
    assert e.serialize("json") == '{"A":"1","Content-Length":"0","_body":""}'


def test_json_header_names_escaped_too():
    e = blank()
    e.set_header('we"ird', "v")
    assert e.serialize("json") == '{"we\\"ird":"v"}'


def test_xml_array_one_element_per_item_and_values_url_encoded():
    e = blank()
    e.add_header("L", "ARRAY::a b|:<c>")
    e.add_header("Amp", "x&y")
    assert e.serialize("xml") == (
        "<event>\n  <headers>\n"
        "    <L>a%20b</L>\n"
        "    <L>%3Cc%3E</L>\n"
        "    <Amp>x%26y</Amp>\n"
        "  </headers>\n</event>\n"
    )


def test_xml_body_escaping_cr_and_non_ascii():
    e = blank()
    e.add_header("A", "1")
    e.add_body('a<b>&"c"\r\né€😀')
    text = e.serialize("xml")
    assert text.endswith(
        "  <Content-Length>19</Content-Length>\n"
        '  <body>a&lt;b&gt;&amp;"c"&#xD;\n&#xE9;&#x20AC;&#x1F600;</body>\n'
        "</event>\n"
    )
    assert len('a<b>&"c"\r\né€😀'.encode()) == 19


def test_xml_closing_body_indented_only_after_newline():
    e = blank()
    e.add_body("line\n")
    assert e.serialize("xml") == (
        "<event>\n  <headers></headers>\n"
        "  <Content-Length>5</Content-Length>\n"
        "  <body>line\n  </body>\n</event>\n"
    )
    e.add_body("line")
    assert e.serialize("xml").endswith("  <body>line</body>\n</event>\n")


def test_xml_empty_body_has_no_body_element():
    e = blank()
    e.add_header("A", "1")
    e.add_body("")
    assert "<body>" not in e.serialize("xml")
    assert "Content-Length" not in e.serialize("xml")


def test_xml_header_names_not_sanitised():
    e = blank()
    e.set_header("a b", "v")
    assert "    <a b>v</a b>\n" in e.serialize("xml")


def test_xml_markup_after_bang_is_copied_raw():
    e = blank()
    e.add_body("x<![CDATA[<&>]]>")
    assert "<body>x<![CDATA[<&>]]></body>" in e.serialize("xml")


def test_non_ascii_header_values_are_url_encoded_in_plain_and_xml_but_raw_in_json():
    e = blank()
    e.add_header("Name", "Zoë 😀")
    assert e.serialize() == "Name: Zo%C3%AB%20%F0%9F%98%80\n\n"
    assert "<Name>Zo%C3%AB%20%F0%9F%98%80</Name>" in e.serialize("xml")
    assert e.serialize("json") == '{"Name":"Zoë 😀"}'
