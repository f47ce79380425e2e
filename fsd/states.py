"""Channel states and call states (behaviour reference §16).

``ChannelState`` is a ``StrEnum``: a member *is* its FreeSWITCH name (``"CS_PARK"``), so it
prints, compares and serialises into event headers and ``show channels`` exactly as the
plain strings did; ``.number`` is FreeSWITCH's ``switch_channel_state_t`` value.
"""

from __future__ import annotations

from enum import StrEnum


class ChannelState(StrEnum):
    CS_NEW = "CS_NEW"
    CS_INIT = "CS_INIT"
    CS_ROUTING = "CS_ROUTING"
    CS_SOFT_EXECUTE = "CS_SOFT_EXECUTE"
    CS_EXECUTE = "CS_EXECUTE"
    CS_EXCHANGE_MEDIA = "CS_EXCHANGE_MEDIA"
    CS_PARK = "CS_PARK"
    CS_CONSUME_MEDIA = "CS_CONSUME_MEDIA"
    CS_HIBERNATE = "CS_HIBERNATE"
    CS_RESET = "CS_RESET"
    CS_HANGUP = "CS_HANGUP"
    CS_REPORTING = "CS_REPORTING"
    CS_DESTROY = "CS_DESTROY"
    CS_NONE = "CS_NONE"

    @property
    def number(self) -> int:
        """The numeric value FreeSWITCH uses (``Channel-State-Number``)."""
        return _NUMBERS[self]


_NUMBERS = {s: i for i, s in enumerate(ChannelState)}

CS = ChannelState
#: Names in numeric order and name → number (kept for code that works with plain strings).
STATES = [s.value for s in ChannelState]
STATE_NUM = {s.value: i for i, s in enumerate(ChannelState)}
CALLSTATES = ["DOWN", "DIALING", "RINGING", "EARLY", "ACTIVE", "HELD", "RING_WAIT", "HANGUP", "UNHELD"]

#: States the session thread sits in, servicing queued messages, until told otherwise.
WAITING_STATES = frozenset({CS.CS_SOFT_EXECUTE, CS.CS_PARK, CS.CS_CONSUME_MEDIA,
                            CS.CS_EXCHANGE_MEDIA, CS.CS_HIBERNATE})
#: The end of every channel, entered in this order, each exactly once.
TEARDOWN = (CS.CS_HANGUP, CS.CS_REPORTING, CS.CS_DESTROY)
