"""A session's channel data: the event headers FreeSWITCH's switch_channel_event_set_data
adds, the hangup-hook ``env``, and the ``show channels`` row (mixed into Session)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from fsd.events import Event
from fsd.events.event import add_rows
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
        add_rows(ev, self.basic_rows())

    def basic_rows(self) -> list[tuple[str, str]]:
        """The rows :meth:`basic_event_data` adds, in order."""
        rows = [
            ("Channel-State", str(self.running_state)),
            ("Channel-Call-State", self.callstate),
            ("Channel-State-Number", str(self.state.number)),
            ("Channel-Name", self.name),
            ("Unique-ID", self.uuid),
            ("Call-Direction", self.direction),
            ("Presence-Call-Direction", self.direction),
            ("Channel-HIT-Dialplan", "true" if self.hit_dialplan else "false"),
        ]
        if self.variables.get("presence_id"):
            rows.append(("Channel-Presence-ID", self.variables["presence_id"]))
        rows.append(("Channel-Call-UUID", self.variables.get("call_uuid", self.uuid)))
        rows.append(("Answer-State", self.answer_state()))
        if self.hangup_cause:
            rows.append(("Hangup-Cause", self.hangup_cause))
        codec = getattr(self.media, "codec_name", None) or "L16"
        rate = str(getattr(self.media, "rate", 8000))
        bit_rate = str(int(rate) * 16 if codec == "L16" else 64000)
        rows += [
            ("Channel-Read-Codec-Name", codec),
            ("Channel-Read-Codec-Rate", rate),
            ("Channel-Read-Codec-Bit-Rate", bit_rate),
            ("Channel-Write-Codec-Name", codec),
            ("Channel-Write-Codec-Rate", rate),
            ("Channel-Write-Codec-Bit-Rate", bit_rate),
        ]
        return rows

    def event_data(self, ev: Event, prefix: str = "Caller") -> None:
        """switch_channel_event_set_data: basic data, caller profile, other leg, variables
        (added in one go: Event.add_headers)."""
        rows = self.basic_rows()
        rows += self.caller_profile.header_rows(prefix)
        other = self.originatee_profile or self.originator_profile
        if other is not None:
            rows.append(("Other-Type", "originatee" if self.originatee_profile else "originator"))
            rows += other.header_rows("Other-Leg")
        with self.lock:
            items = list(self.variables.items())
        rows += [(f"variable_{k}", v) for k, v in items]
        add_rows(ev, rows)

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

