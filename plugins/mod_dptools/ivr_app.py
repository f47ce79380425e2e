"""The ``ivr`` application: menus from ivr.conf.xml ``<menus><menu …><entry …/></menu>``,
run by the same menu engine as ``freeswitch.IVRMenu`` (fsd.scripting.ivrmenu)."""

from __future__ import annotations

from typing import Any

from fsd.log import ERR
from fsd.scripting import ivrmenu


def _int(el: Any, name: str, default: int) -> int:
    try:
        return int(el.get(name) or default)
    except ValueError:
        return default


def build_stack(menus: Any) -> ivrmenu.MenuStack:
    """Every ``<menu>`` of the ``<menus>`` element (``menu-sub`` names any of them)."""
    stack = ivrmenu.MenuStack()
    for m in menus.findall("menu"):
        menu = ivrmenu.Menu(
            m.get("name") or "", m.get("greet-long") or "", m.get("greet-short") or "",
            m.get("invalid-sound") or "", m.get("exit-sound") or "", m.get("transfer-sound") or "",
            m.get("confirm-macro") or "", m.get("confirm-key") or "", m.get("tts-engine") or "",
            m.get("tts-voice") or "", _int(m, "confirm-attempts", 3),
            _int(m, "inter-digit-timeout", 0), _int(m, "digit-len", 1), _int(m, "timeout", 10000),
            _int(m, "max-failures", 3), _int(m, "max-timeouts", 3))
        for e in m.findall("entry"):
            menu.bind(e.get("action") or "", e.get("param") or "", e.get("digits") or "")
        stack.add(menu)
    return stack


def ivr(session: Any, data: str) -> None:
    name = (data or "").strip()
    if not name:
        session.log(ERR, "Missing menu name\n")
        return
    cfg = session.switch.config.get_configuration("ivr.conf", {"Menu-Name": name}) \
        if session.switch.config else None
    menus = cfg.find("menus") if cfg is not None else None
    if menus is None:
        session.log(ERR, "No menus configured\n")
        return
    if not any(m.get("name") == name for m in menus.findall("menu")):
        session.log(ERR, "Unable to find menu\n")
        return
    ivrmenu.execute(session, build_stack(menus), name)


def declare(module: Any) -> None:
    module.add_application("ivr", ivr, "Run an ivr menu", "<menu_name>")
