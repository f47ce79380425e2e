"""The SIP parser: compact forms, lists, framing, and garbage (never anything but ParseError)."""

from __future__ import annotations

import pytest
from fsd_modules.mod_sofia_lite.message import NameAddr, ParseError, SipUri, Via, parse, parse_auth
from fsd_modules.mod_sofia_lite.rawreply import raw_reply
from hypothesis import given, settings
from hypothesis import strategies as st

INVITE = (b"INVITE sip:1000@example.com;transport=udp SIP/2.0\r\n"
          b"v: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1;rport, SIP/2.0/TCP 10.0.0.2;branch=z9hG4bK2\r\n"
          b'f: "A, B" <sip:alice@example.com>;tag=abc\r\n'
          b"t: <sip:1000@example.com>\r\n"
          b"i: call-1\r\n"
          b"CSeq: 7 INVITE\r\n"
          b"m: <sip:alice@10.0.0.1:5062>\r\n"
          b"Record-Route: <sip:p1;lr>, <sip:p2;lr>\r\n"
          b"Subject: long\r\n folded\r\n"
          b"c: application/sdp\r\n"
          b"l: 4\r\n\r\nbodyEXTRA")


def test_compact_forms_lists_and_folding():
    m = parse(INVITE)
    assert m.method == "INVITE" and m.uri == "sip:1000@example.com;transport=udp"
    assert len(m.get_all("Via")) == 2
    assert m.top_via.branch == "z9hG4bK1" and "rport" in m.top_via.params
    assert m.call_id == "call-1" and m.cseq == (7, "INVITE")
    assert m.from_tag == "abc"
    assert NameAddr.parse(m.get("From")).display == "A, B"
    assert m.get_all("Record-Route") == ["<sip:p1;lr>", "<sip:p2;lr>"]
    assert m.get("Subject") == "long folded"
    assert m.body == b"body"


def test_uri_and_via_parts():
    u = SipUri.parse("sip:1000:pw@[::1]:5070;transport=tcp;lr?X=1")
    assert (u.user, u.password, u.host, u.port) == ("1000", "pw", "[::1]", 5070)
    assert u.params == {"transport": "tcp", "lr": None} and u.headers == "X=1"
    v = Via.parse("SIP/2.0/TCP host:99;branch=z9hG4bKx;received=1.2.3.4")
    assert (v.protocol, v.host, v.port, v.branch) == ("TCP", "host", 99, "z9hG4bKx")
    a = parse_auth('Digest username="u", realm="r, x", nonce="n", qop=auth, nc=00000001')
    assert a["realm"] == "r, x" and a["nc"] == "00000001"


@pytest.mark.parametrize("data,status", [
    (b"", 0),
    (b"garbage\r\n\r\n", 0),
    (b"INVITE sip:x SIP/3.0\r\n\r\n", 505),
    (b"SIP/2.0 999 Nope\r\n\r\n", 0),
    (b"INVITE sip:x SIP/2.0\r\nBad Header Line\r\n\r\n", 400),
    (b"INVITE sip:x SIP/2.0\r\nContent-Length: 50\r\n\r\nshort", 400),
    (b"INVITE sip:x SIP/2.0\r\nContent-Length: abc\r\n\r\n", 400),
    (b"INVITE sip:x SIP/2.0\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 513),
    (b"INVITE sip:x SIP/2.0\r\nVia: x", 0),
])
def test_garbage_raises_parse_error_with_the_reply_status(data, status):
    with pytest.raises(ParseError) as e:
        parse(data)
    assert e.value.status == status


def test_raw_reply_needs_the_headers_of_a_response():
    req = (b"INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nFrom: <sip:a@b>;tag=1\r\n"
           b"To: <sip:x@y>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    out = raw_reply(req, 513)
    assert out.startswith(b"SIP/2.0 513 Message Too Large\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa")
    assert raw_reply(b"INVITE sip:x SIP/2.0\r\nVia: v\r\n\r\n", 400) is None
    assert raw_reply(b"SIP/2.0 200 OK\r\n\r\n", 400) is None


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz_random_bytes_only_parse_error(data):
    try:
        parse(data)
    except ParseError:
        pass
    raw_reply(data, 400)


_lines = st.sampled_from([
    "Via: SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bKx;rport", "v: SIP/2.0/TCP h", "From: <sip:a@b>;tag=1",
    "f: x", "To: <sip:c@d>", "Call-ID: abc", "CSeq: 1 INVITE", "CSeq: x", "Content-Length: 3",
    "l: 99", "Contact: *", "m: \"q,\" <sip:x@[::1]:70>;expires=5", "Max-Forwards: 0", ": x", " folded",
    "Route: <sip:r;lr>, <sip:s>", "X-A: \x00\xff", "Authorization: Digest username=\"u\"",
])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["INVITE sip:a@b SIP/2.0", "REGISTER sip:b SIP/2.0", "SIP/2.0 200 OK",
                        "BYE x SIP/2.0", "FOO sip:a SIP/2.0", "SIP/2.0 18 x"]),
       st.lists(_lines, max_size=12), st.binary(max_size=20))
def test_fuzz_structured_messages(first, lines, body):
    data = ("\r\n".join([first, *lines]) + "\r\n\r\n").encode("utf-8", "surrogateescape") + body
    try:
        m = parse(data)
    except ParseError:
        return
    m.get_all("Via"), m.cseq, m.from_tag, m.to_tag, m.top_via  # noqa: B018
    for _, v in m.headers:
        NameAddr.parse(v)
        SipUri.parse(v)
    m.encode()
