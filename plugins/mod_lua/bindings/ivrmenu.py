"""``freeswitch.IVRMenu`` (behaviour reference §11): 17 constructor arguments, bindAction,
execute; the engine is ``plugins/mod_lua/ivrmenu.py``."""

from __future__ import annotations

from typing import Any

from fsd.log import ERR, log

from .. import ivrmenu
from ..runtime import ScriptKilled
from . import register_class
from .spec import Arg, ClassSpec, Method

S = Arg("s", "char const *")


class LuaMenu:
    __slots__ = ("ctx", "menu", "stack")

    def __init__(self, ctx: Any, menu: ivrmenu.Menu, stack: ivrmenu.MenuStack) -> None:
        self.ctx, self.menu, self.stack = ctx, menu, stack


def _new(ctx: Any, main: LuaMenu | None, name: str | None, greeting: str | None,
         short_greeting: str | None, invalid: str | None, exit_sound: str | None,
         transfer_sound: str | None, confirm_macro: str | None, confirm_key: str | None,
         tts_engine: str | None, tts_voice: str | None, confirm_attempts: int,
         inter_timeout: int, digit_len: int, timeout: int, max_failures: int,
         max_timeouts: int) -> LuaMenu:
    menu = ivrmenu.Menu(name or "no name", greeting or "", short_greeting or "", invalid or "",
                        exit_sound or "", transfer_sound or "", confirm_macro or "",
                        confirm_key or "", tts_engine or "", tts_voice or "", confirm_attempts,
                        inter_timeout, digit_len, timeout, max_failures, max_timeouts)
    stack = main.stack if main is not None else ivrmenu.MenuStack()
    stack.add(menu)
    return LuaMenu(ctx, menu, stack)


def _bind_action(o: LuaMenu, action: str | None, arg: str | None, digits: str | None) -> None:
    o.menu.bind(action or "", arg or "", digits or "")


def _execute(o: LuaMenu, session: Any, name: str | None) -> None:
    if session is None or session.session is None:
        log(ERR, "IVRMenu:execute: session is not initalized\n", uuid=o.ctx.uuid)
        return
    ivrmenu.execute(session.session, o.stack, name or "")
    if o.ctx.killed():
        raise ScriptKilled(o.ctx.kill_reason)
    session.check_hangup_hook()


register_class(ClassSpec(
    "IVRMenu",
    ctor=Method("IVRMenu", _new,
                [Arg("o:IVRMenu", "IVRMenu *")] + [S] * 10 + [Arg("i")] * 6),
    methods=[
        Method("bindAction", _bind_action, [S, S, S]),
        Method("execute", _execute, [Arg("o:Session", "CoreSession *"), S]),
    ],
))
