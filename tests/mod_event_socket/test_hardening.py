"""Issue 19's event-socket findings, reproduced against a running daemon and shown fixed:
no client starves another (API threads per connection, a thread per bgapi job, filters
with bounded regex time), pre-auth limits and idle timeout, a cap on unread replies, and a
command that raises answers -ERR without dropping its connection."""

from __future__ import annotations

import socket
import threading
import time

import pytest

SLOW = "api lua ~freeswitch.msleep(3000) stream:write('slow done')"


def R(text: str) -> bytes:
    return f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode()


@pytest.fixture(scope="module")
def lua_daemon(esl, tmp_path_factory):
    base = tmp_path_factory.mktemp("esl-hard")
    with esl.esl_daemon(base, modules=["mod_commands", "mod_event_socket", "mod_lua"],
                        esl_params={"max-send-buffer": "65536"}) as (sw, port):
        yield sw, port


def test_40_slow_api_clients_do_not_delay_status(esl, lua_daemon):
    """40 connections each run a 3-second API command; another client's `api status` is
    answered while every one of them is still running (FreeSWITCH: a thread per connection)."""
    sw, port = lua_daemon
    slow = [esl.RawClient(port) for _ in range(40)]
    done: list[int] = []
    lock = threading.Lock()

    def wait_reply(i: int, c) -> None:
        c.sock.settimeout(30)
        c.frame()
        with lock:
            done.append(i)

    try:
        for c in slow:
            c.auth()
            c.send(SLOW + "\n\n")
        readers = [threading.Thread(target=wait_reply, args=(i, c)) for i, c in enumerate(slow)]
        for t in readers:
            t.start()
        with esl.RawClient(port) as other:
            other.auth()
            headers, body, _ = (other.send("api status\n\n"), other.frame())[1]
            assert body.startswith(b"UP ")
        with lock:
            assert done == [], "status waited behind the slow commands"
        for t in readers:
            t.join(30)
        assert len(done) == 40
    finally:
        for c in slow:
            c.close()


def test_quick_bgapi_job_does_not_wait_behind_slow_ones(esl, lua_daemon):
    sw, port = lua_daemon
    with esl.RawClient(port) as c:
        c.auth()
        assert c.cmd("event plain BACKGROUND_JOB").startswith(R("+OK event listener enabled plain")[:40])
        for i in range(20):
            c.send(f"bgapi lua ~freeswitch.msleep(3000)\nJob-UUID: slow-{i}\n\n")
            assert c.frame()[0]["Reply-Text"].startswith("+OK Job-UUID")
        c.send("bgapi status\nJob-UUID: quick\n\n")
        assert c.frame()[0]["Reply-Text"].startswith("+OK Job-UUID")
        c.sock.settimeout(30)
        first = None
        while first is None:
            headers, body, _ = c.frame()
            if headers.get("Content-Type") == "text/event-plain":
                first = body
        assert b"Job-UUID: quick" in first, "the quick job came after a slow one"


def test_catastrophic_filter_does_not_stall_other_listeners(esl, lua_daemon):
    """Listener A filters with /^(a|aa|aaa)+$/ on a long header; listener B still gets its
    events at once, and A's runaway filter is removed (and logged)."""
    sw, port = lua_daemon
    with esl.RawClient(port) as a, esl.RawClient(port) as b:
        for c in (a, b):
            c.auth()
            c.cmd("event plain CUSTOM hard::test")
        a.cmd("filter X-Evil /^(a|aa|aaa)+$/")
        b.sock.settimeout(5)
        for i in range(20):
            b.send("sendevent CUSTOM\nEvent-Subclass: hard::test\nX-Evil: "
                   + "a" * 60 + f"b\nX-Seq: {i}\n\n")
            assert b.frame()[0]["Reply-Text"].startswith("+OK")
        seen = set()
        while len(seen) < 20:  # each wait is bounded by the 5 s socket timeout
            headers, body, _ = b.frame()
            if headers.get("Content-Type") == "text/event-plain":
                for line in body.decode().splitlines():
                    if line.startswith("X-Seq: "):
                        seen.add(int(line[7:]))
        assert seen == set(range(20))
        # A's filter was disabled when it ran out of time (it matches nothing, as a pattern
        # that does not compile): A got none of the events and answers commands.
        assert a.cmd("api version").startswith(b"Content-Type: api/response")


def test_header_flood_before_auth_is_cut_off(esl, lua_daemon):
    """9.6 MB of header lines before auth: -ERR at the 8 KiB pre-auth limit, the connection
    closed, and another client is served meanwhile."""
    sw, port = lua_daemon
    with esl.RawClient(port) as c:
        c.raw()
        try:
            c.send(b"X-Flood: yes\n" * (9_600_000 // 13))
        except OSError:
            pass
        out = c.read_until_closed()
        assert out == R("-ERR header block larger than 8192 bytes")
    with esl.RawClient(port) as d:
        assert d.auth() == R("+OK accepted")


def test_body_before_auth_is_refused(esl, lua_daemon):
    sw, port = lua_daemon
    with esl.RawClient(port) as c:
        c.raw()
        c.send("auth ClueCon\nContent-Length: 10000000\n\n")
        assert c.read_until_closed() == R("-ERR body of 10000000 bytes is larger than 0")


def test_half_sent_command_before_auth_is_closed_after_the_idle_timeout(tmp_path, esl):
    with esl.esl_daemon(tmp_path, esl_params={"auth-timeout": "1"}) as (sw, port):
        with esl.RawClient(port) as c:
            assert c.raw() == b"Content-Type: auth/request\n\n"
            c.send("api sta")  # never finished
            assert c.read_until_closed(timeout=10).startswith(b"Content-Type: text/disconnect-notice\n")


def test_wrong_commands_do_not_extend_the_auth_timeout(tmp_path, esl):
    with esl.esl_daemon(tmp_path, esl_params={"auth-timeout": "1"}) as (sw, port):
        with esl.RawClient(port) as c:
            c.raw()
            deadline = time.monotonic() + 10
            closed = False
            while time.monotonic() < deadline and not closed:
                try:
                    c.send("api status\n\n")
                    c.sock.settimeout(0.2)
                    data = c.sock.recv(65536)
                    closed = data == b"" or b"disconnect-notice" in data
                except TimeoutError:
                    pass
                except OSError:
                    closed = True
            assert closed


@pytest.mark.parametrize("command", ["log \u20807", "log \u00b2"])
def test_unicode_digits_answer_err_and_keep_the_listener(esl, lua_daemon, command):
    sw, port = lua_daemon
    with esl.RawClient(port) as c:
        c.auth()
        assert c.cmd(command).startswith(b"Content-Type: command/reply\nReply-Text: -ERR")
        assert c.cmd("api version").startswith(b"Content-Type: api/response")


@pytest.mark.parametrize("api", ["fsctl loglevel \u00b2", "hupall \u00b2"])
def test_unicode_digits_in_api_arguments(esl, lua_daemon, api):
    sw, port = lua_daemon
    with esl.RawClient(port) as c:
        c.auth()
        c.send(f"api {api}\n\n")
        headers, body, _ = c.frame()
        assert headers["Content-Type"] == "api/response"
        assert c.cmd("api version").startswith(b"Content-Type: api/response")


def test_client_that_never_reads_is_disconnected(esl, lua_daemon):
    """max-send-buffer is 64 KiB here: a client that sends many large commands and reads
    nothing is cut off once the kernel buffers and the cap are full; others are served."""
    sw, port = lua_daemon
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.settimeout(10)
    s.sendall(b"auth ClueCon\n\n")
    big = "x" * 100_000
    dropped = False
    try:
        for _ in range(300):
            s.sendall(f"api echo {big}\n\n".encode())
    except OSError:
        dropped = True
    if not dropped:  # everything was accepted: the server must have closed on us by now
        s.settimeout(0.5)
        try:
            while True:
                if not s.recv(1 << 20):
                    dropped = True
                    break
        except TimeoutError:
            pass
        except OSError:
            dropped = True
    s.close()
    assert dropped
    with esl.RawClient(port) as d:
        assert d.auth() == R("+OK accepted")
