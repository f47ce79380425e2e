"""``IVRMenu`` (behaviour reference §11) for any language: 17 constructor arguments,
bindAction, execute; the engine is :mod:`fsd.scripting.ivrmenu`."""

from __future__ import annotations

from typing import Any

from fsd.log import ERR, log
from fsd.scripting import ivrmenu
from fsd.scripting.context import ScriptKilled


class ScriptMenu:
    __slots__ = ("ctx", "menu", "stack")

    def __init__(self, ctx: Any, menu: ivrmenu.Menu, stack: ivrmenu.MenuStack) -> None:
        self.ctx, self.menu, self.stack = ctx, menu, stack

    def bindAction(o: ScriptMenu, action: str | None, arg: str | None, digits: str | None) -> None:
        o.menu.bind(action or "", arg or "", digits or "")

    def execute(o: ScriptMenu, session: Any, name: str | None) -> None:
        if session is None or session.session is None:
            log(ERR, "IVRMenu:execute: session is not initalized\n", uuid=o.ctx.uuid)
            return
        ivrmenu.execute(session.session, o.stack, name or "")
        if o.ctx.killed():
            raise ScriptKilled(o.ctx.kill_reason)
        session.check_hangup_hook()


def new_menu(ctx: Any, main: ScriptMenu | None, name: str | None, greeting: str | None,
         short_greeting: str | None, invalid: str | None, exit_sound: str | None,
         transfer_sound: str | None, confirm_macro: str | None, confirm_key: str | None,
         tts_engine: str | None, tts_voice: str | None, confirm_attempts: int,
         inter_timeout: int, digit_len: int, timeout: int, max_failures: int,
         max_timeouts: int) -> ScriptMenu:
    menu = ivrmenu.Menu(name or "no name", greeting or "", short_greeting or "", invalid or "",
                        exit_sound or "", transfer_sound or "", confirm_macro or "",
                        confirm_key or "", tts_engine or "", tts_voice or "", confirm_attempts,
                        inter_timeout, digit_len, timeout, max_failures, max_timeouts)
    stack = main.stack if main is not None else ivrmenu.MenuStack()
    stack.add(menu)
    return ScriptMenu(ctx, menu, stack)


__all__ = ["ScriptMenu", "new_menu"]
