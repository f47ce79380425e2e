"""``require("ESL")`` inside fsd's Lua: ESLconnection / ESLevent of the core's ESL client
library :mod:`fsd.esl` (the same classes fsd_cli uses).

The sandbox moves both classes from ``freeswitch`` into ``package.preload.ESL``, so a
script sees them as FreeSWITCH's ESL Lua module provides them: the global ``ESL`` table
after ``require("ESL")``.  A connection is closed when the script ends, and a kill closes
it so that a blocking ``recvEvent`` returns.
"""

from __future__ import annotations

from typing import Any

from . import register_class
from .spec import Arg, ClassSpec, Method

S = Arg("s", "char const *")
EV = Arg("o:ESLevent", "ESLevent *")


def _lib() -> Any:
    import fsd.esl

    return fsd.esl


class _Closer:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def close(self) -> None:
        self.conn.disconnect()


def _conn_new(ctx: Any, host: Any, port: Any = None, a: str | None = None,
              b: str | None = None) -> Any:
    lib = _lib()
    if port is None and a is None:
        conn = lib.ESLconnection(int(host))
    elif b is None:
        conn = lib.ESLconnection(str(host), str(port), a or "")
    else:
        conn = lib.ESLconnection(str(host), str(port), a or "", b)
    ctx.own(_Closer(conn))
    ctx.on_kill(conn.disconnect)
    return conn


def _event_new(ctx: Any, type_name: str | None = "CUSTOM", subclass: str | None = None) -> Any:
    return _lib().ESLevent(type_name or "CUSTOM", subclass)


def _fwd(name: str) -> Any:
    def call(o: Any, *a: Any) -> Any:
        while a and a[-1] is None:
            a = a[:-1]
        return getattr(o, name)(*a)

    call.__name__ = name
    return call


def _m(name: str, params: list[Any], required: int | None = None, returns: str | None = None) -> Method:
    return Method(name, _fwd(name), params, required=required, returns=returns)


register_class(ClassSpec(
    "ESLevent",
    ctor=Method("ESLevent", _event_new, [S, S], required=0),
    methods=[
        _m("serialize", [S], 0), _m("setPriority", [S], 0), _m("getHeader", [S, Arg("i")], 1),
        _m("getBody", []), _m("getType", []), _m("addBody", [S]), _m("addHeader", [S, S]),
        _m("pushHeader", [S, S]), _m("unshiftHeader", [S, S]), _m("delHeader", [S]),
        _m("firstHeader", []), _m("nextHeader", []),
    ],
    module="ESL",
))

register_class(ClassSpec(
    "ESLconnection",
    ctor=Method("ESLconnection", _conn_new, [Arg("any"), Arg("any"), S, S], required=1),
    methods=[
        _m("connected", []), _m("socketDescriptor", []),
        _m("getInfo", [], returns="ESLevent"), _m("send", [S]),
        _m("sendRecv", [S], returns="ESLevent"), _m("api", [S, S], 1, "ESLevent"),
        _m("bgapi", [S, S, S], 1, "ESLevent"), _m("sendEvent", [EV], returns="ESLevent"),
        _m("sendMSG", [EV, S], 1, "ESLevent"), _m("recvEvent", [], returns="ESLevent"),
        _m("recvEventTimed", [Arg("i")], returns="ESLevent"),
        _m("filter", [S, S], returns="ESLevent"), _m("events", [S, S], returns="ESLevent"),
        _m("execute", [S, S, S], 1, "ESLevent"), _m("executeAsync", [S, S, S], 1, "ESLevent"),
        _m("setAsyncExecute", [S]), _m("setEventLock", [S]), _m("disconnect", []),
    ],
    module="ESL",
))
