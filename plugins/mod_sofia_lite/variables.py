"""Channel variables from SIP messages, and SIP headers from channel variables
(sofia-behaviour §5.4, §6, §7.2)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from fsd import causes

from .message import NameAddr, SipMessage, SipUri

if TYPE_CHECKING:  # pragma: no cover
    from .ua import Stack

#: Inbound headers copied to ``sip_h_<Name>`` besides X-/P-/K-/On prefixes.
_COPIED = {"Diversion", "Accept-Language", "User-To-User"}
_SKIP_P = {"P-Asserted-Identity", "P-Preferred-Identity"}


def _uri_vars(out: dict[str, str], prefix: str, uri: SipUri) -> None:
    if uri.user:
        out[f"{prefix}_user"] = uri.user
    if uri.host:
        out[f"{prefix}_host"] = uri.host
    if uri.port:
        out[f"{prefix}_port"] = str(uri.port)
    out[f"{prefix}_uri"] = (f"{uri.user}@" if uri.user else "") + uri.hostport
    params = ";".join(k + (f"={v}" if v is not None else "") for k, v in uri.params.items())
    if params:
        out[f"{prefix}_params"] = params


def inbound_variables(stack: Stack, msg: SipMessage) -> dict[str, str]:
    out: dict[str, str] = {}
    frm = NameAddr.parse(msg.get("From") or "")
    to = NameAddr.parse(msg.get("To") or "")
    _uri_vars(out, "sip_from", frm.uri)
    _uri_vars(out, "sip_to", to.uri)
    _uri_vars(out, "sip_req", SipUri.parse(msg.uri))
    contact = msg.get("Contact")
    if contact:
        _uri_vars(out, "sip_contact", NameAddr.parse(contact).uri)
    if frm.display:
        out["sip_from_display"] = frm.display
    if to.display:
        out["sip_to_display"] = to.display
    if frm.uri.user:
        out["sip_from_user_stripped"] = frm.uri.user.lstrip("+")
    for k, v in frm.params.items():
        if k != "tag" and v is not None:
            out[f"sip_from_{k}"] = v
    out["sip_full_from"] = msg.get("From") or ""
    out["sip_full_to"] = msg.get("To") or ""
    out["sip_full_via"] = ",".join(msg.get_all("Via"))
    routes = msg.get_all("Record-Route")
    if routes:
        out["sip_full_route"] = ",".join(routes)
    out["sip_call_id"] = msg.call_id
    ua = msg.get("User-Agent")
    if ua:
        out["sip_user_agent"] = ua
    subj = msg.get("Subject")
    if subj:
        out["sip_subject"] = subj
    via = msg.top_via
    if via is not None:
        out["sip_via_host"] = via.host
        if via.port:
            out["sip_via_port"] = str(via.port)
        if via.params.get("rport"):
            out["sip_via_rport"] = str(via.params["rport"])
        out["sip_via_protocol"] = via.protocol.lower()
    src_ip, src_port = msg.source
    out["sip_received_ip"] = out["sip_network_ip"] = src_ip
    out["sip_received_port"] = out["sip_network_port"] = str(src_port)
    out["sip_local_network_addr"] = stack.cfg.sip_ip
    out["sip_invite_stamp"] = str(int(time.time() * 1_000_000))
    mf = msg.get("Max-Forwards")
    if mf:
        out["max_forwards"] = mf
    for name, var in (("Alert-Info", "alert_info"), ("Call-Info", "sip_call_info"),
                      ("Allow", "sip_allow"), ("Accept-Language", "sip_accept_language")):
        vals = msg.get_all(name)
        if vals:
            out[var] = ", ".join(vals)
    if msg.body:
        out["switch_r_sdp"] = msg.body.decode("utf-8", "replace")
    out["sofia_profile_name"] = stack.name
    out["sofia_profile_url"] = stack.url
    out["sip_profile_name"] = stack.name
    out["endpoint_disposition"] = "INBOUND CALL"
    seen: dict[str, int] = {}
    for name, value in msg.headers:
        if (name.startswith(("X-", "K-", "On")) or (name.startswith("P-") and name not in _SKIP_P)
                or name in _COPIED):
            n = seen.get(name, 0)
            seen[name] = n + 1
            out[f"sip_h_{name}" + (f"-{n}" if n else "")] = value
    return out


def reason_header(session: Any, cause: str) -> str:
    """The Reason header FreeSWITCH puts on BYE/CANCEL/refusals (§6)."""
    if session.var_true("disable_q850_reason"):
        return ""
    custom = session.get_variable("sip_reason")
    if custom and session.get_variable("sip_hangup_disposition") != "recv_bye":
        return custom
    if cause in ("PICKED_OFF", "LOSE_RACE") and not session.var_true("ignore_completed_elsewhere"):
        session.set_variable("call_completed_elsewhere", "true")
        return 'SIP;cause=200;text="Call completed elsewhere"'
    code = causes.cause_code(cause)
    if 1 <= code <= 127:
        return f'Q.850;cause={code};text="{cause}"'
    return f'SIP;cause={code};text="{cause}"'


def response_header_vars(session: Any, prefix: str) -> list[tuple[str, str]]:
    """``sip_ph_<Name>`` on provisional, ``sip_rh_<Name>`` on final responses."""
    return [(k[len(prefix):], v) for k, v in list(session.variables.items())
            if k.startswith(prefix) and len(k) > len(prefix)]


def x_headers_out(session: Any) -> list[tuple[str, str]]:
    """``sip_h_<Name>`` variables → headers of an outbound INVITE; ``<Name>-<n>`` repeats
    keep their suffix, as FreeSWITCH sends them."""
    out: list[tuple[str, str]] = []
    for k, v in list(session.variables.items()):
        if k.startswith("sip_h_") and len(k) > 6 and v:
            out.append((k[6:], v))
    return out
