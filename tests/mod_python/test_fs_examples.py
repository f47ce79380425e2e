"""FreeSWITCH's own mod_python3 example (src/mod/languages/mod_python3/python_example.py,
kept in tests/fixtures/mod_python/ with only its Python 2 print statement written as a call) runs as
FreeSWITCH documents each of its entry points."""

from __future__ import annotations

import shutil
from pathlib import Path

from fsd_modules.mod_python.config import PythonConfig
from fsd_modules.mod_python.entry import PythonEntry

from fsd.events import Event
from fsd.scripting.host import ScriptHost
from fsd.testing import wait_until

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "mod_python"


def _install(daemon) -> None:
    shutil.copy(HERE / "python_example.py", Path(daemon.sw.dirs.scripts) / "python_example.py")


def test_example_handler_on_a_call_with_hangup_hook(daemon, logs):
    _install(daemon)
    daemon.sw.globals.set("hold_music", "tone_stream://%(10000,0,440);loops=20")
    a, b = daemon.call("py-python_example")
    assert wait_until(lambda: b in daemon.sw.sessions and daemon.sw.sessions[b].answered())
    assert wait_until(lambda: "EXECUTE [depth=0] loopback/py-python_example-b playback("
                      in logs.text())
    daemon.sw.api_execute(f"uuid_kill {b}")
    assert wait_until(lambda: "hangup hook for hangup!!" in logs.text(), 15), logs.text()[-4000:]
    assert daemon.gone(a) and daemon.gone(b)
    assert "Error calling python script" not in logs.text()


def test_example_fsapi_writes_w00t_and_the_env(daemon):
    _install(daemon)
    out = daemon.sw.api_execute("python", "python_example")
    assert out.startswith("w00t!\n")
    assert "Event-Name: API" in out and "API-Command: python" in out


def test_example_runtime_through_pyrun(daemon, logs, capfd):
    _install(daemon)
    assert daemon.sw.api_execute("pyrun", "python_example hello") == "OK\n"
    assert wait_until(lambda: "hello\n" in capfd.readouterr().out or
                      ",python_example," not in daemon.sw.api_execute("python_list"))
    assert "Error calling python script" not in logs.text()


def test_example_xml_fetch_answers_a_dialplan(daemon):
    _install(daemon)
    entry = PythonEntry(ScriptHost.from_switch(daemon.sw),
                        PythonConfig(xml_handler_script="python_example"))
    params = Event("REQUEST_PARAMS")
    text = entry.xml_fetch("dialplan", "", "", "", params)
    assert text is not None and '<extension name="generated">' in text
    assert '<action application="playback" data="${hold_music}"/>' in text
