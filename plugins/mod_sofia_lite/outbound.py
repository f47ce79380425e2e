"""The ``sofia/`` endpoint (sofia-behaviour §7): dial strings → an outbound leg whose
INVITE goes out on the loop.  ``outgoing`` runs in the originating thread and only
schedules loop work."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fsd.log import DEBUG, log
from fsd.originate import OutgoingRequest
from fsd.session import Session, SessionError
from fsd.truth import is_false

from .call import SipCall
from .message import NameAddr, SipUri
from .registrar import contact_target
from .variables import x_headers_out

if TYPE_CHECKING:  # pragma: no cover
    from . import Sofia


def _host_ok(host: str) -> bool:
    return bool(host) and bool(re.match(r"^[\w.\-\[\]:]+$", host))


def outgoing(sofia: Sofia, req: OutgoingRequest) -> Session:
    dest = req.destination.strip()
    if not dest:
        raise SessionError("DESTINATION_OUT_OF_ORDER", "empty sofia destination")
    first, _, rest = dest.partition("/")
    gateway = None
    route_dest: tuple[str, int] | None = None
    if first == "gateway":
        gw_name, _, number = rest.partition("/")
        gateway = sofia.find_gateway(gw_name)
        if gateway is None:
            raise SessionError("INVALID_GATEWAY", f"Invalid Gateway '{gw_name}'")
        if not number:
            raise SessionError("INVALID_URL", "gateway call without a number")
        if gateway.status != "UP":
            gateway.failed_calls_out += 1
            raise SessionError("GATEWAY_DOWN", f"gateway {gw_name} is down")
        stack = gateway.stack
        number, _, params = number.partition(";")
        uri = f"sip:{number}" if "@" in number else f"sip:{number}@{gateway.proxy_host}"
        if params:
            uri += ";" + params
        to_uri = uri.split(";")[0]
        chan_dest = number
    else:
        stack = sofia.find_profile(first)
        if stack is None:
            raise SessionError("INVALID_PROFILE", f"Invalid Profile '{first}'")
        target = rest
        if not target:
            raise SessionError("DESTINATION_OUT_OF_ORDER", "no destination")
        target, _, to_override = target.partition("^")
        if target.startswith(("sip:", "sips:")):
            uri, route_dest = contact_target(target)
            u = SipUri.parse(uri)
            chan_dest = f"{u.user}@{u.hostport}" if u.user else u.hostport
        elif "@" not in target:
            user, _, domain = target.partition("%")
            domain = domain or stack.cfg.domain or stack.name
            found = sofia.registrar.find(user, domain if "%" in target else "", stack.name)
            if not found:
                raise SessionError("USER_NOT_REGISTERED", f"{user}@{domain} is not registered")
            uri, route_dest = contact_target(found[-1].uri)
            chan_dest = target
        else:
            user_host, _, params = target.partition(";")
            user, _, hostport = user_host.rpartition("@")
            if not _host_ok(hostport):
                raise SessionError("INVALID_URL", f"bad host in {target}")
            prefix = req.variables.get("sip_destination_prefix", "")
            uri = f"sip:{prefix}{user}@{hostport}" + (f";{params}" if params else "")
            chan_dest = user_host
        to_uri = f"sip:{to_override}" if to_override and "@" in to_override else uri.split(";")[0]
    if to_uri.startswith("sip:") and ";" in to_uri:
        to_uri = to_uri.split(";")[0]
    call = SipCall(stack, "outbound")
    call.gateway = gateway
    import uuid as _uuid

    call.call_id = req.variables.get("sip_invite_call_id") or str(_uuid.uuid4())
    call.proto = "tcp" if "transport=tcp" in uri.lower() else "udp"
    call.dest = route_dest
    prof = req.profile.clone(destination_number=chan_dest.split("@")[0], source="mod_sofia")
    name = f"sofia/{stack.name}/{chan_dest}".split(";")[0]
    variables = dict(req.variables)
    if gateway is not None:
        variables.update(gateway.cfg.variables_out)
        variables["sip_gateway_name"] = gateway.name
    variables["sofia_profile_name"] = stack.name
    variables["sip_profile_name"] = stack.name
    variables["sip_req_uri"] = uri[4:] if uri.startswith("sip:") else uri
    variables["sip_call_id"] = call.call_id
    if req.originator is not None and not is_false(req.originator.get_variable("sip_copy_custom_headers")):
        for k, v in req.originator.variables.items():
            if k.startswith("sip_h_"):
                variables.setdefault(k, v)
    session = Session.create(stack.switch, name=name, direction="outbound", profile=prof,
                             tech=call, variables=variables, endpoint_name="sofia",
                             uuid=req.variables.get("origination_uuid"))
    call.session = session
    session.add_state_listener(call.on_state)
    # From: the caller ID (the gateway's From user unless caller-id-in-from).
    cid_name = prof.caller_id_name or ""
    cid_num = prof.caller_id_number or "0000000000"
    from_host = session.get_variable("sip_invite_domain") or stack.cfg.url_ip
    if gateway is not None and not gateway.cfg.caller_id_in_from:
        from_uri = gateway.from_uri
    else:
        from_uri = f"sip:{cid_num}@{from_host}"
    display = "" if cid_name in ("", "_undef_") else cid_name.replace('"', "")
    call.local_uri = (f'"{display}" ' if display else "") + f"<{from_uri}>"
    call.remote_uri = f"<{to_uri}>"
    call.remote_target = uri
    if gateway is not None:
        gateway.calls_out += 1
        if gateway.cfg.outbound_proxy:
            p = gateway.cfg.outbound_proxy
            call.route_set = [f"<{p if p.startswith('sip:') else 'sip:' + p};lr>"]
    stack.calls_out += 1
    session.set_variable("sip_from_uri", from_uri[4:])
    session.set_variable("sip_to_uri", to_uri[4:] if to_uri.startswith("sip:") else to_uri)
    session.start("CS_CONSUME_MEDIA")
    body = call.media.offer()
    for k, v in call.media.variables().items():
        session.set_variable(k, v)
    invite = call._dialog_request("INVITE")
    if gateway is not None:
        invite.set("Contact", gateway.contact)
    for n, v in x_headers_out(session):
        invite.add(n, v)
    invite.add("X-FS-Support", "update_display,send_info")
    invite.add("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, REGISTER, NOTIFY")
    invite.add("Content-Type", "application/sdp")
    invite.body = body
    stack.loop.call_soon_threadsafe(_register_and_send, call, invite)
    log(DEBUG, f"outbound SIP call {call.call_id} to {uri}")
    return session


def _register_and_send(call: SipCall, invite) -> None:
    call.stack.calls[call.key] = call
    call._loop_invite(invite)


__all__ = ["outgoing", "NameAddr"]
