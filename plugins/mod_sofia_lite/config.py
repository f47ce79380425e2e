"""sofia.conf.xml in FreeSWITCH's shape: ``<profiles><profile name><settings>`` with
``<gateways>``, ``<aliases>`` and ``<domains>``.  Profile param names are case-insensitive,
gateway param names case-sensitive (as in FreeSWITCH)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fsd.log import ERR, WARNING, log
from fsd.truth import is_true


def _int(v: str | None, default: int) -> int:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return default


@dataclass
class GatewayConfig:
    name: str
    profile: str = ""
    register: bool = True
    username: str = "FreeSWITCH"
    password: str = ""
    realm: str = ""
    proxy: str = ""
    register_proxy: str = ""
    outbound_proxy: str = ""
    auth_username: str = ""
    from_user: str = ""
    from_domain: str = ""
    extension: str = ""
    context: str = ""
    expire_seconds: int = 3600
    retry_seconds: int = 30
    timeout_seconds: int = 60
    register_transport: str = "udp"
    caller_id_in_from: bool = False
    ping: int = 0
    ping_min: int = 1
    ping_max: int = 1
    variables_in: dict[str, str] = field(default_factory=dict)
    variables_out: dict[str, str] = field(default_factory=dict)


@dataclass
class ProfileConfig:
    name: str
    sip_ip: str = "127.0.0.1"
    sip_port: int = 5060
    ext_sip_ip: str = ""
    rtp_ip: str = ""
    ext_rtp_ip: str = ""
    context: str = "default"
    dialplan: str = "XML"
    domain: str = ""
    auth_calls: bool = False
    accept_blind_reg: bool = False
    accept_blind_auth: bool = False
    apply_inbound_acl: list[str] = field(default_factory=list)
    apply_register_acl: list[str] = field(default_factory=list)
    codec_prefs: str = ""
    dtmf_type: str = "rfc2833"
    rfc2833_pt: int = 101
    rtp_timeout_sec: int = 0
    rtp_hold_timeout_sec: int = 0
    user_agent: str = "FreeSWITCH-mod_sofia/1.10.12-release~64bit"
    challenge_realm: str = "auto_to"
    nonce_ttl: int = 60
    disable_register: bool = False
    multiple_registrations: str = ""
    force_register_domain: str = ""
    force_register_db_domain: str = ""
    inbound_reg_force_matching_username: bool = False
    expires_late_margin: int = 60
    sessions_per_second: int = 0  # 0 = the switch's own limit only
    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    aliases: list[str] = field(default_factory=list)
    gateways: list[GatewayConfig] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def url_ip(self) -> str:
        return self.ext_sip_ip or self.sip_ip


_GW_NAME = re.compile(r"^[\w.\-]+$")


def _params(el: Any, lower: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    if el is None:
        return out
    for p in el.findall("param"):
        name = p.get("name")
        if name:
            out[name.lower() if lower else name] = p.get("value") or ""
    return out


def parse_gateway(el: Any, profile: ProfileConfig) -> GatewayConfig | None:
    name = (el.get("name") or "").strip()
    if not _GW_NAME.match(name):
        log(ERR, f"Ignoring invalid name '{name}'")
        return None
    p = _params(el, False)
    p.update(_params(el.find("params"), False))
    reg = is_true(p.get("register"), True)
    if reg and (not p.get("username") or not p.get("password")):
        missing = "username" if not p.get("username") else "password"
        log(ERR, f"ERROR: gateway {name} {missing} param is REQUIRED!")
        return None
    g = GatewayConfig(name=name, profile=profile.name, register=reg)
    g.username = p.get("username") or "FreeSWITCH"
    g.password = p.get("password") or ""
    g.realm = p.get("realm") or p.get("proxy") or name
    g.proxy = p.get("proxy") or g.realm
    g.register_proxy = p.get("register-proxy") or ""
    g.outbound_proxy = p.get("outbound-proxy") or ""
    g.auth_username = p.get("auth-username") or g.username
    g.from_user = p.get("from-user") or g.username
    g.from_domain = p.get("from-domain") or ""
    g.extension = p.get("extension") or g.username
    g.context = p.get("context") or profile.context or "default"
    for attr, key, default in (("expire_seconds", "expire-seconds", 3600),
                               ("retry_seconds", "retry-seconds", 30),
                               ("timeout_seconds", "timeout-seconds", 60)):
        raw = p.get(key) or (p.get("retry_seconds") if key == "retry-seconds" else None)
        v = _int(raw, default)
        if v < 5:
            if raw is not None:
                log(WARNING, f"gateway {name}: {key} {v} is too small, using {default}")
            v = default
        setattr(g, attr, v)
    g.register_transport = (p.get("register-transport") or "udp").lower()
    if g.register_transport not in ("udp", "tcp"):
        log(ERR, f"gateway {name}: unsupported register-transport {g.register_transport}")
        return None
    g.caller_id_in_from = is_true(p.get("caller-id-in-from"))
    ping = _int(p.get("ping"), 0)
    if ping and ping < 5:
        log(ERR, f"gateway {name}: ping {ping} is below 5, ignored")
        ping = 0
    g.ping = ping
    g.ping_min = max(1, _int(p.get("ping-min"), 1))
    g.ping_max = max(g.ping_min, _int(p.get("ping-max"), 1))
    for scope in (el, el.find("variables")):
        if scope is None:
            continue
        for v in scope.findall("variable"):
            vname, value = v.get("name"), v.get("value") or ""
            if not vname:
                continue
            direction = (v.get("direction") or "").lower()
            if direction in ("", "inbound"):
                g.variables_in[vname] = value
            if direction in ("", "outbound"):
                g.variables_out[vname] = value
    return g


def parse_profiles(conf: Any, default_ip: str) -> list[ProfileConfig]:
    """Every profile of sofia.conf (``conf`` is its <configuration> element)."""
    out: list[ProfileConfig] = []
    if conf is None:
        return out
    seen: set[str] = set()
    for el in conf.iter("profile"):
        name = (el.get("name") or "").strip()
        if not name or name in seen:
            continue
        settings = el.find("settings")
        if settings is None:
            log(ERR, f"No Settings, check the new config! (profile {name})")
            continue
        seen.add(name)
        p = _params(settings, True)
        pc = ProfileConfig(name=name, params=p, domain=el.get("domain") or "")
        ip = p.get("sip-ip") or "auto"
        pc.sip_ip = default_ip if ip in ("auto", "0.0.0.0", "") else ip
        port = p.get("sip-port") or "5060"
        pc.sip_port = 0 if port == "auto" else _int(port, 5060)
        pc.ext_sip_ip = "" if p.get("ext-sip-ip", "auto") in ("auto", "auto-nat", "") else p["ext-sip-ip"]
        rtp_ip = p.get("rtp-ip") or "auto"
        pc.rtp_ip = pc.sip_ip if rtp_ip in ("auto", "0.0.0.0") else rtp_ip
        pc.ext_rtp_ip = "" if p.get("ext-rtp-ip", "auto") in ("auto", "auto-nat", "") else p["ext-rtp-ip"]
        pc.context = p.get("context") or "default"
        pc.dialplan = p.get("dialplan") or "XML"
        pc.auth_calls = is_true(p.get("auth-calls"))
        pc.accept_blind_reg = is_true(p.get("accept-blind-reg"))
        pc.accept_blind_auth = is_true(p.get("accept-blind-auth"))
        acl = p.get("apply-inbound-acl")
        pc.apply_inbound_acl = [] if not acl or acl == "none" else [acl]
        acl = p.get("apply-register-acl")
        pc.apply_register_acl = [] if not acl or acl == "none" else [acl]
        pc.codec_prefs = p.get("codec-prefs") or p.get("inbound-codec-prefs") or ""
        dt = (p.get("dtmf-type") or "rfc2833").lower()
        pc.dtmf_type = dt if dt in ("rfc2833", "info") else "none"
        pc.rfc2833_pt = _int(p.get("rfc2833-pt"), 101)
        pc.rtp_timeout_sec = _int(p.get("rtp-timeout-sec"), 0)
        pc.rtp_hold_timeout_sec = _int(p.get("rtp-hold-timeout-sec"), 0)
        if "user-agent-string" in p:
            pc.user_agent = "" if p["user-agent-string"] == "_undef_" else p["user-agent-string"]
        pc.challenge_realm = p.get("challenge-realm") or "auto_to"
        pc.nonce_ttl = max(60, _int(p.get("nonce-ttl"), 60))
        pc.disable_register = is_true(p.get("disable-register"))
        pc.multiple_registrations = (p.get("multiple-registrations") or "").lower()
        pc.force_register_domain = p.get("force-register-domain") or ""
        pc.force_register_db_domain = p.get("force-register-db-domain") or ""
        pc.inbound_reg_force_matching_username = is_true(p.get("inbound-reg-force-matching-username"))
        pc.expires_late_margin = max(0, _int(p.get("sip-expires-late-margin"), 60))
        pc.sessions_per_second = _int(p.get("sessions-per-second"), 0)
        pc.t1 = _int(p.get("timer-t1"), 500) / 1000.0
        pc.t2 = _int(p.get("timer-t2"), 4000) / 1000.0
        pc.t4 = _int(p.get("timer-t4"), 5000) / 1000.0
        aliases = el.find("aliases")
        if aliases is not None:
            pc.aliases = [a.get("name") for a in aliases.findall("alias") if a.get("name")]
        gws = el.find("gateways")
        if gws is not None:
            names: set[str] = set()
            for g in gws.findall("gateway"):
                gw = parse_gateway(g, pc)
                if gw is None or gw.name in names:
                    continue
                names.add(gw.name)
                pc.gateways.append(gw)
        out.append(pc)
    return out
