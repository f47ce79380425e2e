"""``freeswitch.EventConsumer`` for Lua: the binding of
:class:`fsd.scripting.consumer.ScriptConsumer` (behaviour reference §6, fsd's filters)."""

from __future__ import annotations

from fsd.scripting.consumer import ScriptConsumer, new_consumer

from . import register_class
from .spec import Arg, ClassSpec, Method, args

register_class(ClassSpec(
    "EventConsumer",
    ctor=Method("EventConsumer", new_consumer,
                args(Arg("s", "char const *"), Arg("s", "char const *"), "i"), required=0),
    methods=[
        Method("bind", ScriptConsumer.bind, args("s", "s"), required=1),
        Method("pop", ScriptConsumer.pop, args("i", "i"), required=0, returns="Event"),
        Method("cleanup", ScriptConsumer.cleanup, []),
        Method("filter", ScriptConsumer.filter, args("s", "s")),
        Method("filter_delete", ScriptConsumer.filter_delete, args("s", "s"), required=1),
    ],
    gc=ScriptConsumer.cleanup,
))
