"""Directory APIs (mod_commands.c): user_exists, find_user_xml, user_data, domain_exists,
domain_data, in_group, group_call, list_users — over the directory section of the XML
configuration (bindings such as a Lua xml-handler are asked through ``find_user``)."""

from __future__ import annotations

from typing import Any

from lxml import etree

from fsd.separate import separate_string

LIST_USERS_SYNTAX = "[group <group>] [domain <domain>] [user <user>] [context <context>]"


class DirectoryApis:
    def __init__(self, switch: Any) -> None:
        self.switch = switch

    # -- lookups -------------------------------------------------------------------------
    def _default_domain(self) -> str:
        return self.switch.globals.get("domain") or "cluecon.com"

    def _domains(self, name: str | None = None) -> list[Any]:
        cfg = self.switch.config
        out = []
        for sec in cfg.sections("directory") if cfg else []:
            for dom in sec.iter("domain"):
                if name is None or (dom.get("name") or "").lower() == name.lower():
                    out.append(dom)
        return out

    def _find_user(self, key: str, user: str, domain: str) -> tuple[Any, Any] | None:
        """(domain, user) where the user's ``key`` attribute (``id:number-alias``: either)
        is ``user``."""
        cfg = self.switch.config
        if cfg is None:
            return None
        if key in ("id", "id:number-alias"):
            found = cfg.find_user(user, domain)
            if found and (key != "id" or found[1].get("id") == user):
                return found
            if key == "id":
                return None
        keys = key.split(":")
        for dom in self._domains(domain):
            for u in dom.iter("user"):
                if any(u.get(k) == user for k in keys):
                    return dom, u
        return None

    @staticmethod
    def _merged(dom: Any, user: Any, container: str, elem: str) -> list[tuple[str, str]]:
        """The user's params/variables, then its group's and domain's (merged user)."""
        out: list[tuple[str, str]] = []
        scopes = [user]
        group = user.getparent().getparent() if user.getparent() is not None else None
        if group is not None and group.tag == "group":
            scopes.append(group)
        scopes.append(dom)
        for scope in scopes:
            c = scope.find(container)
            if c is None:
                continue
            for p in c.findall(elem):
                if p.get("name") is not None and p.get("value") is not None:
                    out.append((p.get("name"), p.get("value")))
        return out

    # -- APIs ----------------------------------------------------------------------------
    def user_exists(self, args: str, session: Any, stream: Any) -> None:
        argv = separate_string(args or "", " ", 3)
        ok = len(argv) == 3 and self._find_user(argv[0], argv[1], argv[2]) is not None
        stream.write("true" if ok else "false")

    def find_user_xml(self, args: str, session: Any, stream: Any) -> None:
        argv = separate_string(args or "", " ", 3)
        found = self._find_user(argv[0], argv[1], argv[2]) if len(argv) == 3 else None
        err = "bad args" if len(argv) < 3 else ("can't find user" if found is None else None)
        if session is not None:
            stream.write("false" if err else "true")
            return
        if err:
            stream.write(f"-ERR {err}\n")
            return
        stream.write(etree.tostring(found[1], encoding="unicode", with_tail=False))

    def user_data(self, args: str, session: Any, stream: Any) -> None:
        argv = separate_string(args or "", " ", 3)
        if len(argv) < 3:
            return
        user, _, domain = argv[0].partition("@")
        kind, key = argv[1], argv[2]
        found = self._find_user("id:number-alias", user, domain or self._default_domain())
        if found is None:
            return
        dom, u = found
        if kind == "attr":
            stream.write(u.get(key) or "")
            return
        container, elem = ("variables", "variable") if kind == "var" else ("params", "param")
        for name, value in self._merged(dom, u, container, elem):
            if name.lower() == key.lower():
                stream.write(value)
                return

    def domain_exists(self, args: str, session: Any, stream: Any) -> None:
        if args:
            stream.write("true" if self._domains(args.strip()) else "false")

    def domain_data(self, args: str, session: Any, stream: Any) -> None:
        argv = separate_string(args or "", " ", 3)
        if len(argv) < 3:
            return
        doms = self._domains(argv[0])
        if not doms:
            return
        dom, kind, key = doms[0], argv[1], argv[2]
        if kind == "attr":
            stream.write(dom.get(key) or "")
            return
        container, elem = ("variables", "variable") if kind == "var" else ("params", "param")
        result = None
        c = dom.find(container)
        for p in c.findall(elem) if c is not None else []:
            if (p.get("name") or "").lower() == key.lower() and p.get("value") is not None:
                result = p.get("value")
        if result is not None:
            stream.write(result)

    def _group(self, name: str, domain: str) -> tuple[Any, Any] | None:
        for dom in self._domains(domain):
            for g in dom.iter("group"):
                if g.get("name") == name:
                    return dom, g
        return None

    def in_group(self, args: str, session: Any, stream: Any) -> None:
        """``in_group <user>[@<domain>],<group>`` (mod_commands splits on a comma)."""
        argv = separate_string(args or "", ",", 2)
        if len(argv) < 2:
            stream.write("false")
            return
        user, _, domain = argv[0].partition("@")
        found = self._group(argv[1], domain or self._default_domain())
        users = found[1].find("users") if found else None
        ok = users is not None and any(u.get("id") == user for u in users.findall("user"))
        stream.write("true" if ok else "false")

    def group_call(self, args: str, session: Any, stream: Any) -> None:
        """``group_call <group>[@<domain>][+F|+A|+E]``: the members' dial strings joined
        with ``,`` (A), ``|`` (F) or ``:_:`` (E); ``error/NO_ROUTE_DESTINATION`` if none."""
        text = (args or "").strip()
        delim = ","
        if "+" in text:
            text, _, flags = text.partition("+")
            for f in flags:
                delim = {"F": "|", "A": ",", "E": ":_:"}.get(f, delim)
        name, _, domain = text.partition("@")
        domain = domain or self._default_domain()
        found = self._group(name, domain) if name else None
        out: list[str] = []
        if found:
            dom, group = found
            users = group.find("users")
            for u in users.findall("user") if users is not None else []:
                uid = u.get("id") or ""
                real = u
                if u.get("type") == "pointer":
                    hit = self._find_user("id", uid, domain)
                    if hit is None:
                        continue
                    real = hit[1]
                dest = None
                for scope in (dom, group, real):
                    dest = _dial_param(scope, dest)
                if dest:
                    lookup = {"dialed_user": uid, "dialed_group": name, "dialed_domain": domain}
                    if session is not None:
                        for k, v in lookup.items():
                            session.set_variable(k, v)
                        dest = self.switch.expand(dest, session)
                    else:
                        dest = self.switch.expand(dest, None, lookup=lambda n, lk=lookup: lk.get(n)
                                                  or self.switch.globals.get(n))
                else:
                    dest = f"user/{uid}@{domain}"
                if dest:
                    out.append(_flatten(dest))
        stream.write(delim.join(out) if out else "error/NO_ROUTE_DESTINATION")

    def list_users(self, args: str, session: Any, stream: Any) -> None:
        argv = separate_string(args or "", " ", 9)
        if len(argv) >= 9:
            stream.write(f"-USAGE: {LIST_USERS_SYNTAX}\n")
            return
        want: dict[str, str] = {}
        for i, a in enumerate(argv[:-1]):
            if a.lower() in ("user", "context", "domain", "group"):
                want[a.lower()] = argv[i + 1]
        stream.write("userid|context|domain|group|contact|callgroup|effective_caller_id_name|"
                     "effective_caller_id_number\n")
        for dom in self._domains(want.get("domain")):
            base = _vars(dom, {})
            groups = dom.find("groups")
            if groups is not None:
                for g in groups.findall("group"):
                    if want.get("group") and want["group"].lower() != (g.get("name") or "").lower():
                        continue
                    gv = _vars(g, base)
                    for users in g.findall("users"):
                        for u in users.findall("user"):
                            self._dump_user(stream, dom, g.get("name") or "", u, gv, want)
            else:
                for users in dom.findall("users"):
                    for u in users.findall("user"):
                        self._dump_user(stream, dom, "", u, base, want)
        stream.write("\n+OK\n")

    def _dump_user(self, stream: Any, dom: Any, group: str, u: Any, inherited: dict[str, str],
                   want: dict[str, str]) -> None:
        uid = u.get("id") or ""
        if want.get("user") and want["user"].lower() != uid.lower():
            return
        v = _vars(u, inherited)
        context = v.get("user_context", "")
        if want.get("context") and want["context"] != context:
            return
        contact = "error/user_not_registered"
        reg = self.switch.api_execute("sofia_contact", f"{uid}@{dom.get('name')}") \
            if "sofia_contact" in getattr(self.switch, "apis", {}) else ""
        if reg and not reg.startswith("error/") and not reg.startswith("-ERR"):
            contact = reg.strip()
        stream.write(f"{uid}|{context}|{dom.get('name') or ''}|{group}|{contact}|"
                     f"{v.get('callgroup', '')}|{v.get('effective_caller_id_name', '')}|"
                     f"{v.get('effective_caller_id_number', '')}\n")


def _vars(el: Any, inherited: dict[str, str]) -> dict[str, str]:
    out = dict(inherited)
    c = el.find("variables")
    for p in c.findall("variable") if c is not None else []:
        if p.get("name") in ("user_context", "callgroup", "effective_caller_id_name",
                             "effective_caller_id_number"):
            out[p.get("name")] = p.get("value") or ""
    return out


def _dial_param(scope: Any, dest: str | None) -> str | None:
    params = scope.find("params")
    for p in params.findall("param") if params is not None else []:
        name = (p.get("name") or "").lower()
        if name == "group-dial-string":
            return p.get("value")
        if name == "dial-string":
            dest = p.get("value")
    return dest


def _flatten(dest: str) -> str:
    """A leading ``{vars}`` becomes the leg's ``[vars]``, as a group member's dial string
    must carry its own variables."""
    if dest.startswith("{") and "}" in dest:
        end = dest.index("}")
        return "[" + dest[1:end] + "]" + dest[end + 1:]
    return dest


def declare(module: Any) -> None:
    d = DirectoryApis(module.switch)
    add = module.add_api
    add("user_exists", "Find a user", "<key> <user> <domain>", d.user_exists)
    add("find_user_xml", "Find a user", "<key> <user> <domain>", d.find_user_xml)
    add("user_data", "Find user data", "<user>@<domain> [var|param|attr] <name>", d.user_data)
    add("domain_exists", "Check if a domain exists", "<domain>", d.domain_exists)
    add("domain_data", "Find domain data", "<domain> [var|param|attr] <name>", d.domain_data)
    add("in_group", "Determine if a user is in a group", "<user>[@<domain>] <group_name>", d.in_group)
    add("group_call", "Generate a dial string to call a group", "<group>[@<domain>]", d.group_call)
    add("list_users", "List Users configured in Directory", LIST_USERS_SYNTAX, d.list_users)
