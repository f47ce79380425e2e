"""The registrar (sofia-behaviour §4): REGISTER with digest against the directory,
bindings with expiry, the sofia::register / unregister / expire events, and the rows of the
core database's ``registrations`` table (mod_db writes them from those events), read back
at start so registrations survive a restart."""

from __future__ import annotations

import threading
import time
import urllib.parse
from dataclasses import dataclass
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from fsd.events import Event
from fsd.log import DEBUG, ERR, INFO, log
from fsd.numbers import is_digits

from .auth import check_request
from .message import NameAddr, SipMessage, SipUri
from .transaction import ServerTransaction

if TYPE_CHECKING:  # pragma: no cover
    from . import Sofia
    from .ua import Stack

LATE_MARGIN = 60


@dataclass
class Binding:
    profile: str
    user: str            # AOR user (To user)
    host: str            # AOR host (To host, or force-register-db-domain)
    contact: str         # stored contact, FreeSWITCH's form ("display" <uri;fs_*>)
    uri: str             # the URI inside <> (what sofia_contact returns)
    call_id: str
    expires: float       # epoch when it expires (without the late margin)
    network_ip: str
    network_port: int
    proto: str
    user_agent: str = ""
    auth_user: str = ""
    realm: str = ""
    status: str = ""
    margin: int = LATE_MARGIN  # the profile's sip-expires-late-margin

    @property
    def key(self) -> tuple[str, str]:
        return (self.user.lower(), self.host.lower())


class Registrar:
    def __init__(self, sofia: Sofia) -> None:
        self.sofia = sofia
        self.lock = threading.Lock()
        self.bindings: dict[tuple[str, str], list[Binding]] = {}

    # -- queries (any thread) --------------------------------------------------------------
    def find(self, user: str, host: str = "", profile: str = "") -> list[Binding]:
        user, host = user.lower(), host.lower()
        with self.lock:
            out = []
            for (u, h), bs in self.bindings.items():
                if u != user or (host and h != host):
                    continue
                out += [b for b in bs if not profile or b.profile == profile]
            return out

    def all(self, profile: str = "") -> list[Binding]:
        with self.lock:
            return [b for bs in self.bindings.values() for b in bs
                    if not profile or b.profile == profile]

    def count(self, profile: str) -> int:
        return len(self.all(profile))

    # -- REGISTER (loop → worker) ---------------------------------------------------------------
    def handle(self, stack: Stack, tx: ServerTransaction) -> None:
        self.sofia.work(tx.request.call_id, self._register, stack, tx)

    def _register(self, stack: Stack, tx: ServerTransaction) -> None:
        msg = tx.request
        reply = stack.loop.call_soon_threadsafe
        to = NameAddr.parse(msg.get("To") or "")
        if not to.uri.user or not to.uri.host:
            reply(tx.reply, 401, "Unauthorized")
            return
        auth_user, realm, variables = "unknown", to.uri.host, {}
        acl_ok = None
        if stack.register_acl:
            acl_ok = all(lst.allows(msg.source[0]) for lst, _, _ in stack.register_acl)
            if not acl_ok:
                reply(tx.reply, 403, "Forbidden")
                return
        if not stack.cfg.accept_blind_reg and not acl_ok:
            res = check_request(stack, msg, "REGISTER")
            if res.status in (401, 407):
                self._fire("sofia::pre_register", stack, msg, {})
                reply(tx.reply, 401, "Unauthorized", [("WWW-Authenticate", res.challenge)])
                return
            if res.status == 0 and stack.cfg.inbound_reg_force_matching_username \
                    and res.user != to.uri.user:
                res.status = 403
            if res.status:
                self._failure(stack, msg, to)
                reply(tx.reply, 403, "Forbidden")
                return
            auth_user, realm, variables = res.user, res.realm or realm, res.variables
        host = stack.cfg.force_register_db_domain or to.uri.host
        contacts = msg.get_all("Contact")
        now = time.time()
        if not contacts:
            reply(tx.reply, 200, "OK", self._contact_headers(to.uri.user, host, now, None, 0))
            return
        expires_hdr = (msg.get("Expires") or "").strip()
        changes: list[tuple[str, Binding]] = []
        with self.lock:
            current = self.bindings.setdefault((to.uri.user.lower(), host.lower()), [])
            for c in contacts:
                if c.strip() == "*":
                    exp = 0
                    for b in current:
                        changes.append(("unregister", b))
                    current.clear()
                    continue
                na = NameAddr.parse(c)
                raw = na.params.get("expires")
                text = expires_hdr or (raw if raw is not None else "")
                exp = int(text) if is_digits(text) else 300
                binding = self._binding(stack, msg, to, host, na, now + exp, auth_user, realm)
                mode = stack.cfg.multiple_registrations
                if mode in ("contact", "true"):
                    same = [b for b in current if b.uri == binding.uri]
                elif mode == "call-id":
                    same = [b for b in current if b.call_id == binding.call_id]
                else:
                    same = list(current)
                for b in same:
                    current.remove(b)
                if exp == 0:
                    changes += [("unregister", b) for b in same] or [("unregister", binding)]
                    continue
                current.append(binding)
                changes.append(("register", binding))
            if not current:
                self.bindings.pop((to.uri.user.lower(), host.lower()), None)
        granted = {b.uri: int(b.expires - now) for kind, b in changes if kind == "register"}
        headers = self._contact_headers(to.uri.user, host, now, granted, 0)
        headers.append(("Date", formatdate(usegmt=True)))
        reply(tx.reply, 200, "OK", headers)
        for kind, b in changes:
            extra = dict(variables)
            extra["expires"] = str(max(0, int(b.expires - now))) if kind == "register" else "0"
            self._fire(f"sofia::{kind}", stack, msg, extra, b)
            log(INFO, f"{kind} {b.user}@{b.host} {b.uri} ({extra['expires']}s)")

    def _binding(self, stack: Stack, msg: SipMessage, to: NameAddr, host: str, na: NameAddr,
                 expires: float, auth_user: str, realm: str) -> Binding:
        src_ip, src_port = msg.source
        uri = SipUri.parse(na.raw_uri)
        uri.params.pop("expires", None)
        # FreeSWITCH detects NAT only when asked (aggressive-nat-detection): then the
        # binding is reached through the address the REGISTER came from (fs_path).
        aggressive = stack.cfg.params.get("aggressive-nat-detection", "").lower() == "true"
        nat = aggressive and msg.transport == "udp" and (
            uri.host != src_ip or (uri.port or 5060) != src_port)
        if nat:
            path = urllib.parse.quote(f"sip:{uri.user}@{src_ip}:{src_port}", safe="")
            uri.params["fs_nat"] = "yes"
            uri.params["fs_path"] = path
        display = na.display or to.display
        contact = f'"{display}" <{uri}>'
        proto = msg.transport.upper()
        return Binding(profile=stack.name, user=to.uri.user, host=host, contact=contact,
                       uri=str(uri), call_id=msg.call_id, expires=expires, network_ip=src_ip,
                       network_port=src_port, proto=msg.transport,
                       user_agent=msg.get("User-Agent") or "", auth_user=auth_user, realm=realm,
                       status=f"Registered({proto}{'-NAT' if nat else ''})",
                       margin=stack.cfg.expires_late_margin)

    def _contact_headers(self, user: str, host: str, now: float, granted: dict[str, int] | None,
                         _: int) -> list[tuple[str, str]]:
        out = []
        for b in self.find(user, host):
            n = (granted or {}).get(b.uri, int(b.expires - now))
            if n > 0:
                out.append(("Contact", f"<{_strip_fs(b.uri)}>;expires={n}"))
        return out

    # -- events ------------------------------------------------------------------------------
    def _fire(self, subclass: str, stack: Stack, msg: SipMessage, extra: dict[str, str],
              b: Binding | None = None) -> None:
        ev = Event("CUSTOM", subclass)
        frm = NameAddr.parse(msg.get("From") or "")
        to = NameAddr.parse(msg.get("To") or "")
        h = ev.add_header
        h("profile-name", stack.name)
        if subclass == "sofia::register":
            h("from-user", b.user if b else to.uri.user)
            h("from-host", b.host if b else to.uri.host)
            h("presence-hosts", "n/a")
            h("contact", b.contact if b else "")
            h("call-id", msg.call_id)
            h("rpid", "unknown")
            h("status", b.status if b else "")
            h("expires", extra.pop("expires", "0"))
            h("to-user", frm.uri.user)
            h("to-host", frm.uri.host)
        elif subclass == "sofia::unregister":
            h("username", b.auth_user if b else "")
            h("from-user", b.user if b else to.uri.user)
            h("from-host", b.host if b else to.uri.host)
            h("contact", b.contact if b else "")
            h("call-id", msg.call_id)
            h("rpid", "unknown")
            extra.pop("expires", None)
        else:
            h("from-user", to.uri.user)
            h("from-host", to.uri.host)
            h("call-id", msg.call_id)
        h("network-ip", msg.source[0])
        h("network-port", str(msg.source[1]))
        h("network-proto", msg.transport)
        if b is not None:
            if subclass == "sofia::register":
                h("username", b.auth_user)
            h("realm", b.realm)
        h("user-agent", msg.get("User-Agent") or "")
        if subclass == "sofia::unregister":
            h("expires", "0")
        for k, v in extra.items():
            h(k, v)
        self.sofia.switch.events.fire(ev)

    def _failure(self, stack: Stack, msg: SipMessage, to: NameAddr) -> None:
        ev = Event("CUSTOM", "sofia::register_failure")
        for k, v in (("profile-name", stack.name), ("to-user", to.uri.user),
                     ("to-host", to.uri.host), ("network-ip", msg.source[0]),
                     ("user-agent", msg.get("User-Agent") or ""),
                     ("network-port", str(msg.source[1])), ("registration-type", "REGISTER")):
            ev.add_header(k, v)
        self.sofia.switch.events.fire(ev)

    # -- expiry ---------------------------------------------------------------------------------
    def reap(self, now: float | None = None) -> None:
        """Drop bindings past expiry + late margin, firing sofia::expire (worker thread)."""
        now = time.time() if now is None else now
        gone: list[Binding] = []
        with self.lock:
            for key, bs in list(self.bindings.items()):
                keep = [b for b in bs if b.expires + b.margin > now]
                gone += [b for b in bs if b.expires + b.margin <= now]
                if keep:
                    self.bindings[key] = keep
                else:
                    del self.bindings[key]
        for b in gone:
            ev = Event("CUSTOM", "sofia::expire")
            for k, v in (("profile-name", b.profile), ("call-id", b.call_id), ("user", b.user),
                         ("username", b.user), ("host", b.host), ("contact", b.contact),
                         ("expires", str(int(b.expires))), ("user-agent", b.user_agent),
                         ("realm", b.realm), ("network-ip", b.network_ip),
                         ("network-port", str(b.network_port))):
                ev.add_header(k, v)
            self.sofia.switch.events.fire(ev)
            log(INFO, f"expired {b.user}@{b.host} {b.uri}")

    # -- the core database -------------------------------------------------------------------
    def restore(self, coredb: Any, hostname: str) -> int:
        """Bindings the core database still holds for this node (rows mod_db wrote from
        our sofia::register events)."""
        try:
            rows = coredb.query("SELECT reg_user, realm, token, url, expires, network_ip, "
                                "network_port, network_proto, metadata FROM registrations "
                                "WHERE hostname = ?", [hostname])
        except Exception as e:  # noqa: BLE001
            log(ERR, f"cannot read registrations from the core database: {e}")
            return 0
        now = time.time()
        n = 0
        with self.lock:
            for r in rows:
                url = r.get("url") or ""
                parts = url.split("/", 2)
                if len(parts) != 3 or parts[0] != "sofia" or parts[1] not in self.sofia.stacks:
                    continue
                exp = float(r.get("expires") or 0) - LATE_MARGIN
                if exp <= now:
                    continue
                user = r.get("reg_user") or ""
                host = r.get("realm") or ""
                b = Binding(profile=parts[1], user=user, host=host, contact=f'"" <{parts[2]}>',
                            uri=parts[2], call_id=r.get("token") or "", expires=exp,
                            network_ip=r.get("network_ip") or "",
                            network_port=int(r.get("network_port") or 0),
                            proto=r.get("network_proto") or "udp",
                            user_agent=r.get("metadata") or "", auth_user=user, realm=host,
                            status=f"Registered({(r.get('network_proto') or 'udp').upper()})")
                lst = self.bindings.setdefault(b.key, [])
                if not any(x.uri == b.uri for x in lst):
                    lst.append(b)
                    n += 1
        if n:
            log(INFO, f"{n} registration(s) restored from the core database")
        else:
            log(DEBUG, "no registration to restore")
        return n


def _strip_fs(uri: str) -> str:
    return ";".join(p for p in uri.split(";") if not p.startswith(("fs_nat", "fs_path")))


def contact_target(uri: str) -> tuple[str, tuple[str, int] | None]:
    """A stored contact → (R-URI without fs_* params, the fs_path address to send to)."""
    u = SipUri.parse(uri)
    path = u.params.get("fs_path")
    dest = None
    if path:
        p = SipUri.parse(urllib.parse.unquote(path))
        dest = (p.host, p.port or 5060)
    return _strip_fs(uri), dest
