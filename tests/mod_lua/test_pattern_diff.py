"""The pure-Lua pattern matcher (plugins/mod_lua/pattern.lua) against Lua 5.3's C
string.find/match/gmatch/gsub in a plain lupa runtime: same results, same captures, same
errors (messages included) for generated subjects and patterns, valid and malformed."""

from __future__ import annotations

import os

import fsd_modules.mod_lua as mod_lua
import lupa.lua53 as lua53
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PATTERN_LUA = os.path.join(os.path.dirname(mod_lua.__file__), "pattern.lua")

# Runs every operation through both implementations and lists the differences.
HARNESS = rb"""
local LP = ...
local function ser(ok, ...)
  local t = table.pack(...)
  for i = 1, t.n do t[i] = type(t[i]) .. ":" .. tostring(t[i]) end
  return tostring(ok) .. "|" .. table.concat(t, ",")
end
local function collect(f, s, p)
  local r = {}
  for a, b, c in f(s, p) do r[#r + 1] = tostring(a) .. "/" .. tostring(b) .. "/" .. tostring(c) end
  return table.concat(r, ";")
end
local REPL_T = {a = "A", b = false, [1] = "one", [2] = 2.5, ["("] = "paren"}
local function repl_f(a, b) if a == "c" then return nil end return "<" .. tostring(a) .. tostring(b) .. ">" end
return function(s, p, init, repl, n)
  local diffs = {}
  local function cmp(name, cf, lf, ...)
    local a, b = ser(pcall(cf, ...)), ser(pcall(lf, ...))
    if a ~= b then diffs[#diffs + 1] = name .. ": C=" .. a .. " Lua=" .. b end
  end
  cmp("find", string.find, LP.find, s, p)
  cmp("find init", string.find, LP.find, s, p, init)
  cmp("find plain", string.find, LP.find, s, p, init, true)
  -- plain search in small windows, and candidate by candidate (budget below m*m)
  cmp("find plain windows", string.find, function(...) return LP.find(...) end, s, p, init, true, 16)
  cmp("find plain candidates", string.find, function(...) return LP.find(...) end, s, p, init, true, 3)
  cmp("match", string.match, LP.match, s, p)
  cmp("match init", string.match, LP.match, s, p, init)
  cmp("gmatch", function(x, y) return collect(string.gmatch, x, y) end,
      function(x, y) return collect(LP.gmatch, x, y) end, s, p)
  cmp("gsub str", string.gsub, LP.gsub, s, p, repl)
  cmp("gsub str n", string.gsub, LP.gsub, s, p, repl, n)
  cmp("gsub fn", string.gsub, LP.gsub, s, p, repl_f)
  cmp("gsub table", string.gsub, LP.gsub, s, p, REPL_T, n)
  return table.concat(diffs, "\n")
end
"""

ALPHABET = "abc()[]%-.^$ 1\0xA,"
SPECIAL = set("^$*+?.([%-])")


@pytest.fixture(scope="module")
def differ():
    rt = lua53.LuaRuntime(encoding=None)
    with open(PATTERN_LUA, "rb") as f:
        lp = rt.execute(f.read())
    return rt.execute(HARNESS, lp)


def _lit(c: str) -> str:
    return "%" + c if c in SPECIAL else c


_char = st.sampled_from("abcx1 ,()[]%.-^$A\0")
_class = st.sampled_from(["%a", "%A", "%d", "%D", "%s", "%S", "%w", "%W", "%p", "%l", "%u",
                          "%x", "%c", "%g", "%z", "%P", "."])
_set_item = st.one_of(_char.map(lambda c: "%" + c if c in "]%" else c), _class.filter(lambda c: c != "."),
                      st.sampled_from(["a-c", "0-9", "x-a", "%a-z", "]"]))
_set = st.builds(lambda neg, items: "[" + ("^" if neg else "") + "".join(items) + "]",
                 st.booleans(), st.lists(_set_item, min_size=1, max_size=3))
_single = st.one_of(_char.map(_lit), _class, _set)
_quant = st.sampled_from(["", "", "*", "+", "-", "?"])
_item = st.one_of(
    st.builds(lambda a, q: a + q, _single, _quant),
    st.sampled_from(["()", "%b()", "%bab", "%f[%w]", "%f[%W]", "%f[a]", "%1", "%2", "%0"]),
)


def _group(inner: list[str]) -> str:
    return "(" + "".join(inner) + ")"


_piece = st.one_of(_item, st.lists(_item, min_size=0, max_size=3).map(_group))
_valid = st.builds(lambda a, pieces, d: ("^" if a else "") + "".join(pieces) + ("$" if d else ""),
                   st.booleans(), st.lists(_piece, max_size=5), st.booleans())
_raw = st.text(alphabet="ab%[]()^$.-*+?1f", max_size=8)  # mostly malformed
_pattern = st.one_of(_valid, _valid, _raw)
_subject = st.text(alphabet=ALPHABET, max_size=14)
_repl = st.sampled_from(["x", "%0", "[%1]", "%2%1", "%%", "%", "%x", "", "%3"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=_subject, p=_pattern, init=st.integers(-20, 20), repl=_repl, n=st.integers(-1, 3))
def test_pure_lua_matcher_agrees_with_c(differ, s, p, init, repl, n):
    diffs = differ(s.encode("latin-1"), p.encode("latin-1"), init, repl.encode(), n)
    assert diffs == b"", diffs.decode("latin-1")


@pytest.mark.parametrize("s,p", [
    ("a" * 300, "a?" * 300),            # pattern too complex (depth 200)
    ("a", "()" * 33),                   # too many captures
    ("x(a(b)c)y", "%b()"), ("THE (quick) fox", "%f[%a]%a+"),
    ("abcabc", "(a(b)c)%1"), ("key = value", "^(%w+)%s*=%s*(.-)%s*$"),
    ("hello world from lua", "%w+"), ("  a  ", "^%s*(.-)%s*$"), ("", ""), ("abc", ""),
    ("a\0b\0", "%z"), ("a\0b", "[%z]"), ("a.b", "."), ("x]y", "[]]"), ("a-b", "[a-]"),
    ("^a^a", "^a"), ("aaa", "a-$"), ("abc", "()b()"), ("ab", "(a)(b)%2%1"), ("abab", "(ab)%1$"),
    ("a", "a%"), ("a", "[a"), ("a", "%f"), ("a", "%fa"), ("a", "%b"), ("a", "%ba"), ("a", "a)"),
    ("a", "(a"), ("a", "(a)%2"), ("b", "a%"),  # the malformed tail is never reached: no error
])
def test_corner_cases(differ, s, p):
    for repl in ("<%0>", "%1", "%%", "%", "%9"):
        for init in (1, 2, -1, -10, 10):
            diffs = differ(s.encode("latin-1"), p.encode("latin-1"), init, repl.encode(), 2)
            assert diffs == b"", diffs.decode("latin-1")


def test_large_inputs_agree(differ):
    # the sizes the sandbox sends to the pure-Lua path (skips, windows, long runs)
    text = ("key%d = value%d; " * 1) * 1
    big = "".join(text % (i, i) for i in range(3000)).encode()
    for p in (b"(%w+) = (%w+)", b"value29", b"%f[%d]%d+;", b"%s+", b"(k)ey2999", b"=%s*()"):
        assert differ(big, p, 1, b"[%1]", 50) == b""
    plain = b"a" * 5000 + b"needle" + b"a" * 5000
    assert differ(plain, b"needle", -6000, b"x", 1) == b""


# -- the sandbox's wrappers (guard.lua) against the bare C functions -----------------------
# Each line is called from a script line (not as a tail call), as scripts do: an error must
# carry the same position, function name and argument number as the C function's, whichever
# path (C, or the pure-Lua matcher for the long subjects) ran it.
WRAPPED_CALLS = [
    'string.find("a", "b", 2.5)', '("a"):find("b", 2.5)', 'string.find("a", nil)',
    '("a"):gsub("a", true)', 'string.gsub("a", "a", "x", 1.5)', 'string.rep("a", 1.5)',
    'string.gmatch(nil, "a")', 'string.match({}, "a")', 'string.find("a", "%")',
    '("a"):find("(")', 'string.match("a", "(a")', 'string.gsub("a", "(a)", "%2")',
    'string.gsub("a", "(a)", {a = {}})', 'string.gsub("a", "(a)", function() error("mine") end)',
    'string.rep("a", 2^31)', 'string.rep("", 2^20)', 'string.rep("ab", 3, ",")',
    'string.find(L, ".-.-.-.-%")', 'string.gsub(L, ".-.-.-.-a", "%9")',
    'string.gsub(L, ".-.-.-.-(a)", "%1", "2")', 'string.find(L, ".-.-.-.-(a)", "3")',
    'string.find(L, ".-.-.-.-(a)", 4.0)', 'string.match(L, ".-.-.-.-(a)()", -7)',
    'string.gsub(L, ".-.-.-.-(a)", 7)', 'string.gsub(L, ".-.-.-.-(a)", 7.5, 3)',
    'select(2, string.gsub(L, ".-.-.-.-(a)", {a = false}))',
    'string.find(L, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 1, true)',
    'string.find(123456789012345, ".-.-.-.-.-.-.-.-(5)")', 'string.match(12345, 2, 2.0)',
    # table.move of more than 65 536 elements goes in pieces: same result, same errors
    'T(3, 150000, 1)[1], T(3, 150000, 1)[149998], #T(3, 150000, 1)',
    'T(1, 150000, 3)[3], T(1, 150000, 3)[150002], T(1, 150000, 3)[2], #T(1, 150000, 3)',
    'T(1, 200000, 70000)[70000], T(1, 200000, 70000)[269999]',
    'T(1, 150000, 1, {})[150000], #T(1, 150000, 1, {})', 'table.move(1, 1, 100000, 2)',
    'table.move({}, 1, 2^70, 1)', 'table.move({}, -5, math.maxinteger, 1)',
    '#table.move({}, 1, 100000, math.maxinteger)',
]


def _wrapped_script() -> str:
    lines = ["local L = string.rep('a', 3000) local r = {}",
             "local function T(f, e, t, a2) local a = {} for i = 1, 200000 do a[i] = i end "
             "return table.move(a, f, e, t, a2) end"]
    for call in WRAPPED_CALLS:
        lines.append("r[#r + 1] = table.concat({tostring(select(2, pcall(function() "
                     f"local t = table.pack({call}) return table.concat((function() "
                     "for i = 1, t.n do t[i] = tostring(t[i]) end return t end)(), ',') "
                     "end)))})")
    lines.append("return table.concat(r, '\\n')")
    return "\n".join(lines)


def test_wrapped_functions_answer_and_fail_as_the_c_ones(host):
    from fsd_modules.mod_lua.runtime import LuaState, RunContext

    code = _wrapped_script()
    bare = lua53.LuaRuntime().execute(code).split("\n")
    state = LuaState(RunContext(host))
    try:
        wrapped = state.lua.execute(code).split("\n")
    finally:
        state.close()
    assert len(bare) == len(WRAPPED_CALLS)
    for call, c, w in zip(WRAPPED_CALLS, bare, wrapped, strict=True):
        assert w == c, call
