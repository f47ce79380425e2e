"""/api, /webapi, /txtapi: content types, FreeSWITCH's replies, auth, streaming."""

from __future__ import annotations

import socket
import threading

from fsd import __version__
from fsd.testing import EventLog, wait_until

from .conftest import basic


def test_txtapi_is_text_plain(client):
    r = client.get("/txtapi/version")
    assert r.status == 200
    assert r.header("Content-Type") == "text/plain"
    assert r.text.startswith("FreeSWITCH Version") and __version__ in r.text
    assert "mod_xml_rpc" in r.header("Server")


def test_api_without_own_header_is_text_plain(client):
    r = client.get("/api/version")
    assert r.status == 200 and r.header("Content-Type") == "text/plain"
    assert r.text.startswith("FreeSWITCH Version")


def test_webapi_is_text_html(client):
    r = client.get("/webapi/version")
    assert r.status == 200 and r.header("Content-Type") == "text/html"
    assert r.text.startswith("FreeSWITCH Version")


def test_query_is_the_argument_percent_decoded(client, sw):
    r = client.get("/txtapi/global_setvar?web_x=a%20b+c")
    assert r.status == 200, r.text
    assert sw.globals.get("web_x") == "a b+c"  # %20 is a space, + stays + (as FreeSWITCH)
    assert client.get("/txtapi/global_getvar?web_x").text == "a b+c"


def test_unknown_command_is_freeswitchs_reply(client):
    for kind in ("api", "webapi", "txtapi"):
        r = client.get(f"/{kind}/no_such_command?x")
        assert r.status == 200
        assert r.text == "INVALID COMMAND!\n"


def test_failing_command_appends_command_returned_error(client):
    r = client.get("/txtapi/lua_kill?not-a-number")
    assert r.status == 200
    assert r.text == "-ERR Usage: lua_kill <id>|all\nCOMMAND RETURNED ERROR!\n"


def test_script_error_texts_as_freeswitch(client):
    # FreeSWITCH: /api/ and /webapi/ get <H2>Error Executing Script</H2>, others the -ERR line
    for path in ("web/error.lua", "web/syntax.lua", "web/missing.lua"):
        api = client.get(f"/api/lua?{path}")
        assert api.status == 200 and api.text.endswith("<H2>Error Executing Script</H2>"), api.text
        web = client.get(f"/webapi/lua?{path}")
        assert web.header("Content-Type") == "text/html"
        assert web.text.endswith("<H2>Error Executing Script</H2>")
        txt = client.get(f"/txtapi/lua?{path}")
        assert txt.text.endswith("-ERR Cannot execute script\n")
    assert client.get("/txtapi/lua?web/error.lua").text.startswith("before the error\n")


def test_server_keeps_serving_after_errors(client):
    for _ in range(3):
        client.get("/api/lua?web/error.lua")
        client.get("/api/no_such_command")
    assert client.get("/txtapi/version").status == 200


def test_the_api_event_is_fired_with_the_request(client, sw):
    log = EventLog(sw)
    try:
        client.get("/txtapi/global_getvar?zz_event_probe", headers={"User-Agent": "probe/1"})
        evs = log.wait("API", API_Command="global_getvar")
        ev = evs[-1]
        assert ev.get_header("HTTP-URI") == "/txtapi/global_getvar"
        assert ev.get_header("HTTP-QUERY") == "zz_event_probe"
        assert ev.get_header("HTTP-USER-AGENT") == "probe/1"
        assert ev.get_header("Content-Type") == "text/plain"
        assert ev.get_header("API-Command-Argument") == "zz_event_probe"
        assert ev.get_header("HTTP-AUTHORIZATION") is None  # credentials never reach events
    finally:
        sw.events.unbind(log.binding)


# -- auth ---------------------------------------------------------------------------------

def test_missing_credentials_get_401_with_the_realm(client):
    r = client.get("/txtapi/version", auth=None)
    assert r.status == 401
    assert r.header("WWW-Authenticate") == 'Basic realm="freeswitch"'


def test_wrong_credentials_get_401(client):
    for auth in (basic("freeswitch", "wrong"), basic("nobody", "works"), "Basic !!notb64",
                 "Bearer abc", basic("freeswitch@otherrealm", "works")):
        r = client.get("/txtapi/version", auth=auth)
        assert r.status == 401, auth
        assert r.header("WWW-Authenticate").startswith("Basic realm=")


def test_user_at_realm_is_the_configured_user(client):
    assert client.get("/txtapi/version", auth=basic("freeswitch@freeswitch", "works")).status == 200


def test_directory_users(client):
    ok = client.get("/txtapi/status", auth=basic("2000@web.test", "p2000"))
    assert ok.status == 200 and "UP " in ok.text
    # http-allowed-api limits what a user may run: 403 for the rest
    assert client.get("/txtapi/version", auth=basic("2001@web.test", "p2001")).status == 200
    assert client.get("/txtapi/version", auth=basic("2001@web.test", "v2001")).status == 200
    assert client.get("/txtapi/status", auth=basic("2001@web.test", "p2001")).status == 403
    # the number-alias logs in too
    assert client.get("/txtapi/version", auth=basic("301@web.test", "p2001")).status == 200
    # no http-allowed-api: nothing allowed
    assert client.get("/txtapi/version", auth=basic("2002@web.test", "p2002")).status == 403
    # wrong password, unknown user, unknown domain, a user without a password
    for u, p in (("2000@web.test", "nope"), ("9999@web.test", "x"), ("2000@nowhere", "p2000"),
                 ("2003@web.test", "")):
        r = client.get("/txtapi/version", auth=basic(u, p))
        assert r.status == 401, u
    # the domain of a user without @ comes from the Host header (virtual-host)
    r = client.get("/txtapi/version", auth=basic("2000", "p2000"), headers={"Host": "web.test"})
    assert r.status == 200


def test_directory_user_is_named_in_env(client):
    r = client.get("/txtapi/lua?web/echo.lua", auth=basic("2001@web.test", "p2001"))
    assert "HTTP-USER=2001@web.test\n" in r.text
    assert "FreeSWITCH-User=2001\n" in r.text and "FreeSWITCH-Domain=web.test\n" in r.text


# -- streaming --------------------------------------------------------------------------

def read_until(sock: socket.socket, marker: bytes, buf: bytes = b"") -> bytes:
    while marker not in buf:
        data = sock.recv(65536)
        assert data, f"closed before {marker!r}: {buf!r}"
        buf += data
    return buf


def test_output_streams_as_the_command_writes(client, sw):
    with socket.create_connection((client.host, client.port), timeout=30) as s:
        s.sendall(b"GET /api/lua?web/slow.lua%20web_slow_go HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: " + client.auth.encode() + b"\r\n\r\n")
        # the first part arrives while the script still waits for the release
        got = read_until(s, b"first part\n")
        assert b"HTTP/1.1 200" in got and b"Content-Type: text/plain" in got
        assert b"second part" not in got and sw.globals.get("web_slow_go") is None
        # the page holds a worker thread, not the event loop: others are served meanwhile
        assert client.get("/txtapi/version").status == 200
        sw.globals.set("web_slow_go", "1")
        got = read_until(s, b"0\r\n\r\n", got)  # the last chunk
        assert b"second part\n" in got


def test_many_requests_in_parallel(client):
    out: list[int] = []

    def one() -> None:
        out.append(client.get("/txtapi/version").status)

    ts = [threading.Thread(target=one) for _ in range(20)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert out == [200] * 20


def test_unknown_path_is_404(client):
    assert client.get("/nothing/here").status == 404


def test_unload_of_itself_goes_to_the_background(client, sw):
    # FreeSWITCH turns "unload mod_xml_rpc" over HTTP into bgapi; so does fsd.  Asking for a
    # module that does not exist keeps the server up while exercising the same path.
    r = client.get("/txtapi/unload?mod_xml_rpc_not_really")
    assert r.status == 200 and r.text.startswith("+OK Job-UUID: ")
    assert wait_until(lambda: client.get("/txtapi/version").status == 200)


# -- commands that format HTML themselves (FreeSWITCH's status and show) -----------------

def test_status_is_an_html_page_on_webapi_and_api(client):
    for kind in ("webapi", "api"):
        r = client.get(f"/{kind}/status")
        assert r.header("Content-Type") == "text/html", kind
        assert r.text.startswith("<h1>FreeSWITCH Status</h1>\n"), r.text
        assert "<br>\nFreeSWITCH (Version " in r.text and " is ready<br>\n" in r.text
        assert r.text.endswith("\n") and "Current Stack Size/Max" in r.text
    plain = client.get("/txtapi/status")
    assert plain.text.startswith("UP ") and "<br>" not in plain.text


def test_show_is_an_html_table_on_webapi(client):
    r = client.get("/webapi/show?api")
    assert r.header("Content-Type") == "text/html"
    assert r.text.startswith("<h1>FreeSWITCH api </h1>\n")
    assert "<table cellpadding=1 cellspacing=4 border=1>" in r.text
    assert "<tr><td><b>name</b></td><td><b>description</b></td>" in r.text
    assert "<td>&lt;command&gt;[ &lt;arg&gt;]</td>" in r.text  # values are &-encoded
    assert r.text.endswith(" total.<br>\n")
    # on /api/ only the refreshable lists (channels, calls…) are HTML, as in FreeSWITCH
    assert client.get("/api/show?api").header("Content-Type") == "text/plain"
    assert client.get("/webapi/show?api%20as%20json").text.startswith('{"row_count":')


def test_show_channels_is_html_on_api(client, sw):
    from fsd.testing import originate

    a, out = originate(sw, "loopback/answer/web &park()")
    assert a, out
    try:
        r = client.get("/api/show?channels")
        assert r.header("Content-Type") == "text/html"
        assert r.text.startswith("<h1>FreeSWITCH channels </h1>\n")
        assert f"<td>{a}</td>" in r.text
        count = client.get("/webapi/show?channels%20count")
        assert "<h1>FreeSWITCH channels (count)</h1>" in count.text
        assert count.text.endswith("2 total.<br>\n")
        assert client.get("/txtapi/show?channels").text.endswith("2 total.\n")
    finally:
        sw.api_execute(f"uuid_kill {a}")
    assert wait_until(lambda: not sw.sessions)


def test_refresh_adds_a_meta_refresh_to_html_pages(client):
    r = client.get("/webapi/status?&refresh=5")
    tag = '<META HTTP-EQUIV=REFRESH CONTENT="5; URL=/webapi/status?&amp;refresh=5">\n'
    assert r.text.count(tag) == 1, r.text
    assert tag in client.get("/api/status?&refresh=5").text.replace("/api/", "/webapi/")
    show = client.get("/webapi/show?channels%20&refresh=2").text
    assert show.count("<META HTTP-EQUIV=REFRESH CONTENT=\"2; URL=") == 1
    # only where the command allows it and the reply is HTML
    assert "META" not in client.get("/txtapi/status?&refresh=5").text
    assert "META" not in client.get("/webapi/version?&refresh=5").text
    assert "META" not in client.get("/webapi/status?&refresh=0").text
    assert "META" not in client.get('/webapi/status?&refresh="><script>').text
