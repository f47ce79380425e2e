"""The ``user/<id>[@domain]`` endpoint: resolve a directory user's ``dial-string`` and
originate it (FreeSWITCH keeps this in mod_dptools too)."""

from __future__ import annotations

from fsd.originate import DialStringError, OutgoingRequest, create_leg, parse_dial_string
from fsd.session import Session, SessionError


def _param(el, name: str) -> str | None:
    if el is None:
        return None
    for p in el.iter("param"):
        if p.get("name") == name:
            return p.get("value")
    return None


def user_outgoing(req: OutgoingRequest) -> Session:
    sw = req.switch
    user, _, domain = req.destination.partition("@")
    domain = domain or sw.globals.get("domain") or ""
    if not user:
        raise SessionError("INVALID_NUMBER_FORMAT", "user/ needs a user id")
    found = sw.config.find_user(user, domain) if sw.config else None
    if found is None:
        raise SessionError("SUBSCRIBER_ABSENT", f"Can't find user [{user}@{domain}]")
    dom_el, user_el = found
    dial = _param(user_el.find("params"), "dial-string") or _param(dom_el.find("params"), "dial-string")
    if not dial:
        raise SessionError("MANDATORY_IE_MISSING", "No dial-string available, please check your user directory")
    lookup_vars = {"dialed_user": user, "dialed_domain": domain, **req.variables}
    expanded = sw.expand(dial, None, lookup=lambda n: lookup_vars.get(n) or sw.globals.get(n))
    try:
        gvars, groups = parse_dial_string(expanded)
    except DialStringError as e:
        raise SessionError("USER_NOT_REGISTERED", f"user/{user}@{domain}: dial-string [{expanded.strip()}] is not usable: {e}") from e
    target = groups[0][0]
    if target.endpoint not in sw.endpoints:
        raise SessionError("USER_NOT_REGISTERED", f"user/{user}@{domain}: no endpoint for [{expanded.strip()}]")
    merged = {**req.variables, **gvars, "dialed_user": user, "dialed_domain": domain}
    leg = create_leg(sw, target, merged, req.originator, req.profile.caller_id_name, req.profile.caller_id_number)
    return leg
