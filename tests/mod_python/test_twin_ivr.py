"""The same IVR written in Lua and in Python (answer, play with an input callback,
getDigits, a Dbh query, a CUSTOM event, hangup with a hangup hook), run side by side on
loopback calls: the same events and the same database rows."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

from fsd.testing import wait_until

HERE = Path(__file__).parent / "scripts"
KEEP = ("Event-Name", "Event-Subclass", "What", "CB-Digit", "Digits", "Rows")


def _drive(daemon, dest: str, cb_digit: str, digits: str) -> str:
    a, b = daemon.call(dest)
    assert wait_until(lambda: daemon.var(b, "twin_playing") == "1")
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} {cb_digit}")
    assert wait_until(lambda: daemon.var(b, "twin_wait_digits") == "1")
    daemon.sw.api_execute(f"uuid_recv_dtmf {b} {digits}")
    assert daemon.gone(b) and daemon.gone(a)
    return b


def _rows(daemon, name: str) -> list[tuple[str, str]]:
    path = Path(daemon.sw.dirs.db) / f"{name}.db"
    with sqlite3.connect(path) as c:
        return sorted(c.execute("select cb, digits from presses").fetchall())


def test_lua_and_python_ivr_give_the_same_events_and_rows(daemon):
    scripts = Path(daemon.sw.dirs.scripts)
    shutil.copy(HERE / "twin_ivr.lua", scripts / "twin_ivr.lua")
    shutil.copy(HERE / "twin_ivr.py", scripts / "twin_ivr.py")
    got: list = []
    lock = threading.Lock()

    def on_event(ev) -> None:
        with lock:
            got.append(ev)

    bindings = [daemon.sw.events.bind("CUSTOM", sub, on_event) for sub in ("twin::result",
                                                                            "twin::hook")]
    try:
        runs = {}
        for lang, dest in (("lua", "lua-twin_ivr"), ("python", "py-twin_ivr")):
            runs[lang] = [_drive(daemon, dest, "4", "12#"), _drive(daemon, dest, "9", "3#")]
        assert wait_until(lambda: len(got) == 8, 5), [e.serialize() for e in got]
    finally:
        for bnd in bindings:
            daemon.sw.events.unbind(bnd)

    def seen(uuids: list[str]) -> list[dict]:
        out = []
        for ev in got:
            if ev.get_header("Call") in uuids:
                out.append({k: ev.get_header(k) for k in KEEP})
        return out

    lua, py = seen(runs["lua"]), seen(runs["python"])
    assert lua == py
    assert lua == [
        {"Event-Name": "CUSTOM", "Event-Subclass": "twin::result", "What": None,
         "CB-Digit": "4", "Digits": "12", "Rows": "1"},
        {"Event-Name": "CUSTOM", "Event-Subclass": "twin::hook", "What": "hangup",
         "CB-Digit": None, "Digits": None, "Rows": None},
        {"Event-Name": "CUSTOM", "Event-Subclass": "twin::result", "What": None,
         "CB-Digit": "9", "Digits": "3", "Rows": "2"},
        {"Event-Name": "CUSTOM", "Event-Subclass": "twin::hook", "What": "hangup",
         "CB-Digit": None, "Digits": None, "Rows": None},
    ]
    assert _rows(daemon, "twin_lua") == _rows(daemon, "twin_py") == [("4", "12"), ("9", "3")]
