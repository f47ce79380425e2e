"""Numbers typed by users are read as ASCII digits only (issue 19): Python's isdigit() is
true for '²' and int() then raised, so `fsctl loglevel ²`, `hangup ²` and `respond ²00` ended
in a traceback.  Each is now answered in its own language and nothing raises."""

from __future__ import annotations

import pytest

from fsd.log import ERR, logger
from fsd.testing import originate, wait_until


@pytest.fixture
def errors():
    seen: list[str] = []
    sid = logger.add_sink(lambda rec: seen.append(rec.text), ERR)
    yield seen
    logger.remove_sink(sid)


@pytest.mark.parametrize("command,reply", [
    ("fsctl loglevel \u00b2", "-ERR Invalid log level!\n"),
    ("fsctl loglevel \u20807", "-ERR Invalid log level!\n"),
    ("fsctl loglevel \u0667", "-ERR Invalid log level!\n"),  # Arabic-Indic 7 is not 7 here
])
def test_api_arguments_with_non_ascii_digits(daemon, errors, command, reply):
    assert daemon.sw.api_execute(command) == reply
    assert not [e for e in errors if "Traceback" in e]


@pytest.mark.parametrize("commands", [
    ["msleep \u00b2", "sched_del \u00b2", "hupall \u00b2 x y", "uuid_send_dtmf nosuch 1@\u00b2"],
])
def test_other_apis_answer_without_raising(daemon, errors, commands):
    for command in commands:
        out = daemon.sw.api_execute(command)
        assert out and "Traceback" not in out, (command, out)
    assert not [e for e in errors if "Traceback" in e]


@pytest.mark.parametrize("app", ["hangup(\u00b2)", "respond(\u00b200)"])
def test_apps_with_non_ascii_digits_end_the_call_cleanly(daemon, errors, app):
    sw = daemon.sw
    uuid, out = originate(sw, f"null/u &{app}")
    assert uuid, out
    assert wait_until(lambda: sw.api_execute(f"uuid_exists {uuid}") == "false", 10)
    assert not [e for e in errors if "Traceback" in e]
