"""``freeswitch.IVRMenu`` for Lua: the binding of :class:`fsd.scripting.menu.ScriptMenu`."""

from __future__ import annotations

from fsd.scripting.menu import ScriptMenu, new_menu

from . import register_class
from .spec import Arg, ClassSpec, Method

S = Arg("s", "char const *")

register_class(ClassSpec(
    "IVRMenu",
    ctor=Method("IVRMenu", new_menu,
                [Arg("o:IVRMenu", "IVRMenu *")] + [S] * 10 + [Arg("i")] * 6),
    methods=[
        Method("bindAction", ScriptMenu.bindAction, [S, S, S]),
        Method("execute", ScriptMenu.execute, [Arg("o:Session", "CoreSession *"), S]),
    ],
))
