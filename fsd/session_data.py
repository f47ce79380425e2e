"""A session's channel data: the event headers FreeSWITCH's switch_channel_event_set_data
adds, the hangup-hook ``env``, and the ``show channels`` row (mixed into Session)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from fsd.events import Event
from fsd.states import CS

if TYPE_CHECKING:  # pragma: no cover
    from fsd.session import Session


class ChannelData:
    """Mixin for :class:`fsd.session.Session`."""

    # -- events -------------------------------------------------------------------------
    def new_event(self, name: str, subclass: str | None = None) -> Event:
        ev = Event(name, subclass, calling_file="switch_channel.c", calling_func="switch_channel_event",
                   calling_line=0)
        self.event_data(ev)
        return ev

    def fire(self, name: str) -> None:
        self.switch.events.fire(self.new_event(name))

    def answer_state(self) -> str:
        if self.running_state.number >= CS.CS_HANGUP.number or self.hangup_cause:
            return "hangup"
        if self._answered:
            return "answered"
        if self._early:
            return "early"
        return "ringing"

    def basic_event_data(self, ev: Event) -> None:
        ev.add_header("Channel-State", self.running_state)
        ev.add_header("Channel-Call-State", self.callstate)
        ev.add_header("Channel-State-Number", str(self.state.number))
        ev.add_header("Channel-Name", self.name)
        ev.add_header("Unique-ID", self.uuid)
        ev.add_header("Call-Direction", self.direction)
        ev.add_header("Presence-Call-Direction", self.direction)
        ev.add_header("Channel-HIT-Dialplan", "true" if self.hit_dialplan else "false")
        if self.variables.get("presence_id"):
            ev.add_header("Channel-Presence-ID", self.variables["presence_id"])
        ev.add_header("Channel-Call-UUID", self.variables.get("call_uuid", self.uuid))
        ev.add_header("Answer-State", self.answer_state())
        if self.hangup_cause:
            ev.add_header("Hangup-Cause", self.hangup_cause)
        codec = getattr(self.media, "codec_name", None) or "L16"
        rate = str(getattr(self.media, "rate", 8000))
        ev.add_header("Channel-Read-Codec-Name", codec)
        ev.add_header("Channel-Read-Codec-Rate", rate)
        ev.add_header("Channel-Read-Codec-Bit-Rate", str(int(rate) * 16 if codec == "L16" else 64000))
        ev.add_header("Channel-Write-Codec-Name", codec)
        ev.add_header("Channel-Write-Codec-Rate", rate)
        ev.add_header("Channel-Write-Codec-Bit-Rate", str(int(rate) * 16 if codec == "L16" else 64000))

    def event_data(self, ev: Event, prefix: str = "Caller") -> None:
        """switch_channel_event_set_data: basic data, caller profile, other leg, variables."""
        self.basic_event_data(ev)
        self.caller_profile.add_headers(ev, prefix)
        other = self.originatee_profile or self.originator_profile
        if other is not None:
            ev.add_header("Other-Type", "originatee" if self.originatee_profile else "originator")
            other.add_headers(ev, "Other-Leg")
        with self.lock:
            items = list(self.variables.items())
        for k, v in items:
            ev.add_header(f"variable_{k}", v)

    def caller_profile_headers(self, ev: Event, prefix: str = "Channel") -> None:
        self.caller_profile.add_headers(ev, prefix)

    def env_event(self) -> Event:
        """The hangup-hook ``env``: all variables plain, then the channel data; no
        standard headers; unique header names (behaviour reference §1.3)."""
        ev = Event("CHANNEL_DATA", standard_headers=False)
        with self.lock:
            items = list(self.variables.items())
        for k, v in items:
            ev.add_header(k, v)
        self.event_data(ev)
        return ev

    # -- bridge helpers --------------------------------------------------------------------
    def bridged_peer(self) -> Session | None:
        return self.peer

    def bridged(self) -> bool:
        return self.peer is not None and self.up()

    def show_row(self) -> dict[str, str]:
        p = self.caller_profile
        first = self.profiles[0]
        return {
            "uuid": self.uuid, "direction": self.direction,
            "created": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.created_epoch)),
            "created_epoch": str(self.created_epoch), "name": self.name,
            "state": self.running_state, "cid_name": p.caller_id_name, "cid_num": p.caller_id_number,
            "ip_addr": p.network_addr, "dest": p.destination_number,
            "application": self.variables.get("current_application", ""),
            "application_data": self.variables.get("current_application_data", ""),
            "dialplan": p.dialplan, "context": p.context,
            "read_codec": getattr(self.media, "codec_name", "L16") if self.media else "",
            "read_rate": str(getattr(self.media, "rate", 8000)) if self.media else "",
            "read_bit_rate": "", "write_codec": getattr(self.media, "codec_name", "L16") if self.media else "",
            "write_rate": str(getattr(self.media, "rate", 8000)) if self.media else "", "write_bit_rate": "",
            "secure": "", "hostname": self.switch.hostname,
            "presence_id": self.variables.get("presence_id", ""),
            "presence_data": self.variables.get("presence_data", ""),
            "accountcode": self.variables.get("accountcode", ""), "callstate": self.callstate,
            "callee_name": p.callee_id_name, "callee_num": p.callee_id_number,
            "callee_direction": "", "call_uuid": self.variables.get("call_uuid", self.uuid),
            "sent_callee_name": "", "sent_callee_num": "",
            "initial_cid_name": first.caller_id_name, "initial_cid_num": first.caller_id_number,
            "initial_ip_addr": first.network_addr, "initial_dest": first.destination_number,
            "initial_dialplan": first.dialplan, "initial_context": first.context,
        }

