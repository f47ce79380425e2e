"""``freeswitch.API`` for Lua: the binding of :class:`fsd.scripting.api.ScriptAPI`."""

from __future__ import annotations

from fsd.scripting.api import ScriptAPI, new_api

from . import register_class
from .spec import Arg, ClassSpec, Method, args

register_class(ClassSpec(
    "API",
    ctor=Method("API", new_api, args(Arg("o:Session", "CoreSession *")), required=0),
    methods=[
        Method("execute", ScriptAPI.execute, args("s", "s"), required=1),
        Method("executeString", ScriptAPI.executeString, args("s")),
        Method("getTime", ScriptAPI.getTime, []),
    ],
))
