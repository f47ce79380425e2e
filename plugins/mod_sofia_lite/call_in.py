"""Inbound INVITEs: admission (digest with auth-calls, codec match, the session limit),
the caller profile and variables, the session's start; and the caller's CANCEL.

``inbound_invite`` and ``cancel_from_peer`` run on the loop; ``admit`` on the call's worker
(it may look users up in the directory and creates the session)."""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING

from fsd.caller_profile import CallerProfile
from fsd.log import DEBUG, INFO, log
from fsd.session import Session, SessionError

from .call import SipCall
from .message import NameAddr, SipMessage, SipUri
from .transaction import ServerTransaction
from .variables import inbound_variables

if TYPE_CHECKING:  # pragma: no cover
    from .ua import Stack


def inbound_invite(stack: Stack, tx: ServerTransaction) -> None:
    msg = tx.request
    if not msg.get("Contact"):
        tx.reply(400, "Missing Contact Header")
        return
    if stack.over_rate():
        tx.reply(503, "Maximum Calls In Progress", [("Retry-After", "300")])
        return
    call = SipCall(stack, "inbound")
    call.call_id = msg.call_id
    call.local_tag = tx.to_tag
    call.remote_tag = msg.from_tag
    call.remote_cseq = msg.cseq[0]
    call.invite_tx = tx
    call.proto = msg.transport
    call.conn = getattr(msg, "conn", None)
    frm = NameAddr.parse(msg.get("From") or "")
    to = NameAddr.parse(msg.get("To") or "")
    call.remote_uri = f"<{frm.raw_uri}>" if not frm.display else f'"{frm.display}" <{frm.raw_uri}>'
    call.local_uri = f"<{to.raw_uri}>"
    call.remote_target = NameAddr.parse(msg.get("Contact") or "").raw_uri
    call.route_set = list(msg.get_all("Record-Route"))
    via = msg.top_via
    if msg.transport == "udp" and via is not None:
        call.dest = (msg.source[0], msg.source[1] if "rport" in via.params else (via.port or 5060))
        # In-dialog requests go to the Contact, unless it is unreachable from here.
        ct = SipUri.parse(call.remote_target)
        if ct.host and ct.host == msg.source[0]:
            call.dest = (ct.host, ct.port or 5060)
    tx.on_cancel = lambda: cancel_from_peer(call)
    stack.calls[call.key] = call
    stack.invites[(call.call_id, call.remote_tag, msg.cseq[0])] = call
    stack.calls_in += 1
    stack.loop.call_later(TRYING_AFTER, _trying, call)
    call.work(admit, call, tx)


#: A 100 Trying from the loop when the admission (on a worker) has not answered by then
#: (RFC 3261 17.2.1).  Under CPU starvation admissions queue up; without this the caller
#: retransmits the INVITE from 500 ms on and gives up after ~32 s (SIPp's "UDP
#: retransmission timeout" in bench_sip --cps on a loaded machine).  0.3 s rather than the
#: RFC's 200 ms so a quick refusal (403, 407, 480) still comes first on a slow test machine.
TRYING_AFTER = 0.3


def _trying(call: SipCall) -> None:
    tx = call.invite_tx
    if tx is not None and tx.last is None and not call.final_sent and not call.ended:
        call._loop_send(100, "Trying")


def cancel_from_peer(self: SipCall) -> None:
    """The caller's CANCEL (loop): 487 to the INVITE, the channel ends ORIGINATOR_CANCEL."""
    self.cancelled = True
    self._loop_send(487, "Request Terminated")
    self.ended = True
    self.media.close()
    s = self.session
    if s is None:
        self._loop_forget()  # admission sees the flag and stops
    if s is not None:
        def cancel() -> None:
            s.set_variable("sip_hangup_disposition", "recv_cancel")
            s.set_variable("sip_invite_failure_status", "487")
            s.set_variable("sip_invite_failure_phrase", "CANCEL")
            s.hangup("ORIGINATOR_CANCEL")
        self.work(cancel)


def admit(self: SipCall, tx: ServerTransaction) -> None:
    """Worker thread: authenticate, negotiate, create and start the session."""
    stack, msg, cfg = self.stack, tx.request, self.stack.cfg
    loop_reply = self._call_soon

    def refuse(status: int, reason: str = "", headers: list[tuple[str, str]] | None = None) -> None:
        stack.failed_calls_in += 1

        def send() -> None:
            self.final_sent = status
            tx.reply(status, reason, headers)
            self.drop()
        loop_reply(send)

    if self.cancelled:
        return
    user_vars: dict[str, str] = {}
    authorized = False
    context = cfg.context
    acl_passed = False
    for lst, pass_ctx, fail_ctx in stack.inbound_acl:
        if lst.allows(msg.source[0]):
            acl_passed = True
            context = pass_ctx or context
            if cfg.auth_calls:
                authorized = True
                user_vars["sip_acl_authed_by"] = lst.name
            break
        if fail_ctx:
            context = fail_ctx
        elif not cfg.auth_calls:
            return refuse(403, "Forbidden")
    if (cfg.auth_calls and not acl_passed) or \
            (msg.get("Proxy-Authorization") and not cfg.accept_blind_auth and not authorized):
        from .auth import check_request

        res = check_request(stack, msg, "INVITE")
        if res.status == 407:
            return refuse(407, "Proxy Authentication Required", [("Proxy-Authenticate", res.challenge)])
        if res.status:
            return refuse(res.status, res.reason or "Forbidden")
        authorized = True
        user_vars = res.variables
        context = user_vars.get("user_context") or context
    frm = NameAddr.parse(msg.get("From") or "")
    req_uri = SipUri.parse(msg.uri)
    to = NameAddr.parse(msg.get("To") or "")
    dest = urllib.parse.unquote(req_uri.user or to.uri.user or frm.uri.user or "service")
    has_sdp = bool(msg.body) and "sdp" in (msg.get("Content-Type") or "application/sdp").lower()
    if has_sdp and not self.media.remote_offer(msg.body):
        stack.failed_calls_in += 1

        def no_codec() -> None:
            self.final_sent = 488
            tx.reply(488, "Not Acceptable Here", [("Reason", 'Q.850;cause=88;text="INCOMPATIBLE_DESTINATION"')])
            self.drop()
        loop_reply(no_codec)
        return
    if not msg.body:
        return refuse(480, "Temporarily Unavailable",
                      [("Reason", 'Q.850;cause=96;text="MANDATORY_IE_MISSING"')])
    gw = stack.sofia.gateway_for_invite(stack, req_uri)
    if gw is not None:
        self.gateway = gw
        context = gw.cfg.context
        if req_uri.user.startswith("gw+"):
            dest = gw.cfg.extension
        gw.calls_in += 1
    from_user = frm.uri.user or "nobody"
    from_host = frm.uri.hostport or "nowhere"
    cid = caller_id(msg, frm)
    profile = CallerProfile(
        username=frm.uri.user, dialplan=cfg.dialplan, caller_id_name=cid["name"],
        caller_id_number=cid["number"], ani=frm.uri.user,
        network_addr=msg.source[0], destination_number=dest, source="mod_sofia",
        context=context, direction="inbound", logical_direction="inbound",
        privacy_hide_name=cid["hide_name"], privacy_hide_number=cid["hide_number"],
        screen_bit=cid["screen"])
    variables = inbound_variables(stack, msg)
    variables.update(cid["vars"])
    variables.update(user_vars)
    if authorized:
        variables["sip_authorized"] = "true"
    if gw is not None:
        variables["sip_gateway"] = gw.cfg.name
        variables.update(gw.cfg.variables_in)
    variables.update(self.media.variables())
    variables["endpoint_disposition"] = "RECEIVED"
    name = f"sofia/{cfg.name}/{from_user}@{from_host}".split(";")[0]
    try:
        session = Session.create(stack.switch, name=name, direction="inbound", profile=profile,
                                 tech=self, variables=variables, endpoint_name="sofia")
    except SessionError as e:
        log(INFO, f"refusing INVITE {msg.call_id}: {e}")
        return refuse(503, "Maximum Calls In Progress", [("Retry-After", "300")])
    self.session = session
    session.add_state_listener(self.on_state)
    for k in ("effective_caller_id_name", "effective_caller_id_number"):
        if user_vars.get(k):
            session.set_variable(k, user_vars[k])
    if self.cancelled:
        session.hangup("ORIGINATOR_CANCEL")
        return
    loop_reply(self._loop_send, 100, "Trying")
    log(DEBUG, f"inbound SIP call {msg.call_id} → {dest}@{context}")
    session.start("CS_ROUTING")


def caller_id(msg: SipMessage, frm: NameAddr) -> dict:
    """Caller ID as sofia builds it (§5.5): the From, then Remote-Party-ID, then
    P-Asserted-Identity, then P-Preferred-Identity override it in turn; privacy flags."""
    out: dict = {"name": frm.display or frm.uri.user or "unknown",
                 "number": frm.uri.user or "0000000000", "hide_name": "false",
                 "hide_number": "false", "screen": "true", "vars": {}}
    rpid = msg.get("Remote-Party-ID")
    if rpid:
        na = NameAddr.parse(rpid)
        if na.uri.user:
            out["number"] = na.uri.user
        out["name"] = na.display or na.uri.user or out["name"]
        out["vars"].update({"sip_Remote-Party-ID": rpid, "sip_cid_type": "rpid"})
        privacy = (na.params.get("privacy") or "").lower()
        if privacy in ("yes", "full"):
            out["hide_name"] = out["hide_number"] = "true"
        elif privacy == "name":
            out["hide_name"] = "true"
        elif privacy == "number":
            out["hide_number"] = "true"
        if (na.params.get("screen") or "").lower() == "no":
            out["screen"] = "false"
    for header, var in (("P-Asserted-Identity", "sip_P-Asserted-Identity"),
                        ("P-Preferred-Identity", "sip_P-Preferred-Identity")):
        value = msg.get(header)
        if not value:
            continue
        na = NameAddr.parse(value)
        if na.uri.user:
            out["number"] = na.uri.user
        out["name"] = na.display or na.uri.user or out["name"]
        kept = na.uri.user if header == "P-Asserted-Identity" else value
        out["vars"].update({var: kept, "sip_cid_type": "pid"})
    privacy = (msg.get("Privacy") or "").lower()
    if "id" in [p.strip() for p in privacy.split(";")]:
        out["hide_name"] = out["hide_number"] = "true"
        out["vars"]["sip_Privacy"] = msg.get("Privacy")
    return out
