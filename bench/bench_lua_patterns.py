"""What mod_lua's interruptible string functions cost (plugins/mod_lua/guard.lua, pattern.lua).

1. Short subjects (the C path): a loop of ordinary calls in a script's state (wrapped
   string.find/match/gsub/gmatch) vs the same loop in a bare ``lupa.lua53`` runtime.
2. Large subjects: the pure-Lua matcher vs the C function on the same call.
3. The budget: the slowest C call the estimate lets through, for backtracking patterns at
   the longest subject they may take in C (guard.lua's ``nmax``).

Run: python bench/bench_lua_patterns.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lupa.lua53 as lua53  # noqa: E402
from fsd_modules.mod_lua import runtime  # noqa: E402
from fsd_modules.mod_lua.host import LuaHost  # noqa: E402
from fsd_modules.mod_lua.runtime import LuaState, RunContext  # noqa: E402

from fsd.events import EventBus  # noqa: E402
from fsd.globals import GlobalVariables  # noqa: E402

PATTERN_LUA = Path(runtime.__file__).with_name("pattern.lua")
GUARD_LUA = Path(runtime.__file__).with_name("guard.lua")

SHORT = [
    ("find ^(%d+)$ on 5 digits", "string.find('12345', '^(%d+)$')"),
    ("match (%w+)=(%w+) on a 30-byte line", "string.match('user=1000 domain=example.com', '(%w+)=(%w+)')"),
    ("gsub %s+ on an 80-byte line", "string.gsub(LINE, '%s+', ' ')"),
    ("find plain on an 80-byte line", "string.find(LINE, 'dolor', 1, true)"),
    ("gmatch %a+ over an 80-byte line", "for w in LINE:gmatch('%a+') do end"),
]
LINE = "'Lorem ipsum  dolor sit amet,   consectetur adipiscing elit, sed do eiusmod tempor'"


def _states() -> tuple[LuaState, lua53.LuaRuntime]:
    """A script's state (the wrapped string library) and a bare Lua 5.3 (plain C)."""
    host = LuaHost(api_execute=lambda *a: "", globals=GlobalVariables(), events=EventBus(),
                   scripts_dir="/tmp")
    return LuaState(RunContext(host)), lua53.LuaRuntime()


def _loop(lua, body: str, n: int) -> float:
    f = lua.execute(f"local LINE = {LINE} return function(n) for i = 1, n do {body} end end")
    f(n // 10)  # warm up (pattern caches)
    t = time.perf_counter()
    f(n)
    return (time.perf_counter() - t) / n * 1e6


def bench_short() -> None:
    state, bare = _states()
    print("1. short subjects: wrapped (script state) vs bare C, microseconds per call")
    for name, body in SHORT:
        n = 200_000
        c = min(_loop(bare, body, n) for _ in range(3))
        w = min(_loop(state.lua, body, n) for _ in range(3))
        print(f"   {name:40s} C {c:6.3f}  wrapped {w:6.3f}  ({w / c:4.2f}x, +{w - c:5.3f} us)")
    state.close()


LARGE = [
    ("gsub %s+ ' ' over 1 MB of words", "string.rep('lorem ipsum  ', 87382)", "'%s+', ' '", "gsub"),
    ("find absent word (plain) in 1 MB", "string.rep('lorem ipsum ', 95325)", "'dolorem', 1, true", "find"),
    ("find absent %d+x in 1 MB of words", "string.rep('lorem 12 ', 131072)", "'%d+x'", "find"),
    ("gmatch (%w+)=(%w+) over 200 KB", "string.rep('key=value; ', 20000)", "'(%w+)=(%w+)'", "gmatch"),
    ("find .-.-b (absent) on 1 000 bytes", "string.rep('a', 1000)", "'.-.-b'", "find"),
    ("match ^(.-)%s*$ on 100 KB", "string.rep('ab ', 34000)", "'^(.-)%s*$'", "match"),
]


def bench_large_wrapped() -> None:
    state, bare = _states()
    print("2b. large subjects the estimate sends to C after measuring runs: wrapped vs C, ms")
    for name, subject, args, fn in LARGE[:4]:
        code = (f"local s = {subject} return function() "
                + (f"for a in s:gmatch({args}) do end end" if fn == "gmatch"
                   else f"return s:{fn}({args}) end"))
        c = _time(bare.execute(code))
        w = _time(state.lua.execute(code))
        print(f"   {name:40s} C {c * 1e3:8.2f}  wrapped {w * 1e3:8.2f}  ({w / c:5.2f}x)")
    state.close()


def _time(f, *args, reps: int = 3) -> float:
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        f(*args)
        best = min(best, time.perf_counter() - t)
    return best


def bench_large() -> None:
    lua = lua53.LuaRuntime()
    lp = lua.execute(PATTERN_LUA.read_text())
    print("2. large subjects: pure-Lua matcher vs C, milliseconds per call")
    for name, subject, args, fn in LARGE:
        s = lua.execute(f"return {subject}")
        body = f"for a in F(s, {args}) do end" if fn == "gmatch" else f"return F(s, {args})"
        runner = lua.execute(f"return function(s, F) {body} end")
        c = _time(runner, s, lua.globals().string[fn])
        p = _time(runner, s, lp[fn])
        print(f"   {name:40s} C {c * 1e3:8.2f}  Lua {p * 1e3:8.2f}  ({p / c:5.1f}x)")


BUDGET_CASES = [("'.-.-.-.-b'", "a"), ("'.-.-b'", "a"), ("'%d+x'", "1"), ("'(%w+)=(%w+)'", "a"),
                ("'%s+'", " "), ("'a?a?a?a?a?a?a?a?a?a?aaaaaaaaaa'", "a")]


def bench_budget() -> None:
    lua = lua53.LuaRuntime()
    lp = lua.execute(PATTERN_LUA.read_text())
    s_tbl = lua.execute("local t = {} for k, v in pairs(string) do t[k] = v end return t")
    guard = lua.execute(f"return function(...) {GUARD_LUA.read_text()} end")(
        lp, s_tbl, runtime.PATTERN_BUDGET)
    find = lua.globals().string.find
    print(f"3. budget {runtime.PATTERN_BUDGET:.0e} steps: the slowest C call it lets through")
    for pat, ch in BUDGET_CASES:
        p = lua.execute(f"return {pat}")
        nmax = int(guard.shape(p, False).nmax)
        s = ch * nmax  # no match anywhere: the whole search space
        c = _time(find, s, p)
        print(f"   {pat:34s} longest subject in C {nmax:7d}   C time {c * 1e3:7.2f} ms")


if __name__ == "__main__":
    bench_short()
    bench_large()
    bench_large_wrapped()
    bench_budget()
