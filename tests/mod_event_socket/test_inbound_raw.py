"""Every inbound reply of §14 byte for byte, over a raw socket, against a real daemon."""

from __future__ import annotations

import json
import re
import time

import pytest

ESL_DIR = """<include>
  <domain name="esl.test">
    <params><param name="esl-allowed-log" value="false"/></params>
    <groups><group name="g"><users>
      <user id="limited">
        <params>
          <param name="esl-password" value="secret"/>
          <param name="esl-allowed-api" value="version,status,bgapi"/>
          <param name="esl-allowed-events" value="BACKGROUND_JOB HEARTBEAT CUSTOM my::ok"/>
        </params>
      </user>
      <user id="nopass"><params><param name="password" value="x"/></params></user>
      <user id="admin"><params><param name="esl-password" value="adm1n"/>
        <param name="esl-allowed-log" value="true"/></params></user>
    </users></group></groups>
  </domain>
</include>
"""


@pytest.fixture(scope="module")
def daemon(esl, tmp_path_factory):
    base = tmp_path_factory.mktemp("esl_raw")
    with esl.esl_daemon(base, extra_files={"conf/directory/esl_test.xml": ESL_DIR}) as d:
        yield d


def R(text: str) -> bytes:
    return f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode()


GOODBYE = (b"Content-Type: text/disconnect-notice\nContent-Length: 67\n\n"
           b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n")


def next_event(c, name: str, timeout: float = 5.0):
    """Skip frames until an event frame whose Event-Name is ``name``."""
    end = time.time() + timeout
    while time.time() < end:
        h, body, raw = c.frame()
        if h.get("Content-Type", "").startswith("text/event-") and (
                f"Event-Name: {name}\n".encode() in body or f'"Event-Name":"{name}"'.encode() in body
                or f"<Event-Name>{name}</Event-Name>".encode() in body):
            return h, body, raw
    raise AssertionError(f"no {name} event")


def test_worked_transcript_14_7(daemon, esl):
    sw, port = daemon
    version = sw.api_execute("version").encode()
    with esl.RawClient(port) as c:
        assert c.raw() == b"Content-Type: auth/request\n\n"
        assert c.cmd("auth ClueCon") == R("+OK accepted")
        assert c.cmd("event plain BACKGROUND_JOB CUSTOM dial::result") == R(
            "+OK event listener enabled plain")
        assert c.cmd("api version") == (b"Content-Type: api/response\nContent-Length: %d\n\n%s"
                                         % (len(version), version))
        job = "d9f3b1a2-5c44-4a8e-b1c7-2e9d0f6a7b81"
        assert c.cmd(f"bgapi version\nJob-UUID: {job}") == (
            f"Content-Type: command/reply\nReply-Text: +OK Job-UUID: {job}\nJob-UUID: {job}\n\n".encode())
        h, body, raw = c.frame()
        assert raw.startswith(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body))
        assert body.startswith(b"Event-Name: BACKGROUND_JOB\nCore-UUID: ")
        assert b"Event-Calling-File: mod_event_socket.c\nEvent-Calling-Function: api_exec\n" in body
        assert body.endswith(
            f"Job-UUID: {job}\nJob-Command: version\nContent-Length: {len(version)}\n\n".encode()
            + version)
        assert b"Job-Owner-UUID" not in body and b"Job-Command-Arg" not in body
        assert c.cmd("filter Event-Subclass dial::result") == R(
            "+OK filter added. [Event-Subclass]=[dial::result]")
        assert c.cmd("noevents") == R("+OK no longer listening for events")
        c.send("exit\n\n")
        assert c.read_until_closed() == R("+OK bye") + GOODBYE


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_background_job_in_json_and_xml(client, fmt, daemon):
    version = daemon[0].api_execute("version")
    assert client.cmd(f"event {fmt} BACKGROUND_JOB") == R(f"+OK event listener enabled {fmt}")
    client.cmd("bgapi version\nJob-UUID: j-1")
    h, body, raw = client.frame()
    assert raw.startswith(b"Content-Length: %d\nContent-Type: text/event-%s\n\n" % (len(body), fmt.encode()))
    if fmt == "json":
        obj = json.loads(body)
        assert obj["Event-Name"] == "BACKGROUND_JOB" and obj["Job-UUID"] == "j-1"
        assert body.endswith(b',"Content-Length":"%d","_body":%s}' % (
            len(version), json.dumps(version).encode()))
    else:
        assert body.startswith(b"<event>\n  <headers>\n    <Event-Name>BACKGROUND_JOB</Event-Name>\n")
        assert b"<Job-UUID>j-1</Job-UUID>" in body and b"<body>" in body


def test_bgapi_unknown_command_and_generated_uuid(client):
    client.cmd("event plain BACKGROUND_JOB")
    raw = client.cmd("bgapi nosuchcmd a b")
    m = re.fullmatch(rb"Content-Type: command/reply\nReply-Text: \+OK Job-UUID: ([0-9a-f-]{36})\n"
                     rb"Job-UUID: \1\n\n", raw)
    assert m
    h, body, _ = next_event(client, "BACKGROUND_JOB")
    assert b"Job-UUID: " + m.group(1) + b"\n" in body
    assert b"Job-Command: nosuchcmd\nJob-Command-Arg: a%20b\n" in body
    assert body.endswith(b"\n\n-ERR nosuchcmd Command not found!\n")


def test_wrong_password_reply_notice_close(port, esl):
    with esl.RawClient(port) as c:
        assert c.raw() == b"Content-Type: auth/request\n\n"
        c.send("auth nope\n\n")
        assert c.read_until_closed() == R("-ERR invalid") + GOODBYE


def test_commands_before_auth_then_auth(port, esl):
    with esl.RawClient(port) as c:
        c.raw()
        assert c.cmd("api version") == R("-ERR command not found")
        assert c.cmd("event plain ALL") == R("-ERR command not found")
        assert c.cmd("auth ClueCon") == R("+OK accepted")


def test_exit_before_auth_and_dots(port, esl):
    with esl.RawClient(port) as c:
        c.raw()
        c.send("...\n\n")
        assert c.read_until_closed() == R("+OK bye") + GOODBYE


def test_prefix_and_case_insensitive(client):
    assert client.cmd("API version").startswith(b"Content-Type: api/response\n")
    assert client.cmd("Nolog") == R("-ERR not loging")
    assert client.cmd("foo") == R("-ERR command not found")
    assert client.cmd("api") == R("-ERR command not found")
    client.send("EXITfoo\r\n\r\n")
    assert client.read_until_closed() == R("+OK bye") + GOODBYE


def test_api_replies(client):
    body = b"-ERR nosuchcmd Command not found!\n"
    assert client.cmd("api nosuchcmd x") == (
        b"Content-Type: api/response\nContent-Length: %d\n\n%s" % (len(body), body))
    raw = client.cmd("api echo hello")
    assert raw.startswith(b"Content-Type: api/response\nContent-Length: ")
    assert raw.split(b"\n\n", 1)[1].startswith(b"hello")


def test_api_empty_output_is_no_reply(client, daemon):
    sw = daemon[0]
    sw.apis["esl_test_silent"] = type(sw.apis["version"])(
        "esl_test_silent", "", "", lambda args, session, stream: True, "test")
    try:
        assert client.cmd("api esl_test_silent") == (
            b"Content-Type: api/response\nContent-Length: 14\n\n-ERR no reply\n")
        client.cmd("event plain BACKGROUND_JOB")
        client.cmd("bgapi esl_test_silent")
        h, body, _ = next_event(client, "BACKGROUND_JOB")
        assert body.endswith(b"Job-Command: esl_test_silent\n\n")  # empty body: no Content-Length
    finally:
        del sw.apis["esl_test_silent"]


def test_event_nixevent_noevents_replies(client):
    assert client.cmd("noevents") == R("-ERR not listening for events")
    assert client.cmd("event json") == R("-ERR no keywords supplied")
    assert client.cmd("event ALL") == R("+OK event listener enabled json")  # format stuck
    assert client.cmd("event bogus_name") == R("-ERR no keywords supplied")
    assert client.cmd("nixevent CHANNEL_CREATE") == R("+OK events nixed")
    assert client.cmd("nixevent") == R("-ERR no keywords supplied")
    assert client.cmd("event xml HEARTBEAT") == R("+OK event listener enabled xml")
    assert client.cmd("noevents") == R("+OK no longer listening for events")


def test_filter_replies(client):
    assert client.cmd("filter Unique-ID") == R("-ERR invalid syntax")
    assert client.cmd("filter") == R("-ERR command not found")
    assert client.cmd("filter add Foo bar baz") == R("+OK filter added. [Foo]=[bar baz]")
    assert client.cmd("filter delete Foo bar baz") == R("+OK filter deleted. [Foo][bar baz]")
    assert client.cmd("filter delete Foo") == R("+OK filter deleted. [Foo][]")
    assert client.cmd("filter delete all") == R("+OK filter deleted. [all][]")
    assert client.cmd("filter delete") == R("-ERR invalid syntax")


def _send_custom(c, sub: str, **headers) -> bytes:
    lines = "".join(f"{k.replace('_', '-')}: {v}\n" for k, v in headers.items())
    return c.cmd(f"sendevent CUSTOM\nEvent-Subclass: {sub}\n{lines}".rstrip("\n"))


def test_filters_select_events(client, port, esl):
    client.cmd("event plain CUSTOM t::f")
    client.cmd("filter Color /^(red|blue)$/")
    client.cmd("filter Size -big")
    with esl.RawClient(port) as sender:
        sender.auth()
        for color, size in [("green", "small"), ("red", "big"), ("blue", "small"), ("red", "small")]:
            assert _send_custom(sender, "t::f", Color=color, Size=size).startswith(
                b"Content-Type: command/reply\nReply-Text: +OK ")
        _send_custom(sender, "t::f", Color="red", Size="end")
    got = []
    while True:
        h, body, _ = next_event(client, "CUSTOM")
        m = dict(re.findall(rb"^(Color|Size): (\S+)$", body, re.M))
        got.append((m[b"Color"].decode(), m[b"Size"].decode()))
        if got[-1][1] == "end":
            break
    assert got == [("blue", "small"), ("red", "small"), ("red", "end")]


def test_sendevent_headers_and_subclass_first(client):
    client.cmd("event plain CUSTOM my::evt")
    raw = client.cmd("sendevent CUSTOM\nEvent-Subclass: my::evt\nFoo: bar\nContent-Length: 5\n\nhello")
    m = re.fullmatch(rb"Content-Type: command/reply\nReply-Text: \+OK ([0-9a-f-]{36})\n\n", raw)
    assert m
    h, body, _ = next_event(client, "CUSTOM")
    assert body.startswith(b"Event-Subclass: my%3A%3Aevt\nCommand: sendevent%20CUSTOM\nFoo: bar\n"
                           b"Event-UUID: " + m.group(1) + b"\nEvent-Name: CUSTOM\nCore-UUID: ")
    assert body.endswith(b"Content-Length: 5\n\nhello")


def test_sendevent_unknown_uuid_is_fired(client):
    client.cmd("event plain CUSTOM a::b")
    client.cmd("sendevent CUSTOM\nEvent-Subclass: a::b\nUnique-ID: not-a-session")
    h, body, _ = next_event(client, "CUSTOM")
    assert b"Unique-ID: not-a-session\n" in body


def test_log_and_nolog(client):
    assert client.cmd("log bogus") == R("-ERR invalid log level")
    assert client.cmd("log") == R("+OK log level  [7]")
    assert client.cmd("log info") == R("+OK log level info [6]")
    assert client.cmd("log 3") == R("+OK log level 3 [3]")
    from fsd.log import ERR, INFO, log

    log(INFO, "esl-test info line must not arrive")
    log(ERR, "esl-test err line", uuid="u-1")
    h, body, raw = client.frame()
    assert h["Content-Type"] == "log/data"
    assert raw.startswith(b"Content-Type: log/data\nContent-Length: %d\nLog-Level: 3\n"
                          b"Text-Channel: 3\nLog-File: test_inbound_raw.py\n" % len(body))
    assert b"\nUser-Data: u-1\n\n" in raw
    assert b"esl-test err line" in body and b"[ERR]" in body
    assert client.cmd("nolog") == R("+OK no longer logging")
    assert client.cmd("nolog") == R("-ERR not loging")


def test_session_commands_without_a_session(client):
    assert client.cmd("linger") == R("-ERR not controlling a session")
    assert client.cmd("linger 30") == R("-ERR not controlling a session")
    assert client.cmd("nolinger") == R("-ERR not controlling a session")
    assert client.cmd("divert_events on") == R("-ERR not controlling a session.")
    assert client.cmd("getvar foo") == R("-ERR command not found")
    assert client.cmd("resume") == R("-ERR command not found")
    assert client.cmd("myevents") == R("-ERR command not found")
    assert client.cmd("myevents 0000-none json") == R("-ERR invalid uuid")
    assert client.cmd("sendmsg") == R("-ERR invalid session id []")
    assert client.cmd("sendmsg abc\ncall-command: hangup") == R("-ERR invalid session id [abc]")
    assert client.cmd("sendmsg\nsession-id: xyz") == R("-ERR invalid session id [xyz]")
    assert client.cmd("myevents 0000-none") == R("+OK Events Enabled")
    assert client.cmd("myevents 0000-none") == R("-ERR aready enabled.")


def test_userauth_all(daemon, esl):
    sw, port = daemon
    with esl.RawClient(port) as c:
        c.raw()
        assert c.cmd("userauth admin@esl.test:adm1n") == (
            b"Content-Type: command/reply\nReply-Text: +OK accepted\nAllowed-Events: all\n"
            b"Allowed-API: all\nAllowed-LOG: true\n\n")
        assert c.cmd("log info") == R("+OK log level info [6]")


def test_userauth_with_the_default_password_is_refused_on_the_shipped_config(daemon, esl):
    """The shipped directory gives no user an esl-password (as FreeSWITCH's vanilla tree):
    the well-known default password opens nothing."""
    sw, port = daemon
    domain = sw.globals.get("domain")
    for user in ("1000", "1001"):
        with esl.RawClient(port) as c:
            c.raw()
            c.send(f"userauth {user}@{domain}:{sw.globals.get('default_password')}\n\n")
            assert c.read_until_closed() == R("-ERR invalid") + GOODBYE


@pytest.mark.parametrize("spec", ["1000@esl.test:1234", "nopass@esl.test:x", "limited@esl.test:bad",
                                  "limited", "nobody@esl.test:secret"])
def test_userauth_refused(port, esl, spec):
    with esl.RawClient(port) as c:
        c.raw()
        c.send(f"userauth {spec}\n\n")
        assert c.read_until_closed() == R("-ERR invalid") + GOODBYE


def test_userauth_restrictions(port, esl):
    with esl.RawClient(port) as c:
        c.raw()
        assert c.cmd("userauth limited@esl.test:secret") == (
            b"Content-Type: command/reply\nReply-Text: +OK accepted\n"
            b"Allowed-Events: BACKGROUND_JOB HEARTBEAT CUSTOM my::ok\n"
            b"Allowed-API: version,status,bgapi\nAllowed-LOG: false\n\n")
        assert c.cmd("api version").startswith(b"Content-Type: api/response\n")
        assert c.cmd("api show calls") == R("-ERR permission denied")
        assert c.cmd("bgapi show calls") == R("-ERR permission denied")
        assert c.cmd("api bgapi show calls") == R("-ERR permission denied")
        assert c.cmd("bgapi version").startswith(b"Content-Type: command/reply\nReply-Text: +OK Job-UUID")
        assert c.cmd("log info") == R("-ERR permission denied")
        assert c.cmd("event plain CHANNEL_CREATE") == R("-ERR permission denied")
        assert c.cmd("event plain CUSTOM my::bad") == R("-ERR permission denied")
        assert c.cmd("event plain HEARTBEAT CUSTOM my::ok") == R("+OK event listener enabled plain")


def test_crlf_commands(client):
    assert client.cmd("nolinger\r\n") == R("-ERR not controlling a session")
    client.send("\r\n\r\napi version\r\n\r\n")
    assert client.raw().startswith(b"Content-Type: api/response\n")
