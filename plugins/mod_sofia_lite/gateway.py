"""Gateways (sofia-behaviour §2): registration state machine checked once a second, 401/407
answered with the gateway's credentials, OPTIONS pings, ``sofia::gateway_state`` events.
Runs on the loop; nothing here blocks."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from fsd.events import Event
from fsd.log import INFO, WARNING, log

from .auth import authorization
from .config import GatewayConfig
from .message import SipMessage, parse_auth
from .ua import new_tag

if TYPE_CHECKING:  # pragma: no cover
    from .ua import Stack

STATES = ("UNREGED", "TRYING", "REGISTER", "REGED", "UNREGISTER", "FAILED", "FAIL_WAIT",
          "EXPIRED", "NOREG", "DOWN", "TIMEOUT")


class Gateway:
    def __init__(self, stack: Stack, cfg: GatewayConfig) -> None:
        self.stack = stack
        self.cfg = cfg
        self.name = cfg.name
        self.state = "UNREGED" if cfg.register else "NOREG"
        self.status = "DOWN" if cfg.register else "UP"
        self.up_since = time.time() if not cfg.register else 0.0
        self.failures = 0
        self.retry_at = 0.0
        self.expires_at = 0.0
        self.reg_timeout = 0.0
        self.call_id = f"{new_tag()}{new_tag()}"
        self.from_tag = new_tag()
        self.cseq = 0
        self.last_status = 0
        self.last_phrase = ""
        self.calls_in = self.calls_out = self.failed_calls_in = self.failed_calls_out = 0
        self.ping_next = time.time() + cfg.ping if cfg.ping else 0.0
        self.ping_count = 0
        self.ping_time = 0.0
        self.pinging = False
        self._auth_tried = False
        self._timer = None

    # -- addresses ---------------------------------------------------------------------------
    @property
    def proxy_host(self) -> str:
        p = self.cfg.proxy
        return p[4:] if p.startswith("sip:") else p

    @property
    def from_uri(self) -> str:
        return f"sip:{self.cfg.from_user}@{self.cfg.from_domain or self.proxy_host}"

    @property
    def contact(self) -> str:
        t = self.cfg.register_transport
        return (f"<sip:gw+{self.name}@{self.stack.cfg.url_ip}:{self.stack.port};"
                f"transport={t};gw={self.name}>")

    def register_uri(self) -> str:
        p = self.cfg.register_proxy or self.cfg.proxy
        p = p if p.startswith("sip:") else f"sip:{p}"
        if "transport=" not in p:
            p += f";transport={self.cfg.register_transport}"
        return p

    # -- the clock -------------------------------------------------------------------------------
    def start(self) -> None:
        self._tick()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        try:
            self.check(time.time())
        finally:
            self._timer = self.stack.loop.call_later(1.0, self._tick)

    def check(self, now: float) -> None:
        st = self.state
        if st == "UNREGED":
            self._send_register(self.cfg.expire_seconds)
            self.reg_timeout = now + self.cfg.timeout_seconds
            self._set("TRYING")
        elif st == "REGISTER":
            self.failures = 0
            e = self.cfg.expire_seconds
            self.expires_at = now + (e - 15 if e > 30 else max(1, e // 2))
            self._set("REGED", "UP")
        elif st == "REGED":
            if now >= self.expires_at:
                self._set("UNREGED")
        elif st == "TRYING":
            if now >= self.reg_timeout:
                self.last_status, self.last_phrase = 908, "Timeout"
                self._set("TIMEOUT")
                self._fail(now, 908)
        elif st == "FAILED":
            self._fail(now, self.last_status)
        elif st == "FAIL_WAIT":
            if now >= self.retry_at:
                self._set("UNREGED")
        if self.cfg.ping and st in ("REGED", "NOREG") and now >= self.ping_next and not self.pinging:
            self.ping_next = now + self.cfg.ping
            self._ping()

    def _fail(self, now: float, status: int) -> None:
        if status in (503, 908):
            delay = self.cfg.retry_seconds
        else:
            delay = self.cfg.retry_seconds * max(1, self.failures)
        self.retry_at = now + delay
        self._set("FAIL_WAIT", "DOWN")

    def _set(self, state: str, status: str | None = None) -> None:
        changed = state != self.state
        self.state = state
        if status is not None and status != self.status:
            self.status = status
            self.up_since = time.time() if status == "UP" else 0.0
        if changed:
            ev = Event("CUSTOM", "sofia::gateway_state")
            ev.add_header("Gateway", self.name)
            ev.add_header("State", state)
            ev.add_header("Ping-Status", self.status)
            if self.last_status:
                ev.add_header("Status", str(self.last_status))
                ev.add_header("Phrase", self.last_phrase)
            self.stack.switch.events.fire(ev)
            log(INFO, f"gateway {self.name} -> {state}")

    # -- REGISTER --------------------------------------------------------------------------------
    def _send_register(self, expires: int, auth: tuple[str, str] | None = None) -> None:
        self.cseq += 1
        frm = f"<{self.from_uri}>;tag={self.from_tag}"
        to = f"<{self.from_uri}>"
        req = self.stack.new_request("REGISTER", self.register_uri(), frm, to,
                                     call_id=self.call_id, cseq=self.cseq, contact=self.contact,
                                     transport=self.cfg.register_transport)
        req.add("Expires", str(expires))
        if auth is not None:
            req.add(auth[0], auth[1])
        else:
            self._auth_tried = False
        self.stack.request(req, lambda r: self._on_register(r, expires))

    def _on_register(self, resp: SipMessage, expires: int) -> None:
        if resp.status < 200:
            return
        self.last_status, self.last_phrase = resp.status, resp.reason
        if resp.status in (401, 407) and not self._auth_tried:
            self._auth_tried = True
            hdr = "WWW-Authenticate" if resp.status == 401 else "Proxy-Authenticate"
            ch = parse_auth(resp.get(hdr) or "")
            value = authorization(ch, "REGISTER", self.register_uri(), self.cfg.auth_username,
                                  self.cfg.password)
            self._send_register(expires, ("Authorization" if resp.status == 401
                                          else "Proxy-Authorization", value))
            return
        if expires == 0:
            self._set("DOWN", "DOWN")
            return
        if 200 <= resp.status < 300:
            if self.state == "TRYING":
                self._set("REGISTER")
            return
        if self.state != "TRYING":
            return
        self.failures += 1
        log(WARNING, f"gateway {self.name} registration failed: {resp.status} {resp.reason}")
        self._set("FAILED")

    def register(self) -> str:
        if not self.cfg.register:
            return f"-ERR NOREG gateway [{self.name}] can't be registered!\n"
        self._set("UNREGED")
        return "+OK\n"

    def unregister(self) -> str:
        if not self.cfg.register:
            return f"-ERR NOREG gateway [{self.name}] can't be unregistered!\n"
        self._set("UNREGISTER")
        self._send_register(0)
        return "+OK\n"

    # -- OPTIONS ping -------------------------------------------------------------------------------
    def _ping(self) -> None:
        uri = f"sip:{self.proxy_host}"
        frm = f"<sip:{self.cfg.from_domain or self.proxy_host}>;tag={new_tag()}"
        req = self.stack.new_request("OPTIONS", uri, frm, f"<sip:{self.cfg.from_domain or self.proxy_host}>")
        self.pinging = True
        sent = time.monotonic()

        def done(r: SipMessage) -> None:
            if r.status < 200:
                return
            self.pinging = False
            self.ping_time = (time.monotonic() - sent) * 1000
            ok = r.status < 600 and r.status not in (408, 503)
            if ok:
                self.ping_count = min(self.cfg.ping_max, self.ping_count + 1)
                if self.ping_count >= self.cfg.ping_min:
                    if self.state == "FAILED":
                        self._set("UNREGED")
                    elif self.status != "UP" and not self.cfg.register:
                        self._set(self.state, "UP")
            else:
                self.ping_count = max(0, self.ping_count - 1)
                if self.ping_count < self.cfg.ping_min:
                    self.status = "DOWN"
                    self.up_since = 0.0
                    if self.state == "REGED":
                        self._set("FAILED")
        self.stack.request(req, done)

    # -- status ------------------------------------------------------------------------------------
    def status_text(self) -> str:
        c = self.cfg
        sep = "=" * 97
        rows = [("Name", self.name), ("Profile", self.stack.name), ("Scheme", "Digest"),
                ("Realm", c.realm), ("Username", c.username),
                ("Password", "yes" if c.password else "no"), ("From", f"<{self.from_uri}>"),
                ("Contact", self.contact), ("Exten", c.extension), ("To", f"sip:{c.username}@{self.proxy_host}"),
                ("Proxy", f"sip:{self.proxy_host}"), ("Context", c.context),
                ("Expires", str(c.expire_seconds)), ("Freq", str(c.expire_seconds)),
                ("Ping", str(int(self.ping_next))), ("PingFreq", str(c.ping)),
                ("PingTime", f"{self.ping_time:0.2f}"),
                ("PingState", f"{c.ping_min}/{self.ping_count}/{c.ping_max}"),
                ("State", self.state),
                ("Status", self.status + (" (ping)" if self.pinging else "")),
                ("Uptime", f"{int(time.time() - self.up_since) if self.up_since else 0}s"),
                ("CallsIN", str(self.calls_in)), ("CallsOUT", str(self.calls_out)),
                ("FailedCallsIN", str(self.failed_calls_in)),
                ("FailedCallsOUT", str(self.failed_calls_out))]
        return sep + "\n" + "".join(f"{k:<8}\t{v}\n" for k, v in rows) + sep + "\n"

    def summary_state(self) -> str:
        if self.state in ("FAILED", "FAIL_WAIT", "TRYING"):
            left = int(self.retry_at - time.time()) if self.retry_at else 0
            return f"{self.state} (retry: {max(0, left)}s)"
        return self.state
