"""Script-string parsing and argv splitting (§1.1), search paths (§1.4): golden tests."""

import pytest
from fsd_modules.mod_lua.argv import (
    MAX_ARGS,
    build_search_path,
    parse_script_string,
    resolve_script_path,
    separate_string,
)


@pytest.mark.parametrize("text,name,args", [
    ("t.lua a 'b c' d", "t.lua", ["a", "b c", "d"]),
    ("t.lua", "t.lua", []),
    ("t.lua ", "t.lua", []),
    # FreeSWITCH starts a piece before skipping spaces: trailing spaces after the first
    # give one empty argument
    ("t.lua    ", "t.lua", [""]),
    ("  \r\n t.lua x", "t.lua", ["x"]),
    ("t.lua a  b", "t.lua", ["a", "b"]),
    ("t.lua  a", "t.lua", ["a"]),
    (r"t.lua a\ b c", "t.lua", ["a b", "c"]),
    (r"t.lua it\'s", "t.lua", ["it's"]),
    ("t.lua 'unclosed quote", "t.lua", ["'unclosed", "quote"]),
    ("t.lua ''", "t.lua", [""]),
    (r"t.lua a\nb", "t.lua", ["a\nb"]),
    (r"t.lua a\sb", "t.lua", ["a b"]),
    (r"t.lua a\xb", "t.lua", [r"a\xb"]),
    (r"t.lua a\\b", "t.lua", ["a\\b"]),
    ("t.lua 'a b' 'c d'", "t.lua", ["a b", "c d"]),
    ("t.lua x'y z'w", "t.lua", ["xy zw"]),
    ("/abs/t.lua 1", "/abs/t.lua", ["1"]),
])
def test_script_with_args(text, name, args):
    spec = parse_script_string(text)
    assert spec is not None and not spec.inline
    assert spec.name == name
    assert spec.args == args


@pytest.mark.parametrize("text,code", [
    ("~print(1)", "print(1)"),
    ("  ~x=1", "x=1"),
    ("#!/lua stream:write('a')", " stream:write('a')"),
    ("#!/LUA x", " x"),
    ("\n#!/Lua\ny", "\ny"),
])
def test_inline(text, code):
    spec = parse_script_string(text)
    assert spec.inline and spec.code == code and spec.args == []


@pytest.mark.parametrize("text", ["", "   ", "\r\n", None])
def test_empty(text):
    assert parse_script_string(text) is None


def test_max_args_last_keeps_rest():
    parts = " ".join(str(i) for i in range(200))
    out = separate_string(parts, " ", MAX_ARGS)
    assert len(out) == MAX_ARGS
    assert out[:3] == ["0", "1", "2"]
    assert out[-1] == " ".join(str(i) for i in range(127, 200))


def test_custom_delimiter():
    assert separate_string("^^,a,b c,d") == ["a", "b c", "d"]


def test_path_resolution():
    assert resolve_script_path("/x/y.lua", "/s") == "/x/y.lua"
    assert resolve_script_path("http://h/y.lua", "/s") == "http://h/y.lua"
    assert resolve_script_path("y.lua", "/s") == "/s/y.lua"
    assert resolve_script_path("sub/y.lua", "/s") == "/s/sub/y.lua"


def test_search_path():
    assert build_search_path([], None, "DEF") is None
    assert build_search_path(["/a/?.lua", "/b/?.lua"], None, "DEF") == "/a/?.lua;/b/?.lua"
    assert build_search_path(["/a/?.lua;;"], None, "DEF") == "/a/?.lua;DEF;"
    assert build_search_path(["/a/?.lua"], "/env/?.lua", "DEF") == "/a/?.lua;/env/?.lua"
    assert build_search_path(["/a/?.lua"], "/env/?.lua;;", "DEF") == "/a/?.lua;/env/?.lua;DEF;"
