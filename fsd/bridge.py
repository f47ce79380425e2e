"""Bridging two channels (core call control): events, variables, media, and who hangs up
when it ends.  Modules reach this through ``Session.bridge_to`` / ``request_bridge`` /
``unbridge``; only the core links channels (``Session._peer``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fsd.caller_profile import now_us
from fsd.log import INFO, WARNING
from fsd.states import CS

if TYPE_CHECKING:  # pragma: no cover
    from fsd.session import Session


def _link(a: Session, b: Session) -> bool:
    """Point ``a`` and ``b`` at each other (lock order: by uuid, so two bridges of the same
    pair cannot deadlock).  False when either is gone or already bridged elsewhere."""
    first, second = sorted((a, b), key=lambda s: s.uuid)
    with first.cond, second.cond:
        if a.hangup_cause is not None or b.hangup_cause is not None:
            return False
        if a._peer not in (None, b) or b._peer not in (None, a):
            return False
        a._peer, b._peer = b, a
    for x, y in ((a, b), (b, a)):
        x.set_variable("bridge_to", y.uuid)
        x.set_variable("signal_bond", y.uuid)
        x.set_variable("last_bridge_to", y.uuid)
    a.originatee_profile = a.originatee_profile or b.caller_profile
    b.originator_profile = b.originator_profile or a.caller_profile
    a.caller_profile.bridged_time = b.caller_profile.bridged_time = now_us()
    media_bridge = getattr(a.switch, "bridge_media", None)
    if media_bridge is not None:
        media_bridge(a, b)
    return True


def _unlink(a: Session, b: Session) -> None:
    media_unbridge = getattr(a.switch, "unbridge_media", None)
    if media_unbridge is not None:
        media_unbridge(a, b)
    first, second = sorted((a, b), key=lambda s: s.uuid)
    with first.cond, second.cond:
        if a._peer is b:
            a._peer = None
        if b._peer is a:
            b._peer = None
    a.wake()
    b.wake()


def unbridge(s: Session) -> bool:
    """Break ``s``'s bridge (both sides go on); the thread running the bridge cleans up."""
    with s.cond:
        peer = s._peer
    if peer is None:
        return False
    first, second = sorted((s, peer), key=lambda x: x.uuid)
    with first.cond, second.cond:
        if s._peer is peer:
            s._peer = None
        if peer._peer is s:
            peer._peer = None
    s.wake()
    peer.wake()
    return True


def bridge(a: Session, b: Session, own_b_leg: bool = False) -> str:
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
    b.set_state(CS.CS_EXCHANGE_MEDIA)
    if not a.enter_state(CS.CS_EXCHANGE_MEDIA) or not _link(a, b):
        # A was hung up or transferred meanwhile, or one side is bridged elsewhere.
        if own_b_leg and b.up():
            b.hangup(a.hangup_cause or "NORMAL_CLEARING")
        elif b._state is CS.CS_EXCHANGE_MEDIA and b._peer is None:
            b.set_state(CS.CS_PARK)
        return b.hangup_cause or a.hangup_cause or "NORMAL_CLEARING"
    ev = a.new_event("CHANNEL_BRIDGE")
    ev.add_header("Bridge-A-Unique-ID", a.uuid)
    ev.add_header("Bridge-B-Unique-ID", b.uuid)
    a.switch.events.fire(ev)
    a.log(INFO, f"Channel [{a.name}] bridged to [{b.name}]")
    a.clear_break()

    def over() -> bool:
        return (not b.up() or b._peer is not a or a._peer is not b
                or a._state is not CS.CS_EXCHANGE_MEDIA)

    # B's answer and hangup wake A (Session.answer/hangup wake the peer), and so does a
    # digit arriving on either leg: DTMF is passed to the other leg, as FreeSWITCH's
    # bridge does, unless bridge_filter_dtmf is set on the leg it arrived on.
    def digits_waiting() -> bool:
        return a.has_dtmf() or b.has_dtmf()

    while not over() and a.up():
        if b.answered() and not a.answered():
            a.answer()
        _pass_dtmf(a, b)
        _pass_dtmf(b, a)
        if not a.wait_for(lambda: over() or digits_waiting()
                          or (b.answered() and not a.answered()), None):
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
            a.hangup(cause)
        elif a._state is CS.CS_EXCHANGE_MEDIA:
            a.enter_state(CS.CS_EXECUTE)
        return cause
    # The bridge was broken on purpose (transfer, uuid_break): the other side goes on.
    if a._state is CS.CS_EXCHANGE_MEDIA:
        a.enter_state(CS.CS_EXECUTE)
    if b._state is CS.CS_EXCHANGE_MEDIA and b.up():
        if own_b_leg and b.var_true("hangup_after_bridge"):
            b.hangup("NORMAL_CLEARING")
        else:
            b.set_state(CS.CS_PARK)
    return "NORMAL_CLEARING"


def _pass_dtmf(src: Session, dst: Session) -> None:
    """Send the digits waiting on ``src`` out of ``dst`` (or drop them when ``src`` has
    bridge_filter_dtmf set, as FreeSWITCH does)."""
    while True:
        got = src.pop_dtmf()
        if got is None:
            return
        if src.var_true("bridge_filter_dtmf"):
            continue
        digit, duration = got
        if src.media is not None:
            duration //= 8  # the media port counts samples at 8 kHz, send_dtmf takes ms
        try:
            dst.send_dtmf(digit, duration)
        except Exception as e:  # an endpoint that cannot send must not end the bridge
            src.log(WARNING, f"DTMF {digit} not passed to [{dst.name}]: {e}")


def request_bridge(a: Session, b: Session) -> None:
    """``uuid_bridge``: from any thread, have ``a``'s thread bridge it to ``b``."""
    def run() -> None:
        bridge(a, b)

    for s in (a, b):
        s.break_()
    a.queue_message(run, priority=True)
    if a.state not in (CS.CS_PARK, CS.CS_SOFT_EXECUTE, CS.CS_CONSUME_MEDIA, CS.CS_EXECUTE):
        a.set_state(CS.CS_PARK)
    b.set_state(CS.CS_EXCHANGE_MEDIA)
