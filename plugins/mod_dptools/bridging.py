"""Bridging two channels: events, variables, media, and who hangs up when it ends."""

from __future__ import annotations

from fsd.caller_profile import now_us
from fsd.log import INFO
from fsd.session import Session


def _link(a: Session, b: Session) -> None:
    a.peer, b.peer = b, a
    a.set_variable("bridge_to", b.uuid)
    b.set_variable("bridge_to", a.uuid)
    a.set_variable("signal_bond", b.uuid)
    b.set_variable("signal_bond", a.uuid)
    a.set_variable("last_bridge_to", b.uuid)
    b.set_variable("last_bridge_to", a.uuid)
    a.originatee_profile = a.originatee_profile or b.caller_profile
    b.originator_profile = b.originator_profile or a.caller_profile
    a.caller_profile.bridged_time = b.caller_profile.bridged_time = now_us()
    media_bridge = getattr(a.switch, "bridge_media", None)
    if media_bridge is not None:
        media_bridge(a, b)


def _unlink(a: Session, b: Session) -> None:
    media_unbridge = getattr(a.switch, "unbridge_media", None)
    if media_unbridge is not None:
        media_unbridge(a, b)
    if a.peer is b:
        a.peer = None
    if b.peer is a:
        b.peer = None


def bridge_sessions(a: Session, b: Session, own_b_leg: bool = False) -> str:
    """Bridge ``a`` (the calling thread's session) to ``b`` until one side leaves.
    Returns the cause that ended it.  ``own_b_leg``: ``b`` was originated for this bridge
    and is hung up when ``a`` leaves."""
    if not b.up() or not a.up():
        return b.hangup_cause or a.hangup_cause or "NORMAL_CLEARING"
    # Early media from B is early media on A; A is answered when B answers (FreeSWITCH
    # passes B's progress through and answers the caller only on B's answer).
    if b.answered():
        a.answer()
    elif not a.answered():
        a.pre_answer()
    a._run_on_hooks("pre_bridge")
    b._run_on_hooks("pre_bridge")
    b.set_state("CS_EXCHANGE_MEDIA")
    a.set_state("CS_EXCHANGE_MEDIA")
    a._set_state("CS_EXCHANGE_MEDIA")
    _link(a, b)
    ev = a.new_event("CHANNEL_BRIDGE")
    ev.add_header("Bridge-A-Unique-ID", a.uuid)
    ev.add_header("Bridge-B-Unique-ID", b.uuid)
    a.switch.events.fire(ev)
    a.log(INFO, f"Channel [{a.name}] bridged to [{b.name}]")
    a.clear_break()

    def over() -> bool:
        return not b.up() or b.peer is not a or a.state != "CS_EXCHANGE_MEDIA"

    # B's answer and hangup wake A (Session.answer/hangup wake the peer).
    while not over() and a.up():
        if b.answered() and not a.answered():
            a.answer()
        if not a.wait_for(lambda: over() or (b.answered() and not a.answered()), None):
            break  # interrupted: hangup, transfer or uuid_break of A
    _unlink(a, b)
    ev = a.new_event("CHANNEL_UNBRIDGE")
    ev.add_header("Bridge-A-Unique-ID", a.uuid)
    ev.add_header("Bridge-B-Unique-ID", b.uuid)
    a.switch.events.fire(ev)
    cause = b.hangup_cause or "NORMAL_CLEARING"
    for s in (a, b):
        if s.up():
            s._run_on_hooks("post_bridge")
    a.set_variable("bridge_hangup_cause", cause)
    a.set_variable("last_bridge_hangup_cause", cause)
    if b.hangup_cause and b.variables.get("last_bridge_proto_specific_hangup_cause"):
        a.set_variable("last_bridge_proto_specific_hangup_cause",
                       b.variables["last_bridge_proto_specific_hangup_cause"])
    if not a.up():
        if own_b_leg and b.up():
            b.hangup(a.hangup_cause or "NORMAL_CLEARING")
        return a.hangup_cause or cause
    if not b.up():
        if a.var_true("hangup_after_bridge"):
            a.hangup(cause if cause != "NORMAL_CLEARING" else "NORMAL_CLEARING")
        elif a.state == "CS_EXCHANGE_MEDIA":
            a.state = "CS_EXECUTE"
            a._set_state("CS_EXECUTE")
        return cause
    # The bridge was broken on purpose (transfer, uuid_break): the other side goes on.
    if a.state == "CS_EXCHANGE_MEDIA":
        a.state = "CS_EXECUTE"
        a._set_state("CS_EXECUTE")
    if b.state == "CS_EXCHANGE_MEDIA" and b.up():
        if own_b_leg and b.var_true("hangup_after_bridge"):
            b.hangup("NORMAL_CLEARING")
        else:
            b.set_state("CS_PARK")
    return "NORMAL_CLEARING"
