"""Originate: the dial-string grammar and placing outbound legs.

Grammar (FreeSWITCH's): ``{a=1,b=2}`` variables for every leg, then targets; ``,`` rings
targets at once (first to answer wins), ``|`` tries groups one after another; each target
may start with ``[x=1]`` for that leg alone.  ``originate_timeout`` (or ``call_timeout``)
bounds the ringing; ``ignore_early_media``, ``continue_on_fail`` and
``originate_disposition`` behave as in FreeSWITCH.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fsd.caller_profile import CallerProfile
from fsd.log import DEBUG, ERR, NOTICE, log
from fsd.session import Session, SessionError
from fsd.truth import is_true

if TYPE_CHECKING:  # pragma: no cover
    from fsd.switch import Switch


class DialStringError(ValueError):
    """A malformed dial string."""


@dataclass
class Target:
    endpoint: str
    rest: str
    variables: dict[str, str] = field(default_factory=dict)
    raw: str = ""


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside {} [] <> and quotes."""
    out, depth, cur, quote = [], 0, [], ""
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "{[<":
            depth += 1
        elif ch in "}]>":
            depth -= 1
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def parse_vars(text: str) -> dict[str, str]:
    """``a=1,b='x,y'`` → dict.  Quotes group; ``^^:`` changes the separator to ``:``."""
    sep = ","
    if text.startswith("^^") and len(text) > 2:
        sep, text = text[2], text[3:]
    out: dict[str, str] = {}
    for part in _split_top(text, sep):
        part = part.strip()
        if not part:
            continue
        k, eq, v = part.partition("=")
        if not eq or not k.strip():
            raise DialStringError(f"invalid variable assignment [{part}]")
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
            v = v[1:-1]
        out[k.strip()] = v
    return out


def _take_block(text: str, open_ch: str, close_ch: str) -> tuple[str | None, str]:
    text = text.lstrip()
    if not text.startswith(open_ch):
        return None, text
    depth = 0
    for i, ch in enumerate(text):
        if ch == open_ch:
            depth += 1
        elif ch == close_ch:
            depth -= 1
            if depth == 0:
                return text[1:i], text[i + 1:]
    raise DialStringError(f"unbalanced {open_ch}{close_ch} in dial string")


def parse_dial_string(dial: str) -> tuple[dict[str, str], list[list[Target]]]:
    """Returns (global variables, groups) where groups are tried in order (``|``) and
    each group's targets ring at once (``,``)."""
    dial = (dial or "").strip()
    if not dial:
        raise DialStringError("empty dial string")
    gvars: dict[str, str] = {}
    while True:
        block, rest = _take_block(dial, "{", "}")
        if block is None:
            block, rest = _take_block(dial, "<", ">")
        if block is None:
            break
        gvars.update(parse_vars(block))
        dial = rest
    groups: list[list[Target]] = []
    for gtext in _split_top(dial, "|"):
        group: list[Target] = []
        for ttext in _split_top(gtext, ","):
            ttext = ttext.strip()
            if not ttext:
                continue
            lvars: dict[str, str] = {}
            block, rest = _take_block(ttext, "[", "]")
            if block is not None:
                lvars = parse_vars(block)
                ttext = rest.strip()
            ep, slash, rest = ttext.partition("/")
            if not slash or not ep:
                raise DialStringError(f"invalid dial target [{ttext}] (expected endpoint/destination)")
            group.append(Target(ep.lower(), rest, lvars, ttext))
        if group:
            groups.append(group)
    if not groups:
        raise DialStringError("no targets in dial string")
    return gvars, groups


@dataclass
class OutgoingRequest:
    """What an endpoint's ``outgoing`` receives for one target."""

    switch: Switch
    destination: str
    variables: dict[str, str]
    originator: Session | None
    profile: CallerProfile


@dataclass
class OriginateResult:
    session: Session | None
    cause: str
    legs: list[Session] = field(default_factory=list)


def _outbound_profile(switch: Switch, originator: Session | None, variables: dict[str, str],
                      destination: str, cid_name: str | None, cid_num: str | None) -> CallerProfile:
    if originator is not None:
        op = originator.caller_profile
        name = variables.get("origination_caller_id_name") or cid_name or op.caller_id_name
        num = variables.get("origination_caller_id_number") or cid_num or op.caller_id_number
    else:
        name = variables.get("origination_caller_id_name") or cid_name or switch.globals.get("outbound_caller_name") or "FreeSWITCH"
        num = variables.get("origination_caller_id_number") or cid_num or switch.globals.get("outbound_caller_id") or "0000000000"
    return CallerProfile(
        caller_id_name=name, caller_id_number=num,
        destination_number=destination,
        callee_id_name=variables.get("origination_callee_id_name", ""),
        callee_id_number=variables.get("origination_callee_id_number", ""),
        direction="outbound", logical_direction="outbound",
        context=variables.get("context", "default"), dialplan="XML",
    )


def create_leg(switch: Switch, target: Target, gvars: dict[str, str], originator: Session | None,
               cid_name: str | None = None, cid_num: str | None = None) -> Session:
    """Ask the target's endpoint for an outbound leg (raises SessionError with a cause)."""
    ep = switch.endpoints.get(target.endpoint)
    if ep is None:
        raise SessionError("CHAN_NOT_IMPLEMENTED", f"Could not locate channel type {target.endpoint}")
    variables = dict(gvars)
    variables.update(target.variables)
    if originator is not None:
        # Exported variables travel to the new leg.
        exported = originator.get_variable("export_vars") or ""
        for name in [n.strip() for n in exported.split(",") if n.strip()]:
            v = originator.get_variable(name)
            if v is not None:
                variables.setdefault(name, v)
    profile = _outbound_profile(switch, originator, variables, target.rest, cid_name, cid_num)
    req = OutgoingRequest(switch, target.rest, variables, originator, profile)
    leg = ep.outgoing(req)
    leg._run_on_hooks("originate")
    if originator is not None:
        leg.originator_profile = originator.caller_profile
        originator.originatee_profile = leg.caller_profile
        leg.set_variable("originator", originator.uuid)
    switch.modules.broadcast("fsd_outgoing_channel", switch=switch, originator=originator, leg=leg, request=req)
    return leg


def originate(switch: Switch, dial: str, originator: Session | None = None,
              timeout: int | None = None, cid_name: str | None = None,
              cid_num: str | None = None, bridge_early: bool = False) -> OriginateResult:
    """Place the call(s) of ``dial``; returns the answered leg (or None) and a cause.

    With ``bridge_early`` (the bridge application), early media also ends the wait unless
    ``ignore_early_media`` is set."""
    try:
        gvars, groups = parse_dial_string(dial)
    except DialStringError as e:
        log(ERR, f"originate: {e}")
        return OriginateResult(None, "INVALID_NUMBER_FORMAT")
    get = (originator.get_variable if originator is not None else (lambda n: None))
    tmo_text = gvars.get("originate_timeout") or gvars.get("call_timeout") or get("call_timeout") or get("originate_timeout")
    try:
        tmo = int(tmo_text) if tmo_text else (timeout if timeout is not None else 60)
    except ValueError:
        tmo = timeout if timeout is not None else 60
    ignore_early = is_true(gvars.get("ignore_early_media") or get("ignore_early_media"))
    if originator is not None:
        originator.set_variable("originate_disposition", None)
    last_cause = "DESTINATION_OUT_OF_ORDER"
    for group in groups:
        legs: list[Session] = []
        for target in group:
            try:
                leg = create_leg(switch, target, gvars, originator, cid_name, cid_num)
            except SessionError as e:
                log(NOTICE, f"Cannot create outgoing channel of type [{target.endpoint}] cause: [{e.cause}]")
                last_cause = e.cause
                continue
            legs.append(leg)
        if not legs:
            continue
        winner, cause = _wait_for_answer(legs, tmo, bridge_early and not ignore_early, originator)
        for leg in legs:
            if leg is not winner and leg.up():
                leg.hangup("LOSE_RACE" if winner else cause)
        if winner is not None:
            winner.fire("CHANNEL_ORIGINATE")
            winner._run_on_hooks("post_originate")
            if originator is not None:
                originator.set_variable("originate_disposition", "SUCCESS")
                originator.set_variable("DIALSTATUS", "SUCCESS")
                originator.set_variable("originated_legs", winner.uuid)
            return OriginateResult(winner, "SUCCESS", legs)
        last_cause = cause
    if originator is not None:
        originator.set_variable("originate_disposition", last_cause)
        originator.set_variable("DIALSTATUS", _dialstatus(last_cause))
    return OriginateResult(None, last_cause)


def _dialstatus(cause: str) -> str:
    return {"USER_BUSY": "BUSY", "NO_ANSWER": "NOANSWER", "NO_USER_RESPONSE": "NOANSWER",
            "ORIGINATOR_CANCEL": "CANCEL", "CALL_REJECTED": "CONGESTION"}.get(cause, cause)


def _wait_for_answer(legs: list[Session], timeout: int, early_ok: bool,
                     originator: Session | None) -> tuple[Session | None, str]:
    deadline = time.monotonic() + max(1, timeout)
    # Every leg (and the originator) sets ``changed`` on answer, early media, hangup and
    # state changes: one wait covers them all, no polling.
    changed = threading.Event()
    watched = [*legs, originator] if originator is not None else list(legs)
    for s in watched:
        s.add_watcher(changed)
    try:
        while True:
            changed.clear()  # before the checks: a change after them still wakes us
            for leg in legs:
                # An answered leg is a success even if it already hung up again.
                if leg.answered() or (early_ok and leg.up() and leg.early_media()):
                    return leg, "SUCCESS"
            if not any(leg.up() for leg in legs):
                causes_seen = [leg.hangup_cause for leg in legs if leg.hangup_cause]
                return None, causes_seen[-1] if causes_seen else "NORMAL_CLEARING"
            if originator is not None and originator.hungup():
                return None, "ORIGINATOR_CANCEL"
            left = deadline - time.monotonic()
            if left <= 0:
                break
            changed.wait(left)
    finally:
        for s in watched:
            s.remove_watcher(changed)
    log(DEBUG, f"originate timed out after {timeout}s")
    return None, "NO_ANSWER"


def originate_timeout_hint(text: str | None, default: int = 60) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


__all__ = ["DialStringError", "OriginateResult", "OutgoingRequest", "Target", "create_leg",
           "originate", "parse_dial_string", "parse_vars", "Any"]
