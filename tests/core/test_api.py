"""Core API commands and the API machinery (parameter event, errors, background jobs)."""

from __future__ import annotations

import re

from fsd.testing import running_switch, wait_until


def test_version_status_uptime_hostname(tmp_path):
    with running_switch(tmp_path, ["mod_commands"]) as sw:
        assert re.match(r"^FreeSWITCH Version 1\.10\.12-release\+fsd\.[\d.]+ \(.*64bit\)\n$", sw.api_execute("version"))
        assert sw.api_execute("version short") == "1.10.12\n"
        lines = sw.api_execute("status").splitlines()
        assert re.match(r"^UP \d+ years?, \d+ days?, \d+ hours?, \d+ minutes?, \d+ seconds?, \d+ milliseconds?, \d+ microseconds?$", lines[0])
        assert re.match(r"^FreeSWITCH \(Version .* 64bit\) is ready$", lines[1])
        assert lines[2] == "0 session(s) since startup"
        assert lines[3].startswith("0 session(s) - peak 0, last 5min 0")
        assert lines[4].startswith("0 session(s) per Sec out of max 30")
        assert lines[5] == "1000 session(s) max"
        assert sw.api_execute("uptime").isdigit()
        assert sw.api_execute("hostname")


def test_unknown_command_and_failure_texts(tmp_path):
    with running_switch(tmp_path, ["mod_commands"]) as sw:
        out, ok = sw.api.execute("no_such_api", "x")
        assert out == "INVALID COMMAND!\n" and not ok

        def failing(args, session, stream):
            stream.write("partial\n")
            return False

        sw.apis["failing"] = type("A", (), {"func": staticmethod(failing), "name": "failing"})()
        out, ok = sw.api.execute("failing", "")
        assert out == "partial\nCOMMAND RETURNED ERROR!\n" and not ok

        def boom(args, session, stream):
            raise RuntimeError("kaput")

        sw.apis["boom"] = type("A", (), {"func": staticmethod(boom), "name": "boom"})()
        out, ok = sw.api.execute("boom", "")
        assert "kaput" in out and not ok
        assert sw.api_execute("version").startswith("FreeSWITCH")


def test_api_event_carries_command_and_argument(tmp_path):
    with running_switch(tmp_path, ["mod_commands"]) as sw:
        got = []
        sw.events.bind("API", None, got.append)
        sw.api.execute("  echo ", "  hi there  ")
        assert wait_until(lambda: got)
        ev = got[0]
        assert ev.get_header("API-Command") == "echo"
        assert ev.get_header("API-Command-Argument") == "hi there"
        assert ev.get_header("Event-Name") == "API"
        got.clear()
        sw.api.execute("version", "")
        assert wait_until(lambda: got)
        assert got[0].get_header("API-Command-Argument") is None


def test_globals_eval_expand_echo(tmp_path):
    with running_switch(tmp_path, ["mod_commands"]) as sw:
        assert sw.api_execute("global_setvar fruit=apple") == "+OK"
        assert sw.api_execute("global_getvar fruit") == "apple"
        assert sw.api_execute("eval I like $${fruit} and ${fruit}") == "I like apple and apple"
        assert sw.api_execute("eval ${echo(nested ${fruit})}") == "nested apple"
        assert sw.api_execute("eval ${missing:-fallback}") == "fallback"
        assert sw.api_execute("eval ${fruit:1:3}") == "ppl"
        assert sw.api_execute("expand echo ${fruit}") == "apple"
        assert sw.api_execute("eval uuid:nonexistent x").startswith("-ERR invalid session id")
        assert sw.api_execute("echo  a  b ") == "a  b"
        sw.api_execute("global_setvar fruit=")
        assert sw.api_execute("global_getvar fruit") == ""


def test_api_expansion_setting_gates_api_calls(tmp_path):
    with running_switch(tmp_path, ["mod_commands"], switch_settings={"api-expansion": "false"}) as sw:
        assert sw.api_execute("eval ${echo(hi)}") == "<API Execute Permission Denied>"
        assert sw.api_execute("eval ${hostname}") != "<API Execute Permission Denied>"


def test_fsctl(tmp_path):
    with running_switch(tmp_path, ["mod_commands"]) as sw:
        assert sw.api_execute("fsctl loglevel info") == "+OK log level: INFO [6]\n"
        assert sw.api_execute("fsctl loglevel bogus") == "-ERR Invalid log level!\n"
        assert sw.api_execute("fsctl max_sessions 5") == "+OK max sessions: 5\n"
        assert sw.setting_int("max-sessions", 0) == 5
        assert sw.api_execute("fsctl sps 7") == "+OK sessions per second: 7\n"
        assert sw.api_execute("fsctl").startswith("-USAGE")
        assert sw.api_execute("console loglevel debug").startswith("+OK console log level set to DEBUG")
        sw.api_execute("fsctl loglevel debug")


def test_bgapi_fires_background_job(tmp_path):
    with running_switch(tmp_path, ["mod_commands"]) as sw:
        got = []
        sw.events.bind("BACKGROUND_JOB", None, got.append)
        out = sw.api_execute("bgapi echo hello")
        m = re.match(r"^\+OK Job-UUID: ([0-9a-f-]{36})\n$", out)
        assert m
        assert wait_until(lambda: got)
        ev = got[0]
        assert ev.get_header("Job-UUID") == m.group(1)
        assert ev.get_header("Job-Command") == "echo"
        assert ev.get_header("Job-Command-Arg") == "hello"
        assert ev.body == "hello"
        assert sw.api_execute("bgapi") == "-ERR Invalid syntax\n"


def test_heartbeat_and_startup_events(tmp_path):
    with running_switch(tmp_path, ["mod_commands"], switch_settings={"event-heartbeat-interval": "1"}) as sw:
        got = []
        sw.events.bind("HEARTBEAT", None, got.append)
        assert wait_until(lambda: got, timeout=4)
        assert got[0].get_header("Event-Info") == "System Ready"
        assert got[0].get_header("Session-Count") == "0"
