"""fsd_cli (as a real process) and the ESLconnection/ESLevent classes against a daemon."""

from __future__ import annotations

import subprocess
import sys

from fsd.esl import ESLconnection, ESLevent


def cli(port: int, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fsd.fs_cli", "-P", str(port), *args],
                          input=stdin, capture_output=True, text=True, timeout=30)


def test_cli_x(daemon):
    sw, port = daemon
    r = cli(port, "-x", "version")
    assert r.returncode == 0
    assert r.stdout == sw.api_execute("version")
    r = cli(port, "-x", "nosuchcmd")
    assert r.stdout == "-ERR nosuchcmd Command not found!\n" and r.returncode == 1


def test_cli_wrong_password_and_no_server(daemon):
    r = cli(daemon[1], "-p", "bad", "-x", "version")
    assert r.returncode == 1 and "Error Connecting" in r.stderr
    r = cli(1, "-x", "version")
    assert r.returncode == 1


def test_cli_piped_input_with_slash_commands(daemon):
    sw, port = daemon
    r = cli(port, stdin="version\n/log info\n/event plain HEARTBEAT\n/nolog\n/bogus\n/exit\nversion\n")
    assert r.returncode == 0
    out = r.stdout
    assert out.count("FreeSWITCH Version") == 1  # nothing after /exit runs
    assert "+OK log level info [6]" in out
    assert "+OK event listener enabled plain" in out
    assert "+OK no longer logging" in out
    assert "Unknown command [/bogus]" in out


def test_esl_connection_wiki_example(daemon):
    """The user's API page example: connect, api("version"), api("log", ...)."""
    sw, port = daemon
    con = ESLconnection("127.0.0.1", str(port), "ClueCon")
    assert con.connected() == 1
    e = con.api("version")
    assert e.getBody() == sw.api_execute("version")
    assert e.getType() == "api/response"
    con.api("log", "notice hello from ESL")
    con.disconnect()
    assert con.connected() == 0


def test_esl_connection_events_bgapi_filter(daemon):
    sw, port = daemon
    con = ESLconnection("127.0.0.1", port, "ClueCon")
    assert con.events("plain", "BACKGROUND_JOB CUSTOM esl::lua").getHeader("Reply-Text") == \
        "+OK event listener enabled plain"
    assert con.filter("Event-Name", "BACKGROUND_JOB").getHeader("Reply-Text").startswith("+OK filter added")
    r = con.bgapi("status", None, "job-lua-1")
    assert r.getHeader("Job-UUID") == "job-lua-1"
    ev = con.recvEventTimed(5000)
    assert ev is not None and ev.getType() == "BACKGROUND_JOB"
    assert ev.getHeader("Job-UUID") == "job-lua-1" and "UP" in ev.getBody()
    names = []
    h = ev.firstHeader()
    while h is not None:
        names.append(h)
        h = ev.nextHeader()
    assert names[0] == "Event-Name" and "Job-Command" in names
    assert con.recvEventTimed(200) is None  # filtered: nothing else
    out = ESLevent("CUSTOM", "esl::lua")
    out.addHeader("X-Test", "1")
    out.addBody("payload")
    assert out.getHeader("Event-Subclass") == "esl::lua" and out.delHeader("X-Test")
    assert con.execute("answer", None, "no-such-uuid").getHeader("Reply-Text") == \
        "-ERR invalid session id [no-such-uuid]"
    assert con.setEventLock("true") == 1
    assert con.executeAsync("answer", None, "nope").getHeader("Reply-Text").startswith("-ERR")
    con.disconnect()


def test_esl_connection_bad_password(daemon):
    con = ESLconnection("127.0.0.1", daemon[1], "wrong")
    assert con.connected() == 0
    assert ESLconnection("127.0.0.1", 1, "x").connected() == 0
