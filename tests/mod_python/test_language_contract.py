"""The language registry (``module.add_language``) as the core sees it: mod_lua and
mod_python are registered languages, unload removes exactly what each added, and the
``inline`` entry runs source text."""

from __future__ import annotations

from fsd.scripting.languages import language_for_file
from fsd.testing import running_switch


def test_languages_registered_and_removed_on_unload(tmp_path):
    mods = ["mod_commands", "mod_dptools", "mod_lua", "mod_python"]
    with running_switch(tmp_path, mods) as sw:
        assert sw.languages["lua"].module == "mod_lua"
        assert sw.languages["python"].module == "mod_python"
        assert language_for_file(sw, "ivr.lua").name == "lua"
        assert language_for_file(sw, "ivr.py args").name == "python"
        assert language_for_file(sw, "ivr.tcl") is None
        assert {"lua", "luarun", "python", "pyrun"} <= set(sw.apis)
        assert {"lua", "python"} <= set(sw.applications)
        # inline entries
        assert sw.languages["python"].inline("setGlobalVariable('inl', 'py')") is None
        assert sw.globals.get("inl") == "py"
        err = sw.languages["python"].inline("1/0")
        assert err is not None and "ZeroDivisionError" in err
        assert sw.languages["lua"].inline("freeswitch.setGlobalVariable('inl', 'lua')") is None
        assert sw.globals.get("inl") == "lua"
        assert sw.api_execute("unload", "mod_python") == "+OK\n"
        assert "python" not in sw.languages and "pyrun" not in sw.apis
        assert "python" not in sw.applications
        assert sw.languages["lua"].module == "mod_lua" and "lua" in sw.applications
        assert sw.api_execute("load", "mod_python") == "+OK\n"
        assert sw.api_execute("python", "") == ""  # loaded again, no module named: nothing
