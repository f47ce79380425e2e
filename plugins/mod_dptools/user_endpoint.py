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
    targets = [t for g in groups for t in g]
    if any(t.endpoint not in sw.endpoints for t in targets):
        raise SessionError("USER_NOT_REGISTERED", f"user/{user}@{domain}: no endpoint for [{expanded.strip()}]")
    merged = {**req.variables, **gvars, "dialed_user": user, "dialed_domain": domain}
    if len(targets) == 1:
        return create_leg(sw, targets[0], merged, req.originator, req.profile.caller_id_name,
                          req.profile.caller_id_number)
    # Several registered contacts (sofia_contact joins them with ","): ring them all and
    # hand back the one that answers, as FreeSWITCH's user/ endpoint does with a nested
    # originate.  This blocks the originating thread (never the loop) until then.
    from fsd.originate import originate

    inner = "{" + ",".join(f"{k}='{v}'" for k, v in merged.items() if "'" not in v) + "}" + \
        "|".join(",".join(t.raw for t in g) for g in groups)
    timeout = int(merged.get("originate_timeout") or merged.get("call_timeout") or 60)
    result = originate(sw, inner, None, timeout=timeout, cid_name=req.profile.caller_id_name,
                       cid_num=req.profile.caller_id_number)
    if result.session is None:
        raise SessionError(result.cause, f"user/{user}@{domain}: {result.cause}")
    return result.session
