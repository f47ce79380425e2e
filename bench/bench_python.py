"""mod_python figures next to mod_lua's, measured in the same run.

1. start-up: from the ``python``/``lua`` API call until the script's first statement runs
   (Python: module already imported and unchanged — the usual case — and the first
   import after a change; Lua: a fresh state with the bootstrap).
2. ``session.getVariable('x')`` on a live loopback channel, from a script's own loop.
3. ``python_kill`` / ``lua_kill`` of a pure endless loop: until the run has ended.

Run: python bench/bench_python.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fsd.testing import running_switch  # noqa: E402

N_START = 1000
N_GET = 100_000

DP = """<include><context name="b">
<extension name="pygv"><condition field="destination_number" expression="^pygv$">
  <action application="python" data="bench_gv"/></condition></extension>
<extension name="luagv"><condition field="destination_number" expression="^luagv$">
  <action application="lua" data="bench_gv.lua"/></condition></extension>
</context></include>"""

PY_START = "import bench_probe\n\ndef fsapi(session, stream, env, args):\n    bench_probe.mark()\n"
LUA_START = "mark()\n"

PY_GV = f"""import time
from freeswitch import setGlobalVariable

def handler(session, args):
    session.setVariable("x", "y")
    get = session.getVariable
    t0 = time.perf_counter()
    for _ in range({N_GET}):
        get("x")
    setGlobalVariable("bench_py_gv", str((time.perf_counter() - t0) / {N_GET}))
"""

LUA_GV = f"""
session:setVariable("x", "y")
local f = function() return session:getVariable("x") end
local t0 = os.clock() for i = 1, {N_GET} do f() end
freeswitch.setGlobalVariable("bench_lua_gv", tostring((os.clock() - t0) / {N_GET}))
"""


def _median_start(sw: object, call: object) -> float:
    stamps: list[float] = []
    probe = types.ModuleType("bench_probe")
    probe.mark = lambda: stamps.append(time.perf_counter())  # type: ignore[attr-defined]
    sys.modules["bench_probe"] = probe
    out = []
    for _ in range(N_START):
        stamps.clear()
        t0 = time.perf_counter()
        call()  # type: ignore[operator]
        out.append(stamps[0] - t0)
    return statistics.median(out)


def main() -> None:
    mods = ["mod_commands", "mod_dptools", "mod_loopback", "mod_dialplan_xml", "mod_lua",
            "mod_python"]
    with tempfile.TemporaryDirectory() as base, running_switch(
            base, mods, extra_files={"conf/dialplan/b.xml": DP,
                                     "scripts/bench_start.py": PY_START,
                                     "scripts/bench_gv.py": PY_GV,
                                     "scripts/bench_gv.lua": LUA_GV},
            switch_settings={"sessions-per-second": "1000"}) as sw:
        from fsd_modules.mod_lua.argv import parse_script_string
        from fsd_modules.mod_lua.runtime import RunContext, ScriptRegistry, run

        # Python: the API entry point (module cached), then a forced re-import each time
        py_entry = sw.modules.loaded["mod_python"].state["entry"]

        def py_call() -> None:
            py_entry.run_text("bench_start", "fsapi", lambda c, t: (None, None, None, ""))

        py_call()
        py_cached = _median_start(sw, py_call)
        path = Path(sw.dirs.scripts) / "bench_start.py"

        def py_fresh() -> None:
            st = path.stat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))
            py_call()

        py_changed = _median_start(sw, py_fresh)

        lua_entry = sw.modules.loaded["mod_lua"].state["entry"]
        reg = ScriptRegistry()
        spec = parse_script_string("~mark()")
        stamps: list[float] = []

        def lua_call() -> None:
            run(RunContext(lua_entry.host), spec,
                values={"mark": lambda: stamps.append(time.perf_counter())}, registry=reg)

        lua_call()
        lua_times = []
        for _ in range(N_START):
            stamps.clear()
            t0 = time.perf_counter()
            lua_call()
            lua_times.append(stamps[0] - t0)
        lua_start = statistics.median(lua_times)
        print(f"start-up to first statement: python {py_cached * 1e6:7.1f} us (module unchanged),"
              f" {py_changed * 1e6:7.1f} us (file changed: re-import);"
              f" lua {lua_start * 1e6:7.1f} us (fresh state)")

        for dest in ("pygv", "luagv"):
            th = threading.Thread(target=sw.api_execute,
                                  args=(f"originate {{originate_timeout=5}}loopback/{dest}/b &park()",))
            th.start()
            th.join()
        deadline = time.time() + 20
        while not (sw.globals.get("bench_py_gv") and sw.globals.get("bench_lua_gv")) \
                and time.time() < deadline:
            time.sleep(0.05)
        py_gv = float(sw.globals.get("bench_py_gv") or "nan")
        lua_gv = float(sw.globals.get("bench_lua_gv") or "nan")
        print(f"session.getVariable('x') on a live channel: python {py_gv * 1e9:6.0f} ns,"
              f" lua {lua_gv * 1e9:6.0f} ns (ratio python/lua {py_gv / lua_gv:4.2f}x)")
        print(f"kill of an endless loop until the run ended: python {_kill_time(sw, 'python'):6.1f} ms,"
              f" lua {_kill_time(sw, 'lua'):6.1f} ms (median of 5; target < 1000 ms)")
        sw.api_execute("hupall")


def _kill_time(sw: object, lang: str) -> float:
    scripts = Path(sw.dirs.scripts)  # type: ignore[attr-defined]
    if lang == "python":
        (scripts / "bench_loop.py").write_text("def runtime(args):\n    while True:\n        pass\n")
        start, name = "pyrun bench_loop", "bench_loop"
    else:
        (scripts / "bench_loop.lua").write_text("while true do end\n")
        start, name = "luarun bench_loop.lua", "bench_loop.lua"
    out = []
    for _ in range(5):
        sw.api_execute(start)  # type: ignore[attr-defined]
        rows: list[str] = []
        while not rows:
            rows = [r for r in sw.api_execute(f"{lang}_list").splitlines()  # type: ignore[attr-defined]
                    if f",{name}," in r]
        run_id = rows[0].split(",")[0]
        time.sleep(0.05)
        t0 = time.perf_counter()
        sw.api_execute(f"{lang}_kill {run_id}")  # type: ignore[attr-defined]
        while f",{name}," in sw.api_execute(f"{lang}_list"):  # type: ignore[attr-defined]
            time.sleep(0.001)
        out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(out)


if __name__ == "__main__":
    main()
