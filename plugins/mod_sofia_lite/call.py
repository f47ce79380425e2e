"""A SIP call leg: the INVITE dialog of one channel, in either direction.

Threads: methods named ``_loop_*`` and every SIP handler run on the asyncio loop; the
``Endpoint`` callbacks (``on_answer``…) run in the session's thread and only schedule loop
work; what touches the session from SIP (answer, hangup, DTMF) runs on the module's worker
for this call (``Sofia.work``), never on the loop.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from fsd import causes
from fsd.log import ERR, log
from fsd.numbers import is_digits
from fsd.session import Endpoint, Session

from .media_glue import CallMedia
from .message import NameAddr, SipMessage, parse_auth, response_to
from .transaction import ServerTransaction
from .ua import new_tag
from .variables import reason_header, response_header_vars

if TYPE_CHECKING:  # pragma: no cover
    from .ua import Stack

#: Causes whose refusal FreeSWITCH marks "call completed elsewhere".
_ELSEWHERE = {"PICKED_OFF", "LOSE_RACE"}


class SipCall(Endpoint):
    def __init__(self, stack: Stack, direction: str) -> None:
        self.stack = stack
        self.sofia = stack.sofia
        self.direction = direction
        self.session: Session | None = None
        self.call_id = ""
        self.local_tag = new_tag()
        self.remote_tag = ""
        self.local_uri = ""       # our From (outbound) / To (inbound), without tag
        self.remote_uri = ""
        self.remote_target = ""   # the peer's Contact URI
        self.route_set: list[str] = []
        self.local_cseq = 0
        self.remote_cseq = -1
        self.proto = "udp"
        self.conn: Any = None
        self.dest: tuple[str, int] | None = None
        self.media = CallMedia(self)
        self.invite_tx: ServerTransaction | None = None   # inbound INVITE
        self.invite_req: SipMessage | None = None          # outbound INVITE
        self.invite_ctx: Any = None
        self.final_sent = 0
        self.final_received = 0
        self.provisional = False
        self.confirmed = False
        self.answered_sip = False
        self.cancelled = False
        self.cancel_pending = False
        self.bye_received = False
        self.bye_sent = False
        self.ended = False
        self.auth_tries = 0
        self.gateway: Any = None
        self._ok: SipMessage | None = None
        self._ok_timer: Any = None
        self._reinvite_ok: SipMessage | None = None
        self.respond_status: tuple[int, str] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.call_id, self.local_tag)

    def work(self, fn: Any, *args: Any) -> None:
        self.sofia.work(self.call_id, fn, *args)

    def setvar(self, name: str, value: Any) -> None:
        if self.session is not None:
            self.session.set_variable(name, value)

    # == inbound ===========================================================================
    def _loop_send(self, status: int, reason: str = "", body: bytes = b"",
                   extra: list[tuple[str, str]] | None = None) -> None:
        tx = self.invite_tx
        if tx is None or self.final_sent or self.ended and status < 300:
            return
        if status == 100 and tx.last is not None:
            return  # the loop's timely 100 (call_in._trying) or a later response went first
        headers = list(extra or [])
        if status < 300 and status != 100:
            headers.append(("Contact", self._our_contact()))
        if self.session is not None and status != 100:
            prefix = "sip_ph_" if status < 200 else "sip_rh_"
            headers += response_header_vars(self.session, prefix)
        if status >= 200:
            self.final_sent = status
        if 200 <= status < 300:
            r = response_to(tx.request, status, reason, to_tag=tx.to_tag)
            for n, v in headers:
                r.add(n, v)
            for rr in tx.request.get_all("Record-Route"):
                r.add("Record-Route", rr)
            if body:
                r.add("Content-Type", "application/sdp")
                r.body = body
            tx.send(r)
            self._ok = r
            self._retransmit_ok(self.stack.t1)
            return
        if status < 200:
            r = response_to(tx.request, status, reason, to_tag=tx.to_tag)
            for n, v in headers:
                r.add(n, v)
            for rr in tx.request.get_all("Record-Route"):
                r.add("Record-Route", rr)
            if body:
                r.add("Content-Type", "application/sdp")
                r.body = body
            tx.send(r)
            return
        tx.reply(status, reason, headers)

    def _retransmit_ok(self, interval: float) -> None:
        """RFC 3261 13.3.1.4: the UAS core re-sends 2xx until the ACK (64·T1 at most)."""
        started = time.monotonic()

        def fire(iv: float) -> None:
            if self.confirmed or self._ok is None or self.invite_tx is None:
                return
            if time.monotonic() - started >= 64 * self.stack.t1:
                log(ERR, f"no ACK for the 200 OK of {self.call_id}; hanging up")
                self.confirmed = True
                self._loop_bye()
                self.work(self._hangup, "RECOVERY_ON_TIMER_EXPIRE")
                return
            if self.invite_tx.request.transport == "udp":
                self.stack.send_response(self._ok, self.invite_tx.request)
            self._ok_timer = self.stack.loop.call_later(min(iv * 2, self.stack.t2), fire, min(iv * 2, self.stack.t2))
        self._ok_timer = self.stack.loop.call_later(interval, fire, interval)

    def _our_contact(self) -> str:
        user = ""
        if self.direction == "inbound" and self.invite_tx is not None:
            user = NameAddr.parse(self.invite_tx.request.get("To") or "").uri.user
        return self.stack.contact(user or "mod_sofia", self.proto)

    # -- Endpoint callbacks (session thread) -------------------------------------------------
    def _call_soon(self, fn: Any, *args: Any) -> None:
        self.stack.soon(fn, *args)

    def on_ring_ready(self, session: Session) -> None:
        if self.direction == "inbound":
            session.set_variable("sip_to_tag", self.local_tag)
            self._call_soon(self._loop_send, 180, "Ringing")

    def on_pre_answer(self, session: Session) -> None:
        if self.direction != "inbound":
            return
        body = self.media.answer()
        for k, v in self.media.variables().items():
            session.set_variable(k, v)
        self._call_soon(self._loop_send, 183, "Session Progress", body)

    def on_answer(self, session: Session) -> None:
        if self.direction != "inbound":
            return
        body = self.media.answer() if not self.media.local_sdp else self.media.local_sdp.encode()
        for k, v in self.media.variables().items():
            session.set_variable(k, v)
        self._call_soon(self._loop_send, 200, "OK", body)

    def on_state(self, session: Session, state: str) -> None:
        """State listener: the session's own thread entering CS_HANGUP (before the
        hangup hooks and CHANNEL_HANGUP_COMPLETE) — the dispositions must be set by then,
        even when another thread's hangup() has not reached ``on_hangup`` yet."""
        if state == "CS_HANGUP" and session.hangup_cause:
            self._dispositions(session, session.hangup_cause)

    def on_hangup(self, session: Session, cause: str) -> None:
        """Decide what goes on the wire (and say so in the variables), then send it."""
        self._dispositions(session, cause)
        reason = reason_header(session, cause)
        extra = [("Reason", reason)] if reason else []
        for k, v in list(session.variables.items()):
            if k.startswith("sip_bye_h_"):
                extra.append((k[10:], v))
        self._call_soon(self._loop_end, cause, extra)

    def _dispositions(self, session: Session, cause: str) -> None:
        """sip_hangup_disposition and friends for a hangup decided here (idempotent)."""
        if self.bye_received:
            pass
        elif self.direction == "inbound":
            if self.final_sent and 200 <= self.final_sent < 300:
                session.set_variable("sip_hangup_disposition", "send_bye")
            elif self.cancelled:
                session.set_variable("sip_hangup_disposition", "recv_cancel")
            else:
                session.set_variable("sip_hangup_disposition", "send_refuse")
                status = self.respond_status[0] if self.respond_status else causes.cause_to_sip(cause)
                session.set_variable("sip_term_status", str(status))
                session.set_variable("proto_specific_hangup_cause", f"sip:{status}")
        else:
            if self.answered_sip:
                session.set_variable("sip_hangup_disposition", "send_bye")
            elif not self.final_received:
                session.set_variable("sip_hangup_disposition", "send_cancel")
                session.set_variable("sip_invite_failure_status", "487")
                session.set_variable("sip_invite_failure_phrase", "CANCEL")

    def on_destroy(self, session: Session) -> None:
        self._call_soon(self._loop_forget)

    def send_dtmf(self, session: Session, digits: str, duration_ms: int) -> None:
        dtmf_type = session.get_variable("dtmf_type") or ""
        if dtmf_type != "info" and self.media.send_dtmf(digits, duration_ms):
            return
        if dtmf_type == "none":
            return
        for d in digits:
            if d in "wW":
                continue
            body = f"Signal={d}\r\nDuration={duration_ms or 250}\r\n".encode()
            self._call_soon(self._loop_in_dialog, "INFO", body, "application/dtmf-relay")

    def respond(self, session: Session, code: int, reason: str) -> bool:
        """The ``respond`` application on an unanswered inbound call: refusals go out
        with exactly this status (401/407 as a 407 challenge is not done: sent as is)."""
        if self.direction != "inbound" or code < 300 or self.final_sent or session.answered():
            return False
        self.respond_status = (code, reason)
        session.hangup("USER_CHALLENGE" if code in (401, 407) else causes.sip_to_cause(code))
        return True

    def media_timeout(self) -> None:
        """From the RTP stream: no packets for rtp-timeout-sec."""
        self.work(self._hangup, "MEDIA_TIMEOUT")

    # -- loop side of hangup -------------------------------------------------------------
    def _loop_end(self, cause: str, extra: list[tuple[str, str]]) -> None:
        if self.ended:
            return
        self.ended = True
        self.media.close()
        if self.bye_received:
            return
        if self.direction == "inbound":
            if self.final_sent and 200 <= self.final_sent < 300:
                self._loop_bye(extra)
            elif not self.final_sent:
                status, phrase = 487 if self.cancelled else causes.cause_to_sip(cause), ""
                if self.respond_status and not self.cancelled:
                    status, phrase = self.respond_status
                self.ended = False
                self._loop_send(status, phrase, b"", extra)
                self.ended = True
        else:
            if self.answered_sip:
                self._loop_bye(extra)
            elif not self.final_received:
                if self.provisional:
                    self._loop_cancel(extra)
                else:
                    self.cancel_pending = True  # sent once a provisional response arrives

    def _loop_cancel(self, extra: list[tuple[str, str]] | None = None) -> None:
        req = self.invite_req
        if req is None or self.invite_ctx is None:
            return
        c = SipMessage(method="CANCEL", uri=req.uri)
        c.add("Via", req.get("Via") or "")
        for r in req.get_all("Route"):
            c.add("Route", r)
        c.add("Max-Forwards", "70")
        c.add("From", req.get("From") or "")
        c.add("To", req.get("To") or "")
        c.add("Call-ID", req.call_id)
        c.add("CSeq", f"{req.cseq[0]} CANCEL")
        for n, v in extra or [("Reason", 'SIP;cause=487;text="ORIGINATOR_CANCEL"')]:
            c.add(n, v)
        self.stack.request(c, lambda r: None, self.invite_ctx.dest, self.invite_ctx.proto,
                           self.invite_ctx.conn)

    def _loop_bye(self, extra: list[tuple[str, str]] | None = None) -> None:
        if self.bye_sent:
            return
        self.bye_sent = True
        self._loop_in_dialog("BYE", extra=extra)

    def drop(self) -> None:
        """Forget the dialog (loop)."""
        self.stack.calls.pop(self.key, None)
        if self.invite_tx is not None:
            self.stack.invites.pop((self.call_id, self.remote_tag,
                                    self.invite_tx.request.cseq[0]), None)

    def invite_retransmitted(self, msg: SipMessage) -> None:
        """The INVITE again after its transaction ended (we sent 2xx): the 2xx again."""
        if self._ok is not None and msg.transport == "udp":
            self.stack.send_response(self._ok, msg)

    def _loop_forget(self) -> None:
        # Linger a little so retransmissions still find the dialog.
        self.stack.loop.call_later(32 * self.stack.t1, self.drop)
        if self._ok_timer is not None:
            self._ok_timer.cancel()

    # -- in-dialog requests we send ----------------------------------------------------------
    def _dialog_request(self, method: str) -> SipMessage:
        self.local_cseq += 1
        local = f"{self.local_uri};tag={self.local_tag}"
        remote = f"{self.remote_uri};tag={self.remote_tag}" if self.remote_tag else self.remote_uri
        routes = list(self.route_set)
        uri = self.remote_target
        if routes and ";lr" not in routes[0]:
            # Strict router: it becomes the R-URI, the target goes last.
            uri = NameAddr.parse(routes[0]).raw_uri
            routes = routes[1:] + [f"<{self.remote_target}>"]
        return self.stack.new_request(method, uri, local, remote, call_id=self.call_id,
                                      cseq=self.local_cseq, contact=self._our_contact(),
                                      routes=routes, transport=self.proto)

    def _loop_in_dialog(self, method: str, body: bytes = b"", ctype: str = "",
                        extra: list[tuple[str, str]] | None = None) -> None:
        if not self.remote_target:
            return
        req = self._dialog_request(method)
        for n, v in extra or ():
            req.add(n, v)
        if body:
            req.add("Content-Type", ctype)
            req.body = body
        dest = self.dest if not req.get_all("Route") else None
        self.stack.request(req, lambda r: None, dest, self.proto,
                           self.conn if self.proto == "tcp" else None)

    # -- in-dialog requests we receive -------------------------------------------------------
    def on_request(self, tx: ServerTransaction) -> None:
        msg = tx.request
        num = msg.cseq[0]
        if num <= self.remote_cseq and msg.method not in ("ACK", "CANCEL"):
            tx.reply(500, "Server Internal Error", [("Retry-After", "1")])
            return
        self.remote_cseq = max(self.remote_cseq, num)
        tx.to_tag = self.local_tag
        m = msg.method
        if m == "BYE":
            tx.reply(200, "OK")
            if self.ended:
                return
            self.bye_received = True
            self.ended = True
            self.media.close()
            self.work(self._remote_bye, msg)
        elif m == "INVITE":
            self._reinvite(tx)
        elif m == "INFO":
            tx.reply(200, "OK")
            self._info(msg)
        elif m in ("OPTIONS", "UPDATE"):
            tx.reply(200, "OK")
        elif m == "NOTIFY":
            tx.reply(200, "OK")
        else:
            tx.reply(405, "Method Not Allowed")

    def _remote_bye(self, msg: SipMessage) -> None:
        s = self.session
        if s is None:
            return
        s.set_variable("sip_hangup_disposition", "recv_bye")
        s.set_variable("sip_term_status", "200")
        s.set_variable("proto_specific_hangup_cause", "sip:200")
        reason = msg.get("Reason") or ""
        if reason:
            s.set_variable("sip_reason", reason)
        cause = _q850_cause(reason) or "NORMAL_CLEARING"
        s.set_variable("sip_term_cause", str(causes.cause_code(cause)))
        for n, v in msg.headers:
            if n.startswith("X-"):
                s.set_variable(f"sip_bye_h_{n}", v)
        s.hangup(cause)

    def _info(self, msg: SipMessage) -> None:
        ctype = (msg.get("Content-Type") or "").split(";")[0].strip().lower()
        digit, dur = "", 0
        text = msg.body.decode("utf-8", "replace")
        if ctype == "application/dtmf-relay":
            for line in text.splitlines():
                k, _, v = line.partition("=")
                k, v = k.strip().lower(), v.strip()
                if k == "signal":
                    digit = v
                elif k == "duration" and is_digits(v):
                    dur = int(v)
        elif ctype == "application/dtmf":
            digit = text.strip()
        if is_digits(digit) and len(digit) > 1 or digit in ("10", "11"):
            digit = {"10": "*", "11": "#"}.get(digit, digit)
        if len(digit) != 1 or digit.upper() not in "0123456789*#ABCD":
            return
        s = self.session
        if s is None:
            return
        dur = dur if dur > 0 else 250

        def queue() -> None:
            if s.up():
                s.queue_dtmf(digit.upper(), dur, source="ENDPOINT")
        self.work(queue)

    def _reinvite(self, tx: ServerTransaction) -> None:
        msg = tx.request
        contact = msg.get("Contact")
        if contact:
            self.remote_target = NameAddr.parse(contact).raw_uri
        if msg.body:
            answer, change = self.media.reoffer(msg.body)
            if answer is None:
                tx.reply(488, "Not Acceptable Here")
                return
        else:
            answer, change = self.media.offer(), None
        r = response_to(msg, 200, "OK", to_tag=self.local_tag)
        r.add("Contact", self._our_contact())
        r.add("Content-Type", "application/sdp")
        r.body = answer
        tx.send(r)
        self._reinvite_ok = r
        s = self.session
        if s is not None:
            vars_ = self.media.variables()
            if msg.body:
                vars_["sip_reinvite_sdp"] = msg.body.decode("utf-8", "replace")

            def apply() -> None:
                for k, v in vars_.items():
                    s.set_variable(k, v)
                if change == "hold":
                    s.caller_profile.last_hold_time = int(time.time() * 1_000_000)
                    s.fire("CHANNEL_HOLD")
                    s.set_callstate("HELD")
                elif change == "unhold":
                    s.fire("CHANNEL_UNHOLD")
                    s.set_callstate("ACTIVE")
            self.work(apply)

    def on_ack(self, msg: SipMessage) -> None:
        if not self.confirmed:
            self.confirmed = True
            if self._ok_timer is not None:
                self._ok_timer.cancel()
            s = self.session
            if s is not None:
                self.work(lambda: (s.set_variable("sip_from_tag", self.remote_tag),
                                   s.set_variable("sip_cseq", str(msg.cseq[0]))))
        self._reinvite_ok = None

    def _hangup(self, cause: str) -> None:
        if self.session is not None:
            self.session.hangup(cause)

    # == outbound ==========================================================================
    def _loop_invite(self, req: SipMessage) -> None:
        if self.ended:
            return
        self.invite_req = req
        self.invite_ctx = self.stack.request(req, self._on_invite_response, self.dest,
                                             self.proto if self.dest else None)

    def on_2xx_retransmit(self, resp: SipMessage) -> None:
        if self.direction == "outbound" and self.answered_sip:
            self._send_ack(resp)

    def _send_ack(self, resp: SipMessage) -> None:
        req = self.invite_req
        if req is None:
            return
        ack = self._dialog_request("ACK")
        self.local_cseq -= 1
        ack.set("CSeq", f"{req.cseq[0]} ACK")
        dest = self.dest if not ack.get_all("Route") else None
        target, proto = self.stack.next_hop(ack)
        if dest is None:
            dest = (target.host, target.port or 5060)
        self.stack.transport.send(ack.encode(), dest, self.proto, self.conn)

    def _on_invite_response(self, resp: SipMessage) -> None:
        s = self.session
        if s is None:
            return
        status = resp.status
        if status < 200:
            if status == 100:
                return
            self.provisional = True
            if self.cancel_pending:
                self.cancel_pending = False
                self._loop_cancel()
                return
            if resp.to_tag:
                self.remote_tag = resp.to_tag
            phv = {f"sip_ph_{n}": v for n, v in resp.headers if n.startswith(("X-", "P-"))}
            has_sdp = bool(resp.body) and "sdp" in (resp.get("Content-Type") or "")
            if has_sdp and (status == 183 or status == 180):
                if not self.media.remote_answer(resp.body):
                    self.work(self._fail, 488, "DESTINATION_OUT_OF_ORDER", resp)
                    return
                vars_ = self.media.variables()
                self.work(self._early, vars_ | phv)
            else:
                self.work(self._ringing, phv)
            return
        self.final_received = status
        if 200 <= status < 300:
            self.remote_tag = resp.to_tag
            contact = resp.get("Contact")
            if contact:
                self.remote_target = NameAddr.parse(contact).raw_uri
            self.route_set = list(reversed(resp.get_all("Record-Route")))
            self.answered_sip = True
            self.stack.calls[self.key] = self
            self._send_ack(resp)
            if self.ended:
                self.ended = False
                self._loop_bye()
                self.ended = True
                return
            if resp.body:
                if not self.media.remote_answer(resp.body):
                    self._loop_bye([("Reason", 'Q.850;cause=88;text="INCOMPATIBLE_DESTINATION"')])
                    self.work(self._fail, 488, "INCOMPATIBLE_DESTINATION", resp)
                    return
            rhv = {f"sip_rh_{n}": v for n, v in resp.headers if n.startswith(("X-", "P-"))}
            self.work(self._answered, self.media.variables() | rhv)
            return
        if status in (401, 407) and self.auth_tries == 0 and not self.ended:
            creds = self._credentials()
            if creds is not None:
                self.auth_tries += 1
                self._retry_with_auth(resp, *creds)
                return
            self.work(self._fail, status, "MANDATORY_IE_MISSING", resp)
            return
        cause = _q850_cause(resp.get("Reason") or "") or causes.sip_to_cause(status)
        if getattr(resp, "timeout", False) and status == 408:
            cause = "RECOVERY_ON_TIMER_EXPIRE"
        if status == 487 and self.ended:
            cause = "ORIGINATOR_CANCEL"
        self.work(self._fail, status, cause, resp)

    def _credentials(self) -> tuple[str, str] | None:
        s = self.session
        user = s.get_variable("sip_auth_username") if s else None
        pw = s.get_variable("sip_auth_password") if s else None
        if user and pw:
            return user, pw
        if self.gateway is not None and self.gateway.cfg.password:
            return self.gateway.cfg.auth_username, self.gateway.cfg.password
        return None

    def _retry_with_auth(self, resp: SipMessage, user: str, password: str) -> None:
        from .auth import authorization

        old = self.invite_req
        assert old is not None
        hdr = "WWW-Authenticate" if resp.status == 401 else "Proxy-Authenticate"
        challenge = parse_auth(resp.get(hdr) or "")
        req = SipMessage(method="INVITE", uri=old.uri, headers=[
            (n, v) for n, v in old.headers if n not in ("Via", "CSeq", "Authorization", "Proxy-Authorization")])
        from .transaction import new_branch

        via = old.top_via
        assert via is not None
        via.params = {"branch": new_branch(), "rport": None}
        req.headers.insert(0, ("Via", str(via)))
        self.local_cseq += 1
        req.add("CSeq", f"{self.local_cseq} INVITE")
        req.add("Authorization" if resp.status == 401 else "Proxy-Authorization",
                authorization(challenge, "INVITE", old.uri, user, password))
        req.body = old.body
        self._loop_invite(req)

    # -- worker side ------------------------------------------------------------------------
    def _ringing(self, vars_: dict[str, str]) -> None:
        s = self.session
        if s is not None and s.up():
            for k, v in vars_.items():
                s.set_variable(k, v)
            s.ring_ready()

    def _early(self, vars_: dict[str, str]) -> None:
        s = self.session
        if s is not None and s.up():
            for k, v in vars_.items():
                s.set_variable(k, v)
            s.pre_answer()

    def _answered(self, vars_: dict[str, str]) -> None:
        s = self.session
        if s is not None and s.up():
            for k, v in vars_.items():
                s.set_variable(k, v)
            s.answer()

    def _fail(self, status: int, cause: str, resp: SipMessage) -> None:
        s = self.session
        if s is None or not s.up():
            return
        s.set_variable("sip_term_status", str(status))
        s.set_variable("proto_specific_hangup_cause", f"sip:{status}")
        s.set_variable("sip_term_cause", str(causes.cause_code(cause)))
        s.set_variable("sip_invite_failure_status", str(status))
        s.set_variable("sip_invite_failure_phrase", resp.reason)
        if not self.ended:
            s.set_variable("sip_hangup_disposition", "recv_refuse")
        for n, v in resp.headers:
            if n.startswith(("X-", "P-")):
                s.set_variable(f"sip_rh_{n}", v)
        self.ended = True
        s.hangup(cause)


def _q850_cause(reason: str) -> str | None:
    """``Reason: Q.850;cause=17;text="USER_BUSY"`` → USER_BUSY."""
    if not reason:
        return None
    proto, _, rest = reason.partition(";")
    if proto.strip().upper() not in ("Q.850", "FREESWITCH"):
        return None
    for p in rest.split(";"):
        k, _, v = p.strip().partition("=")
        if k.lower() == "cause" and is_digits(v.strip()):
            name = causes.cause2str(int(v))
            return None if name == "UNKNOWN" else name
    return None
