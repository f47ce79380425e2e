"""``bind_meta_app``/``unbind_meta_app`` and ``bind_digit_action``/``digit_action_set_realm``
/``clear_digit_action`` (mod_dptools.c, switch_ivr_async.c meta_on_dtmf, switch_ivr_dmachine).

Both sit on the switch's DTMF filters (``Session.queue_dtmf`` asks them first):

* meta apps: the meta key (``bind_meta_key``, default ``*``) then a bound digit within five
  seconds runs ``app[::args]``; both digits are consumed.  ``listen``: ``a`` this channel's
  digits, ``b`` its bridged peer's, ``ab`` both; ``respond``: ``s``/``a`` here, ``o``/``b``
  on the peer, ``i`` inline in the thread that received the digit, ``1`` once.  On a bridged
  channel the bridge is paused for the application and resumed after it (unless it
  transferred or hung up the channel).
* digit actions: digits collect into a buffer per channel (cleared after
  ``bind_digit_digit_timeout`` ms, default 1500, without a digit); a binding of the active
  realm whose digits (or ``~regex``) match runs ``exec:<app>`` with its argument or
  ``api:<command>``; a CHANNEL_DATA event with ``Digit-Action-*`` headers fires.  Digits
  are not consumed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import regex

from fsd.log import ERR, INFO, WARNING
from fsd.separate import separate_string

BIND_SYNTAX = "<key> [a|b|ab] [a|b|o|s|i|1] <app>"
BIND_DIGIT_ACTION_USAGE = ("<realm>,<digits|~regex>,<string>[,<value>][,<dtmf target leg>]"
                           "[,<event target leg>]")
META_TIMEOUT = 5.0
_KEY = "dtmf_bindings"


@dataclass
class MetaBinding:
    key: str
    listen_a: bool
    listen_b: bool
    respond: str
    app: str
    args: str


@dataclass
class DigitAction:
    realm: str
    digits: str
    action: str
    value: str
    target: str


@dataclass
class Bindings:
    owner: Any
    meta: dict[str, MetaBinding] = field(default_factory=dict)
    meta_armed: dict[str, float] = field(default_factory=dict)  # listening uuid -> when
    actions: list[DigitAction] = field(default_factory=list)
    realm: str = ""
    buffer: str = ""
    last_digit: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _bindings(session: Any, create: bool = False) -> Bindings | None:
    b = session.get_private(_KEY)
    if b is None and create:
        b = session.set_private(_KEY, Bindings(session))
    return b


def _install(switch: Any) -> None:
    filters = getattr(switch, "dtmf_filters", None)
    if filters is None:
        filters = []
        switch.dtmf_filters = filters
    if on_dtmf not in filters:
        filters.append(on_dtmf)


def uninstall(switch: Any) -> None:
    filters = getattr(switch, "dtmf_filters", None)
    if filters and on_dtmf in filters:
        filters.remove(on_dtmf)


# -- the filter ---------------------------------------------------------------------------
def on_dtmf(session: Any, digit: str, duration_ms: int) -> bool:
    """A digit arrived on ``session``: True when a meta binding took it."""
    taken = False
    own = _bindings(session)
    if own is not None:
        taken = _meta(own, session, digit, "a")
        if not taken and own.actions:
            _digit_action(own, session, digit)
    peer = session.peer
    if not taken and peer is not None:
        theirs = _bindings(peer)
        if theirs is not None and theirs.meta:
            taken = _meta(theirs, session, digit, "b")
    return taken


def _meta(b: Bindings, heard_on: Any, digit: str, side: str) -> bool:
    listening = [m for m in b.meta.values() if (m.listen_a if side == "a" else m.listen_b)]
    if not listening:
        return False
    meta_key = b.owner.get_variable("bind_meta_key") or "*"
    now = time.monotonic()
    with b.lock:
        armed = b.meta_armed.get(heard_on.uuid)
        if armed is not None and now - armed <= META_TIMEOUT:
            del b.meta_armed[heard_on.uuid]
            m = b.meta.get(digit)
            if m is None or not (m.listen_a if side == "a" else m.listen_b):
                return False  # not bound: the digit goes on as usual
            if "1" in m.respond:
                del b.meta[digit]
        elif digit == meta_key:
            b.meta_armed[heard_on.uuid] = now
            return True
        else:
            return False
    b.owner.log(INFO, f"Processing meta digit '{digit}' [{m.app}]\n")
    _run_meta(b.owner, m)
    return True


def _run_meta(owner: Any, m: MetaBinding) -> None:
    target = owner.peer if any(c in m.respond for c in "ob") else owner
    if target is None:
        owner.log(WARNING, f"meta app {m.app}: no other leg\n")
        return
    if "i" in m.respond:
        threading.Thread(target=target.execute, args=(m.app, m.args), daemon=True,
                         name="meta-app").start()
        return
    peer = target.peer

    def run() -> None:
        target.execute(m.app, m.args)
        # resume the bridge the application paused, unless it moved the call
        if (peer is not None and target.up() and peer.up() and target.peer is None
                and not target.transferring and not peer.transferring):
            target.bridge_to(peer)

    target.queue_message(run, priority=True)
    target.break_()


def _digit_action(b: Bindings, session: Any, digit: str) -> None:
    now = time.monotonic()
    try:
        timeout = int(session.get_variable("bind_digit_digit_timeout") or 1500) / 1000.0
    except ValueError:
        timeout = 1.5
    with b.lock:
        if now - b.last_digit > timeout:
            b.buffer = ""
        b.last_digit = now
        b.buffer += digit
        buf = b.buffer
        realm = b.realm
        hit = None
        for a in b.actions:
            if a.realm != realm and realm:
                continue
            if a.digits.startswith("~"):
                try:
                    ok = regex.fullmatch(a.digits[1:], buf) is not None
                except regex.error:
                    ok = False
            else:
                ok = a.digits == buf
            if ok:
                hit = a
                break
        if hit is not None:
            b.buffer = ""
    if hit is None:
        return
    target = session.peer if hit.target == "peer" and session.peer is not None else session
    ev = session.new_event("CHANNEL_DATA")
    ev.add_header("Digit-Action-Realm", hit.realm)
    ev.add_header("Digit-Action-Digits", buf)
    ev.add_header("Digit-Action-String", f"{hit.action}:{hit.value}")
    session.switch.events.fire(ev)
    if hit.action.startswith("exec:"):
        app = hit.action[5:]
        target.queue_app(app, hit.value, priority=True)
        if target.peer is not None:
            target.break_()
    elif hit.action.startswith("api:"):
        cmd = hit.action[4:]
        threading.Thread(target=session.switch.api_execute, args=(cmd, hit.value),
                         daemon=True, name="digit-action").start()


# -- applications -------------------------------------------------------------------------
def bind_meta_app(session: Any, data: str) -> None:
    argv = separate_string(data or "", " ", 4)
    if len(argv) != 4 or len(argv[0]) != 1 or argv[0] not in "0123456789*#ABCD":
        session.log(ERR, f"Usage: {BIND_SYNTAX}\n")
        return
    respond = argv[2]
    # switch_ivr_broadcast: ``app::args``, anything else is a file to play
    app, sep, args = argv[3].partition("::")
    if not sep:
        app, args = "playback", argv[3]
    b = _bindings(session, create=True)
    with b.lock:
        b.meta[argv[0]] = MetaBinding(argv[0], "a" in argv[1], "b" in argv[1], respond, app, args)
    _install(session.switch)
    session.log(INFO, f"Bound: {argv[0]} {argv[3]}\n")


def unbind_meta_app(session: Any, data: str) -> None:
    b = _bindings(session)
    if b is None:
        return
    key = (data or "").strip()
    with b.lock:
        if key:
            b.meta.pop(key, None)
        else:
            b.meta.clear()


def bind_digit_action(session: Any, data: str) -> None:
    argv = separate_string(data or "", ",", 6)
    if len(argv) < 3 or not argv[0] or not argv[1]:
        session.log(ERR, f"Usage: {BIND_DIGIT_ACTION_USAGE}\n")
        return
    action = argv[2]
    if not action.startswith(("exec:", "api:")):
        session.log(ERR, f"Usage: {BIND_DIGIT_ACTION_USAGE}\n")
        return
    b = _bindings(session, create=True)
    target = argv[4] if len(argv) > 4 and argv[4] in ("self", "peer", "both") else "self"
    with b.lock:
        b.actions.append(DigitAction(argv[0], argv[1], action, argv[3] if len(argv) > 3 else "",
                                     target))
        if not b.realm:
            b.realm = argv[0]
    _install(session.switch)


def digit_action_set_realm(session: Any, data: str) -> None:
    realm = separate_string(data or "", ",", 2)
    if not realm or not realm[0]:
        session.log(ERR, "Usage: <realm>[,<target>]\n")
        return
    b = _bindings(session, create=True)
    with b.lock:
        b.realm = realm[0]
        b.buffer = ""


def clear_digit_action(session: Any, data: str) -> None:
    realm = (separate_string(data or "", ",", 2) or ["all"])[0]
    b = _bindings(session)
    if b is None:
        return
    with b.lock:
        b.actions = [] if realm == "all" else [a for a in b.actions if a.realm != realm]
        b.buffer = ""


def declare(module: Any) -> None:
    from fsd.module import APP_SUPPORT_NOMEDIA as N

    add = module.add_application
    add("bind_meta_app", bind_meta_app, "Bind a key to an application", BIND_SYNTAX, N)
    add("unbind_meta_app", unbind_meta_app, "Unbind a key from an application", "[<key>]", N)
    add("bind_digit_action", bind_digit_action, "bind a key sequence or regex to an action",
        BIND_DIGIT_ACTION_USAGE, N)
    add("digit_action_set_realm", digit_action_set_realm, "change binding realm",
        "<realm>[,<target>]", N)
    add("clear_digit_action", clear_digit_action, "clear all digit bindings",
        "<realm>|all[,target]", N)
