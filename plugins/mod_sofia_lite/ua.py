"""The SIP user agent core of one profile: validation, transaction matching, dispatch.

Everything here runs on the switch's asyncio loop and never blocks.  Work that may block
(directory lookups, which may ask a Lua xml-handler; creating and driving sessions) goes to
the module's workers (``Sofia.work``), and comes back with ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import collections
import ipaddress
import socket
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fsd.log import DEBUG, WARNING, log
from fsd.numbers import is_digits

from .config import ProfileConfig
from .message import NameAddr, SipMessage, SipUri, Via, response_to
from .transaction import ClientTransaction, ServerTransaction, new_branch, server_key
from .transport import Transport

if TYPE_CHECKING:  # pragma: no cover
    from . import Sofia
    from .call import SipCall

ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, REGISTER, NOTIFY"
ACCEPT = "application/sdp, multipart/mixed"
SUPPORTED = "timer, path, replaces"
KNOWN = {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "MESSAGE", "INFO", "UPDATE", "REGISTER",
         "NOTIFY", "SUBSCRIBE", "PUBLISH", "REFER", "PRACK"}
_MANDATORY = ("From", "To", "Call-ID", "CSeq")


def new_tag() -> str:
    return uuid.uuid4().hex[:12]


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


class Stack:
    def __init__(self, sofia: Sofia, cfg: ProfileConfig) -> None:
        self.sofia = sofia
        self.switch = sofia.switch
        self.cfg = cfg
        self.name = cfg.name
        self.loop: asyncio.AbstractEventLoop = sofia.switch.loop
        self.transport = Transport(self.loop, cfg.sip_ip, cfg.sip_port, self.on_message)
        self.server_tx: dict[tuple[str, str, str], ServerTransaction] = {}
        self.client_tx: dict[tuple[str, str], ClientTransaction] = {}
        self.merged: dict[tuple[str, str, int, str], tuple[str, str, str]] = {}
        self.calls: dict[tuple[str, str], SipCall] = {}  # (Call-ID, local tag)
        #: Inbound INVITE dialogs by (Call-ID, From tag, CSeq): a retransmitted INVITE that
        #: arrives after our 2xx ended its transaction is answered by the dialog.
        self.invites: dict[tuple[str, str, int], SipCall] = {}
        self.t1, self.t2, self.t4 = cfg.t1, cfg.t2, cfg.t4
        self.started = 0.0
        self.calls_in = self.failed_calls_in = self.calls_out = self.failed_calls_out = 0
        self._sps_window: list[float] = []
        # Hand-offs from call workers and session threads to the loop, coalesced (see soon()).
        self._inbox: collections.deque[tuple[Callable[..., Any], tuple[Any, ...]]] = collections.deque()
        self._inbox_armed = False
        self.inbound_acl = self._acl(cfg.apply_inbound_acl)
        self.register_acl = self._acl(cfg.apply_register_acl)

    def _acl(self, specs: list[str]) -> list[tuple[Any, str, str]]:
        """``acl[:pass_context[:fail_context]]`` → (AccessList, pass ctx, fail ctx)."""
        from fsd.acl import resolve

        conf = self.switch.config.get_configuration("acl.conf") if self.switch.config else None
        out = []
        for spec in specs:
            name, _, rest = spec.partition(":")
            pass_ctx, _, fail_ctx = rest.partition(":")
            lst = resolve(name, conf)
            if lst is None:
                log(WARNING, f"profile {self.name}: unknown ACL [{name}] ignored")
                continue
            out.append((lst, pass_ctx, fail_ctx))
        return out

    def soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the loop, from any thread, in order.  Unlike one
        ``call_soon_threadsafe`` per hand-off (a self-pipe write and a loop wake-up each,
        11 % of the samples at 150 calls/s, mostly waiting for the GIL after the write),
        a burst of hand-offs from many calls costs one wake-up: the deque is drained by a
        single loop callback.  ``_inbox_armed`` is cleared before draining, so an item
        appended while the drain runs is either drained now or schedules a new one."""
        self._inbox.append((fn, args))
        if not self._inbox_armed:
            self._inbox_armed = True
            self.loop.call_soon_threadsafe(self._drain_inbox)

    def _drain_inbox(self) -> None:
        self._inbox_armed = False
        q = self._inbox
        while q:
            fn, args = q.popleft()
            try:
                fn(*args)
            except Exception as e:  # noqa: BLE001 - one call's failure must not stall the rest
                import traceback

                log(WARNING, f"SIP hand-off {fn!r} failed: {e!r}\n{traceback.format_exc()}")

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        await self.transport.start()
        self.cfg.sip_port = self.transport.port
        self.started = time.time()

    async def stop(self) -> None:
        for tx in list(self.server_tx.values()):
            tx.terminate()
        for ctx in list(self.client_tx.values()):
            ctx.terminate()
        await self.transport.stop()

    @property
    def port(self) -> int:
        return self.transport.port

    @property
    def url(self) -> str:
        return f"sip:mod_sofia@{self.cfg.url_ip}:{self.port}"

    def contact(self, user: str = "mod_sofia", transport: str = "udp") -> str:
        t = f";transport={transport}" if transport != "udp" else ""
        return f"<sip:{user}@{self.cfg.url_ip}:{self.port}{t}>"

    # -- sending ---------------------------------------------------------------------------
    def add_server_headers(self, resp: SipMessage) -> None:
        if self.cfg.user_agent and resp.get("User-Agent") is None:
            resp.add("User-Agent", self.cfg.user_agent)
        if resp.status in (200, 405) and resp.get("Allow") is None and \
                (resp.get("CSeq") or "").split(" ")[-1] in ("INVITE", "OPTIONS", "UPDATE"):
            resp.add("Allow", ALLOW)
            resp.add("Supported", SUPPORTED)

    def send_response(self, resp: SipMessage, req: SipMessage) -> None:
        """RFC 3261 §18.2.2 + RFC 3581: back over the request's connection, or to the
        source address (rport) / the Via port."""
        if req.transport == "tcp" and getattr(req, "conn", None) is not None:
            self.transport.send(resp.encode(), req.source, "tcp", req.conn)  # type: ignore[attr-defined]
            return
        via = req.top_via or Via()
        port = req.source[1] if "rport" in via.params else (via.port or 5060)
        self.transport.send(resp.encode(), (req.source[0], port), "udp")

    def reply(self, req: SipMessage, status: int, reason: str = "",
              headers: list[tuple[str, str]] | None = None) -> None:
        """A stateless response (no transaction kept)."""
        r = response_to(req, status, reason, to_tag=new_tag() if status > 100 else "")
        for n, v in headers or ():
            r.add(n, v)
        self.add_server_headers(r)
        self.send_response(r, req)

    def new_request(self, method: str, uri: str, from_: str, to: str, *, call_id: str = "",
                    cseq: int = 1, contact: str | None = None, routes: list[str] | None = None,
                    transport: str = "udp") -> SipMessage:
        m = SipMessage(method=method, uri=uri)
        t = transport.upper()
        m.add("Via", f"SIP/2.0/{t} {self.cfg.url_ip}:{self.port};branch={new_branch()};rport")
        for r in routes or ():
            m.add("Route", r)
        m.add("Max-Forwards", "70")
        m.add("From", from_)
        m.add("To", to)
        m.add("Call-ID", call_id or str(uuid.uuid4()))
        m.add("CSeq", f"{cseq} {method}")
        if contact:
            m.add("Contact", contact)
        if self.cfg.user_agent:
            m.add("User-Agent", self.cfg.user_agent)
        return m

    def next_hop(self, req: SipMessage) -> tuple[SipUri, str]:
        routes = req.get_all("Route")
        if routes:
            target = NameAddr.parse(routes[0]).uri
        else:
            target = SipUri.parse(req.uri)
        proto = (target.params.get("transport") or "udp").lower()
        return target, "tcp" if proto == "tcp" else "udp"

    def request(self, req: SipMessage, on_response: Callable[[SipMessage], None],
                dest: tuple[str, int] | None = None, proto: str | None = None,
                conn: Any = None) -> ClientTransaction:
        """Send a request in a client transaction; ``on_response`` runs on the loop for
        each response (a 408 of our own on timeout, a 503 when the host does not resolve)."""
        target, p = self.next_hop(req)
        proto = proto or p
        via = req.top_via
        if via is not None and via.protocol != proto.upper():
            via.protocol = proto.upper()
            req.headers = [(n, str(via) if n == "Via" and i == 0 else v)
                           for i, (n, v) in enumerate(req.headers)]
        ctx = ClientTransaction(self, req, dest or ("", 0), proto, on_response, conn)
        if dest is not None:
            ctx.start()
        else:
            self.loop.create_task(self._resolve_and_start(ctx, target))
        return ctx

    async def _resolve_and_start(self, ctx: ClientTransaction, target: SipUri) -> None:
        host = target.host.strip("[]")
        port = target.port or 5060
        if not is_ip(host):
            try:
                infos = await self.loop.getaddrinfo(host, port, family=socket.AF_INET,
                                                    type=socket.SOCK_DGRAM)
                host = infos[0][4][0]
            except (OSError, IndexError) as e:
                log(WARNING, f"cannot resolve {target.host}: {e}")
                fake = response_to(ctx.request, 503, "DNS Error")
                ctx.on_response(fake)
                return
        ctx.dest = (host, port)
        ctx.start()

    # -- receiving -------------------------------------------------------------------------
    def on_message(self, msg: SipMessage) -> None:
        if msg.is_request:
            self.on_request(msg)
        else:
            self.on_response(msg)

    def on_response(self, msg: SipMessage) -> None:
        via = msg.top_via
        num, method = msg.cseq
        if via is None or num < 0:
            return
        ctx = self.client_tx.get((via.branch, method))
        if ctx is not None:
            ctx.received(msg)
            return
        if method == "INVITE" and 200 <= msg.status < 300:
            # A retransmitted 2xx: the dialog ACKs it again.
            for call in list(self.calls.values()):
                if call.call_id == msg.call_id:
                    call.on_2xx_retransmit(msg)
                    return
        log(DEBUG, f"stray response {msg.status} {method} dropped")

    def _bad(self, msg: SipMessage, status: int, reason: str) -> None:
        if msg.method != "ACK" and msg.get("Via") is not None:
            self.reply(msg, status, reason)

    def on_request(self, msg: SipMessage) -> None:
        via = msg.top_via
        if via is None or not via.host:
            self.transport.stats.dropped += 1
            return
        # RFC 3581 / 3261 18.2.1: note where it really came from.
        src_ip, src_port = msg.source
        if "rport" in via.params or via.host != src_ip:
            if via.host != src_ip:
                via.params["received"] = src_ip
            if "rport" in via.params:
                via.params["rport"] = str(src_port)
            first = True
            new: list[tuple[str, str]] = []
            for n, v in msg.headers:
                if n == "Via" and first:
                    v, first = str(via), False
                new.append((n, v))
            msg.headers = new
        missing = [h for h in _MANDATORY if not msg.get(h)]
        if missing:
            self._bad(msg, 400, f"Missing {missing[0]} Header")
            return
        num, cmethod = msg.cseq
        if num < 0 or num >= 2 ** 31 or cmethod != msg.method:
            self._bad(msg, 400, "Bad CSeq")
            return
        uri = SipUri.parse(msg.uri)
        if uri.scheme not in ("sip", "sips", "tel") or (uri.scheme != "tel" and not uri.host):
            self._bad(msg, 416, "Unsupported URI Scheme")
            return
        mf = msg.get("Max-Forwards")
        if mf is not None:
            if not is_digits(mf.strip()):
                self._bad(msg, 400, "Bad Max-Forwards")
                return
            if int(mf) <= 0 and msg.method not in ("OPTIONS", "ACK"):
                self._bad(msg, 483, "Too Many Hops")
                return
        if msg.method == "ACK":
            self._on_ack(msg)
            return
        key = server_key(msg)
        if msg.method == "CANCEL":
            self._on_cancel(msg, key)
            return
        tx = self.server_tx.get(key)
        if tx is not None:
            tx.retransmitted()
            return
        if msg.method == "INVITE" and not msg.to_tag:
            call = self.invites.get((msg.call_id, msg.from_tag, num))
            if call is not None and call.invite_tx is not None and call.invite_tx.key == key:
                call.invite_retransmitted(msg)
                return
        if not msg.to_tag:
            # Merged request (RFC 3261 8.2.2.2): same request by another path → 482.
            mkey = (msg.call_id, msg.from_tag, num, msg.method)
            other = self.merged.get(mkey)
            if other is not None and other != key and other in self.server_tx:
                self.reply(msg, 482, "Loop Detected")
                return
            self.merged[mkey] = key
            if len(self.merged) > 10000:
                self.merged = {k: v for k, v in self.merged.items() if v in self.server_tx}
        tx = ServerTransaction(self, msg)
        self.server_tx[key] = tx
        if msg.method not in KNOWN:
            tx.reply(501, "Not Implemented")
            return
        require = [r.strip() for r in msg.get_all("Require") if r.strip()]
        if require and msg.method not in ("CANCEL", "BYE"):
            unsupported = [r for r in require if r not in ("timer", "path", "replaces")]
            if unsupported:
                tx.reply(420, "Bad Extension", [("Unsupported", ", ".join(unsupported))])
                return
        if msg.to_tag:
            self._in_dialog(tx)
        else:
            self._out_of_dialog(tx)

    def _on_ack(self, msg: SipMessage) -> None:
        tx = self.server_tx.get(server_key(msg))
        if tx is not None and tx.state in ("completed", "confirmed"):
            tx.ack(msg)
            return
        call = self.calls.get((msg.call_id, msg.to_tag))
        if call is not None:
            call.on_ack(msg)

    def _on_cancel(self, msg: SipMessage, key: tuple[str, str, str]) -> None:
        tx = self.server_tx.get((key[0], key[1], "INVITE"))
        if tx is None or not tx.invite:
            self.reply(msg, 481, "Call/Transaction Does Not Exist")
            return
        resp = response_to(msg, 200, to_tag=tx.to_tag)
        self.add_server_headers(resp)
        self.send_response(resp, msg)
        if tx.on_cancel is not None and (tx.last is None or tx.last.status < 200):
            tx.on_cancel()

    def _in_dialog(self, tx: ServerTransaction) -> None:
        msg = tx.request
        call = self.calls.get((msg.call_id, msg.to_tag))
        if call is None:
            tx.reply(481, "Call/Transaction Does Not Exist")
            return
        call.on_request(tx)

    def _out_of_dialog(self, tx: ServerTransaction) -> None:
        m = tx.request.method
        tx.to_tag = new_tag()
        if m == "INVITE":
            from .call_in import inbound_invite

            inbound_invite(self, tx)
        elif m == "REGISTER":
            if self.cfg.disable_register:
                tx.reply(403, "Forbidden")
            else:
                self.sofia.registrar.handle(self, tx)
        elif m == "OPTIONS":
            rr = tx.request.get_all("Record-Route")
            tx.reply(200, "OK", [("Accept", ACCEPT), ("Accept-Language", "en")]
                     + [("Record-Route", r) for r in rr])
        elif m == "INFO":
            tx.reply(200, "OK")
        elif m == "MESSAGE":
            tx.reply(202, "Accepted")
        elif m == "NOTIFY":
            ev = (tx.request.get("Event") or "").split(";")[0].strip().lower()
            if ev == "keep-alive":
                tx.reply(200, "OK")
            else:
                tx.reply(481, "Subscription Does Not Exist")
        elif m in ("BYE", "UPDATE", "PRACK"):
            tx.reply(481, "Call/Transaction Does Not Exist")
        else:  # SUBSCRIBE, PUBLISH, REFER: not offered (no presence, no transfer)
            tx.reply(405, "Method Not Allowed", [("Allow", ALLOW)])

    # -- calls -----------------------------------------------------------------------------
    def over_rate(self) -> bool:
        """The profile's own sessions-per-second limit (the switch has one too)."""
        sps = self.cfg.sessions_per_second
        if sps <= 0:
            return False
        now = time.monotonic()
        self._sps_window = [t for t in self._sps_window if now - t < 1.0]
        if len(self._sps_window) >= sps:
            return True
        self._sps_window.append(now)
        return False
