"""Debian's Lua C modules load in scripts on a call: cjson, luasql.sqlite3 (and postgres),
socket and socket.http against a local HTTP server; the Lua 5.1-era helpers exist."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = json.dumps({"path": self.path, "ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n)
        self.send_response(201)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def http_server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_cjson_on_a_call(daemon):
    name, a, b = daemon.run("""
local cjson = require "cjson"
session:answer()
local t = cjson.decode('{"caller":"1000","digits":[1,2,3],"vip":true}')
R("caller", t.caller) R("n", #t.digits) R("vip", t.vip)
R("enc", cjson.encode({uuid = session:get_uuid()}))
R("null", tostring(cjson.decode('{"a":null}').a == cjson.null))
""")
    assert daemon.result(name, "caller") == "1000"
    assert daemon.result(name, "n") == "3"
    assert daemon.result(name, "vip") == "true"
    assert json.loads(daemon.result(name, "enc")) == {"uuid": b}
    assert daemon.result(name, "null") == "true"
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_luasql_sqlite3_on_a_call(daemon, tmp_path):
    db = tmp_path / "cdr.db"
    name, a, b = daemon.run(f"""
local driver = require "luasql.sqlite3"
session:answer()
local env = driver.sqlite3()
local con = assert(env:connect("{db}"))
assert(con:execute("create table cdr (uuid text, dest text)"))
R("ins", con:execute(string.format("insert into cdr values ('%s', '%s')", session:get_uuid(),
  session:getVariable("destination_number"))))
local cur = con:execute("select uuid, dest from cdr")
local row = cur:fetch({{}}, "a")
R("uuid", row.uuid) R("dest", row.dest)
cur:close() con:close() env:close()
local pg = require "luasql.postgres"
R("pg", type(pg.postgres))
""")
    assert daemon.result(name, "ins") == "1.0"  # lua_pushnumber on 5.3, as with Debian lua5.3
    assert daemon.result(name, "uuid") == b
    assert daemon.result(name, "dest") == f"run-{name}"
    assert daemon.result(name, "pg") == "function"
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_socket_http_on_a_call(daemon, http_server):
    name, a, b = daemon.run(f"""
local http = require "socket.http"
local ltn12 = require "ltn12"
local cjson = require "cjson"
session:answer()
local body, code = http.request("{http_server}/lookup?n=" .. session:getVariable("caller_id_number"))
R("code", code) R("path", cjson.decode(body).path)
local out = {{}}
local payload = cjson.encode({{uuid = session:get_uuid()}})
local ok, pcode = http.request{{url = "{http_server}/cdr", method = "POST", source = ltn12.source.string(payload),
  headers = {{["content-length"] = #payload, ["content-type"] = "application/json"}}, sink = ltn12.sink.table(out)}}
R("pcode", pcode) R("echo", table.concat(out))
local socket = require "socket"
R("sock", type(socket.gettime()))
""")
    assert daemon.result(name, "code") == "200"
    assert daemon.result(name, "path").startswith("/lookup?n=")
    assert daemon.result(name, "pcode") == "201"
    assert json.loads(daemon.result(name, "echo")) == {"uuid": b}
    assert daemon.result(name, "sock") == "number"
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_missing_c_module_is_a_script_error(daemon):
    name, a, b = daemon.run("""
session:answer()
local ok, err = pcall(require, "no_such_c_module")
R("ok", ok) R("err", err:match("module 'no_such_c_module' not found") and "nf" or err)
""")
    assert daemon.result(name, "ok") == "false"
    assert daemon.result(name, "err") == "nf"
    daemon.sw.api_execute(f"uuid_kill {a}")


def test_lua51_helpers(lua_daemon_api):
    out = lua_daemon_api("~local t = {1,2,3} table.setn(t, 10) "
                         "local w = {} for x in string.gfind('a b c', '%a') do w[#w+1] = x end "
                         "stream:write(table.getn(t) .. ' ' .. math.mod(7, 3) .. ' ' .. table.concat(w))")
    assert out == "3 1 abc"  # math.fmod keeps integers on 5.3
