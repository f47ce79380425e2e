"""Basic auth as FreeSWITCH's mod_xml_rpc does it.

With a realm configured every request needs credentials: the configured ``auth-user`` /
``auth-pass`` (may run every command), or a directory user — ``user@domain`` or ``user``
with the domain taken from the Host header (``virtual-host``), then ``default-domain``,
then the switch's ``domain`` global — whose ``password`` (or ``vm-password``) matches.  A
directory user may run only the commands listed in its ``http-allowed-api`` param (``any``
for all); others get 403.  Missing or wrong credentials get 401 with
``WWW-Authenticate: Basic realm="…"``.

Differences (docs/compat.md): a directory user without a password is refused (FreeSWITCH
lets it in with any password), and passwords are compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass, field
from typing import Any

from fsd.config.xmlconfig import user_params

from .config import HttpSettings
from .request import Caller


@dataclass
class AuthResult:
    ok: bool
    caller: Caller = field(default_factory=Caller)
    #: None: every command; else the directory user's http-allowed-api list
    allowed: frozenset[str] | None = None
    realm: str = ""

    def may_run(self, command: str) -> bool:
        if self.allowed is None:
            return True
        return "any" in self.allowed or command.lower() in self.allowed


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def decode_basic(header: str | None) -> tuple[str, str] | None:
    """``Basic <b64(user:pass)>`` → (user, pass); None when absent or malformed."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return None
    try:
        text = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = text.partition(":")
    if not sep:
        return None
    return user, password


def check_admin(settings: HttpSettings, creds: tuple[str, str] | None) -> AuthResult | None:
    """The configured user (cheap: checked on the loop).  None: not that user."""
    if not settings.auth_required:
        return AuthResult(True)
    if creds is None or not settings.user or not settings.password:
        return None
    user, password = creds
    name, at, domain = user.partition("@")
    if at and not _same(domain, settings.realm):
        return None
    if _same(name, settings.user) and _same(password, settings.password):
        return AuthResult(True, Caller(user=name, fs_user=name, fs_domain=domain or settings.realm))
    return None



def check_directory(switch: Any, settings: HttpSettings, creds: tuple[str, str] | None,
                    host: str) -> AuthResult:
    """A directory user (may consult XML bindings, so run off the loop)."""
    fail = AuthResult(False, realm=settings.realm)
    if creds is None or not settings.auth_users or switch.config is None:
        return fail
    user, password = creds
    user, at, domain = user.partition("@")
    if not at:
        domain = ""
        if settings.virtual_host and host:
            domain = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
            if domain.lower().startswith("www."):
                domain = domain[4:]
        domain = domain or settings.default_domain or (switch.globals.get("domain") or "")
    fail.realm = domain or settings.realm
    if not user or not domain:
        return fail
    found = switch.config.find_user(user, domain, {"number_alias": "check"})
    if not found:
        return fail
    dom_el, user_el = found
    params = user_params(dom_el, user_el)
    secrets = [params.get("password") or ""]
    vm = params.get("vm-password") or ""
    if vm and vm.lower() != "user-choose":
        secrets.append(vm)
    if not any(s and _same(password, s) for s in secrets):
        return fail
    box = user_el.get("number-alias") if user_el.get("number-alias") == user else None
    name = box or user_el.get("id") or user
    allowed = frozenset(w.strip().lower() for w in params.get("http-allowed-api", "").split(",")
                        if w.strip())
    return AuthResult(True, Caller(user=f"{name}@{domain}", fs_user=name, fs_domain=domain),
                      allowed=allowed)
