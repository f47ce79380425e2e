"""Variable expansion: ``${var}``, ``$${global}``, ``${api args}`` / ``${api(args)}``,
``${var:offset[:length]}`` and ``${var:-default}``; nested forms expand inside-out.

The caller supplies how names are looked up (channel variables, then profile fields, then
globals — see ``Session.get_variable``) and how APIs run, so the same engine serves the
channel, the dialplan, ``eval``/``expand`` and the hangup-hook ``env``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

DENIED = "<API Execute Permission Denied>"
_API_PAREN = re.compile(r"^([\w.\-]+)\((.*)\)$", re.DOTALL)

Lookup = Callable[[str], "str | None"]
ApiCall = Callable[[str, str], str]


def _match_brace(text: str, start: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``start``, or -1."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def expand(
    text: str,
    lookup: Lookup,
    *,
    global_lookup: Lookup | None = None,
    api: ApiCall | None = None,
    api_allowed: bool = True,
    depth: int = 0,
) -> str:
    """Expand ``text``.  Unknown variables become ``""``; unbalanced braces are left as
    written (FreeSWITCH logs and keeps the text)."""
    if not text or "$" not in text or depth > 16:
        return text
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        if c == "$" and text.startswith("$${", i):
            end = _match_brace(text, i + 2)
            if end < 0:
                out.append(text[i:])
                break
            name = expand(text[i + 3:end], lookup, global_lookup=global_lookup, api=api,
                          api_allowed=api_allowed, depth=depth + 1)
            g = global_lookup(name) if global_lookup else lookup(name)
            out.append(g or "")
            i = end + 1
            continue
        if c == "$" and text.startswith("${", i):
            end = _match_brace(text, i + 1)
            if end < 0:
                out.append(text[i:])
                break
            inner = expand(text[i + 2:end], lookup, global_lookup=global_lookup, api=api,
                           api_allowed=api_allowed, depth=depth + 1)
            out.append(_resolve(inner, lookup, api, api_allowed))
            i = end + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _resolve(inner: str, lookup: Lookup, api: ApiCall | None, api_allowed: bool) -> str:
    m = _API_PAREN.match(inner)
    if m or " " in inner:
        if m:
            cmd, args = m.group(1), m.group(2)
        else:
            cmd, _, args = inner.partition(" ")
        if not api_allowed:
            return DENIED
        if api is None:
            return ""
        return api(cmd, args)
    name, default, offset, length = inner, None, None, None
    if ":-" in inner:
        name, _, default = inner.partition(":-")
    elif ":" in inner:
        name, _, rest = inner.partition(":")
        parts = rest.split(":", 1)
        try:
            offset = int(parts[0])
            length = int(parts[1]) if len(parts) > 1 and parts[1] else None
        except ValueError:
            name, offset, length = inner, None, None
    value = lookup(name)
    if value is None or value == "":
        return default if default is not None else ""
    if offset is not None:
        value = value[offset:] if offset >= 0 else value[offset:]
        if length is not None:
            value = value[:length] if length >= 0 else value[:length]
    return value
