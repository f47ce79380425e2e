"""``Event`` (behaviour reference §5) over :class:`fsd.events.Event`, for any language.

A :class:`ScriptEvent` remembers whether the script owns the event (``mine``): events it
created or popped from an EventConsumer can be fired; events handed to it (``env``,
``event``, ``params``, callback events) cannot ("Not My event!").
"""

from __future__ import annotations

from typing import Any

from fsd.events import Event, event_id
from fsd.log import ERR, WARNING, log
from fsd.scripting import held


class ScriptEvent:
    # body_held/hdr_held: large strings this object keeps for the script, counted against
    # its max-memory (fsd.scripting.held) until the object goes
    __slots__ = ("ev", "mine", "ctx", "serialized", "body_held", "hdr_held")

    def __init__(self, ctx: Any, ev: Event | None, mine: bool) -> None:
        self.ctx = ctx
        self.ev = ev
        self.mine = mine
        self.serialized: str | None = None
        self.body_held = 0
        self.hdr_held = 0

    def __del__(self) -> None:
        if self.body_held or self.hdr_held:
            held.release(self.ctx, self.body_held + self.hdr_held)

    def addHeader(o: ScriptEvent, name: str | None, value: str | None) -> bool:
        if o.ev is None:
            _missing("addHeader")
            return False
        if name is None or value is None:
            return False
        big = held.size(value)
        if big:
            held.charge(o.ctx, 0, big)
            o.hdr_held += big
        return o.ev.add_header(name, value)

    def getHeader(o: ScriptEvent, name: str | None) -> str | None:
        if o.ev is None:
            _missing("getHeader")
            return None
        return o.ev.get_header(name)

    def delHeader(o: ScriptEvent, name: str | None) -> bool:
        if o.ev is None:
            _missing("delHeader")
            return False
        return o.ev.del_header(name) if name else False

    def addBody(o: ScriptEvent, text: str | None) -> bool:
        if o.ev is None:
            _missing("addBody")
            return False
        new = held.size(text)
        if new or o.body_held:
            held.charge(o.ctx, o.body_held, new)
            o.body_held = new
        if text is None:
            o.ev.body = None
            return True
        return o.ev.add_body(text)

    def getBody(o: ScriptEvent) -> str | None:
        if o.ev is None:
            _missing("getBody")
            return None
        return o.ev.get_body()

    def getType(o: ScriptEvent) -> str:
        return o.ev.get_type() if o.ev is not None else "invalid"

    def serialize(o: ScriptEvent, fmt: str | None = None) -> str:
        if o.ev is None:
            return ""
        o.serialized = o.ev.serialize(fmt)
        return o.serialized

    def fire(o: ScriptEvent) -> bool:
        if not o.mine:
            log(ERR, "Not My event!\n", uuid=o.ctx.uuid, file="switch_cpp.cpp", func="fire", line=0)
            return False
        if o.ev is None:
            _missing("fire")
            return False
        # a copy-on-write twin goes out, so the script can keep using (and fire again) its
        # object; the bus's dispatch thread builds the delivered copy (Event-Subclass
        # first, as switch_event_dup does) and the standard headers, not this thread
        return o.ctx.host.fire(o.ev._share())

    def setPriority(o: ScriptEvent, priority: Any = None) -> bool:
        if o.ev is None:
            _missing("setPriority")
            return False
        return o.ev.set_priority("NORMAL")

    def merge(o: ScriptEvent, other: ScriptEvent | None) -> bool:
        if o.ev is None or other is None or other.ev is None:
            return False
        return o.ev.merge(other.ev)

    def chat_execute(o: ScriptEvent, app: str | None, data: str | None = None) -> int:
        """Run a chatplan application on this (message) event: 0 on success, 1 otherwise."""
        if o.ev is None or not app:
            return 1
        sw = o.ctx.host.switch
        iface = getattr(sw, "chat_applications", {}).get(app.lower()) if sw is not None else None
        if iface is None:
            log(ERR, f"Invalid chat application {app}\n", uuid=o.ctx.uuid)
            return 1
        try:
            iface.func(o.ev, data or "")
        except Exception as e:  # the application's failure is the script's status, not a crash
            log(ERR, f"chat application {app} failed: {e}\n", uuid=o.ctx.uuid)
            return 1
        return 0

    def chat_send(o: ScriptEvent, proto: str | None = None) -> int:
        """Send the message through the chat interface of ``proto`` (default: the event's
        ``dest_proto``): 0 on success, 1 when there is no such interface."""
        if o.ev is None:
            return 1
        proto = proto or o.ev.get_header("dest_proto") or ""
        sw = o.ctx.host.switch
        chats = getattr(sw, "chat_interfaces", None) or {}
        iface = chats.get(proto.lower()) if proto else None
        if iface is None:
            log(ERR, f"Invalid chat interface [{proto}]\n", uuid=o.ctx.uuid)
            return 1
        try:
            ok = iface.send(o.ev)
        except Exception as e:
            log(ERR, f"chat_send via {proto} failed: {e}\n", uuid=o.ctx.uuid)
            return 1
        return 0 if ok is not False else 1


_CUSTOM = event_id("CUSTOM")
_MESSAGE = event_id("MESSAGE")


def new_event(ctx: Any, type_name: str | None, subclass: str | None = None) -> ScriptEvent:
    if type_name is not None and type_name.lower() == "json" and subclass:
        try:
            ev = Event.from_json(subclass)
        except Exception:
            ev = None
        return ScriptEvent(ctx, ev, True)
    eid = event_id(type_name) if type_name else None
    if eid is None:  # an unknown name silently becomes MESSAGE
        eid = _MESSAGE
    if subclass and eid != _CUSTOM:
        log(WARNING, "Changing event type to custom because you specified a subclass name!\n",
            uuid=ctx.uuid, file="switch_cpp.cpp", func="Event", line=0)
    ev = Event(eid, subclass or None, calling_file="switch_cpp.cpp", calling_func="Event",
               calling_line=315)
    return ScriptEvent(ctx, ev, True)


def _missing(what: str) -> None:
    log(ERR, f"Trying to {what} an event that does not exist!\n", file="switch_cpp.cpp",
        func="Event", line=0)


__all__ = ["ScriptEvent", "new_event"]
