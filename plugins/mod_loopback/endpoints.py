"""The loopback pair, the null channel and the error endpoint.

``loopback/<exten>[/<context>[/<dialplan>]]`` makes two channels: ``-a`` is the outbound leg
handed to whoever originated, ``-b`` is an inbound leg routed through the dialplan.  Answer,
early media, ringing, DTMF, audio and hangup pass from one to the other, as mod_loopback does.
``null/<anything>`` answers at once (``null_enable_auto_answer``, ``null_auto_answer_delay``,
``null_pre_answer``, ``null_hangup_cause`` or ``null/cause-<CAUSE>`` as in FreeSWITCH),
swallows audio and produces silence.  ``error/<cause>`` fails with that cause.
"""

from __future__ import annotations

import threading
from typing import Any

from fsd import causes
from fsd.originate import OutgoingRequest
from fsd.session import Endpoint, Session, SessionError
from fsd.truth import is_true


class LoopbackTech(Endpoint):
    """Links the two legs of a loopback pair."""

    def __init__(self, leg: str) -> None:
        self.leg = leg  # "A" (outbound, returned to the originator) or "B" (routed)
        self.other: Session | None = None

    def on_answer(self, session: Session) -> None:
        if self.leg == "B" and self.other is not None:
            self.other.answer()

    def on_pre_answer(self, session: Session) -> None:
        if self.leg == "B" and self.other is not None:
            self.other.pre_answer()

    def on_ring_ready(self, session: Session) -> None:
        if self.leg == "B" and self.other is not None:
            self.other.ring_ready()

    def on_hangup(self, session: Session, cause: str) -> None:
        other = self.other
        if other is not None and other.up():
            other.hangup(cause)

    def send_dtmf(self, session: Session, digits: str, duration_ms: int) -> None:
        if self.other is not None:
            self.other.queue_dtmf(digits, duration_ms, source="ENDPOINT")


def _split_destination(dest: str) -> tuple[str, str, str, tuple[str, str] | None]:
    app = None
    if dest.lower().startswith("app="):
        body = dest[4:]
        name, _, arg = body.partition(":")
        app = (name, arg)
        dest = name
    exten, _, rest = dest.partition("/")
    context, _, dialplan = rest.partition("/")
    return exten, context or "default", dialplan or "XML", app


def loopback_outgoing(req: OutgoingRequest) -> Session:
    sw = req.switch
    exten, context, dialplan, app = _split_destination(req.destination)
    if not exten:
        raise SessionError("INVALID_NUMBER_FORMAT", "loopback needs an extension")
    orig = req.originator
    if orig is not None and not is_true(orig.get_variable("loopback_no_pre_answer")):
        orig.pre_answer()
    tech_a, tech_b = LoopbackTech("A"), LoopbackTech("B")
    prof_a = req.profile.clone(destination_number=exten, context=context, dialplan=dialplan,
                               source="mod_loopback")
    a = Session.create(sw, name=f"loopback/{exten}-a", direction="outbound", profile=prof_a,
                       tech=tech_a, variables=req.variables, endpoint_name="loopback",
                       uuid=req.variables.get("origination_uuid"))
    prof_b = prof_a.clone(direction="inbound", logical_direction="inbound", uuid="",
                          chan_name="", callee_id_name="", callee_id_number="")
    b_vars = {k: v for k, v in req.variables.items() if k != "origination_uuid"}
    try:
        b = Session.create(sw, name=f"loopback/{exten}-b", direction="inbound", profile=prof_b,
                           tech=tech_b, variables=b_vars, endpoint_name="loopback")
    except SessionError:
        a.hangup("DESTINATION_OUT_OF_ORDER")
        raise
    tech_a.other, tech_b.other = b, a
    for s, leg, other in ((a, "A", b), (b, "B", a)):
        s.set_variable("loopback_leg", leg)
        s.set_variable("is_loopback", "1")
        s.set_variable("other_loopback_leg_uuid", other.uuid)
    if orig is not None:
        a.set_variable("loopback_from_uuid", orig.uuid)
        b.set_variable("other_loopback_from_uuid", orig.uuid)
    link = getattr(sw, "link_media", None)
    if link is not None:
        link(a, b)
    a.start("CS_CONSUME_MEDIA")
    if app is not None:
        b.set_variable("loopback_app", app[0])
        if app[1]:
            b.set_variable("loopback_app_arg", app[1])
        b.extension = [app]
        b.start("CS_EXECUTE")
    else:
        b.start("CS_ROUTING")
    return a


class NullTech(Endpoint):
    def send_dtmf(self, session: Session, digits: str, duration_ms: int) -> None:
        session.set_variable("null_channel_dtmf_queued",
                             (session.get_variable("null_channel_dtmf_queued") or "") + digits)


def null_outgoing(req: OutgoingRequest) -> Session:
    v = req.variables
    cause = v.get("null_hangup_cause")
    if cause or req.destination.startswith("cause-"):
        raise SessionError(causes.str2cause(cause or req.destination[6:]))
    orig = req.originator
    if orig is not None and not is_true(orig.get_variable("null_no_pre_answer")):
        orig.pre_answer()
    prof = req.profile.clone(source="mod_null")
    s = Session.create(req.switch, name=f"null/{req.destination}", direction="outbound",
                       profile=prof, tech=NullTech(), variables=v, endpoint_name="null",
                       uuid=v.get("origination_uuid"))
    s.start("CS_CONSUME_MEDIA")
    if is_true(v.get("null_pre_answer")):
        s.pre_answer()
    auto = v.get("null_enable_auto_answer")
    if auto is None or is_true(auto):
        try:
            delay = max(0, min(60000, int(v.get("null_auto_answer_delay") or 0)))
        except ValueError:
            delay = 0
        if delay:
            t = threading.Timer(delay / 1000.0, lambda: s.up() and s.answer())
            t.daemon = True
            t.start()
        else:
            # Answer from the channel's own thread, as FreeSWITCH's null channel does in
            # CS_CONSUME_MEDIA (so CHANNEL_OUTGOING comes before CHANNEL_ANSWER).
            s.queue_message(lambda: s.up() and s.answer())
    return s


def error_outgoing(req: OutgoingRequest) -> Any:
    raise SessionError(causes.str2cause(req.destination or "NORMAL_CLEARING"))
