"""RFC 3261 §17 transactions with their timers, on the asyncio loop.

Server transactions are keyed by (top Via branch, sent-by, method — INVITE for ACK and
CANCEL matching); a retransmitted request re-sends the last response.  Client
transactions are keyed by (branch, method) and retransmit over UDP (timers A/E), time out
(B/F → a synthetic 408 to the owner), ACK non-2xx finals themselves (INVITE) and linger
for retransmitted responses (D/K).  2xx to INVITE is the dialog's business (the UA core
retransmits it until the ACK comes, see ``ua.py``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .message import SipMessage, Via, response_to

if TYPE_CHECKING:  # pragma: no cover
    from .ua import Stack

MAGIC = "z9hG4bK"


def new_branch() -> str:
    return MAGIC + uuid.uuid4().hex[:16]


def server_key(msg: SipMessage) -> tuple[str, str, str]:
    via = msg.top_via
    method = msg.method if msg.method not in ("ACK",) else "INVITE"
    if via is None:
        return ("", "", method)
    branch = via.branch
    if not branch.startswith(MAGIC):
        # RFC 2543 peer: fall back on the dialog-ish identifiers.
        branch = f"{msg.call_id}|{msg.from_tag}|{msg.cseq[0]}"
    return (branch, f"{via.host}:{via.port}", method)


class ServerTransaction:
    def __init__(self, stack: Stack, request: SipMessage) -> None:
        self.stack = stack
        self.request = request
        self.key = server_key(request)
        self.invite = request.method == "INVITE"
        self.last: SipMessage | None = None
        self.state = "proceeding"
        self.timers: list[asyncio.TimerHandle] = []
        self.on_ack: Callable[[SipMessage], None] | None = None
        self.on_cancel: Callable[[], None] | None = None
        self.to_tag = ""

    def _later(self, delay: float, cb: Callable[[], None]) -> None:
        self.timers.append(self.stack.loop.call_later(delay, cb))

    def _cancel_timers(self) -> None:
        for t in self.timers:
            t.cancel()
        self.timers.clear()

    def reply(self, status: int, reason: str = "", headers: list[tuple[str, str]] | None = None,
              body: bytes = b"", content_type: str = "") -> SipMessage:
        r = response_to(self.request, status, reason, to_tag=self.to_tag)
        for n, v in headers or ():
            r.add(n, v)
        if body:
            r.add("Content-Type", content_type or "application/sdp")
            r.body = body
        self.send(r)
        return r

    def send(self, resp: SipMessage) -> None:
        if self.state in ("completed", "confirmed", "terminated"):
            return
        self.stack.add_server_headers(resp)
        self.last = resp
        self.stack.send_response(resp, self.request)
        if resp.status < 200:
            return
        t1, t2, t4 = self.stack.t1, self.stack.t2, self.stack.t4
        udp = self.request.transport == "udp"
        if self.invite and resp.status >= 300:
            self.state = "completed"
            if udp:
                self._retransmit(t1, t2)
            self._later(64 * t1, self.terminate)  # Timer H
        elif self.invite:
            self.terminate()  # 2xx: the dialog retransmits it
        else:
            self.state = "completed"
            self._later(64 * t1 if udp else 0, self.terminate)  # Timer J
        _ = t4

    def _retransmit(self, interval: float, t2: float) -> None:
        def fire() -> None:
            if self.state != "completed" or self.last is None:
                return
            self.stack.send_response(self.last, self.request)
            self._retransmit(min(interval * 2, t2), t2)
        self._later(interval, fire)  # Timer G

    def retransmitted(self) -> None:
        if self.last is not None:
            self.stack.send_response(self.last, self.request)

    def ack(self, msg: SipMessage) -> None:
        if self.state == "completed":
            self.state = "confirmed"
            self._cancel_timers()
            delay = self.stack.t4 if self.request.transport == "udp" else 0
            self._later(delay, self.terminate)  # Timer I

    def terminate(self) -> None:
        self.state = "terminated"
        self._cancel_timers()
        self.stack.server_tx.pop(self.key, None)


class ClientTransaction:
    def __init__(self, stack: Stack, request: SipMessage, dest: tuple[str, int], proto: str,
                 on_response: Callable[[SipMessage], None], conn: Any = None) -> None:
        self.stack = stack
        self.request = request
        self.dest = dest
        self.proto = proto
        self.conn = conn
        self.on_response = on_response
        self.invite = request.method == "INVITE"
        via = request.top_via or Via()
        self.branch = via.branch
        self.key = (self.branch, request.method)
        self.state = "calling"
        self.timers: list[asyncio.TimerHandle] = []
        self.data = request.encode()

    def _later(self, delay: float, cb: Callable[[], None]) -> None:
        self.timers.append(self.stack.loop.call_later(delay, cb))

    def _cancel_timers(self) -> None:
        for t in self.timers:
            t.cancel()
        self.timers.clear()

    def start(self) -> None:
        self.stack.client_tx[self.key] = self
        self.stack.transport.send(self.data, self.dest, self.proto, self.conn)
        t1 = self.stack.t1
        if self.proto == "udp":
            self._retransmit(t1)
        self._later(64 * t1, self._timeout)  # Timer B / F

    def _retransmit(self, interval: float) -> None:
        def fire() -> None:
            if self.state not in ("calling", "trying") and not (self.state == "proceeding" and not self.invite):
                return
            self.stack.transport.send(self.data, self.dest, self.proto, self.conn)
            nxt = interval * 2 if self.invite else min(interval * 2, self.stack.t2)
            self._retransmit(nxt)
        self._later(interval, fire)  # Timer A / E

    def _timeout(self) -> None:
        if self.state in ("completed", "terminated"):
            return
        self.terminate()
        fake = response_to(self.request, 408, "Request Timeout")
        fake.timeout = True  # type: ignore[attr-defined]
        self.on_response(fake)

    def received(self, resp: SipMessage) -> None:
        if self.state == "terminated":
            return
        if resp.status < 200:
            if self.state in ("calling", "trying"):
                self.state = "proceeding"
            self.on_response(resp)
            return
        if self.state == "completed":
            if self.invite and resp.status >= 300:
                self._send_ack(resp)  # retransmitted final: ACK again
            return
        if self.invite and 200 <= resp.status < 300:
            self.terminate()
            self.on_response(resp)
            return
        self._cancel_timers()
        self.state = "completed"
        if self.invite:
            self._send_ack(resp)
        linger = (32.0 if self.invite else self.stack.t4) if self.proto == "udp" else 0
        self._later(linger, self.terminate)  # Timer D / K
        self.on_response(resp)

    def _send_ack(self, resp: SipMessage) -> None:
        req = self.request
        ack = SipMessage(method="ACK", uri=req.uri)
        ack.add("Via", req.get("Via") or "")
        for r in req.get_all("Route"):
            ack.add("Route", r)
        ack.add("Max-Forwards", "70")
        ack.add("From", req.get("From") or "")
        ack.add("To", resp.get("To") or req.get("To") or "")
        ack.add("Call-ID", req.call_id)
        ack.add("CSeq", f"{req.cseq[0]} ACK")
        self.stack.transport.send(ack.encode(), self.dest, self.proto, self.conn)

    def terminate(self) -> None:
        self.state = "terminated"
        self._cancel_timers()
        self.stack.client_tx.pop(self.key, None)
