"""``freeswitch.API([session])`` (behaviour reference §7)."""

from __future__ import annotations

import time
from typing import Any

from . import register_class
from .spec import Arg, ClassSpec, Method, args


class LuaAPI:
    __slots__ = ("ctx", "session")

    def __init__(self, ctx: Any, session: Any) -> None:
        self.ctx = ctx
        self.session = session


def _core_session(s: Any) -> Any:
    # a Session binding object exposes the core session as .session; the core one as-is
    return getattr(s, "session", s) if s is not None else None


def _new(ctx: Any, session: Any = None) -> LuaAPI:
    return LuaAPI(ctx, _core_session(session))


def _execute(a: LuaAPI, cmd: str | None, arg: str | None = None) -> str:
    if not cmd:
        return "-ERR No application specified"
    return a.ctx.host.api_execute(cmd, arg or "", a.session)


def _execute_string(a: LuaAPI, line: str | None) -> str:
    cmd, _, arg = (line or "").partition(" ")
    return a.ctx.host.api_execute(cmd, arg, a.session)


def _get_time(a: LuaAPI) -> str:
    return str(int(time.time() * 1000))


register_class(ClassSpec(
    "API",
    ctor=Method("API", _new, args(Arg("o:Session", "CoreSession *")), required=0),
    methods=[
        Method("execute", _execute, args("s", "s"), required=1),
        Method("executeString", _execute_string, args("s")),
        Method("getTime", _get_time, []),
    ],
))
