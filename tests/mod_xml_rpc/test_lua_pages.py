"""Lua web pages: /api/lua?<script> with ``stream`` bound to the response and ``env``
holding the request; the wiki's Command Portal; the page's own header block, safely."""

from __future__ import annotations

import socket
import urllib.parse

from fsd import __version__


def test_command_portal_get_shows_the_form(client):
    r = client.get("/api/lua?lua/api.lua")
    assert r.status == 200
    # the script's "Content-Type: text/html\n\n" became the header, not body text
    assert r.header("Content-Type") == "text/html"
    assert r.text.startswith("<title>FreeSWITCH Command Portal</title>")
    assert '<form method=post><input name=command size=40>' in r.text
    assert "Command Result" not in r.text
    assert "cool: true" in r.text


def test_command_portal_post_runs_the_command(client):
    r = client.get("/api/lua?lua/api.lua", data=b"command=version")
    assert r.status == 200 and r.header("Content-Type") == "text/html"
    assert "<br><B>Command Result</b><br><pre>FreeSWITCH Version" in r.text
    assert __version__ in r.text
    assert "command: version" in r.text  # env:serialize() shows the form field


def test_env_for_a_get_with_query_fields(client):
    r = client.get("/api/lua?web/echo.lua%20one&a=1&b=two+words",
                   headers={"User-Agent": "ua/1", "X-Custom": "c1"})
    t = r.text
    assert r.header("Content-Type") == "text/plain"
    for line in ("http-uri=/api/lua", "HTTP-URI=/api/lua", "http-method=GET",
                 "http-remote-host=127.0.0.1", "HTTP-HOST=127.0.0.1",
                 f"HTTP-PORT={client.port}", "HTTP-USER=freeswitch",
                 "HTTP-QUERY=web/echo.lua%20one&a=1&b=two+words", "HTTP-USER-AGENT=ua/1",
                 "HTTP-X-CUSTOM=c1", "a=1", "b=two words", "argv1=one&a=1&b=two+words",
                 "Authorization=nil", "HTTP-AUTHORIZATION=nil", "body-length=0"):
        assert line + "\n" in t, (line, t)


def test_env_for_a_urlencoded_post_and_the_body(client):
    body = urllib.parse.urlencode({"name": "Ann & Bob", "note": "50% off"}).encode()
    r = client.get("/api/lua?web/echo.lua%20&a=q", data=body)
    t = r.text
    assert "http-method=POST\n" in t
    assert "name=Ann & Bob\n" in t and "note=50% off\n" in t
    assert "a=q\n" in t  # the query's fields too (FreeSWITCH reads only the body's)
    assert f"body-length={len(body)}\n" in t
    assert f"body={body.decode()}\n" in t
    assert f"HTTP-QUERY={body.decode()}\n" in t  # as FreeSWITCH: a POST's query is its body


def test_env_for_a_multipart_post(client):
    boundary = "----fsdboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nMulti Part\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="upload"; filename="a.txt"\r\n'
        "Content-Type: text/plain\r\n\r\nfile contents\r\n",
        f"--{boundary}--\r\n",
    ]
    body = "".join(parts).encode()
    r = client.get("/api/lua?web/echo.lua", data=body,
                   headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    t = r.text
    assert "name=Multi Part\n" in t
    assert "upload=a.txt\n" in t
    assert "file contents" in t  # stream:read() gives the raw body


def test_path_info(client):
    r = client.get("/api/lua/extra/path?web/echo.lua")
    assert "HTTP-Path-Info=extra/path\n" in r.text


def test_header_injection_through_a_value_is_refused(client):
    # the page copies a request field into a header; the field smuggles CR LF
    for v in ("x\r\nSet-Cookie: evil=1", "x\nSet-Cookie: evil=1", "x\rSet-Cookie: evil=1",
              "x\x00y"):
        q = urllib.parse.quote(v)
        r = client.get(f"/api/lua?web/header.lua%20&v={q}")
        assert r.status == 200, v
        assert r.header("Set-Cookie") is None, v
        assert r.header("X-Echo") is None, v  # the header carrying it is refused whole
        assert r.header("X-Fixed") == "yes"
        assert r.header("Content-Type") == "text/html"
        assert r.text == "<p>body</p>"
    ok = client.get("/api/lua?web/header.lua%20&v=plain")
    assert ok.header("X-Echo") == "plain"


def test_header_injection_in_an_lf_block_is_refused(client):
    for v in ("x\r\nSet-Cookie: evil=1", "x\rSet-Cookie: evil=1"):
        r = client.get(f"/api/lua?web/lfheader.lua%20&v={urllib.parse.quote(v)}")
        assert r.status == 200
        assert r.header("Set-Cookie") is None and r.header("X-Echo") is None
        assert r.text == "<p>lf body</p>"
    # a bare LF ends the line in an LF block: that part is a new header line, which the
    # page asked for by writing the value into its own header block
    assert client.get("/api/lua?web/lfheader.lua%20&v=ok").header("X-Echo") == "ok"


def test_framing_headers_and_bad_names_are_refused(client):
    r = client.get("/api/lua?web/framing.lua")
    assert r.status == 200
    assert r.header("X-Ok") == "1"
    assert r.header("Transfer-Encoding") in (None, "chunked")
    assert r.text == "framing body is longer than three bytes"  # not cut at 3 bytes


def test_huge_query_is_413(client):
    r = client.get("/api/lua?web/echo.lua%20&a=" + "x" * 20000)
    assert r.status == 413
    assert client.get("/txtapi/version").status == 200


def test_huge_body_is_413(client):
    r = client.get("/api/lua?web/echo.lua", data=b"a=" + b"x" * (2 << 20))
    assert r.status == 413
    assert client.get("/txtapi/version").status == 200


def test_huge_chunked_body_is_413(client):
    with socket.create_connection((client.host, client.port), timeout=30) as s:
        s.sendall(b"POST /api/lua?web/echo.lua HTTP/1.1\r\nHost: x\r\nAuthorization: "
                  + client.auth.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        try:
            for _ in range(40):  # 2.5 MB, past the 1 MB limit
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            s.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before we finish
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                more = s.recv(65536)
                if not more:
                    break
                data += more
        except ConnectionResetError:
            pass
    assert data.startswith(b"HTTP/1.1 413"), data[:100]
    assert client.get("/txtapi/version").status == 200


def test_malformed_forms_still_run_the_page(client):
    # a multipart body without its boundary, one cut short, bad %-escapes, binary bytes
    cases = [
        (b"--nope\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx", "multipart/form-data"),
        (b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated",
         "multipart/form-data; boundary=b"),
        (b"a=%zz&b=%E9%&name=%00", "application/x-www-form-urlencoded"),
        (bytes(range(256)), "application/x-www-form-urlencoded"),
    ]
    for body, ctype in cases:
        r = client.get("/api/lua?web/echo.lua", data=body, headers={"Content-Type": ctype})
        assert r.status == 200, ctype
        assert "http-method=POST\n" in r.text and f"body-length={len(body)}\n" in r.text
    r = client.get("/api/lua?web/echo.lua%20&a=%zz&b=%C3%A9")
    assert "a=%zz\n" in r.text and "b=\u00e9\n" in r.text
