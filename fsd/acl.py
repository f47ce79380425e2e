"""Access lists (FreeSWITCH's core switch_core_acl): the built-in ``*.auto`` lists, plain
CIDRs, and named lists from acl.conf.xml (``<list name default><node type cidr/></list>``).
In the core because several modules use them: mod_event_socket's ``apply-inbound-acl``,
mod_commands' ``acl`` API."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

Net = ipaddress.IPv4Network | ipaddress.IPv6Network

_AUTO: dict[str, tuple[bool, list[tuple[bool, str]]]] = {
    # name: (default allow, [(allow, cidr)])
    "loopback.auto": (False, [(True, "127.0.0.0/8"), (True, "::1/128")]),
    "rfc1918.auto": (False, [(True, "10.0.0.0/8"), (True, "172.16.0.0/12"),
                             (True, "192.168.0.0/16"), (True, "fc00::/7")]),
    "localnet.auto": (False, [(True, "10.0.0.0/8"), (True, "172.16.0.0/12"),
                              (True, "192.168.0.0/16"), (True, "127.0.0.0/8"), (True, "::1/128"),
                              (True, "fc00::/7"), (True, "fe80::/10")]),
    "any_v4.auto": (False, [(True, "0.0.0.0/0")]),
    "any_v6.auto": (False, [(True, "::/0")]),
    "wan.auto": (True, [(False, "10.0.0.0/8"), (False, "172.16.0.0/12"),
                        (False, "192.168.0.0/16"), (False, "127.0.0.0/8"),
                        (False, "169.254.0.0/16"), (False, "fc00::/7")]),
    "nat.auto": (False, [(True, "10.0.0.0/8"), (True, "172.16.0.0/12"),
                         (True, "192.168.0.0/16"), (True, "100.64.0.0/10")]),
}


class AccessList:
    """One list: nodes checked most-specific first; the default when none matches."""

    def __init__(self, name: str, default_allow: bool, nodes: Iterable[tuple[bool, str]]) -> None:
        self.name = name
        self.default_allow = default_allow
        parsed: list[tuple[bool, Net]] = []
        for allow, cidr in nodes:
            try:
                parsed.append((allow, ipaddress.ip_network(cidr, strict=False)))
            except ValueError:
                continue
        parsed.sort(key=lambda n: -n[1].prefixlen)
        self.nodes = parsed

    def allows(self, ip: str) -> bool:
        try:
            addr = ipaddress.ip_address(ip.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
            addr = addr.ipv4_mapped
        for allow, net in self.nodes:
            if addr.version == net.version and addr in net:
                return allow
        return self.default_allow


def resolve(name: str, acl_conf: Any = None) -> AccessList | None:
    """An access list by name: a built-in ``.auto`` list, a named list of acl.conf, or a
    literal CIDR (``192.0.2.0/24``).  None when unknown."""
    key = name.strip()
    if key.lower() in _AUTO:
        default, nodes = _AUTO[key.lower()]
        return AccessList(key, default, nodes)
    if acl_conf is not None:
        for lst in acl_conf.iter("list"):
            if (lst.get("name") or "").lower() == key.lower():
                default = (lst.get("default") or "deny").lower() == "allow"
                nodes = [((n.get("type") or "allow").lower() == "allow", n.get("cidr") or "")
                         for n in lst.iter("node") if n.get("cidr")]
                return AccessList(key, default, nodes)
    try:
        ipaddress.ip_network(key, strict=False)
    except ValueError:
        return None
    return AccessList(key, False, [(True, key)])
