"""Fixtures: a real switch with mod_xml_rpc on an ephemeral port, and a small HTTP client
(urllib, so the tests speak HTTP exactly as a script or curl would)."""

from __future__ import annotations

import base64
import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
WIKI_PORTAL = (HERE.parent / "mod_lua" / "wiki" / "web_api.lua").read_text()

MODULES = ["mod_commands", "mod_event_socket", "mod_db", "mod_dptools", "mod_loopback",
           "mod_dialplan_xml", "mod_lua", "mod_xml_rpc"]

#: directory users: 2000 may run any command, 2001 only `version` and `lua`, 2002 has none
DIRECTORY = """<include><domain name="web.test"><groups><group name="g"><users>
  <user id="2000"><params><param name="password" value="p2000"/>
    <param name="http-allowed-api" value="any"/></params></user>
  <user id="2001" number-alias="301"><params><param name="password" value="p2001"/>
    <param name="vm-password" value="v2001"/>
    <param name="http-allowed-api" value="version,lua"/></params></user>
  <user id="2002"><params><param name="password" value="p2002"/></params></user>
  <user id="2003"><params><param name="http-allowed-api" value="any"/></params></user>
</users></group></groups></domain></include>
"""

PAGES = {
    # the Command Portal, exactly as the wiki prints it
    "scripts/lua/api.lua": WIKI_PORTAL,
    # env and the request body, echoed back
    "scripts/web/echo.lua": """
stream:write("Content-Type: text/plain\\n\\n")
for _, h in ipairs({"http-uri", "HTTP-URI", "http-method", "http-remote-host", "HTTP-HOST",
                    "HTTP-PORT", "HTTP-QUERY", "HTTP-USER", "FreeSWITCH-User",
                    "FreeSWITCH-Domain", "HTTP-USER-AGENT", "HTTP-X-CUSTOM", "HTTP-Path-Info",
                    "API-Command-Argument", "a", "b", "name", "upload", "note",
                    "Authorization", "HTTP-AUTHORIZATION"}) do
  stream:write(h .. "=" .. tostring(env:getHeader(h)) .. "\\n")
end
local body, n = stream:read()
stream:write("argv1=" .. tostring(argv[1]) .. "\\n")
stream:write("body-length=" .. tostring(n) .. "\\n")
stream:write("body=" .. body .. "\\n")
""",
    # a header from the request: the way user input gets into a page's headers
    "scripts/web/header.lua": """
local v = env:getHeader("v") or ""
stream:write("Content-Type: text/html\\r\\nX-Echo: " .. v .. "\\r\\nX-Fixed: yes\\r\\n\\r\\n")
stream:write("<p>body</p>")
""",
    "scripts/web/lfheader.lua": """
stream:write("Content-Type: text/html\\nX-Echo: " .. (env:getHeader("v") or "") .. "\\n\\n")
stream:write("<p>lf body</p>")
""",
    "scripts/web/framing.lua": """
stream:write("Content-Type: text/plain\\nContent-Length: 3\\nTransfer-Encoding: gzip\\n"
             .. "Bad Name: x\\nX-Ok: 1\\n\\n")
stream:write("framing body is longer than three bytes")
""",
    # writes, then waits for the test to release it: proves output is streamed
    "scripts/web/slow.lua": """
stream:write("Content-Type: text/plain\\n\\n")
stream:write("first part\\n")
local key = argv[1] or "slow_go"
local n = 0
while freeswitch.getGlobalVariable(key) == nil and n < 1000 do
  freeswitch.msleep(10); n = n + 1
end
stream:write("second part\\n")
""",
    # a lot of output, slowly consumed or abandoned by the client
    "scripts/web/big.lua": """
local chunk = string.rep("x", 1023) .. "\\n"
for i = 1, tonumber(argv[1] or "4096") do stream:write(chunk) end
freeswitch.setGlobalVariable("big_done_" .. (argv[2] or "0"), "1")
""",
    "scripts/web/error.lua": """
stream:write("before the error\\n")
error("page failed on purpose")
""",
    "scripts/web/syntax.lua": "this is not lua (",
    "conf/directory/web.xml": DIRECTORY,
    "conf/dialplan/web.xml": """<include><context name="web">
<extension name="answer"><condition field="destination_number" expression="^answer$">
  <action application="answer"/>
  <action application="park"/>
</condition></extension></context></include>
""",
}


@dataclass
class Reply:
    status: int
    headers: Any
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class Client:
    """urllib against the switch's HTTP port, with the default credentials."""

    def __init__(self, host: str, port: int, user: str = "freeswitch", password: str = "works"):
        self.host, self.port = host, port
        self.auth = basic(user, password)

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def get(self, path: str, *, data: bytes | None = None, headers: dict | None = None,
            auth: str | None | bool = True, method: str | None = None) -> Reply:
        h = dict(headers or {})
        if auth is True:
            h["Authorization"] = self.auth
        elif isinstance(auth, str):
            h["Authorization"] = auth
        req = urllib.request.Request(self.base + path, data=data, headers=h, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return Reply(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Reply(e.code, e.headers, e.read())

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=30)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """(switch, Client) on a switch shared by the tests of one file."""
    from fsd_modules.mod_xml_rpc import bound_address

    from fsd.testing import running_switch

    base = tmp_path_factory.mktemp("http")
    with running_switch(base, MODULES, extra_files=PAGES,
                        switch_settings={"sessions-per-second": "1000"}) as sw:
        host, port = bound_address(sw)
        yield sw, Client(host, port)


@pytest.fixture
def sw(web):
    return web[0]


@pytest.fixture
def client(web):
    return web[1]
