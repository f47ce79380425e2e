"""``freeswitch.bridge`` and ``freeswitch.email`` for Lua; the functions are
:mod:`fsd.scripting.calls`."""

from __future__ import annotations

from fsd.scripting.calls import bridge, email

from . import register_function
from .spec import Arg, Method

S = Arg("s", "char *")

register_function(Method("bridge", bridge, [Arg("o:Session", "CoreSession &"),
                                            Arg("o:Session", "CoreSession &")]))
register_function(Method("email", email, [S, S, S, S, S, S, S], required=2))
