"""Digest authentication (RFC 2617 MD5, qop=auth) against the directory, both sides:
``check_request`` for REGISTER/INVITE we receive (sofia-behaviour §4.2, §5.2), and
``authorization`` for challenges we answer (gateways, ``sip_auth_*``).

``check_request`` looks users up in the directory, which may ask a Lua xml-handler: it
runs on a worker thread, never on the loop."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fsd.truth import is_false, is_true

from .message import NameAddr, SipMessage, parse_auth

if TYPE_CHECKING:  # pragma: no cover
    from .ua import Stack


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 - digest auth is MD5


class Nonces:
    """Nonces we issued: nonce → [expiry (monotonic), last nc]."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: dict[str, list[float]] = {}

    def new(self, ttl: int) -> str:
        n = str(uuid.uuid4())
        now = time.monotonic()
        with self.lock:
            if len(self.items) > 5000:
                self.items = {k: v for k, v in self.items.items() if v[0] > now}
            self.items[n] = [now + ttl, 0]
        return n

    def check(self, nonce: str, nc: str) -> bool:
        """False when the nonce is unknown, expired, or ``nc`` does not grow (stale)."""
        now = time.monotonic()
        with self.lock:
            item = self.items.get(nonce)
            if item is None or item[0] < now:
                self.items.pop(nonce, None)
                return False
            if nc:
                try:
                    n = int(nc, 16)
                except ValueError:
                    return False
                if n <= item[1]:
                    return False
            return True

    def used(self, nonce: str, nc: str, extend: int) -> None:
        with self.lock:
            item = self.items.get(nonce)
            if item is None:
                return
            if nc:
                try:
                    item[1] = int(nc, 16)
                except ValueError:
                    pass
                item[0] = max(item[0], time.monotonic() + extend)


@dataclass
class AuthResult:
    status: int = 0            # 0 = accepted; 401/407 = challenge; 403 = forbidden
    reason: str = ""
    challenge: str = ""
    user: str = ""
    domain: str = ""
    realm: str = ""
    renewed: bool = False
    variables: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


def challenge_realm(stack: Stack, msg: SipMessage) -> str:
    how = stack.cfg.challenge_realm
    if how == "auto_from":
        return NameAddr.parse(msg.get("From") or "").uri.host
    if how in ("auto_to", ""):
        return NameAddr.parse(msg.get("To") or "").uri.host
    return how


def challenge_text(realm: str, nonce: str, stale: bool = False) -> str:
    st = " stale=true," if stale else ""
    return f'Digest realm="{realm}", nonce="{nonce}",{st} algorithm=MD5, qop="auth"'


def _params(el: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if el is None:
        return out
    for p in el.iter("param"):
        if p.get("name"):
            out[p.get("name")] = p.get("value") or ""
    return out


def _variables(el: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if el is None:
        return out
    for v in el.iter("variable"):
        if v.get("name"):
            out[v.get("name")] = v.get("value") or ""
    return out


def directory_user(stack: Stack, user: str, domain: str) -> tuple[Any, Any] | None:
    cfg = stack.switch.config
    if cfg is None:
        return None
    return cfg.find_user(user, domain, {"action": "sip_auth", "sip_profile": stack.name})


def user_data(dom: Any, usr: Any) -> tuple[dict[str, str], dict[str, str]]:
    """(params, variables) of a directory user, the domain's as defaults."""
    params = _params(dom.find("params"))
    params.update(_params(usr.find("params")))
    variables = _variables(dom.find("variables"))
    variables.update(_variables(usr.find("variables")))
    return params, variables


def check_request(stack: Stack, msg: SipMessage, method: str) -> AuthResult:
    """Verify the request's credentials (Authorization for REGISTER, Proxy-Authorization
    otherwise).  The result says what to answer."""
    sofia = stack.sofia
    register = method == "REGISTER"
    code = 401 if register else 407
    hdr = msg.get("Authorization" if register else "Proxy-Authorization")
    realm = challenge_realm(stack, msg)
    res = AuthResult(realm=realm)
    if not hdr:
        res.status, res.reason = code, ""
        res.challenge = challenge_text(realm, sofia.nonces.new(stack.cfg.nonce_ttl))
        return res
    a = parse_auth(hdr)
    needed = ("username", "realm", "nonce", "uri", "response")
    if a.get("scheme") != "digest" or any(not a.get(k) for k in needed) or \
            (a.get("algorithm") or "MD5").upper() != "MD5" or \
            not sofia.nonces.check(a["nonce"], a.get("nc", "")):
        res.status = code
        res.challenge = challenge_text(realm, sofia.nonces.new(stack.cfg.nonce_ttl), stale=True)
        return res
    user = a["username"]
    domain = stack.cfg.force_register_domain or a["realm"]
    res.user, res.domain = user, domain
    found = directory_user(stack, user, domain)
    if found is None:
        res.status, res.reason = 403, "Forbidden"
        return res
    dom, usr = found
    if (usr.get("type") or "") == "pointer":
        res.status, res.reason = 403, "Forbidden"
        return res
    params, variables = user_data(dom, usr)
    if register and is_true(params.get("sip-forbid-register")):
        res.status, res.reason = 403, "Forbidden"
        return res
    a1 = params.get("a1-hash")
    password = params.get("password")
    if not a1 and password:
        a1 = md5(f"{user}:{a['realm']}:{password}")
    if a1:
        ha2 = md5(f"{msg.method}:{a['uri']}")
        if a.get("qop") and a.get("nc") and a.get("cnonce"):
            expected = md5(f"{a1}:{a['nonce']}:{a['nc']}:{a['cnonce']}:{a['qop']}:{ha2}")
        else:
            expected = md5(f"{a1}:{a['nonce']}:{ha2}")
        if expected.lower() != a["response"].lower():
            res.status, res.reason = 403, "Forbidden"
            return res
    elif is_false(params.get("allow-empty-password")):
        res.status, res.reason = 403, "Forbidden"
        return res
    res.renewed = bool(a.get("nc"))
    sofia.nonces.used(a["nonce"], a.get("nc", ""), stack.cfg.nonce_ttl + 3600)
    res.params = params
    out = dict(variables)
    for k, v in params.items():
        if k.startswith("sip-"):
            out[k.replace("-", "_")] = v
    out.update({"sip_number_alias": usr.get("number-alias") or user, "sip_auth_username": user,
                "sip_auth_realm": a["realm"], "number_alias": usr.get("number-alias") or user,
                "user_name": usr.get("id") or user, "domain_name": dom.get("name") or domain,
                "requested_user_name": user, "requested_domain_name": domain})
    res.variables = out
    return res


def authorization(challenge: dict[str, str], method: str, uri: str, user: str,
                  password: str) -> str:
    """The Authorization / Proxy-Authorization value answering ``challenge``."""
    realm = challenge.get("realm", "")
    nonce = challenge.get("nonce", "")
    ha1 = md5(f"{user}:{realm}:{password}")
    ha2 = md5(f"{method}:{uri}")
    qops = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
    parts = [f'username="{user}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
    if "auth" in qops:
        cnonce = uuid.uuid4().hex[:16]
        nc = "00000001"
        resp = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        parts += [f'response="{resp}"', "algorithm=MD5", "qop=auth", f"nc={nc}",
                  f'cnonce="{cnonce}"']
    else:
        parts += [f'response="{md5(f"{ha1}:{nonce}:{ha2}")}"', "algorithm=MD5"]
    if challenge.get("opaque"):
        parts.append(f'opaque="{challenge["opaque"]}"')
    return "Digest " + ", ".join(parts)
