"""``freeswitch.Dbh`` (behaviour reference §9), over the ``DATABASE`` service (mod_db)
found through ``switch.services`` — mod_lua does not import mod_db.

Handles are leased with the run's id as owner; at script end every lease of the run goes
back to the pool (``release_owner``), whatever the script did.  A row callback
that raises is logged with the script's file:line and stops the rows; a kill during a
query ends the script once the query returns.
"""

from __future__ import annotations

from typing import Any

from fsd.log import ERR, log
from fsd.services import DATABASE

from ..runtime import ScriptKilled
from . import register_class
from .spec import Arg, ClassSpec, Method, args

S = Arg("s", "char *")


class _OwnerRelease:
    """Closed at script end: returns every lease the run still holds."""

    def __init__(self, manager: Any, owner: Any) -> None:
        self.manager, self.owner = manager, owner

    def close(self) -> None:
        self.manager.release_owner(self.owner)


class LuaDbh:
    __slots__ = ("ctx", "h")

    def __init__(self, ctx: Any, h: Any) -> None:
        self.ctx = ctx
        self.h = h


def _new(ctx: Any, dsn: str | None, user: str | None = None, password: str | None = None) -> LuaDbh:
    sw = ctx.host.switch
    db = sw.services.get(DATABASE) if sw is not None else None
    if db is None:
        log(ERR, "Dbh: mod_db is not loaded\n", uuid=ctx.uuid)
        log(ERR, "Connection failed.  DBH NOT Connected.\n", uuid=ctx.uuid)
        return LuaDbh(ctx, None)
    owner = f"lua:{ctx.id}"
    if not getattr(ctx, "_dbh_owner", False):
        ctx._dbh_owner = True
        ctx.own(_OwnerRelease(db, owner))
    return LuaDbh(ctx, db.connect(dsn or "", user or None, password or None, owner=owner))


def _not_connected(o: LuaDbh) -> bool:
    if o.h is None:
        log(ERR, "DBH NOT Connected.\n", uuid=o.ctx.uuid)
        return True
    return False


def _release(o: LuaDbh) -> bool:
    if _not_connected(o):
        return False
    return o.h.release()


def _connected(o: LuaDbh) -> bool:
    return o.h is not None and o.h.connected()


def _test_reactive(o: LuaDbh, test: str | None, drop: str | None = None,
                   reactive: str | None = None) -> bool:
    if _not_connected(o):
        return False
    return o.h.test_reactive(test, drop, reactive)


def _query(o: LuaDbh, sql: str | None, fn: Any = None) -> bool:
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


# the third-argument check runs in Lua, as luaL_checktype does in FreeSWITCH
_QUERY_LUA = """function(o, sql, fn, self)
  if fn ~= nil and type(fn) ~= 'function' then
    error("bad argument #2 to 'query' (function expected, got " .. type(fn) .. ")", 3)
  end
  return F["Dbh.query"](o, sql, fn)
end"""


def _query_rows(o: LuaDbh, sql: str | None) -> tuple[bool, Any, str | None]:
    if o.h is None:
        log(ERR, "DBH NOT Connected.\n", uuid=o.ctx.uuid)
        return False, o.ctx.table([]), "DBH NOT Connected."
    ok, rows, err = o.h.query_rows(sql or "")
    return ok, o.ctx.table(rows), err


def _affected_rows(o: LuaDbh) -> int:
    if _not_connected(o):
        return 0
    return o.h.affected_rows()


def _last_error(o: LuaDbh) -> str | None:
    return o.h.last_error() if o.h is not None else None


def _clear_error(o: LuaDbh) -> None:
    if o.h is not None:
        o.h.clear_error()


def _load_extension(o: LuaDbh, name: str | None) -> int:
    if _not_connected(o):
        return 0
    return o.h.load_extension(name or "")


register_class(ClassSpec(
    "Dbh",
    ctor=Method("Dbh", _new, [S, S, S], required=1),
    methods=[
        Method("release", _release, []),
        Method("connected", _connected, []),
        Method("test_reactive", _test_reactive, [S, S, S], required=1),
        Method("query", _query, args(S, "any"), required=1, lua=_QUERY_LUA),
        Method("query_rows", _query_rows, [S]),
        Method("affected_rows", _affected_rows, []),
        Method("last_error", _last_error, []),
        Method("clear_error", _clear_error, []),
        Method("load_extension", _load_extension, [S]),
    ],
))
