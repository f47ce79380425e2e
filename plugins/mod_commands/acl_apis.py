"""``acl <ip> <list>`` and ``reloadacl`` (mod_commands.c) over the access lists of
acl.conf.xml and the built-in ``*.auto`` lists (:mod:`fsd.acl`)."""

from __future__ import annotations

from typing import Any

from fsd.acl import resolve
from fsd.separate import separate_string


class AclApis:
    def __init__(self, switch: Any) -> None:
        self.switch = switch

    def acl(self, args: str, session: Any, stream: Any) -> None:
        argv = separate_string(args or "", " ", 3)
        ok = False
        if len(argv) >= 2:
            cfg = self.switch.config.get_configuration("acl.conf") if self.switch.config else None
            lst = resolve(argv[1], cfg)
            ok = lst is not None and lst.allows(argv[0])
        stream.write("true" if ok else "false")

    def reloadacl(self, args: str, session: Any, stream: Any) -> None:
        if (args or "").strip().lower() == "reloadxml":
            stream.write("This option is deprecated, we now always reloadxml.\n")
        out = self.switch.api_execute("reloadxml", "")
        if out.startswith("+OK"):
            stream.write("+OK acl reloaded\n")
        else:
            stream.write(out.replace("-ERR ", "-ERR ", 1))

    def switchname(self, args: str, session: Any, stream: Any) -> None:
        stream.write(getattr(self.switch, "switchname", "") or getattr(self.switch, "hostname", ""))


def declare(module: Any) -> None:
    a = AclApis(module.switch)
    module.add_api("acl", "Compare an ip to an acl list", "<ip> <list_name>", a.acl)
    module.add_api("reloadacl", "Reload ACL", "", a.reloadacl)
    module.add_api("switchname", "Return the switch name", "", a.switchname)
