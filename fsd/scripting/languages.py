"""How the core routes to registered script languages (``module.add_language``).

The core knows no language by name: ``api_hangup_hook=<lang> args`` and ``${<lang>(args)}``
look the first word up in ``switch.languages`` and use that language's ``hangup_hook`` /
``expand`` entry when it declares one, the API of that name otherwise (FreeSWITCH's
behaviour, where both are API calls).  :func:`language_for_file` picks a language by file
extension.
"""

from __future__ import annotations

import os
from typing import Any

from fsd.log import ERR, log


def language_for_file(switch: Any, path: str) -> Any:
    """The registered language whose extensions end ``path`` (``None`` if none)."""
    ext = os.path.splitext(path.split(" ", 1)[0])[1].lower()
    if not ext:
        return None
    for lang in list(switch.languages.values()):
        if ext in lang.extensions:
            return lang
    return None


def expand_call(switch: Any, cmd: str, args: str, session: Any) -> str:
    """``${cmd(args)}`` / ``${cmd args}``: a language's ``expand`` entry, or the API."""
    lang = switch.languages.get(cmd.strip().lower()) if switch.languages else None
    if lang is not None and lang.expand is not None:
        try:
            out = lang.expand(args, session)
        except Exception as e:  # a faulty language never breaks the expansion
            log(ERR, f"${{{cmd}(...)}} failed: {type(e).__name__}: {e}\n")
            return ""
        return "" if out is None else str(out)
    return switch.api.execute(cmd, args, session)[0]


def run_hangup_hook(switch: Any, cmd: str, args: str, session: Any, env: Any) -> bool:
    """Run ``api_hangup_hook=<lang> args`` through the language's ``hangup_hook`` entry.
    False when ``cmd`` is no language with such an entry (the caller runs the API)."""
    lang = switch.languages.get(cmd.strip().lower()) if switch.languages else None
    if lang is None or lang.hangup_hook is None:
        return False
    lang.hangup_hook(session, args, env)
    return True


#: switch_xml_parse_section_string: a section is bound when its short name appears
#: anywhere in the value (case-insensitive); the lookup section names each one answers.
_SECTIONS = (
    ("config", ("configuration",)),
    ("directory", ("directory",)),
    ("dialplan", ("dialplan",)),
    ("languages", ("languages", "phrases")),
    ("chatplan", ("chatplan",)),
    ("channels", ("channels",)),
)


def parse_sections(value: str) -> set[str]:
    """An ``xml-handler-bindings`` value -> the lookup sections a script handler answers."""
    v = (value or "").lower()
    out: set[str] = set()
    for short, names in _SECTIONS:
        if short in v:
            out.update(names)
    return out
