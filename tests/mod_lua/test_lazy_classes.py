"""Binding classes and module functions are built in a state on first use (issue 13: a
state whose script only writes to ``stream`` must not pay for every class).  What a script
sees does not change: every class and function is there when asked for, ``pairs`` on
``freeswitch`` lists them all, ``require "ESL"`` gives the ESL classes, a script's own
assignments are kept."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from fsd_modules.mod_lua import bindings
from fsd_modules.mod_lua.bindings.spec import CLASS_ENV, generate_class, generate_funcs
from fsd_modules.mod_lua.config import LuaConfig
from fsd_modules.mod_lua.entry import LuaEntry
from fsd_modules.mod_lua.runtime import _bootstrap

from fsd.api import Stream
from fsd.events import Event

IN_FS = ("Event", "EventConsumer", "API", "Stream", "JSON", "DTMF", "Session", "Dbh", "IVRMenu")


def test_untouched_classes_are_not_built(lua):
    out = lua("local t = {} for _, n in ipairs({'Session', 'Dbh', 'JSON', 'IVRMenu', 'consoleLog'}) do"
              " t[#t + 1] = tostring(rawget(freeswitch, n)) end stream:write(table.concat(t, ','))")
    assert out == "nil,nil,nil,nil,nil"


def test_first_use_builds_the_class_once(lua):
    out = lua("local a = freeswitch.JSON local b = freeswitch.JSON"
              " stream:write(tostring(a == b and rawget(freeswitch, 'JSON') == a) .."
              " ' ' .. freeswitch.JSON():encode({1, 2}))")
    assert out.startswith("true [")


def test_pairs_lists_every_class_function_and_constant(lua):
    out = lua("local t = {} for k in pairs(freeswitch) do t[#t + 1] = k end table.sort(t)"
              " stream:write(table.concat(t, ','))")
    names = set(out.split(","))
    assert set(IN_FS) <= names
    assert {"consoleLog", "console_log", "getGlobalVariable", "msleep", "S_HUP"} <= names
    assert "ESLconnection" not in names and "ESLevent" not in names


def test_esl_classes_come_from_require_only(lua):
    out = lua("local e = require 'ESL' stream:write(tostring(freeswitch.ESLconnection) .. ' ' .."
              " type(e.ESLconnection) .. ' ' .. type(ESL.ESLevent) .. ' ' .."
              " tostring(e == require('ESL')) .. ' ' .."
              " ESL.ESLevent('CUSTOM', 'a::b'):getHeader('Event-Subclass'))")
    assert out == "nil table table true a::b"


def test_a_scripts_own_value_is_kept(lua):
    """A script's assignment stays, even when the class is built later (here by a
    consumer returning an Event: the API call fires one)."""
    out = lua("freeswitch.Event = 'mine' local c = freeswitch.EventConsumer('API')"
              " freeswitch.API():executeString('nothing') local e = c:pop(1, 2000)"
              " stream:write(e:getHeader('API-Command') .. ' ' .. freeswitch.Event .. ' ' .."
              " rawget(freeswitch, 'Event'))")
    assert out == "nothing mine mine"


def test_unknown_names_are_nil(lua):
    assert lua("stream:write(tostring(freeswitch.Nope) .. tostring(freeswitch['@funcs']))") == "nilnil"


def test_wrapping_from_python_builds_the_class(entry, bus):
    """``env`` (an Event) is wrapped before the script runs, its class built then."""
    ev = Event("API")
    ev.add_header("k", "v")
    s = Stream(ev)
    entry.api_lua("~stream:write(env:getHeader('k') .. tostring(rawget(freeswitch, 'Event') ~= nil))",
                  None, s)
    assert s.get_data() == "vtrue"


def test_spare_states_prebuild_stream_and_event(host):
    e = LuaEntry(host, LuaConfig(), spares=1)
    try:
        e.spares._kick()
        ctx_state = None
        for _ in range(2000):  # the background thread builds it; wait with a deadline
            ctx_state = e.spares.take()
            if ctx_state is not None:
                break
            import time

            time.sleep(0.005)
        assert ctx_state is not None
        ctx, state = ctx_state
        try:
            res = state.export.run_code("return rawget(freeswitch, 'Stream') ~= nil and"
                                        " rawget(freeswitch, 'Event') ~= nil and"
                                        " rawget(freeswitch, 'Session') == nil", "t")
            assert res is True or res == (True,)
        finally:
            state.close()
    finally:
        e.shutdown()


@pytest.mark.skipif(shutil.which("luac5.3") is None, reason="luac5.3 (Debian lua5.3) not installed")
def test_class_chunks_use_no_global_for_a_bootstrap_local(tmp_path):
    """A class chunk is compiled apart from the bootstrap: a helper it names must arrive
    through CLASS_ENV, else it would silently read a global a script can replace."""
    import os

    from fsd_modules.mod_lua import runtime

    sandbox = open(os.path.join(os.path.dirname(runtime.__file__), "sandbox.lua")).read()
    head = sandbox.split("--@@BINDINGS@@")[0]
    local_names: set[str] = set()
    for decl in re.findall(r"^local (?:function )?([\w, ]+?)(?: =|$|\()", head, re.M):
        local_names.update(n.strip() for n in decl.split(","))
    classes, funcs, _ = bindings.registry()
    chunks = {c.name: generate_class(c, classes) for c in classes}
    chunks["@funcs"] = generate_funcs(funcs, classes)
    for name, src in chunks.items():
        f = tmp_path / "chunk.lua"
        f.write_text(src)
        listing = subprocess.run(["luac5.3", "-p", "-l", "-l", str(f)], capture_output=True,
                                 text=True, check=True).stdout
        used = set(re.findall(r'[GS]ETTABUP.*_ENV "(\w+)"', listing))
        assert not (used & local_names) - set(CLASS_ENV), name


def test_bootstrap_is_small():
    """Only the compat layer, the sandbox and the lazy loader are loaded into every state
    (all classes made it 80 KB)."""
    code, _ = _bootstrap()
    assert len(code) < 30_000


@pytest.mark.skipif(shutil.which("luac5.3") is None, reason="luac5.3 (Debian lua5.3) not installed")
def test_lazy_matcher_environment_has_every_name_pattern_lua_uses(tmp_path):
    """pattern.lua is loaded on first use in an environment of its own (runtime.py,
    _LAZY_PATTERN): every global it reads must be there."""
    import os

    from fsd_modules.mod_lua import runtime

    path = os.path.join(os.path.dirname(runtime.__file__), "pattern.lua")
    listing = subprocess.run(["luac5.3", "-p", "-l", "-l", path], capture_output=True,
                             text=True, check=True).stdout
    used = set(re.findall(r'[GS]ETTABUP.*_ENV "(\w+)"', listing))
    assert used <= set(runtime.PATTERN_ENV)


def test_the_matcher_loads_when_a_pattern_needs_it(lua):
    """A search too long for one C call runs in the pure-Lua matcher, loaded then; a
    script's own change to the string library does not reach it."""
    out = lua("local real_sub = string.sub string.sub = function() error('script sub') end"
              " local s = string.rep('a', 3000) .. 'b'"
              " local a, b = string.find(s, '.-.-.-b') string.sub = real_sub"
              " stream:write(tostring(a) .. ',' .. tostring(b))")
    assert out == "1,3001"
