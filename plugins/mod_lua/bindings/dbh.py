"""``freeswitch.Dbh`` for Lua: the binding of :class:`fsd.scripting.dbh.ScriptDbh`
(behaviour reference §9); the query's callback check runs in Lua, as luaL_checktype."""

from __future__ import annotations

from fsd.scripting.dbh import ScriptDbh, new_dbh

from . import register_class
from .spec import Arg, ClassSpec, Method, args

S = Arg("s", "char *")

# the third-argument check runs in Lua, as luaL_checktype does in FreeSWITCH
_QUERY_LUA = """function(o, sql, fn, self)
  if fn ~= nil and type(fn) ~= 'function' then
    error("bad argument #2 to 'query' (function expected, got " .. type(fn) .. ")", 3)
  end
  return F["Dbh.query"](o, sql, fn)
end"""


register_class(ClassSpec(
    "Dbh",
    ctor=Method("Dbh", new_dbh, [S, S, S], required=1),
    methods=[
        Method("release", ScriptDbh.release, []),
        Method("connected", ScriptDbh.connected, []),
        Method("test_reactive", ScriptDbh.test_reactive, [S, S, S], required=1),
        Method("query", ScriptDbh.query, args(S, "any"), required=1, lua=_QUERY_LUA),
        Method("query_rows", ScriptDbh.query_rows, [S]),
        Method("affected_rows", ScriptDbh.affected_rows, []),
        Method("last_error", ScriptDbh.last_error, []),
        Method("clear_error", ScriptDbh.clear_error, []),
        Method("load_extension", ScriptDbh.load_extension, [S]),
    ],
))
