"""fsd's event system: Event objects, their FreeSWITCH text forms, and the event bus.

Firing never blocks; each subscriber has a bounded queue and what it cannot take is
counted as dropped.  See docs in each submodule.
"""

from .bus import Binding, EventBus, Subscriber
from .event import Event
from .identity import get_identity, set_identity
from .names import EVENT_NAMES, event_id, event_name
from .urlencode import url_decode, url_encode

__all__ = [
    "Binding",
    "EVENT_NAMES",
    "Event",
    "EventBus",
    "Subscriber",
    "event_id",
    "event_name",
    "get_identity",
    "set_identity",
    "url_decode",
    "url_encode",
]
