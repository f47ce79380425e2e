"""The wire parser, filters and subscriptions on their own (no sockets)."""

from __future__ import annotations

import pytest
from fsd_modules.mod_event_socket import protocol as P
from fsd_modules.mod_event_socket.config import ESLSettings
from fsd_modules.mod_event_socket.filters import Filters, Subscriptions

from fsd.events import Event
from fsd.events.names import ALL, CUSTOM, event_id


def test_parser_lf_crlf_and_stray_newlines():
    p = P.PacketParser()
    out = p.feed(b"\r\n\n\r\napi version\r\n\r\nauth x\n\n")
    assert [x.command for x in out] == ["api version", "auth x"]


def test_parser_headers_split_at_first_colon_and_leading_spaces_stripped():
    p = P.PacketParser()
    (pkt,) = p.feed(b"sendmsg\ncall-command:   execute\nexecute-app-arg: a:b: c\nnocolon\n\n")
    assert pkt.headers == [("call-command", "execute"), ("execute-app-arg", "a:b: c")]
    assert pkt.get("CALL-COMMAND") == "execute"


def test_parser_body_by_content_length_in_pieces():
    p = P.PacketParser()
    assert p.feed(b"sendevent CUSTOM\nContent-Length: 5\n\nhel") == []
    pkt, nxt = p.feed(b"lonext\n\n")
    assert pkt.body == "hello"
    assert nxt.command == "next"  # straight after the body comes the next command


def test_parser_incomplete_header_waits():
    p = P.PacketParser()
    assert p.feed(b"api version\n") == []
    assert [x.command for x in p.feed(b"\n")] == ["api version"]


@pytest.mark.parametrize("value", ["16777217", "-1", "99999999999"])
def test_parser_rejects_bad_content_length(value):
    p = P.PacketParser()
    with pytest.raises(P.ProtocolError):
        p.feed(f"sendevent CUSTOM\nContent-Length: {value}\n\n".encode())


def test_parser_header_block_cap():
    p = P.PacketParser(max_header=1000)
    with pytest.raises(P.ProtocolError):
        p.feed(b"x" * 1001)


def test_parser_garbage_is_a_command():
    p = P.PacketParser()
    (pkt,) = p.feed(b"\xff\xfe\x00garbage\n\n")
    assert "garbage" in pkt.command


def test_frames_byte_exact():
    assert P.command_reply("+OK") == b"Content-Type: command/reply\nReply-Text: +OK\n\n"
    assert P.api_response("x\n") == b"Content-Type: api/response\nContent-Length: 2\n\nx\n"
    assert P.event_frame(b"abc", "json") == b"Content-Length: 3\nContent-Type: text/event-json\n\nabc"
    assert P.rude_rejection() == (b"Content-Type: text/rude-rejection\nContent-Length: 24\n\n"
                                  b"Access Denied, go away.\n")
    assert P.disconnect_notice() == (b"Content-Type: text/disconnect-notice\nContent-Length: 67\n\n"
                                     b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n")
    assert P.disconnect_notice(session_uuid="u").startswith(
        b"Content-Type: text/disconnect-notice\nControlled-Session-UUID: u\n"
        b"Content-Disposition: disconnect\nContent-Length: 67\n\n")
    assert P.linger_notice("u", "loopback/a", -1) == (
        b"Content-Type: text/disconnect-notice\nControlled-Session-UUID: u\n"
        b"Content-Disposition: linger\nChannel-Name: loopback/a\nLinger-Time: -1\n"
        b"Content-Length: 0\n\n")


def _ev(**headers):
    e = Event("CUSTOM", "t::x")
    for k, v in headers.items():
        e.add_header(k.replace("_", "-"), v)
    return e


def test_filters_equality_case_insensitive():
    f = Filters()
    assert f.passes(_ev(Foo="a"))  # no filter: everything
    f.add("Foo", "BAR")
    assert f.passes(_ev(Foo="bar"))
    assert not f.passes(_ev(Foo="baz"))
    assert not f.passes(_ev(Other="bar"))


def test_filters_regex_and_flags():
    f = Filters()
    f.add("Foo", "/^ab+c$/i")
    assert f.passes(_ev(Foo="ABBC"))
    assert not f.passes(_ev(Foo="abd"))


def test_filters_negative_vetoes_and_only_negative_passes_nothing():
    f = Filters()
    f.add("Foo", "-bad")
    assert not f.passes(_ev(Foo="good"))
    assert not f.passes(_ev(Foo="bad"))
    f.add("Event-Name", "CUSTOM")
    assert f.passes(_ev(Foo="good"))
    assert not f.passes(_ev(Foo="bad"))


def test_filters_negative_regex_prefix_is_literal():
    f = Filters()
    f.add("Event-Name", "CUSTOM")
    f.add("Foo", "-/b.d/")
    assert f.passes(_ev(Foo="bad"))  # compared literally with "/b.d/"
    assert not f.passes(_ev(Foo="/b.d/"))


def test_filters_delete():
    f = Filters()
    f.add("Foo", "a")
    f.add("Foo", "b")
    f.delete("foo", "a")
    assert [r.raw for r in f.rules] == ["b"]
    f.add("X", "y")
    f.delete("Foo", None)
    assert [r.name for r in f.rules] == ["X"]
    f.delete("all", None)
    assert f.rules == ()


def test_subscriptions_all_custom_and_nix():
    s = Subscriptions()
    heartbeat = event_id("HEARTBEAT")
    s.add(CUSTOM)
    assert s.wants(CUSTOM, None)
    assert not s.wants(CUSTOM, "a::b")
    s.subclasses = {"a::b"}
    assert s.wants(CUSTOM, "a::b")
    s.add(ALL)
    assert s.wants(heartbeat, None) and s.wants(CUSTOM, "zz::top")
    s.nix(heartbeat)  # ALL becomes "everything but HEARTBEAT"
    assert not s.wants(heartbeat, None)
    assert s.wants(event_id("API"), None)
    s.nix(ALL)
    assert not s.wants(event_id("API"), None)


def test_settings_defaults_and_extensions():
    s = ESLSettings.from_params([])
    assert (s.listen_ip, s.listen_port, s.password, s.acls) == (
        "127.0.0.1", 8021, "ClueCon", ["loopback.auto"])
    assert s.event_queue_size == 100000 and s.max_missed == 500
    s = ESLSettings.from_params([("listen-port", "0"), ("apply-inbound-acl", "a"),
                                 ("apply-inbound-acl", "b"), ("max-missed-events", "7")])
    assert s.listen_port == 0 and s.acls == ["a", "b"] and s.max_missed == 7


def test_acl_lists():
    from fsd.acl import resolve

    lo = resolve("loopback.auto")
    assert lo.allows("127.0.0.1") and lo.allows("::1") and not lo.allows("192.0.2.1")
    net = resolve("192.0.2.0/24")
    assert net.allows("192.0.2.9") and not net.allows("127.0.0.1")
    assert resolve("no-such-list") is None
