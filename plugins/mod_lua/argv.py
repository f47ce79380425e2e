"""Script strings, argv splitting, script paths and Lua search paths (behaviour ref. §1.1, §1.4).

Everything here is pure string work, so it is golden-tested on its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from fsd.separate import separate_string

__all__ = ["MAX_ARGS", "ScriptSpec", "parse_script_string", "separate_string",
           "resolve_script_path", "build_search_path"]

#: FreeSWITCH builds ``argv`` from at most this many pieces; the last one keeps the rest.
MAX_ARGS = 128


@dataclass
class ScriptSpec:
    """What a script string asks for: inline code, or a file with arguments."""

    inline: bool
    code: str = ""  # inline code (``~…`` / ``#!/lua…``)
    name: str = ""  # the script as written (argv[0])
    args: list[str] = field(default_factory=list)


def parse_script_string(text: str | None) -> ScriptSpec | None:
    """Parse the data of ``lua``/``luarun``.  Returns None for an empty string."""
    s = (text or "").lstrip(" \r\n")
    if not s:
        return None
    if s.startswith("~"):
        return ScriptSpec(inline=True, code=s[1:])
    if s[:6].lower() == "#!/lua":
        return ScriptSpec(inline=True, code=s[6:])
    name, sep, rest = s.partition(" ")
    args = separate_string(rest, " ", MAX_ARGS) if sep else []
    return ScriptSpec(inline=False, name=name, args=args)


def resolve_script_path(name: str, scripts_dir: str) -> str:
    """Absolute paths and URLs are used as they are; the rest is under ``scripts_dir``."""
    if name.startswith("/") or "://" in name:
        return name
    return os.path.join(scripts_dir, name)


def build_search_path(templates: list[str], env_value: str | None, lua_default: str) -> str | None:
    """``package.path``/``cpath`` from lua.conf.xml templates (§1.4).

    Templates are joined with ``;``, the process's LUA_PATH/LUA_CPATH (``env_value``) is
    appended, and Lua's own default is kept only where ``;;`` appears.  None means "no
    setting": keep Lua's default untouched."""
    if not templates:
        return None
    value = ";".join(templates)
    if env_value:
        value = f"{value};{env_value}"
    if ";;" in value:
        value = value.replace(";;", f";{lua_default};", 1).replace(";;", ";")
    return value
