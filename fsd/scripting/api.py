"""``API([session])`` (behaviour reference §7), for any language."""

from __future__ import annotations

import time
from typing import Any


class ScriptAPI:
    __slots__ = ("ctx", "session")

    def __init__(self, ctx: Any, session: Any) -> None:
        self.ctx = ctx
        self.session = session

    def execute(a: ScriptAPI, cmd: str | None, arg: str | None = None) -> str:
        if not cmd:
            return "-ERR No application specified"
        return a.ctx.host.api_execute(cmd, arg or "", a.session)

    def executeString(a: ScriptAPI, line: str | None) -> str:
        cmd, _, arg = (line or "").partition(" ")
        return a.ctx.host.api_execute(cmd, arg, a.session)

    def getTime(a: ScriptAPI) -> str:
        return str(int(time.time() * 1000))


def _core_session(s: Any) -> Any:
    # a Session binding object exposes the core session as .session; the core one as-is
    return getattr(s, "session", s) if s is not None else None


def new_api(ctx: Any, session: Any = None) -> ScriptAPI:
    return ScriptAPI(ctx, _core_session(session))


__all__ = ["ScriptAPI", "new_api"]
