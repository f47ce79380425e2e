"""The command interpreter (§14.2-14.4): FreeSWITCH's ``parse_command``, checked in the
same order, with the same prefix matching and the same reply texts."""

from __future__ import annotations

import uuid as uuidlib
from typing import TYPE_CHECKING

from fsd.config.xmlconfig import user_params
from fsd.events import Event, event_id
from fsd.events.names import ALL, CLONE, CUSTOM, EVENT_NAMES
from fsd.log import DEBUG, ERR, log
from fsd.numbers import is_digits, leading_int
from fsd.truth import is_true

from . import protocol as P
from .filters import MYEVENTS_NAMES

if TYPE_CHECKING:  # pragma: no cover
    from .listener import Listener

#: API commands that run another API named in their arguments (userauth checks through them).
SNEAKY = ("bgapi", "sched_api", "eval", "expand", "xml_wrap")
LOG_LEVELS = ("CONSOLE", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG")


def _starts(cmd: str, word: str) -> bool:
    return cmd[: len(word)].lower() == word


def str2level(text: str) -> int | None:
    """switch_log_str2level: a number (clamped) or one of the eight names; None if invalid."""
    t = text.strip()
    if is_digits(t):
        n = int(t)
        return 63 if n > 64 else n
    for i, name in enumerate(LOG_LEVELS):
        if name.lower() == t.lower():
            return i
    return None


def packet_event(pkt: P.Packet, name: str = "COMMAND") -> Event:
    """The packet as an event without standard headers: ``Command`` then its headers."""
    ev = Event(name, standard_headers=False)
    h = ev.headers
    h.append(["Command", pkt.command])
    for n, v in pkt.headers:
        h.append([n, v])
    if pkt.body is not None:
        ev.body = pkt.body
    return ev


async def handle(lst: Listener, pkt: P.Packet, quiet: bool = False) -> None:
    """Run one command and write its reply (unless ``quiet``: the first outbound packet).
    A command that raises is answered ``-ERR`` and logged; the connection goes on."""
    try:
        reply = await _dispatch(lst, pkt)
    except Exception as e:
        import traceback

        log(ERR, f"event socket command {pkt.command[:80]!r} failed: {type(e).__name__}: {e}\n"
            f"{traceback.format_exc()}")
        reply = f"-ERR {type(e).__name__}: {e}"
    if reply is None or quiet:
        return
    if reply == "":
        reply = "-ERR command not found"
    if reply.startswith("~"):
        lst.write(P.raw_reply(reply[1:]))
    else:
        lst.reply(reply)


async def _dispatch(lst: Listener, pkt: P.Packet) -> str | None:
    """Returns the Reply-Text ('' means not found, '~…' raw lines, None: already answered)."""
    cmd = pkt.command
    if _starts(cmd, "exit") or cmd.startswith("..."):
        lst.stop()
        return "+OK bye"

    if not lst.authed:
        if _starts(cmd, "auth "):
            if cmd[5:] == lst.settings.password:
                lst.authenticated()
                return "+OK accepted"
            lst.stop()
            return "-ERR invalid"
        if _starts(cmd, "userauth "):
            return _userauth(lst, cmd[9:])
        return ""

    if _starts(cmd, "filter "):
        return _filter(lst, cmd[7:])

    if lst.session is not None and _starts(cmd, "resume"):
        lst.resume = True
        lst.session.set_variable("socket_resume", "true")
        return "+OK"

    if lst.session is not None or _starts(cmd, "myevents "):
        if _starts(cmd, "connect"):
            _connect(lst)
            return None
        if _starts(cmd, "getvar"):
            _, sp, name = cmd.partition(" ")
            val = lst.session.get_variable(name) if (sp and lst.session is not None) else None
            return val or ""
        if _starts(cmd, "myevents"):
            return _myevents(lst, cmd)

    if _starts(cmd, "divert_events"):
        return _divert(lst, cmd[13:])

    if _starts(cmd, "sendmsg"):
        return await _sendmsg(lst, pkt)

    if lst.outbound and not lst.full:
        return ""

    if _starts(cmd, "sendevent"):
        return _sendevent(lst, pkt)
    if _starts(cmd, "api "):
        await _api(lst, pkt)
        return None
    if _starts(cmd, "bgapi "):
        return _bgapi(lst, pkt)
    if _starts(cmd, "log"):
        return _log(lst, cmd)
    if _starts(cmd, "linger"):
        if lst.session is None:
            return "-ERR not controlling a session"
        arg = cmd[6:]
        if arg.startswith(" ") and len(arg) > 1:
            lst.linger_time = leading_int(arg[1:], 0)
        else:
            lst.linger_time = -1
        lst.linger = True
        if lst.linger_time != -1:
            return f"+OK will linger {lst.linger_time} seconds"
        return "+OK will linger"
    if _starts(cmd, "nolinger"):
        if lst.session is None:
            return "-ERR not controlling a session"
        lst.linger = False
        return "+OK will not linger"
    if _starts(cmd, "nolog"):
        lst.flush_logs()
        if lst.log_on:
            lst.log_on = False
            lst.server.update_log_listeners()
            return "+OK no longer logging"
        return "-ERR not loging"
    if _starts(cmd, "event"):
        return _event(lst, cmd)
    if _starts(cmd, "nixevent"):
        return _nixevent(lst, cmd)
    if _starts(cmd, "noevents"):
        lst.flush_events()
        if lst.events_on:
            lst.events_on = False
            lst.subs.clear()
            lst.server.update_event_listeners()
            return "+OK no longer listening for events"
        return "-ERR not listening for events"
    return ""


# ---------------------------------------------------------------- auth


def _userauth(lst: Listener, spec: str) -> str:
    user, _, domain = spec.partition("@")
    password = None
    if ":" in domain:
        domain, _, password = domain.partition(":")
    if ":" in user:
        user, _, password = user.partition(":")
    if not user or not domain:
        lst.stop()
        return "-ERR invalid"
    cfg = lst.server.switch.config
    found = cfg.find_user(user, domain) if cfg is not None else None
    if not found:
        lst.stop()
        return "-ERR invalid"
    dom_el, user_el = found
    params = user_params(dom_el, user_el)
    esl_pass = params.get("esl-password")
    allowed_log = is_true(params.get("esl-allowed-log"), default=True)
    allowed_events = params.get("esl-allowed-events")
    allowed_api = params.get("esl-allowed-api")
    if not esl_pass or not password or esl_pass != password:
        lst.stop()
        return "-ERR invalid"
    ev_reply = "Allowed-Events: all\n"
    api_reply = "Allowed-API: all\n"
    if allowed_events:
        ev_reply = f"Allowed-Events: {allowed_events}\n"
        lst.allowed_events = set()
        lst.allowed_subclasses = set()
        custom = False
        for word in _split_list(allowed_events):
            if custom:
                lst.allowed_subclasses.add(word)
                continue
            eid = event_id(word)
            if eid is None:
                continue
            if eid == ALL:
                lst.allowed_all_events = True
            lst.allowed_events.add(eid)
            if eid == CUSTOM:
                custom = True
    lst.allow_log = allowed_log
    if allowed_api:
        api_reply = f"Allowed-API: {allowed_api}\n"
        lst.allowed_api = {w for w in _split_list(allowed_api) if w}
    lst.authenticated()
    log_reply = f"Allowed-LOG: {'true' if allowed_log else 'false'}\n"
    return f"~Reply-Text: +OK accepted\n{ev_reply}{api_reply}{log_reply}\n"


def _split_list(text: str) -> list[str]:
    delim = " " if " " in text else ","
    return text.split(delim)


def api_allowed(lst: Listener, cmd: str, arg: str | None) -> bool:
    """auth_api_command: the command, and what wrappers such as bgapi run, must be allowed."""
    allowed = lst.allowed_api
    if allowed is None:
        return True
    words = [cmd] + (arg.split(" ") if arg else [])
    i = 0
    while True:
        if words[i] not in allowed:
            return False
        if words[i].lower() in SNEAKY and i + 1 < len(words):
            i += 1
            continue
        return True


# ---------------------------------------------------------------- filters and events


def _filter(lst: Listener, rest: str) -> str:
    name = rest.lstrip(" ")
    name, sp, val = name.partition(" ")
    value = val if sp else None
    if name.lower() == "delete" and value is not None:
        name, sp, val = value.partition(" ")
        value = val if sp else None
        lst.filters.delete(name, value)
        return f"+OK filter deleted. [{name}][{value or ''}]"
    if value is not None:
        if name.lower() == "add":
            name, sp, val = value.partition(" ")
            value = val if sp else None
        if not name or value is None:
            return "-ERR invalid syntax"
        lst.filters.add(name, value)
        return f"+OK filter added. [{name}]=[{value}]"
    return "-ERR invalid syntax"


def _event(lst: Listener, cmd: str) -> str:
    rest = cmd[5:]
    sp = rest.find(" ")
    key_count = 0
    if sp >= 0:
        words = rest[sp + 1:].split(" ")
        custom = False
        subs = lst.subs
        for count, word in enumerate(words):
            if count == 0 and word.lower() in ("xml", "plain", "json"):
                lst.format = word.lower()
                continue
            if custom:
                if lst.allowed_subclasses is None or word in lst.allowed_subclasses:
                    subs.subclasses = subs.subclasses | {word}
                    continue
                return "-ERR permission denied"
            eid = event_id(word)
            if eid is None:
                continue
            if (lst.allowed_events is not None and eid not in lst.allowed_events
                    and not lst.allowed_all_events):
                return "-ERR permission denied"
            key_count += 1
            subs.add(eid)
            if eid == CUSTOM:
                custom = True
    if not key_count:
        return "-ERR no keywords supplied"
    if not lst.events_on:
        lst.events_on = True
        lst.server.update_event_listeners()
    return f"+OK event listener enabled {lst.format}"


def _nixevent(lst: Listener, cmd: str) -> str:
    rest = cmd[5:]
    sp = rest.find(" ")
    key_count = 0
    if sp >= 0:
        custom = False
        for word in rest[sp + 1:].split(" "):
            if custom:
                lst.subs.subclasses = lst.subs.subclasses - {word}
                continue
            eid = event_id(word)
            if eid is None:
                continue
            key_count += 1
            if eid == CUSTOM:
                custom = True
            else:
                lst.subs.nix(eid)
    if not key_count:
        return "-ERR no keywords supplied"
    if not lst.events_on:
        lst.events_on = True
        lst.server.update_event_listeners()
    return "+OK events nixed"


def _myevents(lst: Listener, cmd: str) -> str:
    if lst.myevents:
        return "-ERR aready enabled."
    if lst.session is None:
        target = cmd[9:]
        uuid, sp, fmt = target.partition(" ")
        session = lst.server.find_session(uuid)
        if session is None:
            if sp:
                return "-ERR invalid uuid"
            lst.myevents_uuid = uuid
        else:
            lst.server.attach_session(lst, session)
            lst.async_mode = True
        line = cmd[:9] + uuid  # the format word after the uuid is not looked at (§14.3 quirk)
    else:
        line = cmd
    for name in MYEVENTS_NAMES:
        lst.subs.add(event_id(name))
    lst.myevents = True
    if "xml" in line or "XML" in line:
        lst.format = "xml"
    if "json" in line or "JSON" in line:
        lst.format = "json"
    if not lst.events_on:
        lst.events_on = True
    lst.server.update_event_listeners()
    return "+OK Events Enabled"


def _divert(lst: Listener, rest: str) -> str:
    if lst.session is None:
        return "-ERR not controlling a session."
    onoff = rest.strip(" ")
    if not onoff:
        return "-ERR missing value."
    on = onoff.lower() == "on"
    lst.server.set_divert(lst, on)
    return "+OK events diverted" if on else "+OK events not diverted"


# ---------------------------------------------------------------- calls


def _connect(lst: Listener) -> None:
    ev = Event("CHANNEL_DATA", calling_file="mod_event_socket.c", calling_func="parse_command",
               calling_line=0)
    s = lst.session
    if s is not None:
        try:
            s.caller_profile_headers(ev, prefix="Channel")
        except Exception as e:
            log(ERR, f"connect: caller profile failed: {e}", uuid=lst.session_uuid)
        try:
            s.event_data(ev)
        except Exception as e:
            log(ERR, f"connect: channel data failed: {e}", uuid=lst.session_uuid)
    ev.add_header("Content-Type", "command/reply")
    ev.add_header("Reply-Text", "+OK\n")
    ev.add_header("Socket-Mode", "async" if lst.async_mode else "static")
    ev.add_header("Control", "full" if lst.full else "single-channel")
    lst.write(ev.serialize("plain").encode("utf-8", "surrogateescape"))
    lst.connected.set()
    if s is not None:
        s.wake()  # the channel's thread waits for this connect (socket async)


async def _sendmsg(lst: Listener, pkt: P.Packet) -> str:
    cmd = pkt.command
    uuid = cmd[7:].strip(" ")
    async_var = is_true(pkt.get("async"))
    is_async = lst.async_mode or async_var
    if not uuid:
        uuid = pkt.get("session-id") or ""
    if uuid and lst.session is not None and uuid == lst.session_uuid:
        uuid = ""
    msg = packet_event(pkt)
    prio = is_true(pkt.get("event-lock-pri"))
    if not uuid and lst.session is not None:
        if is_async or lst.static_work is None:
            lst.session.queue_message(msg, priority=prio)
        else:
            # Static outbound: the socket belongs to the channel's own thread, so the
            # message runs there, inline, before the +OK goes out.
            fut = lst.loop.create_future()
            lst.static_work.put((msg, fut))
            try:
                await fut
            except Exception as e:
                log(ERR, f"sendmsg failed: {e}", uuid=lst.session_uuid)
        return "+OK"
    session = lst.server.find_session(uuid) if uuid else None
    if session is None:
        return f"-ERR invalid session id [{uuid}]"
    session.queue_message(msg, priority=prio)
    return "+OK"


def _sendevent(lst: Listener, pkt: P.Packet) -> str:
    new_uuid = str(uuidlib.uuid4())
    ename = pkt.command[9:].lstrip(" \t")
    eid = event_id(ename) if ename else None
    ev = Event("CUSTOM", standard_headers=False)
    h = ev.headers
    h.append(["Command", pkt.command])
    for n, v in pkt.headers:
        if n.lower() == "content-length":
            continue  # the body is re-measured when the event is serialised
        h.append([n, v])
    h.append(["Event-UUID", new_uuid])
    if eid is None:
        eid = CLONE
    ev.event_id = eid
    if eid == CUSTOM:
        sub = ev.get_header("Event-Subclass")
        if sub:
            ev.subclass = sub
            ev.del_header("Event-Subclass")
            ev.headers.append(["Event-Subclass", sub])
    if pkt.body is not None:
        ev.body = pkt.body
    target_uuid = ev.get_header("unique-id")
    if target_uuid:
        session = lst.server.find_session(target_uuid)
        if session is not None:
            session.queue_event(ev)
            return f"+OK {new_uuid}"
    # standard headers are appended after the client's own (switch_event_prep_for_delivery)
    std = Event("CUSTOM", calling_file="mod_event_socket.c", calling_func="parse_command",
                calling_line=0)
    std_h = [[n, v] for n, v in std.headers]
    std_h[0][1] = EVENT_NAMES[eid]  # the first standard header is Event-Name
    ev.headers.extend(std_h)
    lst.server.switch.events.fire(ev)
    return f"+OK {new_uuid}"


# ---------------------------------------------------------------- api, bgapi, log


async def _api(lst: Listener, pkt: P.Packet) -> None:
    line = pkt.command[4:]
    console = is_true(pkt.get("console_execute"))
    cmd, _, arg = line.partition(" ")
    if lst.allowed_api is not None and not api_allowed(lst, cmd, arg or None):
        lst.reply("-ERR permission denied")
        return
    server = lst.server
    if console:
        cmd, _, arg = line.strip().partition(" ")
        name_for_error = line
    else:
        name_for_error = cmd

    thread = lst.api_thread()
    if thread is None:
        lst.write(P.api_response(f"-ERR too many concurrent API connections "
                                 f"({server.settings.max_api_threads})\n"))
        return
    loop = lst.loop
    done = loop.create_future()

    def finish(reply: bytes) -> None:
        # loop thread: the reply goes out in the same turn that learns the result
        lst.write(reply)
        if not done.done():
            done.set_result(None)

    def run() -> None:
        # the API thread builds the whole reply frame, then one hop back to the loop
        try:
            if cmd.lower() not in server.switch.apis:
                out = f"-ERR {name_for_error} Command not found!\n"
            else:
                out, _ok = server.switch.api.execute(cmd, arg)
        except Exception as e:
            log(ERR, f"api {cmd} failed: {e}")
            out = f"-ERR {cmd} failed: {e}\n"
        try:
            loop.call_soon_threadsafe(finish, P.api_response(out or "-ERR no reply\n"))
        except RuntimeError:  # the loop is gone: the switch is shutting down
            pass

    thread.submit(run)
    await done


def _bgapi(lst: Listener, pkt: P.Packet) -> str | None:
    line = pkt.command[6:]
    cmd, sp, arg = line.partition(" ")
    if lst.allowed_api is not None and not api_allowed(lst, cmd, arg if sp else None):
        return "-ERR permission denied"
    job = pkt.get("job-uuid") or str(uuidlib.uuid4())
    owner = lst.session_uuid or None
    # Reply first, then start the job: its BACKGROUND_JOB must not overtake the +OK.
    lst.write(P.raw_reply(f"Reply-Text: +OK Job-UUID: {job}\nJob-UUID: {job}\n\n"))
    lst.server.switch.api.background(
        cmd, arg, job_uuid=job, owner_uuid=owner, calling_file="mod_event_socket.c",
        calling_func="api_exec", not_found_text=f"-ERR {cmd} Command not found!\n")
    return None


def _log(lst: Listener, cmd: str) -> str:
    if not lst.allow_log:
        return "-ERR permission denied"
    level_s = cmd[3:]
    if level_s:
        level_s = level_s[1:]
    level: int | None = DEBUG
    if level_s:
        level = str2level(level_s)
    if level is None:
        return "-ERR invalid log level"
    lst.log_level = level
    lst.log_on = True
    lst.server.update_log_listeners()
    return f"+OK log level {level_s} [{level}]"

