"""Containment: errors, os.exit, runaway loops, memory, many failing scripts at once."""

import gc
import threading
import time

import lupa.lua53 as lua53
from fsd_modules.mod_lua.argv import parse_script_string
from fsd_modules.mod_lua.host import LuaHost
from fsd_modules.mod_lua.runtime import RunContext, ScriptRegistry, run

from fsd.api import Stream
from fsd.log import ERR, WARNING


def _errs(logs, level=ERR):
    return [r.text for r in logs if r.level == level]


def _runtimes() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, lua53.LuaRuntime))


def test_error_logged_with_file_line_and_traceback(entry, tmp_path, logs):
    (tmp_path / "bad.lua").write_text("local x = 1\nlocal function f()\n  error('kaboom')\nend\nf()\n")
    s = Stream()
    entry.api_lua("bad.lua", None, s)
    assert s.get_data() == "-ERR Cannot execute script\n"
    errs = _errs(logs)
    # (Lua shortens long chunk names to 60 characters, as in FreeSWITCH)
    assert any("bad.lua:3: kaboom" in e and "stack traceback:" in e
               and "bad.lua:5: in main chunk" in e for e in errs), errs
    # the bootstrap's own frames are not shown
    assert not any("fsd_bootstrap" in e for e in errs)


def test_python_error_in_binding_gets_script_position(lua, logs, host):
    def broken(name, value):
        raise RuntimeError("globals are broken")

    host.globals.set = broken
    out = lua("stream:write('a')\nfreeswitch.setGlobalVariable('x', 'y')\nstream:write('b')")
    assert out == "a-ERR Cannot execute script\n"
    assert any('[string "line"]:2: RuntimeError: globals are broken' in e for e in _errs(logs))


def test_error_in_callback_function_is_contained(lua, logs):
    # a Lua function called back from a library (table.sort's comparator) that fails
    out = lua("table.sort({3, 2, 1}, function(a, b) error('cmp failed') end)")
    assert out.endswith("-ERR Cannot execute script\n")
    assert any("cmp failed" in e for e in _errs(logs))
    assert lua("stream:write('still fine')") == "still fine"


def test_syntax_error_is_logged(lua, logs):
    assert lua("this is not lua") == "-ERR Cannot execute script\n"
    assert any('[string "line"]:1:' in e for e in _errs(logs))


def test_missing_file(entry, logs):
    s = Stream()
    entry.api_lua("nope.lua", None, s)
    assert s.get_data() == "-ERR Cannot execute script\n"
    assert any("nope.lua" in e for e in _errs(logs))


def test_os_exit_only_logs(lua, logs):
    assert lua("os.exit(1) stream:write('alive')") == "alive"
    assert "Surely you jest! exiting is a bad plan....\n" in _errs(logs)


def _run_in_thread(host, code, **kw):
    reg = ScriptRegistry()
    ctx = RunContext(host, **kw)
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("r", run(ctx, parse_script_string(code),
                                                                registry=reg)))
    t.start()
    deadline = time.monotonic() + 5
    while not len(reg) and time.monotonic() < deadline:
        time.sleep(0.005)
    return ctx, t, box


def test_while_true_killed_within_a_second(host, logs):
    ctx, t, box = _run_in_thread(host, "~while true do end")
    time.sleep(0.1)
    assert t.is_alive()
    t0 = time.monotonic()
    ctx.kill("test")
    t.join(1.0)
    assert not t.is_alive()
    assert time.monotonic() - t0 < 1.0
    assert box["r"].status == "killed"
    assert any("stopped: test" in r.text for r in logs if r.level == WARNING)


def test_pcall_cannot_swallow_the_kill(host):
    code = "~while true do pcall(function() while true do end end) end"
    ctx, t, box = _run_in_thread(host, code)
    time.sleep(0.05)
    ctx.kill()
    t.join(1.0)
    assert not t.is_alive() and box["r"].status == "killed"


def test_loop_inside_coroutine_is_killed(host):
    code = "~local co = coroutine.wrap(function() while true do end end) co()"
    ctx, t, box = _run_in_thread(host, code)
    time.sleep(0.05)
    ctx.kill()
    t.join(1.0)
    assert not t.is_alive() and box["r"].status == "killed"


def test_script_cannot_remove_the_hook(host, logs):
    code = "~debug.sethook() while true do end"
    ctx, t, box = _run_in_thread(host, code)
    time.sleep(0.05)
    ctx.kill()
    t.join(1.0)
    assert not t.is_alive() and box["r"].status == "killed"
    assert any("debug.sethook is disabled" in r.text for r in logs)


def test_msleep_honours_kill(host):
    ctx, t, box = _run_in_thread(host, "~freeswitch.msleep(60000)")
    time.sleep(0.05)
    t0 = time.monotonic()
    ctx.kill()
    t.join(1.0)
    assert not t.is_alive() and time.monotonic() - t0 < 0.5
    assert box["r"].status == "killed"


def test_cpu_limit(host, logs):
    ctx = RunContext(host, cpu_limit=0.2)
    t0 = time.monotonic()
    r = run(ctx, parse_script_string("~while true do end"), registry=ScriptRegistry())
    assert r.status == "killed" and time.monotonic() - t0 < 2
    assert "CPU limit" in ctx.kill_reason


def test_memory_cap(host, logs):
    ctx = RunContext(host, max_memory=20 * 1024 * 1024)
    code = "~local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end"
    r = run(ctx, parse_script_string(code), registry=ScriptRegistry())
    assert r.status == "memory"
    assert any("memory limit" in e for e in _errs(logs))


def test_memory_cap_from_host(bus, apis, tmp_path):
    from fsd_modules.mod_lua.entry import LuaEntry

    from fsd.globals import GlobalVariables

    h = LuaHost(api_execute=apis.execute, globals=GlobalVariables(), events=bus,
                scripts_dir=str(tmp_path), max_memory=5 * 1024 * 1024)
    e = LuaEntry(h)
    r = e.run_string("~local s = string.rep('x', 50 * 1024 * 1024)")
    assert r.status == "memory"
    assert e.run_string("~local s = string.rep('x', 1024)").ok


def test_hundred_failing_scripts_at_once(entry, logs):
    before_threads = threading.active_count()
    before_states = _runtimes()
    outs = []
    lock = threading.Lock()

    def one(i):
        s = Stream()
        entry.api_lua(f"~local t = {{}} t.x.y = {i}", None, s)
        with lock:
            outs.append(s.get_data())

    threads = [threading.Thread(target=one, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert outs == ["-ERR Cannot execute script\n"] * 100
    assert len([e for e in _errs(logs) if "attempt to index a nil value" in e]) == 100
    assert threading.active_count() == before_threads
    assert _runtimes() == before_states
    assert len(entry.registry) == 0


def test_no_state_left_after_runs(entry, lua):
    before = _runtimes()
    for _ in range(20):
        lua("local c = freeswitch.EventConsumer('CUSTOM') local e = freeswitch.Event('CUSTOM', 'a::b')")
    assert _runtimes() == before


def test_python_bridge_not_reachable(lua):
    assert lua("stream:write(tostring(python))") == "nil"
    # a method table holds Lua functions only; upvalues do not lead to Python attributes
    out = lua("""
      local f = freeswitch.consoleLog
      local i, found = 1, {}
      while true do
        local n, v = debug.getupvalue(f, i)
        if not n then break end
        if type(v) == 'userdata' then
          local ok = pcall(function() return v.__class__ end)
          found[#found + 1] = tostring(ok)
        end
        i = i + 1
      end
      stream:write(table.concat(found, ','))""")
    assert "true" not in out


def test_fresh_state_per_run(lua):
    lua("leaked_global = 42")
    assert lua("stream:write(tostring(leaked_global))") == "nil"
