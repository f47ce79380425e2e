"""``freeswitch.Event`` for Lua: the binding of :class:`fsd.scripting.event.ScriptEvent`
(behaviour reference §5); the semantics live there."""

from __future__ import annotations

from fsd.scripting.event import ScriptEvent, new_event

from . import register_class
from .spec import Arg, ClassSpec, Method, args

LuaEvent = ScriptEvent  # the name the other bindings use

_GETTERS = {
    "serialized_string": lambda o: o.serialized,
    "mine": lambda o: 1 if o.mine else 0,
}


register_class(
    ClassSpec(
        "Event",
        ctor=Method("Event", new_event, args(Arg("s", "char const *"), Arg("s", "char const *")),
                    required=1),
        methods=[
            Method("addHeader", ScriptEvent.addHeader, args("s", "s")),
            Method("getHeader", ScriptEvent.getHeader, args("s")),
            Method("delHeader", ScriptEvent.delHeader, args("s")),
            Method("addBody", ScriptEvent.addBody, args("s")),
            Method("getBody", ScriptEvent.getBody, []),
            Method("getType", ScriptEvent.getType, []),
            Method("serialize", ScriptEvent.serialize, args("s"), required=0),
            Method("fire", ScriptEvent.fire, []),
            Method("setPriority", ScriptEvent.setPriority, args(Arg("o:switch_priority_t", "switch_priority_t")),
                   required=0),
            Method("merge", ScriptEvent.merge, args("o:Event")),
            Method("chat_execute", ScriptEvent.chat_execute, args("s", "s"), required=1),
            Method("chat_send", ScriptEvent.chat_send, args("s"), required=0),
        ],
        getters=_GETTERS,
    ),
    # core events handed to a script (env, event, params, message) are not its own
    adopt=lambda ctx, ev: ev if isinstance(ev, ScriptEvent) else ScriptEvent(ctx, ev, False),
)
