"""``Dbh`` (behaviour reference §9), delegating to mod_db's DbHandle, for any language.

Handles are leased with the run's id as owner; at script end every lease of the run goes
back to the pool (the DATABASE service's ``release_owner``), whatever the script did.  A row callback
that raises is logged with the script's file:line and stops the rows; a kill during a
query ends the script once the query returns.
"""

from __future__ import annotations

from typing import Any

from fsd.log import ERR, log
from fsd.scripting.context import ScriptKilled
from fsd.services import DATABASE


class _OwnerRelease:
    """Closed at script end: returns every lease the run still holds."""

    def __init__(self, manager: Any, owner: Any) -> None:
        self.manager, self.owner = manager, owner

    def close(self) -> None:
        self.manager.release_owner(self.owner)


class ScriptDbh:
    __slots__ = ("ctx", "h")

    def __init__(self, ctx: Any, h: Any) -> None:
        self.ctx = ctx
        self.h = h

    def release(o: ScriptDbh) -> bool:
        if _not_connected(o):
            return False
        return o.h.release()

    def connected(o: ScriptDbh) -> bool:
        return o.h is not None and o.h.connected()

    def test_reactive(o: ScriptDbh, test: str | None, drop: str | None = None,
                       reactive: str | None = None) -> bool:
        if _not_connected(o):
            return False
        return o.h.test_reactive(test, drop, reactive)

    def query(o: ScriptDbh, sql: str | None, fn: Any = None) -> bool:
        if o.h is None:
            log(ERR, "DBH NOT Connected.\n", uuid=o.ctx.uuid)
            return False
        ctx = o.ctx
        if fn is None:
            return o.h.query(sql or "")
        state = {"killed": False}

        def row(cols: dict[str, str]) -> Any:
            ok, res = ctx.call(fn, ctx.table(cols))
            if not ok:
                log(ERR, f"{res}\n", uuid=ctx.uuid)
                return 1  # a failing callback stops the rows
            if isinstance(res, (int, float, str, bool)) or res is None:
                return res
            return None

        def guarded(cols: dict[str, str]) -> Any:
            try:
                return row(cols)
            except ScriptKilled:
                state["killed"] = True
                return 1

        res = o.h.query(sql or "", guarded)
        if state["killed"] or ctx.killed():
            raise ScriptKilled(ctx.kill_reason)
        return res

    def query_rows(o: ScriptDbh, sql: str | None) -> tuple[bool, Any, str | None]:
        if o.h is None:
            log(ERR, "DBH NOT Connected.\n", uuid=o.ctx.uuid)
            return False, o.ctx.table([]), "DBH NOT Connected."
        ok, rows, err = o.h.query_rows(sql or "")
        return ok, o.ctx.table(rows), err

    def affected_rows(o: ScriptDbh) -> int:
        if _not_connected(o):
            return 0
        return o.h.affected_rows()

    def last_error(o: ScriptDbh) -> str | None:
        return o.h.last_error() if o.h is not None else None

    def clear_error(o: ScriptDbh) -> None:
        if o.h is not None:
            o.h.clear_error()

    def load_extension(o: ScriptDbh, name: str | None) -> int:
        if _not_connected(o):
            return 0
        return o.h.load_extension(name or "")


def new_dbh(ctx: Any, dsn: str | None, user: str | None = None, password: str | None = None) -> ScriptDbh:
    sw = ctx.host.switch
    db = sw.services.get(DATABASE) if sw is not None else None  # mod_db's, if loaded
    if db is None:
        log(ERR, "Dbh: mod_db is not loaded\n", uuid=ctx.uuid)
        log(ERR, "Connection failed.  DBH NOT Connected.\n", uuid=ctx.uuid)
        return ScriptDbh(ctx, None)
    owner = f"{ctx.language}:{ctx.id}"
    if not getattr(ctx, "_dbh_owner", False):
        ctx._dbh_owner = True
        ctx.own(_OwnerRelease(db, owner))
    # The kill flag ends a wait on an exhausted pool (lua_kill, uuid_kill, cpu-limit).
    handle = db.connect(dsn or "", user or None, password or None, owner=owner,
                        cancel=getattr(ctx, "kill_event", None))
    if ctx.killed():
        raise ScriptKilled(ctx.kill_reason)
    return ScriptDbh(ctx, handle)


def _not_connected(o: ScriptDbh) -> bool:
    if o.h is None:
        log(ERR, "DBH NOT Connected.\n", uuid=o.ctx.uuid)
        return True
    return False


__all__ = ["ScriptDbh", "new_dbh"]
