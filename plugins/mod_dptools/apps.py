"""Dialplan applications that need no media engine: call control, variables, logging.

Each function is ``app(session, data)``; behaviour follows FreeSWITCH's mod_dptools."""

from __future__ import annotations

import shlex
import time
from typing import Any

from fsd import causes
from fsd.events import Event
from fsd.log import DEBUG, ERR, INFO, NOTICE, WARNING, level_from_str
from fsd.numbers import is_digits
from fsd.originate import originate
from fsd.session import Session
from fsd.truth import is_true


def answer(session: Session, data: str) -> None:
    session.answer()


def pre_answer(session: Session, data: str) -> None:
    session.pre_answer()


def ring_ready(session: Session, data: str) -> None:
    session.ring_ready()


def hangup(session: Session, data: str) -> None:
    session.hangup(data.strip() or "NORMAL_CLEARING")


def _set_one(session: Session, data: str, app: str) -> tuple[str, str | None] | None:
    name, eq, value = data.partition("=")
    name = name.strip()
    if not name:
        session.log(WARNING, f"{app}: no variable name specified")
        return None
    return name, (value if eq else None)


def set_(session: Session, data: str) -> None:
    parsed = _set_one(session, data, "set")
    if parsed:
        name, value = parsed
        session.log(INFO, f"SET [{name}]=[{value if value else 'UNDEF'}]")
        session.set_variable(name, value)


def unset(session: Session, data: str) -> None:
    session.set_variable(data.strip(), None)


def export(session: Session, data: str) -> None:
    """``export name=value`` sets it here and on legs this channel originates;
    ``export nolocal:name=value`` only on those legs."""
    local = True
    if data.startswith("nolocal:"):
        local, data = False, data[len("nolocal:"):]
    parsed = _set_one(session, data, "export")
    if not parsed:
        return
    name, value = parsed
    if local:
        session.set_variable(name, value)
    else:
        session.set_variable(f"nolocal:{name}", value)
    exported = [n for n in (session.get_variable("export_vars") or "").split(",") if n]
    key = name if local else f"nolocal:{name}"
    if key not in exported:
        exported.append(key)
    session.set_variable("export_vars", ",".join(exported))


def multiset(session: Session, data: str) -> None:
    """``multiset a=1 b=2``, or ``multiset ^^:a=1:b=2`` with a custom separator."""
    if data.startswith("^^") and len(data) > 2:
        sep, body = data[2], data[3:]
        parts = body.split(sep)
    else:
        try:
            parts = shlex.split(data)
        except ValueError:
            parts = data.split()
    for part in parts:
        set_(session, part)


def set_global(session: Session, data: str) -> None:
    name, eq, value = data.partition("=")
    if name.strip():
        session.switch.globals.set(name.strip(), value if eq and value else None)


def log_app(session: Session, data: str) -> None:
    level_word, _, text = data.partition(" ")
    level = level_from_str(level_word, None)
    if level is None:
        level, text = 7, data
    session.log(level, text)


def info(session: Session, data: str) -> None:
    ev = session.env_event()
    level = level_from_str(data.strip(), None) if data.strip() else INFO
    session.log(level if level is not None else INFO, "CHANNEL_DATA:\n" + ev.serialize("plain"))


def sleep(session: Session, data: str) -> None:
    try:
        ms = int(data.strip() or "0")
    except ValueError:
        session.log(WARNING, f"sleep: invalid duration [{data}]")
        return
    if session.media is not None and hasattr(session.media, "sleep"):
        session.media.sleep(ms)
    else:
        session.sleep(ms)


def transfer(session: Session, data: str) -> None:
    """``transfer <exten> [<dialplan> <context>]``; ``-bleg``/``-both`` apply to the peer."""
    words = data.split()
    if not words:
        session.log(WARNING, "transfer: no destination")
        return
    target = [session]
    if words[0] in ("-bleg", "-both"):
        peer = session.peer
        target = [peer] if words[0] == "-bleg" else [session, peer]
        words = words[1:]
    exten = words[0] if words else ""
    dialplan = words[1] if len(words) > 1 else None
    context = words[2] if len(words) > 2 else None
    for s in target:
        if s is not None:
            s.transfer(exten, dialplan, context)


def park(session: Session, data: str) -> None:
    """Park: wait (processing queued messages) until transferred, bridged or hung up."""
    if not session.enter_state("CS_PARK"):
        return  # hung up or transferred meanwhile
    session.fire("CHANNEL_PARK")
    session.service("CS_PARK")
    if session.up():
        session.fire("CHANNEL_UNPARK")


def event(session: Session, data: str) -> None:
    """Fire an event: ``event Event-Name=CUSTOM,Event-Subclass=x::y,Header=value``."""
    from fsd.originate import parse_vars

    try:
        values = parse_vars(data)
    except ValueError as e:
        session.log(WARNING, f"event: {e}")
        return
    name = values.pop("Event-Name", "CUSTOM")
    sub = values.pop("Event-Subclass", None)
    try:
        ev = Event(name, sub, calling_file="mod_dptools.c", calling_func="event_function")
    except ValueError:
        ev = Event("CUSTOM", sub, calling_file="mod_dptools.c", calling_func="event_function")
    session.event_data(ev)
    for k, v in values.items():
        ev.add_header(k, v)
    session.switch.events.fire(ev)


def respond(session: Session, data: str) -> None:
    """Send a response code; without a SIP endpoint 1xx/183 mean early media, ≥300 a
    rejection with the matching cause."""
    code_text = data.split()[0] if data.split() else ""
    if not is_digits(code_text):
        session.log(WARNING, f"respond: invalid response [{data}]")
        return
    code = int(code_text)
    reason = data.split(None, 1)[1].strip() if len(data.split(None, 1)) > 1 else ""
    # An endpoint that speaks a protocol with status codes (SIP) sends exactly this one.
    send = getattr(session.tech, "respond", None)
    if send is not None and send(session, code, reason):
        return
    if code in (180,):
        session.ring_ready()
    elif 100 < code < 200:
        session.pre_answer()
    elif 200 <= code < 300:
        session.answer()
    else:
        session.hangup(causes.sip_to_cause(code))


def sched_hangup(session: Session, data: str) -> None:
    """``sched_hangup [+]<time> [<cause>]`` (task group: the channel's uuid)."""
    from fsd.scheduler import parse_when, schedule_hangup

    words = data.split()
    if not words:
        return
    cause = words[1] if len(words) > 1 else "ALLOTTED_TIMEOUT"
    schedule_hangup(session.switch, parse_when(words[0]), session.uuid, cause)


def sched_transfer(session: Session, data: str) -> None:
    """``sched_transfer [+]<time> <extension> [<dialplan>] [<context>]``."""
    from fsd.scheduler import parse_when, schedule_transfer

    words = data.split()
    if len(words) < 2:
        return
    schedule_transfer(session.switch, parse_when(words[0]), session.uuid, words[1],
                      words[2] if len(words) > 2 else None, words[3] if len(words) > 3 else None)


def sched_broadcast(session: Session, data: str) -> None:
    """``sched_broadcast [+]<time> <path> [aleg|bleg|both]``."""
    from fsd.scheduler import parse_when, schedule_broadcast

    words = data.split()
    if len(words) < 2:
        session.log(WARNING, "Invalid Args\n")
        return
    leg = words[2].lower() if len(words) > 2 and words[2].lower() in ("aleg", "bleg", "both") else "aleg"
    schedule_broadcast(session.switch, parse_when(words[0]), session.uuid, words[1], leg)


def sched_cancel(session: Session, data: str) -> None:
    """``sched_cancel [group]``: drop the channel's (or that group's) scheduled tasks."""
    from fsd.scheduler import scheduler

    group = data.strip() or session.uuid
    if is_digits(group):
        scheduler(session.switch).delete_id(int(group))
    else:
        scheduler(session.switch).delete_group(group)


def eval_app(session: Session, data: str) -> None:
    """Does nothing but expand its argument (useful for ${api} side effects)."""


def send_dtmf(session: Session, data: str) -> None:
    digits, _, dur = data.partition("@")
    try:
        ms = int(dur) if dur else 100
    except ValueError:
        ms = 100
    session.send_dtmf(digits.strip(), ms)


def flush_dtmf(session: Session, data: str) -> None:
    session.flush_dtmf()


def bridge(session: Session, data: str) -> None:
    """Originate ``data`` and bridge the caller to whoever answers."""
    if not data.strip():
        session.log(WARNING, "bridge: no dial string")
        return
    session.set_variable("originate_disposition", None)
    result = originate(session.switch, data, session, bridge_early=True)
    if result.session is None:
        cause = result.cause
        session.log(INFO, f"Originate Failed.  Cause: {cause}")
        session.set_variable("originate_failed_cause", cause)
        session.set_variable("bridge_hangup_cause", cause)
        session.set_variable("last_bridge_hangup_cause", cause)
        if not session.var_true("continue_on_fail") and not _continue_on(session, cause):
            session.hangup(cause)
        return
    session.bridge_to(result.session, own_other=True)


def _continue_on(session: Session, cause: str) -> bool:
    value = session.get_variable("continue_on_fail") or ""
    if not value:
        return False
    if is_true(value):
        return True
    wanted = {w.strip().upper() for w in value.split(",")}
    return cause in wanted or str(causes.cause_code(cause)) in wanted


def wait_for_answer(session: Session, data: str) -> None:
    session.wait_for(session.answered, None)


def noop(session: Session, data: str) -> None:
    session.set_variable("current_application_response", data or "_none_")


def _unused(*_: Any) -> None:  # keeps linters quiet about optional imports
    return None


# -- more applications (issue 18): variables, directory users, messages ---------------------
def _partner(session: Session) -> Session | None:
    """The bridged channel, or the one this leg is bonded to (switch_core_session_get_partner)."""
    p = session.peer
    if p is not None:
        return p
    for var in ("signal_bond", "originator", "originate_signal_bond"):
        other = session.switch.sessions.get(session.get_variable(var) or "")
        if other is not None:
            return other
    return None


def _stack_set(session: Session, data: str, app: str, push: bool) -> None:
    """``push``/``unshift``: append/prepend to a variable, making it ``ARRAY::a|:b``."""
    parsed = _set_one(session, data, app)
    if not parsed or parsed[1] is None:
        return
    name, value = parsed
    value = session.expand(value)
    old = session.get_variable(name)
    if not old:
        session.set_variable(name, value)
        return
    items = old[7:].split("|:") if old.startswith("ARRAY::") else [old]
    items = items + [value] if push else [value] + items
    session.set_variable(name, "ARRAY::" + "|:".join(items))


def push(session: Session, data: str) -> None:
    _stack_set(session, data, "push", True)


def unshift(session: Session, data: str) -> None:
    _stack_set(session, data, "unshift", False)


def multiunset(session: Session, data: str) -> None:
    delim, body = " ", data
    if body.startswith("^^") and len(body) > 2:
        delim, body = body[2], body[3:]
    for name in body.split(delim):
        if name:
            session.set_variable(name, None)


def bridge_export(session: Session, data: str) -> None:
    """``bridge_export name=value``: set it here and on the channel this one bridges to."""
    parsed = _set_one(session, data, "bridge_export")
    if not parsed:
        return
    name, value = parsed
    session.set_variable(name, value)
    names = [n for n in (session.get_variable("bridge_export_vars") or "").split(",") if n]
    if name not in names:
        names.append(name)
    session.set_variable("bridge_export_vars", ",".join(names))
    peer = session.peer
    if peer is not None:
        peer.set_variable(name, value)


def set_profile_var(session: Session, data: str) -> None:
    if not data.strip():
        session.log(ERR, "No variable name specified.\n")
        return
    name, _, value = data.partition("=")
    session.caller_profile.set_field(name.strip(), value or None)


def strftime_app(session: Session, data: str) -> None:
    """``strftime <var>=<format>``: the current local time formatted into ``var``."""
    name, sep, fmt = data.partition("=")
    if not sep or not name:
        return
    value = time.strftime(fmt, time.localtime())
    session.log(DEBUG, f"SET [{name}]=[{value}]\n")
    session.set_variable(name, value)


def set_user(session: Session, data: str) -> None:
    """``set_user <user>@<domain> [<prefix>]``: the directory user's variables (merged
    with its domain's and group's), ``number_alias``, ``user_name`` and ``domain_name``."""
    text = data.strip()
    who, _, prefix = text.partition(" ")
    user, at, domain = who.partition("@")
    if not text or not at:
        session.log(ERR, "No user@domain specified.\n")
        return
    cfg = session.switch.config
    found = cfg.find_user(user, domain) if cfg else None
    if found is None or found[1].get("id") != user:
        session.log(WARNING, f"can't find user [{user}@{domain}]\n")
        return
    dom, u = found
    scopes = [dom]
    grp = u.getparent().getparent() if u.getparent() is not None else None
    if grp is not None and grp.tag == "group":
        scopes.append(grp)
    scopes.append(u)
    if u.get("number-alias"):
        session.set_variable(f"{prefix}number_alias", u.get("number-alias"))
    for scope in scopes:
        variables = scope.find("variables")
        for v in variables.findall("variable") if variables is not None else []:
            if v.get("name") and v.get("value") is not None:
                session.set_variable(f"{prefix}{v.get('name')}", v.get("value"))
        pvars = scope.find("profile-variables")
        for v in pvars.findall("variable") if pvars is not None else []:
            if v.get("name") and v.get("value") is not None:
                session.caller_profile.set_field(f"{prefix}{v.get('name')}", v.get("value"))
    session.set_variable(f"{prefix}user_name", user)
    session.set_variable(f"{prefix}domain_name", domain)


def transfer_vars(session: Session, data: str) -> None:
    """``transfer_vars <~prefix|var,var…>``: copy variables to the partner channel."""
    spec = data.strip().split(" ")[0] if data.strip() else ""
    if not spec:
        return
    other = _partner(session)
    if other is None:
        session.log(ERR, "Usage: <~variable_prefix|variable>\n")
        return
    if spec.startswith("~"):
        pre = spec[1:]
        with session.lock:
            snapshot = dict(session.variables)
        for k, v in snapshot.items():
            if k.startswith(pre):
                other.set_variable(k, v)
    else:
        for k in spec.split(","):
            v = session.get_variable(k)
            if v is not None:
                other.set_variable(k, v)


def capture(session: Session, data: str) -> None:
    """``capture <var>|<data>|<regex>``: ``var`` becomes ``ARRAY::`` of the match and groups."""
    from fsd.separate import separate_string

    argv = separate_string(data, "|", 3)
    if len(argv) != 3:
        session.log(ERR, "No data specified.\n")
        return
    import regex

    try:
        m = regex.search(argv[2], argv[1])
    except regex.error:
        m = None
    if m is None:
        return
    groups = [m.group(0)] + [g or "" for g in m.groups()]
    session.set_variable(argv[0], "ARRAY::" + "|:".join(groups))


def system_app(session: Session, data: str) -> None:
    """``system <command>``: run it (waiting) as FreeSWITCH's switch_system."""
    import subprocess

    session.log(NOTICE, f"Executing command: {data}\n")
    try:
        subprocess.run(["/bin/sh", "-c", data], stdin=subprocess.DEVNULL, timeout=3600)
    except (OSError, subprocess.SubprocessError):
        session.log(NOTICE, f"Failed to execute command: {data}\n")


def bgsystem_app(session: Session, data: str) -> None:
    import subprocess

    session.log(NOTICE, f"Executing command: {data}\n")
    try:
        subprocess.Popen(["/bin/sh", "-c", data], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        session.log(NOTICE, f"Failed to execute command: {data}\n")


def verbose_events(session: Session, data: str) -> None:
    session.set_variable("verbose_events", "true")
    session.set_private("verbose_events", True)


def session_loglevel(session: Session, data: str) -> None:
    if not data.strip():
        session.log(ERR, "No log level specified\n")
        return
    lvl = level_from_str(data.strip(), None)
    if lvl is None:
        session.log(ERR, f"Invalid log level: {data.strip()}\n")
        return
    session.set_private("loglevel", lvl)
    session.set_variable("session_loglevel", data.strip())


def _indicate(session: Session, what: str, data: str) -> None:
    """A message to the endpoint (deflect, redirect, display…): the endpoint acts on it if
    it can (``on_indicate``); a MESSAGE event records it either way."""
    tech = getattr(session, "tech", None)
    handler = getattr(tech, "on_indicate", None)
    if callable(handler):
        try:
            handler(session, what, data)
        except Exception as e:  # noqa: BLE001 - an endpoint failure only logs
            session.log(ERR, f"{what} failed: {e}\n")
    ev = session.new_event("CHANNEL_DATA") if hasattr(session, "new_event") else None
    if ev is not None:
        ev.add_header("Indication", what)
        ev.add_header("Indication-Data", data)
        session.switch.events.fire(ev)


def deflect(session: Session, data: str) -> None:
    _indicate(session, "DEFLECT", data)


def redirect(session: Session, data: str) -> None:
    _indicate(session, "REDIRECT", data)


def send_display(session: Session, data: str) -> None:
    _indicate(session, "DISPLAY", data)


def set_audio_level(session: Session, data: str) -> None:
    """``set_audio_level read|write <level>``: remembered on the channel (fsd's media
    engine applies no gain yet: docs/compat.md)."""
    words = data.split()
    if len(words) != 2:
        session.log(DEBUG, f"{session.name} Error. USAGE: [read|write] <vol>\n")
        return
    session.set_variable(f"audio_level_{words[0]}", str(int(words[1]) if is_digits(words[1].lstrip("-")) else 0))


def set_zombie_exec(session: Session, data: str) -> None:
    session.set_variable("zombie_exec", "true")


def mkdir_app(session: Session, data: str) -> None:
    import os

    try:
        os.makedirs(data.strip(), exist_ok=True)
    except OSError as e:
        session.log(ERR, f"mkdir {data.strip()}: {e}\n")


def rename_app(session: Session, data: str) -> None:
    import os

    words = data.split()
    if len(words) != 2:
        session.log(ERR, "Usage: rename <from_path> <to_path>\n")
        return
    try:
        os.replace(words[0], words[1])
    except OSError as e:
        session.log(ERR, f"Cannot rename {words[0]} to {words[1]}: {e}\n")


def queue_dtmf(session: Session, data: str) -> None:
    send_dtmf(session, data)


def declare_more(module: Any) -> None:
    from fsd.module import APP_ROUTING_EXEC as R
    from fsd.module import APP_SUPPORT_NOMEDIA as N
    from fsd.module import APP_ZOMBIE_EXEC as Z

    add = module.add_application
    add("push", push, "Set a channel variable", "<varname>=<value>", N | R | Z)
    add("unshift", unshift, "Set a channel variable", "<varname>=<value>", N | R | Z)
    add("multiunset", multiunset, "Unset many channel variables", "[^^<delim>]<varname> <var2> <var3>", N | R | Z)
    add("bridge_export", bridge_export, "Export a channel variable across a bridge", "<varname>=<value>", N | R | Z)
    add("set_profile_var", set_profile_var, "Set a caller profile variable", "<varname>=<value>", N | R | Z)
    add("strftime", strftime_app, "strftime", "[<epoch>|]<format string>", N | R)
    add("set_user", set_user, "Set a User", "<user>@<domain> [prefix]", N | R)
    add("transfer_vars", transfer_vars, "Transfer variables", "<~variable_prefix|variable>", N)
    add("capture", capture, "capture data into a var", "<varname>|<data>|<regex>", N)
    add("system", system_app, "Execute a system command", "<command>", N | Z)
    add("bgsystem", bgsystem_app, "Execute a system command in the background", "<command>", N | Z)
    add("verbose_events", verbose_events, "Make ALL Events verbose.", "", N | R)
    add("session_loglevel", session_loglevel, "session_loglevel", "<level>", N)
    add("deflect", deflect, "Send call deflect", "<deflect_data>", N)
    add("redirect", redirect, "Send session redirect", "<redirect_data>", N)
    add("send_display", send_display, "Send session a new display", "<text>", N)
    add("set_audio_level", set_audio_level, "set volume", "[read|write] <vol>")
    add("set_zombie_exec", set_zombie_exec, "Enable Zombie Execution", "", N | R)
    add("mkdir", mkdir_app, "Create a directory", "<path>", N)
    add("rename", rename_app, "Rename file", "<from_path> <to_path>", N | Z)
    add("queue_dtmf", queue_dtmf, "Queue dtmf to be sent", "<dtmf_data>", N)
    add("sched_broadcast", sched_broadcast, "Schedule a broadcast in the future",
        "[+]<time> <path> [aleg|bleg|both]", N)
    add("sched_cancel", sched_cancel, "cancel scheduled tasks", "[group]", N)
    add("stop", eval_app, "Do Nothing", "", N | R)


# -- small applications: ACL check, channel name, hold/info messages, DTMF blocking ---------
def check_acl(session: Session, data: str) -> None:
    """``check_acl <ip> <acl|cidr> [<hangup_cause>]``: hang up when ``ip`` is not allowed."""
    words = data.split()
    if len(words) < 2:
        session.log(ERR, "Usage: <ip> <acl | cidr> [<hangup_cause>]\n")
        return
    allowed = session.switch.api_execute("acl", f"{words[0]} {words[1]}") == "true"
    if not allowed:
        session.hangup(causes.str2cause(words[2]) if len(words) > 2 else "CALL_REJECTED")


def set_name(session: Session, data: str) -> None:
    if data.strip():
        session.name = data.strip()
        session.set_variable("channel_name", session.name)


def hold(session: Session, data: str) -> None:
    _indicate(session, "HOLD", data)


def unhold(session: Session, data: str) -> None:
    _indicate(session, "UNHOLD", data)


def send_info(session: Session, data: str) -> None:
    _indicate(session, "INFO", data)


def set_media_stats(session: Session, data: str) -> None:
    port = getattr(session, "media", None)
    if port is not None:
        session.set_variable("rtp_audio_in_media_packet_count", str(port.frames_in))
        session.set_variable("rtp_audio_out_media_packet_count", str(port.frames_out))


def _block_filter(session: Any, digit: str, duration_ms: int) -> bool:
    return bool(session.get_private("dtmf_blocked"))


def block_dtmf(session: Session, data: str) -> None:
    """Drop every DTMF the channel receives until ``unblock_dtmf``."""
    filters = getattr(session.switch, "dtmf_filters", None)
    if filters is None:
        filters = []
        session.switch.dtmf_filters = filters
    if _block_filter not in filters:
        filters.insert(0, _block_filter)
    session.set_private("dtmf_blocked", True)


def unblock_dtmf(session: Session, data: str) -> None:
    session.set_private("dtmf_blocked", None)


def enable_heartbeat_app(session: Session, data: str) -> None:
    """``enable_heartbeat [0|<seconds>]`` (and ``sched_heartbeat``): SESSION_HEARTBEAT events."""
    from fsd.scheduler import enable_heartbeat

    text = data.strip() or "60"
    if not is_digits(text):
        session.log(ERR, "Usage: [0|<seconds>]\n")
        return
    session.set_variable("enable_heartbeat_events", text if text != "0" else None)
    enable_heartbeat(session.switch, session, int(text))


def declare_small(module: Any) -> None:
    from fsd.module import APP_SUPPORT_NOMEDIA as N

    add = module.add_application
    add("check_acl", check_acl, "Check an ip against an ACL list", "<ip> <acl | cidr> [<hangup_cause>]", N)
    add("set_name", set_name, "Name the channel", "<name>", N)
    add("hold", hold, "Send a hold message", "[<display message>]", N)
    add("unhold", unhold, "Send a un-hold message", "", N)
    add("send_info", send_info, "Send info", "<info>", N)
    add("set_media_stats", set_media_stats, "Set Media Stats", "", N)
    add("block_dtmf", block_dtmf, "Block DTMF", "", N)
    add("unblock_dtmf", unblock_dtmf, "Stop blocking DTMF", "", N)
    add("enable_heartbeat", enable_heartbeat_app, "Enable Media Heartbeat", "[0|<seconds>]", N)
    add("sched_heartbeat", enable_heartbeat_app, "Enable Scheduled Heartbeat", "[0|<seconds>]", N)
    add("execute_extension", execute_extension, "Execute an extension",
        "<extension> <dialplan> <context>", N)


def execute_extension(session: Session, data: str) -> None:
    """``execute_extension <extension> [<dialplan>] [<context>]``: hunt that extension and
    run its applications here, then carry on with the current dialplan."""
    words = data.split()
    if not words:
        session.log(ERR, "Usage: <extension> [<dialplan>] [<context>]\n")
        return
    orig = session.caller_profile
    dp = words[1] if len(words) > 1 else (orig.dialplan or "XML")
    ctx = words[2] if len(words) > 2 else orig.context
    iface = session.switch.dialplans.get(dp.lower())
    if iface is None:
        session.log(ERR, f"execute_extension: no dialplan {dp}\n")
        return
    # the extension runs with its own caller profile (its destination_number), as
    # switch_core_session_execute_exten; the caller's comes back afterwards
    session.caller_profile = orig.clone(destination_number=words[0], context=ctx, dialplan=dp)
    try:
        found = iface.hunt(session, "")
        for app, app_data in list(found or []):
            if not session.up() or session.transferring:
                break
            session.execute(app, app_data)
    finally:
        if session.caller_profile is not orig and not session.transferring:
            session.caller_profile = orig
