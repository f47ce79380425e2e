"""An IVR menu engine after FreeSWITCH's switch_ivr_menu (behaviour reference §11).

A :class:`MenuStack` holds named :class:`Menu` objects (the first one created is the
top).  :func:`execute` runs one menu on a session:

* the greeting plays (the short greeting from the second round on, when there is one);
  a digit pressed during it stops it and starts the entry;
* digits are collected up to ``digit_len`` (``inter_timeout`` between digits,
  ``timeout`` for the first one when the greeting ended without input); collection ends
  early as soon as the entry matches an action that no longer entry could match;
* no input is a timeout; input that matches no action is a failure and plays
  ``invalid_sound``; ``max_timeouts`` / ``max_failures`` end the menu with failure;
* actions: ``menu-exec-app`` (run ``app data`` on the channel, then re-prompt),
  ``menu-play-sound`` (play, re-prompt), ``menu-sub`` (run the named menu; the parent
  goes on when it returns), ``menu-back`` (return to the parent), ``menu-top`` (unwind
  to the top menu), ``menu-exit`` (leave every menu);
* ``exit_sound`` plays when a menu is left by menu-exit or by too many errors;
* ``ivr_menu_status`` is set to ``success`` or ``failure``; ``tts_engine`` and
  ``tts_voice`` are set when both are configured.

Digits bound as ``~regex`` match by regular expression, and ``$1``… in the action's
argument take the captures.  Nesting is limited to 12 levels.

The media work goes through ``fsd.scripting.media`` and a ``play(file) -> digit``
callable, so the engine is testable on any session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import regex

from fsd.log import ERR, log
from fsd.scripting import media

ACTIONS = ("menu-exit", "menu-sub", "menu-exec-app", "menu-play-sound", "menu-back", "menu-top")
MAX_DEPTH = 12


@dataclass
class Action:
    action: str
    arg: str
    digits: str


@dataclass
class Menu:
    name: str = "no name"
    greeting_sound: str = ""
    short_greeting_sound: str = ""
    invalid_sound: str = ""
    exit_sound: str = ""
    transfer_sound: str = ""
    confirm_macro: str = ""
    confirm_key: str = ""
    tts_engine: str = ""
    tts_voice: str = ""
    confirm_attempts: int = 3
    inter_timeout: int = 0
    digit_len: int = 1
    timeout: int = 10000
    max_failures: int = 3
    max_timeouts: int = 3
    actions: list[Action] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = self.name or "no name"
        if self.timeout <= 0:
            self.timeout = 10000
        if self.confirm_attempts <= 0:
            self.confirm_attempts = 3
        if self.inter_timeout <= 0:
            self.inter_timeout = self.timeout // 2
        if self.max_failures <= 0:
            self.max_failures = 3
        if self.max_timeouts <= 0:
            self.max_timeouts = 3
        if self.digit_len <= 0:
            self.digit_len = 1

    def bind(self, action: str, arg: str, digits: str) -> bool:
        a = (action or "").lower()
        if a not in ACTIONS:
            log(ERR, f"invalid action {action}\n")
            return False
        if not digits:
            log(ERR, "bindAction: no digits given\n")
            return False
        self.actions.append(Action(a, arg or "", digits))
        return True

    def match(self, entry: str) -> tuple[Action | None, str, bool]:
        """(action, arg with captures, whether a longer entry could still match)."""
        longer = False
        for a in self.actions:
            if a.digits.startswith("~"):
                m = regex.fullmatch(a.digits[1:], entry)
                if m is not None:
                    arg = a.arg
                    for i in range(len(m.groups()), 0, -1):
                        arg = arg.replace(f"${i}", m.group(i) or "")
                    return a, arg, False
                if regex.fullmatch(a.digits[1:], entry, partial=True) is not None:
                    longer = True
                continue
            if a.digits == entry:
                return a, a.arg, False
            if a.digits.startswith(entry):
                longer = True
        return None, "", longer


class MenuStack:
    """The menus created with one main menu (``IVRMenu(main, …)``)."""

    def __init__(self) -> None:
        self.menus: list[Menu] = []

    def add(self, menu: Menu) -> None:
        self.menus.append(menu)

    def find(self, name: str) -> Menu | None:
        for m in self.menus:
            if m.name == name:
                return m
        return None


class _Leave(Exception):
    """Unwinds nested menus: ``kind`` is exit or top."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


Player = Callable[[str], str]  # play(file) -> first digit pressed ("" when none)


def _default_player(session: Any) -> Player:
    from fsd.media.dtmf import DTMF  # noqa: F401 - the media layer's digit type

    def play(file: str) -> str:
        if not file:
            return ""
        got: list[str] = []

        def on_input(kind: str, payload: Any) -> str | None:
            if kind == "dtmf":
                got.append(payload.digit)
                return "break"
            return None

        media.stream_file(session, file, 0, on_input)
        return got[0] if got else ""

    return play


def _collect(session: Any, menu: Menu, first: str) -> str:
    entry = first
    if not entry:
        d, _ = media.get_digits(session, 1, "", menu.timeout)
        entry = d
        if not entry:
            return ""
    while len(entry) < menu.digit_len:
        action, _, longer = menu.match(entry)
        if action is not None and not longer:
            break
        d, _ = media.get_digits(session, 1, "", menu.inter_timeout)
        if not d:
            break
        entry += d
    return entry


def execute(session: Any, stack: MenuStack, name: str, player: Player | None = None,
            depth: int = 0) -> bool:
    """Run menu ``name``; True on success (``ivr_menu_status``)."""
    menu = stack.find(name)
    if menu is None:
        log(ERR, "Invalid Menu!\n", uuid=session.uuid)
        session.set_variable("ivr_menu_status", "failure")
        return False
    try:
        ok = _run(session, stack, menu, player or _default_player(session), depth)
    except _Leave as leave:
        if depth > 0:
            raise
        ok = leave.kind == "exit"
    session.set_variable("ivr_menu_status", "success" if ok else "failure")
    return ok


def _run(session: Any, stack: MenuStack, menu: Menu, play: Player, depth: int) -> bool:
    if depth >= MAX_DEPTH:
        log(ERR, "Maximum recursion of 12 menus reached.\n", uuid=session.uuid)
        return False
    if menu.tts_engine and menu.tts_voice:
        session.set_variable("tts_engine", menu.tts_engine)
        session.set_variable("tts_voice", menu.tts_voice)
    failures = timeouts = 0
    rounds = 0
    while session.ready():
        if failures >= menu.max_failures or timeouts >= menu.max_timeouts:
            play(menu.exit_sound)
            return False
        greeting = menu.short_greeting_sound if rounds and menu.short_greeting_sound else menu.greeting_sound
        rounds += 1
        first = play(greeting)
        if not session.ready():
            break
        entry = _collect(session, menu, first)
        if not entry:
            timeouts += 1
            continue
        action, arg, _ = menu.match(entry)
        if action is None:
            failures += 1
            play(menu.invalid_sound)
            continue
        failures = timeouts = 0
        kind = action.action
        if kind == "menu-exit":
            play(menu.exit_sound)
            raise _Leave("exit")
        if kind == "menu-back":
            return True
        if kind == "menu-top":
            if depth == 0:
                rounds = 0
                continue
            raise _Leave("top")
        if kind == "menu-play-sound":
            play(arg)
        elif kind == "menu-exec-app":
            app, _, data = arg.partition(" ")
            session.execute(app, data)
        elif kind == "menu-sub":
            sub = stack.find(arg)
            if sub is None:
                log(ERR, "Invalid Menu!\n", uuid=session.uuid)
                failures += 1
                continue
            try:
                _run(session, stack, sub, play, depth + 1)
            except _Leave as leave:
                if leave.kind == "top" and depth > 0:
                    raise
                if leave.kind == "exit":
                    raise
                rounds = 0
    return False
