"""Dialplan applications that need no media engine: call control, variables, logging.

Each function is ``app(session, data)``; behaviour follows FreeSWITCH's mod_dptools."""

from __future__ import annotations

import shlex
import threading
import time
from typing import Any

from fsd import causes
from fsd.events import Event
from fsd.log import INFO, WARNING, level_from_str
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
    if not code_text.isdigit():
        session.log(WARNING, f"respond: invalid response [{data}]")
        return
    code = int(code_text)
    if code in (180,):
        session.ring_ready()
    elif 100 < code < 200:
        session.pre_answer()
    elif 200 <= code < 300:
        session.answer()
    else:
        session.hangup(causes.sip_to_cause(code))


def _sched_seconds(text: str) -> tuple[float, str]:
    t = text.strip()
    if t.startswith("+"):
        secs, _, rest = t[1:].partition(" ")
        return float(secs or 0), rest
    secs, _, rest = t.partition(" ")
    try:
        when = float(secs)
    except ValueError:
        return 0, t
    return max(0.0, when - time.time()) if when > 1e9 else when, rest


def sched_hangup(session: Session, data: str) -> None:
    secs, cause = _sched_seconds(data)
    cause = cause.strip() or "ALLOTTED_TIMEOUT"
    t = threading.Timer(secs, lambda: session.hangup(cause))
    t.daemon = True
    t.start()


def sched_transfer(session: Session, data: str) -> None:
    secs, rest = _sched_seconds(data)
    words = rest.split()
    if not words:
        return
    t = threading.Timer(secs, lambda: session.transfer(words[0], *(words[1:3])))
    t.daemon = True
    t.start()


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
