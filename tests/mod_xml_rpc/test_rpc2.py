"""/RPC2: FreeSWITCH's XML-RPC method freeswitch.api, called by the standard library's
XML-RPC client as users' scripts call it."""

from __future__ import annotations

import xmlrpc.client

import pytest

from fsd import __version__


def proxy(client, user: str = "freeswitch", password: str = "works") -> xmlrpc.client.ServerProxy:
    return xmlrpc.client.ServerProxy(f"http://{user}:{password}@{client.host}:{client.port}/RPC2")


def test_freeswitch_api(client):
    p = proxy(client)
    out = p.freeswitch.api("version", "")
    assert out.startswith("FreeSWITCH Version") and __version__ in out
    assert p.freeswitch_api("global_getvar", "no_such_var_rpc") == ""
    assert "UP " in p.freeswitch.api("status", "")


def test_unknown_and_failing_commands_answer_error(client):
    p = proxy(client)
    assert p.freeswitch.api("no_such_command", "x") == "ERROR!"
    assert p.freeswitch.api("lua_kill", "nope") == "ERROR!"


def test_credentials_and_allowed_commands(client):
    with pytest.raises(xmlrpc.client.ProtocolError) as e:
        proxy(client, password="wrong").freeswitch.api("version", "")
    assert e.value.errcode == 401
    # a directory user runs what its http-allowed-api allows, else UNAUTHORIZED!
    limited = proxy(client, "2001@web.test", "p2001")
    assert limited.freeswitch.api("version", "").startswith("FreeSWITCH Version")
    assert limited.freeswitch.api("status", "") == "UNAUTHORIZED!"


def test_bad_calls_are_faults(client):
    p = proxy(client)
    with pytest.raises(xmlrpc.client.Fault) as e:
        p.freeswitch.management("oid", "get", "")
    assert e.value.faultCode == -32601
    with pytest.raises(xmlrpc.client.Fault):
        p.freeswitch.api("version")  # one argument
    r = client.get("/RPC2", data=b"<methodCall><methodName>freeswitch.api</methodName>",
                   headers={"Content-Type": "text/xml"})
    assert r.status == 200 and b"<fault>" in r.body
    bomb = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
            + b"".join(b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">'
                       % ((98 + i,) + (97 + i,) * 10) for i in range(9))
            + b"]><methodCall><methodName>&j;</methodName></methodCall>")
    r = client.get("/RPC2", data=bomb, headers={"Content-Type": "text/xml"})
    assert r.status == 200 and b"<fault>" in r.body
    assert client.get("/txtapi/version").status == 200
