"""``apply-inbound-acl`` on a profile (FreeSWITCH's rule for INVITEs): an address the list
allows is trusted — its calls are taken without a digest challenge even with
``auth-calls`` (a proxy such as Kamailio in front of the node, docs/deploy.md); an address
it refuses is challenged when ``auth-calls`` is on and refused with 403 when it is off.
Lists are those of mod_event_socket's ``apply-inbound-acl``: ``*.auto``, a CIDR, or a
named list of acl.conf.xml."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fsd.log import ERR, log

if TYPE_CHECKING:  # pragma: no cover
    from .ua import Stack


def acl_allows(stack: Stack, ip: str) -> bool | None:
    """True/False when the profile names inbound ACLs (any one allowing suffices), None
    when it names none.  An unknown list name allows nothing (logged)."""
    names = stack.cfg.apply_inbound_acl
    if not names:
        return None
    from fsd_modules.mod_event_socket.acl import resolve

    sw = stack.switch
    conf = sw.config.get_configuration("acl.conf") if getattr(sw, "config", None) else None
    for name in names:
        acl = resolve(name, conf)
        if acl is None:
            log(ERR, f"sofia profile {stack.cfg.name}: unknown apply-inbound-acl {name!r}")
            continue
        if acl.allows(ip):
            return True
    return False
