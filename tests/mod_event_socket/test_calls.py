"""Calls driven over ESL: a loopback call answered, played to and hung up with sendmsg;
the outbound ``socket`` application with greenswitch and Genesis servers."""

from __future__ import annotations

import json
import re
import socket
import threading
import time

import pytest

MODULES = ["mod_commands", "mod_event_socket", "mod_dptools", "mod_loopback", "mod_dialplan_xml"]
DIALPLAN = """<include><context name="default">
  <extension name="esl_park"><condition field="destination_number" expression="^esl_park$">
    <action application="park"/></condition></extension>
  <extension name="esl_out"><condition field="destination_number" expression="^esl_out_(\\d+)_(\\w+)$">
    <action application="socket" data="127.0.0.1:$1 $2 full"/></condition></extension>
</context></include>
"""
ORDER = ["CHANNEL_ANSWER", "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HANGUP",
         "CHANNEL_HANGUP_COMPLETE"]


@pytest.fixture(scope="module")
def daemon(esl, tmp_path_factory):
    base = tmp_path_factory.mktemp("esl_calls")
    files = {"conf/dialplan/00_esl_test.xml": DIALPLAN}
    with esl.esl_daemon(base, modules=MODULES, extra_files=files) as d:
        yield d


def R(text: str) -> bytes:
    return f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode()


def parse(fmt: str, body: bytes) -> dict[str, str]:
    if fmt == "json":
        return json.loads(body)
    if fmt == "xml":
        from urllib.parse import unquote

        return {k: unquote(v) for k, v in re.findall(r"<([\w-]+)>([^<]*)</\1>", body.decode())}
    from urllib.parse import unquote

    return {k: unquote(v) for k, v in re.findall(r"^([\w-]+): (.*)$", body.decode(), re.M)}


def wait_event(c, fmt, pred, timeout=10.0) -> dict[str, str]:
    end = time.time() + timeout
    c.sock.settimeout(timeout)
    while time.time() < end:
        h, body, _ = c.frame()
        if h.get("Content-Type") == f"text/event-{fmt}":
            ev = parse(fmt, body)
            if pred(ev):
                return ev
    raise AssertionError("event not seen")


@pytest.mark.parametrize("fmt", ["plain", "json", "xml"])
def test_loopback_call_entirely_over_esl(daemon, esl, fmt):
    sw, port = daemon
    with esl.RawClient(port, timeout=15) as c:
        c.auth()
        assert c.cmd(f"event {fmt} CHANNEL_CREATE CHANNEL_PARK " + " ".join(ORDER)) == R(
            f"+OK event listener enabled {fmt}")
        assert c.cmd("bgapi originate loopback/esl_park &park").startswith(b"Content-Type: command/reply")
        park = wait_event(c, fmt, lambda e: e["Event-Name"] == "CHANNEL_PARK"
                          and e.get("Caller-Destination-Number") == "esl_park")
        b = park["Unique-ID"]
        assert c.cmd(f"filter Unique-ID {b}") == R(f"+OK filter added. [Unique-ID]={[b]}".replace("'", ""))
        assert c.cmd(f"sendmsg {b}\ncall-command: execute\nexecute-app-name: answer") == R("+OK")
        wait_event(c, fmt, lambda e: e["Event-Name"] == "CHANNEL_ANSWER")
        # "played to": playback once mod_dptools has it (media apps), sleep until then
        app = "playback" if "playback" in sw.applications else "sleep"
        arg = "silence_stream://100,1400" if app == "playback" else "100"
        c.send(f"sendmsg {b}\ncall-command: execute\nexecute-app-name: {app}\n"
               f"content-type: text/plain\ncontent-length: {len(arg)}\n\n{arg}")
        seen = []
        while True:
            h, body, raw = c.frame()
            if h.get("Content-Type") == "command/reply":
                assert raw == R("+OK")
                continue
            ev = parse(fmt, body)
            seen.append((ev["Event-Name"], ev.get("Application", "")))
            if ev["Event-Name"] == "CHANNEL_EXECUTE_COMPLETE" and ev.get("Application") == app:
                assert ev.get("Application-Data") == arg  # the body was the argument
                break
        assert ("CHANNEL_EXECUTE", app) in seen
        assert c.cmd(f"sendmsg {b}\ncall-command: hangup\nhangup-cause: USER_BUSY") == R("+OK")
        names = []
        while "CHANNEL_HANGUP_COMPLETE" not in names:
            h, body, _ = c.frame()
            if h.get("Content-Type", "").startswith("text/event-"):
                ev = parse(fmt, body)
                names.append(ev["Event-Name"])
                if ev["Event-Name"] == "CHANNEL_HANGUP":
                    assert ev["Hangup-Cause"] == "USER_BUSY"
        assert names.index("CHANNEL_HANGUP") < names.index("CHANNEL_HANGUP_COMPLETE")
    assert _settle(lambda: not sw.sessions)


def _settle(pred, timeout=10.0) -> bool:
    end = time.time() + timeout
    while time.time() < end and not pred():
        time.sleep(0.05)
    return pred()


def _outbound_server(handler) -> tuple[socket.socket, threading.Thread]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()

    def run():
        conn, _ = srv.accept()
        try:
            handler(conn)
        finally:
            conn.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return srv, t


@pytest.mark.parametrize("mode", ["async", "static"])
def test_outbound_raw_connect_getvar_linger(daemon, esl, mode):
    sw, port = daemon
    result: dict = {}

    def handler(conn):
        conn.settimeout(15)
        buf = bytearray()
        conn.sendall(b"connect\n\n")
        while b"\n\n" not in buf:
            buf += conn.recv(65536)
        head, _, rest = bytes(buf).partition(b"\n\n")
        buf[:] = rest
        result["connect"] = head.decode()
        for cmd in ["getvar destination_number", "getvar nosuchvar", "linger", "myevents",
                    "myevents", "sendmsg\ncall-command: execute\nexecute-app-name: answer",
                    "resume", "sendmsg\ncall-command: hangup\nhangup-cause: USER_BUSY"]:
            conn.sendall(cmd.encode() + b"\n\n")
            while True:  # events (after myevents) may come before the reply
                h, body, raw = esl.read_frame(conn, buf)
                if h.get("Content-Type") == "command/reply":
                    break
                result.setdefault("early", []).append((h, body))
            result.setdefault("replies", []).append(raw)
        frames = list(result.get("early", []))
        while True:
            try:
                h, body, raw = esl.read_frame(conn, buf)
            except (ConnectionError, TimeoutError):
                break
            frames.append((h, body))
            if h.get("Content-Disposition") == "linger":
                conn.sendall(b"exit\n\n")
        result["frames"] = frames

    srv, t = _outbound_server(handler)
    oport = srv.getsockname()[1]
    out = sw.api_execute("originate", f"loopback/esl_out_{oport}_{mode} &park")
    t.join(20)
    srv.close()
    connect = result["connect"]
    assert connect.startswith("Event-Name: CHANNEL_DATA\n")
    assert "\nChannel-Destination-Number: esl_out_" in connect
    assert connect.endswith(f"\nContent-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: {mode}\n"
                            "Control: full")
    replies = result["replies"]
    assert replies[0] == R(f"esl_out_{oport}_{mode}")
    assert replies[1] == R("-ERR command not found")
    assert replies[2] == R("+OK will linger")
    assert replies[3] == R("+OK Events Enabled")
    assert replies[4] == R("-ERR aready enabled.")
    assert replies[5:] == [R("+OK"), R("+OK"), R("+OK")]
    frames = result["frames"]
    kinds = [h.get("Content-Disposition") or parse("plain", b).get("Event-Name") for h, b in frames]
    assert "CHANNEL_HANGUP" in kinds and "linger" in kinds and "disconnect" in kinds
    assert kinds.index("CHANNEL_HANGUP") < kinds.index("linger") < kinds.index("disconnect")
    assert out is not None
    assert _settle(lambda: not sw.sessions)
