"""Bad input and abuse: the server drops the offender and keeps serving the others,
with no file-descriptor or thread leak."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import threading
import time

import pytest

from fsd.switch import StartupError


def R(text: str) -> bytes:
    return f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode()


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def settle(pred, timeout=5.0) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def still_serving(esl, port) -> None:
    with esl.RawClient(port) as c:
        assert c.auth() == R("+OK accepted")
        assert c.cmd("api version").startswith(b"Content-Type: api/response\n")


def test_garbage_bytes(port, esl):
    with esl.RawClient(port) as c:
        c.raw()
        assert c.cmd("\x00\x01\xff\xfe garbage \x7f") == R("-ERR command not found")
        c.send(os.urandom(4096).replace(b"\n", b"x") + b"\n\n")
        assert c.raw() == R("-ERR command not found")
        assert c.cmd("auth ClueCon") == R("+OK accepted")
    still_serving(esl, port)


def test_missing_blank_line_waits_for_it(client):
    client.send("api version\n")
    client.sock.settimeout(0.3)
    with pytest.raises(TimeoutError):
        client.sock.recv(100)
    client.sock.settimeout(5)
    client.send("\n")
    assert client.raw().startswith(b"Content-Type: api/response\n")


def test_content_length_over_the_limit_drops(port, esl):
    """Beyond FreeSWITCH's 16 MiB body limit: a clear -ERR, then the connection is closed."""
    with esl.RawClient(port) as c:
        c.auth()
        c.send("sendevent CUSTOM\nContent-Length: 16777217\n\n")
        assert c.read_until_closed() == (b"Content-Type: command/reply\nReply-Text: -ERR body of "
                                         b"16777217 bytes is larger than 16777216\n\n")
    still_serving(esl, port)


def test_content_length_larger_than_what_follows(port, esl):
    with esl.RawClient(port) as c:
        c.auth()
        c.send("sendevent CUSTOM\nEvent-Subclass: x::y\nContent-Length: 1000\n\nshort")
        still_serving(esl, port)  # the server waits for this one and serves the others
        c.sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            c.sock.recv(100)
        c.send(b"z" * 995)
        c.sock.settimeout(5)
        assert c.raw().startswith(b"Content-Type: command/reply\nReply-Text: +OK ")


def test_header_block_over_the_limit_drops(port, esl):
    """An endless header block after auth is cut at 1 MiB with -ERR (and the connection)."""
    with esl.RawClient(port) as c:
        c.auth()
        chunk = b"x" * (1 << 20)
        try:
            for _ in range(3):
                c.send(chunk)
        except OSError:
            pass
        assert c.read_until_closed() == (b"Content-Type: command/reply\nReply-Text: -ERR header "
                                         b"block larger than 1048576 bytes\n\n")
    still_serving(esl, port)


def test_200_abrupt_connections_no_leak(port, esl, daemon):
    still_serving(esl, port)
    server = __import__("fsd_modules.mod_event_socket", fromlist=["get_server"]).get_server(daemon[0])
    time.sleep(0.2)
    fd0, th0 = fds(), threading.active_count()
    for i in range(200):
        s = socket.create_connection(("127.0.0.1", port))
        if i % 3 == 0:
            s.send(b"auth ClueCon\n\nevent plain ALL\n\napi status\n\n")
        elif i % 3 == 1:
            s.send(b"api ver")
        # RST instead of FIN: the rudest way to go
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    assert settle(lambda: len(server.listeners) == 0)
    still_serving(esl, port)
    assert settle(lambda: fds() <= fd0 + 2), (fd0, fds())
    assert settle(lambda: threading.active_count() <= th0 + 2), (th0, threading.active_count())


def test_idle_unauthenticated_is_dropped(tmp_path, esl):
    with esl.esl_daemon(tmp_path, esl_params={"auth-timeout": "1"}) as (sw, port):
        with esl.RawClient(port) as c:
            assert c.raw() == b"Content-Type: auth/request\n\n"
            t0 = time.time()
            assert c.read_until_closed(timeout=5).startswith(b"Content-Type: text/disconnect-notice\n")
            assert time.time() - t0 < 4


def test_acl_rude_rejection(tmp_path, esl):
    with esl.esl_daemon(tmp_path, esl_params={"apply-inbound-acl": "192.0.2.0/24"}) as (sw, port):
        with esl.RawClient(port) as c:
            assert c.read_until_closed() == (b"Content-Type: text/rude-rejection\nContent-Length: 24\n\n"
                                             b"Access Denied, go away.\n")


def test_port_in_use_fails_the_critical_module(tmp_path, esl):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    busy = blocker.getsockname()[1]
    try:
        dirs = __import__("fsd.testing", fromlist=["prepare_base"]).prepare_base(
            tmp_path, ["mod_commands", "mod_event_socket"])
        esl.write_esl_params(tmp_path, {"listen-port": str(busy)})
        mc = tmp_path / "conf" / "autoload" / "modules.conf.xml"
        mc.write_text(mc.read_text().replace('module="mod_event_socket"',
                                             'module="mod_event_socket" critical="true"'))
        from fsd.switch import Switch

        sw = Switch(dirs)
        with pytest.raises(StartupError) as ei:
            sw.start()
        assert f"cannot listen on 127.0.0.1:{busy}: address already in use" in str(ei.value)
    finally:
        blocker.close()


def test_tls_listener(tmp_path, esl):
    import ssl

    cert, key = tmp_path / "esl.pem", tmp_path / "esl.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    with esl.esl_daemon(tmp_path / "base", esl_params={"tls-cert": str(cert), "tls-key": str(key)}) as (
            sw, port):
        ctx = ssl.create_default_context(cafile=str(cert))
        ctx.check_hostname = False
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                buf = bytearray()
                assert esl.read_frame(s, buf)[2] == b"Content-Type: auth/request\n\n"
                s.sendall(b"auth ClueCon\n\n")
                assert esl.read_frame(s, buf)[2] == R("+OK accepted")
                s.sendall(b"api version\n\n")
                assert esl.read_frame(s, buf)[1].startswith(b"FreeSWITCH Version")
        # a plain-text client gets nothing readable, and the server survives it
        with esl.RawClient(port) as c:
            c.send("auth ClueCon\n\n")
            assert b"auth/request" not in c.read_until_closed(timeout=3)


def test_bad_tls_cert_refuses_to_load(tmp_path, esl):
    with pytest.raises(StartupError) as ei:
        with esl.esl_daemon(tmp_path, esl_params={"tls-cert": str(tmp_path / "missing.pem")}):
            pass
    assert "TLS certificate" in str(ei.value)
