"""Bad input: each fault is logged with file:line, ends only that script, and neither the
daemon nor another call notices."""

from __future__ import annotations

import pytest

from fsd.testing import wait_until


def _other_call_works(daemon) -> None:
    name = daemon.script("""
def handler(session, args):
    session.setVariable("other_ok", "1")
""")
    a, b = daemon.call(f"py-{name}")
    assert wait_until(lambda: daemon.var(b, "other_ok") == "1")
    assert daemon.sw.api_execute("status").startswith("UP")
    daemon.sw.api_execute(f"uuid_kill {a}")
    assert daemon.gone(b)


def _run_on_call(daemon, body: str) -> tuple[str, str | None, str | None]:
    name = daemon.script(body)
    a, b = daemon.call(f"py-{name}")
    return name, a, b


@pytest.mark.parametrize("body,line,what", [
    ("def handler(session, args):\n    x = (\n", 2, "SyntaxError"),
    ("import os\nimport does_not_exist_anywhere\n\ndef handler(session, args):\n    pass\n",
     2, "ModuleNotFoundError"),
    ("def handler(session, args):\n    session.answer()\n    raise ValueError('boom')\n",
     3, "ValueError"),
])
def test_script_faults_are_logged_with_file_line(daemon, logs, body, line, what):
    name, a, b = _run_on_call(daemon, body)
    # the application returned: the dialplan goes on
    assert wait_until(lambda: daemon.var(b, "after_python") == "1")
    assert logs.has_file_line(f"{name}.py", line), logs.text()[-2000:]
    assert what in logs.text()
    daemon.sw.api_execute(f"uuid_kill {a}")
    assert daemon.gone(b)
    _other_call_works(daemon)


def test_missing_handler_is_reported_with_the_file(daemon, logs):
    name, a, b = _run_on_call(daemon, "def not_the_handler(session, args):\n    pass\n")
    assert wait_until(lambda: daemon.var(b, "after_python") == "1")
    assert wait_until(lambda: "Module does not define handler" in logs.text())
    assert f"{name}.py" in logs.text()
    daemon.sw.api_execute(f"uuid_kill {a}")
    assert daemon.gone(b)
    _other_call_works(daemon)


def test_exception_in_hangup_hook_is_logged_and_script_goes_on(daemon, logs):
    name, a, b = _run_on_call(daemon, """from freeswitch import *
def hook(session, what):
    setGlobalVariable("bad_hook_ran", what)
    raise RuntimeError("hook failed")

def handler(session, args):
    session.answer()
    session.setHangupHook(hook)
    session.hangup()
    setGlobalVariable("after_bad_hook", str(session.ready()))
""")
    assert daemon.wait_global("bad_hook_ran") == "hangup"
    assert daemon.wait_global("after_bad_hook") == "False"
    assert logs.has_file_line(f"{name}.py", 4), logs.text()[-2000:]
    assert "RuntimeError: hook failed" in logs.text()
    assert daemon.gone(b) and daemon.gone(a)
    _other_call_works(daemon)


def test_exception_in_input_callback_is_logged_and_stops_only_the_playback(daemon, logs):
    name, a, b = _run_on_call(daemon, """from freeswitch import *
def cb(session, what, obj):
    setGlobalVariable("bad_cb_digit", obj.digit)
    return 1 / 0

def handler(session, args):
    session.answer()
    session.setInputCallback(cb)
    session.setVariable("playing", "1")
    session.streamFile("tone_stream://%(10000,0,440);loops=20")
    setGlobalVariable("after_bad_cb", "1")
""")
    assert wait_until(lambda: daemon.var(b, "playing") == "1")
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} 7")
    assert daemon.wait_global("bad_cb_digit") == "7"
    assert daemon.wait_global("after_bad_cb") == "1"
    assert logs.has_file_line(f"{name}.py", 4), logs.text()[-2000:]
    assert "ZeroDivisionError" in logs.text()
    daemon.sw.api_execute(f"uuid_kill {a}")
    assert daemon.gone(b)
    _other_call_works(daemon)


@pytest.mark.parametrize("loop", [
    "while True:\n        pass",
    "n = 0\n    while True:\n        try:\n            n += 1\n        except Exception:\n            pass",
])
def test_endless_loop_on_a_call_is_stopped_by_python_kill(daemon, logs, loop):
    name, a, b = _run_on_call(daemon, f"""from freeswitch import *
def handler(session, args):
    session.answer()
    setGlobalVariable("{{}}_looping".format(session.get_uuid()), "1")
    {loop}
""")
    assert daemon.wait_global(f"{b}_looping") == "1"
    listing = daemon.sw.api_execute("python_list")
    row = [ln for ln in listing.splitlines() if f",{name},{b}," in ln]
    assert row, listing
    run_id = row[0].split(",")[0]
    assert daemon.sw.api_execute("python_kill", run_id) == "+OK\n"
    # the script ends, the call stays up and its dialplan goes on
    assert wait_until(lambda: daemon.var(b, "after_python") == "1", 5)
    assert f",{name}," not in daemon.sw.api_execute("python_list")
    assert "stopped: killed by python_kill" in logs.text()
    assert b in daemon.sw.sessions
    daemon.sw.api_execute(f"uuid_kill {a}")
    assert daemon.gone(b)
    _other_call_works(daemon)


def test_python_kill_all_stops_background_loops(daemon):
    name = daemon.script("def runtime(args):\n    while True:\n        pass\n")
    daemon.sw.api_execute("pyrun", name)
    daemon.sw.api_execute("pyrun", name)
    assert wait_until(lambda: daemon.sw.api_execute("python_list").count(f",{name},") == 2)
    assert daemon.sw.api_execute("python_kill", "all").startswith("+OK")
    assert wait_until(lambda: f",{name}," not in daemon.sw.api_execute("python_list"), 5)
    assert daemon.sw.api_execute("status").startswith("UP")

