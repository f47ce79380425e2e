"""Applications built on the core's bridge (Session.bridge_to / request_bridge):
``intercept``, ``eavesdrop`` (listen only) and ``att_xfer`` (mod_dptools.c,
switch_ivr_bridge.c / switch_ivr_async.c).

``three_way`` and ``displace_session`` need the media engine to mix into a channel's
output, which it cannot yet (docs/compat.md)."""

from __future__ import annotations

from typing import Any

import numpy as np

from fsd.log import ERR, INFO, WARNING
from fsd.media.sources import Source


def _ringing_partner(session: Any) -> Any:
    """The channel ``session`` is bridged to, or the leg it is still ringing."""
    if session.peer is not None:
        return session.peer
    for s in list(session.switch.sessions.values()):
        if s.get_variable("originator") == session.uuid and s.up():
            return s
    # a bridge just broken (to run this application) leaves its partner in signal_bond
    other = session.switch.sessions.get(session.get_variable("signal_bond") or "")
    return other if other is not None and other.up() and other is not session else None


def intercept(session: Any, data: str) -> None:
    """``intercept [-bleg] <uuid>``: answer, take over ``uuid`` (answering it if it was
    not), hang up the leg it was talking to or ringing with PICKED_OFF, bridge to it."""
    words = (data or "").split()
    bleg = bool(words) and words[0] == "-bleg"
    uuid = words[1] if bleg and len(words) > 1 else (words[0] if words else "")
    sw = session.switch
    target = sw.sessions.get(uuid)
    if target is not None and bleg:
        target = _ringing_partner(target)
    if target is None or target is session:
        session.log(ERR, f"intercept: no channel {uuid}\n")
        return
    other = _ringing_partner(target)
    if other is session:
        other = None
    if session.var_true("intercept_unbridged_only") and target.peer is not None:
        return
    if session.var_true("intercept_unanswered_only") and target.answered():
        return
    session.answer()
    if not target.answered():
        target.answer()
    if other is not None:
        other.set_variable("park_after_bridge", "true")
    target.set_variable("intercepted", "true")
    session.set_variable("intercepted_uuid", target.uuid)
    if other is not None:
        # FreeSWITCH parks the intercepted channel first, so its own bridge attempt ends
        # without hanging it up: here its bridge application is told to carry on
        target.set_variable("continue_on_fail", "true")
        target.set_variable("hangup_after_bridge", "false")
        target.unbridge()
        other.hangup("PICKED_OFF")
    target.break_()
    target.set_state("CS_PARK")
    session.log(INFO, f"intercepting {target.name}\n")
    session.bridge_to(target)


class LiveMix(Source):
    """What a channel hears and says, mixed, one frame per clock tick (eavesdrop)."""

    in_memory = True  # read by the clock, never from disk

    def __init__(self, target: Any, rate: int) -> None:
        self.target = target
        self.rate = rate
        self.name = f"eavesdrop://{target.uuid}"

    def read(self, n: int) -> np.ndarray:
        t = self.target
        port = getattr(t, "media", None)
        if port is None or port.closed or not t.up():
            return np.zeros(0, dtype=np.int16)
        a = port.last_read
        b = port.last_write
        m = min(len(a), len(b))
        mixed = np.clip(a[:m].astype(np.int32) + b[:m].astype(np.int32), -32768, 32767)
        out = mixed.astype(np.int16)
        if len(out) != n:
            if len(out) == 0:
                return np.zeros(n, dtype=np.int16)
            idx = np.linspace(0, len(out) - 1, n)
            out = np.interp(idx, np.arange(len(out)), out).astype(np.int16)
        return out


def eavesdrop(session: Any, data: str) -> None:
    """``eavesdrop <uuid>``: hear both sides of another call until it (or we) hang up."""
    uuid = (data or "").strip()
    target = session.switch.sessions.get(uuid)
    if uuid == "all" or target is None or target is session:
        session.log(ERR, f"eavesdrop: no channel {uuid}\n" if uuid != "all" else
                    "eavesdrop all: not supported by fsd\n")
        session.set_variable("eavesdrop_status", "failed")
        return
    port = getattr(session, "media", None)
    if port is None or getattr(target, "media", None) is None:
        session.log(WARNING, "eavesdrop needs media on both channels\n")
        return
    session.answer()
    session.set_variable("eavesdrop_target_uuid", uuid)
    port.play(LiveMix(target, port.rate), terminators="")
    session.set_variable("eavesdrop_status", "done")


def att_xfer(session: Any, data: str) -> None:
    """``att_xfer <dial string>``: call the target while the party we talk to waits; if
    we hang up once the target answered, the two are bridged; if the target hangs up or
    does not answer, we are bridged back to the party."""
    from fsd.originate import originate

    party = _ringing_partner(session)
    dial = (data or "").strip()
    if not dial:
        session.log(ERR, "att_xfer: no destination\n")
        return
    if party is not None:
        party.unbridge()
        party.set_variable("park_after_bridge", "true")
    try:
        res = originate(session.switch, dial, originator=session)
    except Exception as e:  # noqa: BLE001 - the failure is the transfer's result
        session.log(ERR, f"att_xfer: {e}\n")
        res = None
    leg = getattr(res, "session", res) if res is not None else None
    if leg is None or not getattr(leg, "up", lambda: False)():
        session.set_variable("att_xfer_result", "failure")
        if party is not None and party.up():
            session.bridge_to(party)
        return
    session.set_variable("att_xfer_result", "success")
    session.set_variable("att_xfer_destination_uuid", leg.uuid)
    session.bridge_to(leg, own_other=False)
    if not session.up():
        if party is not None and party.up() and leg.up():
            party.request_bridge(leg)
        return
    if party is not None and party.up():
        if leg.up():
            leg.hangup("NORMAL_CLEARING")
        session.bridge_to(party)


def declare(module: Any) -> None:
    add = module.add_application
    add("intercept", intercept, "intercept", "[-bleg] <uuid>")
    add("eavesdrop", eavesdrop, "eavesdrop on a uuid", "[all | <uuid>]")
    add("att_xfer", att_xfer, "Attended Transfer", "<channel_url>")
