"""Script strings, argv splitting, script paths and Lua search paths (behaviour ref. §1.1, §1.4).

Everything here is pure string work, so it is golden-tested on its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

#: FreeSWITCH builds ``argv`` from at most this many pieces; the last one keeps the rest.
MAX_ARGS = 128
_ESCAPE = "\\"
# Escapes that turn into another character; every other escaped character is kept as-is
# together with its backslash (unless it is a quote, the delimiter or a backslash).
_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", "s": " "}


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


def _cleanup(token: str, delim: str) -> str:
    """Strip leading spaces, quotes and trailing unquoted spaces; resolve escapes."""
    i = 0
    while i < len(token) and token[i] == " ":
        i += 1
    out: list[str] = []
    end: int | None = None  # length of ``out`` worth keeping
    quoted = False
    n = len(token)
    while i < n:
        c = token[i]
        if c == _ESCAPE and i + 1 < n:
            e = token[i + 1]
            if e in ("'", '"', _ESCAPE) or (delim and e == delim) or e in _UNESCAPE:
                out.append(_UNESCAPE.get(e, e))
                end = len(out)
                i += 2
                continue
        if c == "'" and (quoted or "'" in token[i + 1:]):
            quoted = not quoted
            if quoted:
                end = len(out)
        else:
            out.append(c)
            if c != " " or quoted:
                end = len(out)
        i += 1
    return "".join(out if end is None else out[:end])


def _split_blank(buf: str, limit: int) -> list[str]:
    """Split on runs of spaces; single quotes group, backslash protects the next char."""
    pieces: list[str] = []
    i, n = 0, len(buf)
    while i < n and len(pieces) < limit:
        start = i
        while i < n and buf[i] == " ":  # leading spaces belong to the piece; cleaned later
            i += 1
        if len(pieces) == limit - 1:  # the last allowed piece takes the rest unsplit
            pieces.append(buf[start:])
            break
        quoted = False
        while i < n:
            c = buf[i]
            if c == _ESCAPE:
                i += 2
                continue
            if c == "'" and (quoted or "'" in buf[i + 1:]):
                quoted = not quoted
            elif c == " " and not quoted:
                break
            i += 1
        pieces.append(buf[start:min(i, n)])
        while i < n and buf[i] == " ":
            i += 1
    return pieces


def _split_char(buf: str, delim: str, limit: int) -> list[str]:
    pieces: list[str] = []
    i, n = 0, len(buf)
    while i < n and len(pieces) < limit:
        if len(pieces) == limit - 1:
            pieces.append(buf[i:])
            break
        start = i
        quoted = False
        while i < n:
            c = buf[i]
            if c == _ESCAPE:
                i += 2
                continue
            if c == "'" and (quoted or "'" in buf[i + 1:]):
                quoted = not quoted
            elif c == delim and not quoted:
                break
            i += 1
        pieces.append(buf[start:min(i, n)])
        i += 1  # skip the delimiter
    return pieces


def separate_string(buf: str, delim: str = " ", limit: int = MAX_ARGS) -> list[str]:
    """FreeSWITCH's string splitter: ``^^X`` at the start picks ``X`` as the delimiter."""
    if not buf or limit <= 0:
        return []
    if buf.startswith("^^") and len(buf) > 3:
        delim, buf = buf[2], buf[3:]
    raw = _split_blank(buf, limit) if delim == " " else _split_char(buf, delim, limit)
    return [_cleanup(p, delim) for p in raw]


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
