# ruff: noqa: UP031  (the printf formats are FreeSWITCH's, kept recognisable)
"""The ``sofia`` and ``sofia_contact`` APIs (sofia-behaviour §3)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from . import Sofia

SEP = "=" * 97
USAGE = """USAGE:
--------------------------------------------------------------------------------
sofia global siptrace <on|off>
sofia profile <name> [register|unregister] [<gateway name>|all]
sofia status [profile <name> [reg [<contact str>]] | gateway <name>]
sofia xmlstatus
--------------------------------------------------------------------------------
"""


def sofia_api(sofia: Sofia, args: str, session: Any, stream: Any) -> None:
    argv = args.split()
    if not argv or argv[0] == "help":
        stream.write(USAGE)
        return
    cmd = argv[0].lower()
    if cmd == "status":
        stream.write(status(sofia, argv[1:]))
    elif cmd == "profile" and len(argv) >= 3:
        stream.write(profile_cmd(sofia, argv[1], argv[2:]))
    elif cmd == "profile":
        stream.write("Invalid Args!\n")
    elif cmd == "xmlstatus":
        stream.write(xmlstatus(sofia, argv[1:]))
    elif cmd == "global":
        stream.write("+OK\n")
    else:
        stream.write(f"Unknown Command [{argv[0]}]\n")


def status(sofia: Sofia, argv: list[str]) -> str:
    if not argv:
        head = "%25s\t%s\t  %40s\t%s\n" % ("Name", "   Type", "Data", "State")
        out = [head, SEP + "\n"]
        aliases = 0
        for st in sofia.stacks.values():
            out.append("%25s\t%s\t  %40s\t%s (%u)\n" % (st.name, "profile", st.url, "RUNNING",
                                                      _channels(sofia, st.name)))
            for gw in sofia.gateways.values():
                if gw.stack is st:
                    out.append("%25s\t%s\t  %40s\t%s\n" % (
                        f"{st.name}::{gw.name}", "gateway",
                        f"sip:{gw.cfg.username}@{gw.proxy_host}", gw.summary_state()))
            for a in st.cfg.aliases:
                aliases += 1
                out.append("%25s\t%s\t  %40s\t%s\n" % (a, "  alias", st.name, "ALIASED"))
        n = len(sofia.stacks)
        out.append(SEP + "\n")
        out.append(f"{n} profile{'s' if n != 1 else ''} {aliases} alias{'es' if aliases != 1 else ''}\n")
        return "".join(out)
    what = argv[0].lower()
    if what == "profile" and len(argv) >= 2:
        st = sofia.find_profile(argv[1])
        if st is None:
            return "Invalid Profile!\n"
        if len(argv) == 2:
            return profile_info(sofia, st)
        sub = argv[2].lower()
        if sub == "reg":
            return reg_list(sofia, st.name, argv[3] if len(argv) > 3 else "")
        if sub == "user" and len(argv) > 3:
            u, _, h = argv[3].partition("@")
            return reg_list(sofia, st.name, "", (u, h))
        return "Invalid Syntax!\n"
    if what == "gateway" and len(argv) >= 2:
        gw = sofia.find_gateway(argv[1])
        return gw.status_text() if gw is not None else "Invalid Gateway!\n"
    return gateway_summary(sofia)


def _channels(sofia: Sofia, profile: str) -> int:
    return sum(1 for s in list(sofia.switch.sessions.values())
               if s.endpoint_name == "sofia" and s.variables.get("sofia_profile_name") == profile)


def profile_info(sofia: Sofia, st: Any) -> str:
    c = st.cfg
    b = lambda v: "true" if v else "false"  # noqa: E731
    rows = [("Name", st.name), ("Domain Name", c.domain or "N/A"), ("Auto-NAT", "false"),
            ("DBName", f"sofia_reg_{st.name}"), ("Pres Hosts", ""), ("Dialplan", c.dialplan),
            ("Context", c.context), ("Challenge Realm", c.challenge_realm or "auto_to"),
            ("RTP-IP", c.rtp_ip)]
    if c.ext_rtp_ip:
        rows.append(("Ext-RTP-IP", c.ext_rtp_ip))
    rows.append(("SIP-IP", c.sip_ip))
    if c.ext_sip_ip:
        rows.append(("Ext-SIP-IP", c.ext_sip_ip))
    rows += [("URL", st.url), ("BIND-URL", f"{st.url};transport=udp,tcp"),
             ("HOLD-MUSIC", "N/A"), ("OUTBOUND-PROXY", "N/A"),
             ("CODECS IN", c.codec_prefs or "PCMU,PCMA"), ("CODECS OUT", c.codec_prefs or "PCMU,PCMA"),
             ("TEL-EVENT", str(c.rfc2833_pt)), ("DTMF-MODE", c.dtmf_type), ("CNG", "13"),
             ("SESSION-TO", "0"), ("MAX-DIALOG", "0"), ("MAX-RECV-RPS", "0"),
             ("NOMEDIA", "false"), ("LATE-NEG", "false"), ("PROXY-MEDIA", "false"),
             ("AGGRESSIVENAT", "false"), ("CALLS-IN", str(st.calls_in)),
             ("FAILED-CALLS-IN", str(st.failed_calls_in)), ("CALLS-OUT", str(st.calls_out)),
             ("FAILED-CALLS-OUT", str(st.failed_calls_out)),
             ("REGISTRATIONS", str(sofia.registrar.count(st.name)))]
    _ = b
    return SEP + "\n" + "".join(f"{k:<17}\t{v}\n" for k, v in rows)


def reg_list(sofia: Sofia, profile: str, contains: str = "",
             user: tuple[str, str] | None = None) -> str:
    out = ["\nRegistrations:\n", SEP + "\n"]
    now = time.time()
    n = 0
    for b in sofia.registrar.all(profile):
        if contains and contains not in b.contact:
            continue
        if user is not None and ((user[0] and b.user.lower() != user[0].lower())
                                 or (user[1] and b.host.lower() != user[1].lower())):
            continue
        n += 1
        exp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(b.expires + 60))
        out.append(
            f"Call-ID:    \t{b.call_id}\nUser:       \t{b.user}@{b.host}\n"
            f"Contact:    \t{b.contact}\nAgent:      \t{b.user_agent}\n"
            f"Status:     \t{b.status}(unknown) EXP({exp}) EXPSECS({int(b.expires + 60 - now)})\n"
            f"Ping-Status:\tReachable\nPing-Time:\t0.00\nHost:       \t{sofia.switch.hostname}\n"
            f"IP:         \t{b.network_ip}\nPort:       \t{b.network_port}\n"
            f"Auth-User:  \t{b.auth_user}\nAuth-Realm: \t{b.realm}\n"
            f"MWI-Account:\t{b.user}@{b.host}\n\n")
    out.append(f"Total items returned: {n}\n")
    out.append(SEP + "\n")
    return "".join(out)


def gateway_summary(sofia: Sofia) -> str:
    out = ["%25s\t%32s\t%s\t%9s\t%s\t%s\n" % ("Profile::Gateway-Name", "    Data    ", "State",
                                             "Ping Time", "IB Calls(F/T)", "OB Calls(F/T)"),
           SEP + "\n"]
    ib = ibf = ob = obf = 0
    for gw in sofia.gateways.values():
        out.append("%25s\t%32s\t%s\t%6.2f\t%u/%u\t%u/%u\n" % (
            f"{gw.stack.name}::{gw.name}", f"sip:{gw.cfg.username}@{gw.proxy_host}", gw.state,
            gw.ping_time, gw.failed_calls_in, gw.calls_in, gw.failed_calls_out, gw.calls_out))
        ib += gw.calls_in
        ibf += gw.failed_calls_in
        ob += gw.calls_out
        obf += gw.failed_calls_out
    n = len(sofia.gateways)
    out.append(SEP + "\n")
    out.append(f"{n} gateway{'s' if n != 1 else ''}: Inbound(Failed/Total): {ibf}/{ib},"
               f"Outbound(Failed/Total):{obf}/{ob}\n")
    return "".join(out)


def profile_cmd(sofia: Sofia, name: str, argv: list[str]) -> str:
    st = sofia.find_profile(name)
    if st is None:
        return "Invalid Profile!\n"
    action = argv[0].lower()
    if action in ("register", "unregister"):
        which = argv[1] if len(argv) > 1 else "all"
        gws = [g for g in sofia.gateways.values() if g.stack is st and (which == "all" or g.name == which)]
        if not gws:
            return "Invalid gateway!\n"
        results = []
        for g in gws:
            if not g.cfg.register:
                results.append(f"-ERR NOREG gateway [{g.name}] can't be {action}ed!\n")
                continue
            # Queued to the loop, never waited for: the caller may be a call's thread.
            sofia.switch.loop.call_soon_threadsafe(g.register if action == "register" else g.unregister)
            results.append("+OK\n")
        return results[0] if len(results) == 1 else "+OK\n"
    if action in ("start", "stop", "restart", "rescan"):
        return f"-ERR {action} is not supported by mod_sofia_lite\n"
    return "Invalid Syntax!\n"


def sofia_contact(sofia: Sofia, args: str, session: Any, stream: Any) -> None:
    """``[profile/]user[@domain][/prefix][~ua]`` → comma-joined dial strings."""
    text = args.strip()
    ua_filter = ""
    if "~" in text:
        text, _, ua_filter = text.partition("~")
    if session is not None and not ua_filter:
        ua_filter = session.get_variable("sip_match_user_agent") or ""
    profile = ""
    parts = text.split("/")
    prefix = ""
    if len(parts) >= 2 and "@" not in parts[0]:
        profile, text = parts[0], parts[1]
        prefix = "/".join(parts[2:])
    elif len(parts) >= 2:
        text, prefix = parts[0], "/".join(parts[1:])
    user, _, domain = text.partition("@")
    domain = domain or sofia.switch.globals.get("domain") or ""
    if profile in ("", "*"):
        names = [] if profile == "*" else [domain]
        stacks = [sofia.find_profile(n) for n in names if sofia.find_profile(n)] or list(sofia.stacks.values())
    else:
        st = sofia.find_profile(profile)
        stacks = [st] if st else []
    exclude = session.get_variable("sip_exclude_contact") if session is not None else None
    out: list[str] = []
    for st in stacks:
        for b in sofia.registrar.find(user, domain, st.name):
            if ua_filter and ua_filter not in b.user_agent:
                continue
            if exclude and exclude in b.contact:
                continue
            ds = f"{prefix}sofia/{st.name}/{b.uri}"
            if ds not in out:
                out.append(ds)
    if not out and stacks and profile != "*":
        from .shared_regs import other_nodes_contacts  # registered on another node

        for uri in other_nodes_contacts(sofia.switch, user, domain):
            if not (exclude and exclude in uri):
                out.append(f"{prefix}sofia/{stacks[0].name}/{uri}")
    stream.write(",".join(out) if out else "error/user_not_registered")


XML_HEAD = '<?xml version="1.0" encoding="ISO-8859-1"?>\n'


def _x(text: object) -> str:
    from xml.sax.saxutils import escape

    return escape(str(text))


def xmlstatus(sofia: Sofia, argv: list[str]) -> str:
    """``sofia xmlstatus [profile <p> [reg] | gateway [<gw>]]`` (§3.5)."""
    if not argv:
        items = []
        for st in sofia.stacks.values():
            items.append(f"  <profile>\n    <name>{_x(st.name)}</name>\n    <type>profile</type>\n"
                         f"    <data>{_x(st.url)}</data>\n    <state>RUNNING ({_channels(sofia, st.name)})</state>\n"
                         "  </profile>\n")
            for a in st.cfg.aliases:
                items.append(f"  <alias>\n    <name>{_x(a)}</name>\n    <type>alias</type>\n"
                             f"    <data>{_x(st.name)}</data>\n    <state>ALIASED</state>\n  </alias>\n")
        for gw in sofia.gateways.values():
            items.append(f"  <gateway>\n    <name>{_x(gw.stack.name)}::{_x(gw.name)}</name>\n"
                         f"    <type>gateway</type>\n    <data>sip:{_x(gw.cfg.username)}@{_x(gw.proxy_host)}</data>\n"
                         f"    <state>{_x(gw.state)}</state>\n  </gateway>\n")
        return XML_HEAD + "<profiles>\n" + "".join(items) + "</profiles>\n"
    what = argv[0].lower()
    if what == "profile" and len(argv) >= 2:
        st = sofia.find_profile(argv[1])
        if st is None:
            return "Invalid Profile!\n"
        out = [XML_HEAD, "<profile>\n"]
        if len(argv) == 2:
            out.append("  <profile-info>\n")
            for line in profile_info(sofia, st).splitlines()[1:]:
                k, _, v = line.partition("\t")
                tag = k.strip().lower().replace(" ", "-")
                out.append(f"    <{tag}>{_x(v)}</{tag}>\n")
            out.append("  </profile-info>\n")
        elif argv[2].lower() == "reg":
            out.append("  <registrations>\n")
            now = time.time()
            for b in sofia.registrar.all(st.name):
                out.append(
                    "    <registration>\n"
                    f"        <call-id>{_x(b.call_id)}</call-id>\n"
                    f"        <user>{_x(b.user)}@{_x(b.host)}</user>\n"
                    f"        <contact>{_x(b.contact)}</contact>\n"
                    f"        <agent>{_x(b.user_agent)}</agent>\n"
                    f"        <status>{_x(b.status)}(unknown) exp({time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(b.expires + 60))}) expsecs({int(b.expires + 60 - now)})</status>\n"
                    f"        <host>{_x(sofia.switch.hostname)}</host>\n"
                    f"        <network-ip>{_x(b.network_ip)}</network-ip>\n"
                    f"        <network-port>{b.network_port}</network-port>\n"
                    f"        <sip-auth-user>{_x(b.auth_user)}</sip-auth-user>\n"
                    f"        <sip-auth-realm>{_x(b.realm)}</sip-auth-realm>\n"
                    "    </registration>\n")
            out.append("  </registrations>\n")
        else:
            return "Invalid Syntax!\n"
        out.append("</profile>\n")
        return "".join(out)
    if what == "gateway":
        gws = list(sofia.gateways.values())
        if len(argv) >= 2:
            gw = sofia.find_gateway(argv[1])
            if gw is None:
                return "Invalid Gateway!\n"
            gws = [gw]

        def one(gw) -> str:
            rows = [line.partition("\t") for line in gw.status_text().splitlines()[1:-1]]
            return "  <gateway>\n" + "".join(
                f"    <{k.strip().lower()}>{_x(v)}</{k.strip().lower()}>\n" for k, _, v in rows) + "  </gateway>\n"
        if len(argv) >= 2:
            return XML_HEAD + one(gws[0]).replace("  <gateway>", "<gateway>", 1).replace("  </gateway>", "</gateway>")
        return XML_HEAD + "<gateways>\n" + "".join(one(g) for g in gws) + "</gateways>\n"
    return "Invalid Syntax!\n"
