"""The ``freeswitch`` module Python scripts import (``from freeswitch import *``), as
FreeSWITCH's mod_python3 offers it, over the language-neutral objects of
:mod:`fsd.scripting`.

The objects know the run they belong to (for log lines, kills, and what is closed at the
end of the run) from the thread that creates them; created outside any run (a thread the
script started itself) they belong to a detached run that nothing stops.

Python conventions, as in mod_python3: hangup hooks and input callbacks are callables
(``session.setHangupHook(func[, arg])``: ``func(session, what[, arg])``;
``session.setInputCallback(func[, arg])``: ``func(session, what, obj[, arg])`` where
``obj`` is a :class:`DTMF` or an :class:`Event`); a hook's return value is ignored.
"""

from __future__ import annotations

import time
from typing import Any

from fsd.api import Stream as _CoreStream
from fsd.log import WARNING, log
from fsd.scripting import calls as _calls
from fsd.scripting import funcs as _funcs
from fsd.scripting.api import ScriptAPI
from fsd.scripting.consumer import ScriptConsumer
from fsd.scripting.context import ScriptContext
from fsd.scripting.dbh import ScriptDbh, new_dbh
from fsd.scripting.dtmf import ScriptDTMF
from fsd.scripting.event import ScriptEvent, new_event
from fsd.scripting.menu import ScriptMenu, new_menu
from fsd.scripting.session import S_HUP, ScriptSession, init_session

from . import runner

S_FREE = 2
S_RDLOCK = 4

_DETACHED: dict[str, Any] = {}


def _ctx() -> Any:
    """The calling thread's run, or a detached one."""
    ctx = runner.current()
    if ctx is not None:
        return ctx
    d = _DETACHED.get("ctx")
    if d is None:
        from . import state

        d = runner.PyContext(state.host(), "(detached)")
        _DETACHED["ctx"] = d
    return d


# -- module functions ---------------------------------------------------------------------
def consoleLog(level_str: str, msg: str) -> None:
    _funcs.console_log(_ctx(), level_str, msg)


def consoleLog2(level_str: str, file: str, func: str, line: int, msg: str) -> None:
    _funcs.console_log2(_ctx(), level_str, file, func, int(line or 0), msg)


def consoleCleanLog(msg: str) -> None:
    _funcs.console_clean_log(_ctx(), msg)


console_log = consoleLog
console_log2 = consoleLog2
console_clean_log = consoleCleanLog


def getGlobalVariable(var_name: str) -> str | None:
    return _funcs.get_global_variable(_ctx(), var_name)


def setGlobalVariable(var_name: str, var_val: str) -> None:
    _funcs.set_global_variable(_ctx(), var_name, var_val)


def running() -> bool:
    return bool(_funcs.running(_ctx()))


def msleep(ms: int) -> None:
    _funcs.msleep(_ctx(), int(ms))


def email(to: str, _from: str, headers: str | None = None, body: str | None = None,
          file: str | None = None, convert_cmd: str | None = None,
          convert_ext: str | None = None) -> bool:
    """Send a mail through mod_email (FreeSWITCH's ``switch_simple_email``)."""
    return _calls.email(_ctx(), to, _from, headers, body, file, convert_cmd, convert_ext)


def bridge(session_a: Session, session_b: Session) -> None:
    _calls.bridge(_ctx(), session_a, session_b)


def hanguphook(session: Any) -> None:
    """FreeSWITCH's C trampoline, of no use from Python (present for scripts probing)."""
    return None


def dtmf_callback(*args: Any) -> None:
    return None


# -- objects ---------------------------------------------------------------------------------
class DTMF(ScriptDTMF):
    """A DTMF digit handed to input callbacks: ``digit`` and ``duration`` (samples)."""

    __slots__ = ()


class Event(ScriptEvent):
    """``Event(type[, subclass_name])``, or ``Event("json", text)``."""

    __slots__ = ()

    def __init__(self, *args: Any) -> None:
        if args and isinstance(args[0], ScriptContext):  # adopted by fsd
            ScriptEvent.__init__(self, *args)
            return
        if not args or len(args) > 2:
            raise TypeError("Event(type[, subclass_name])")
        ctx = _ctx()
        made = new_event(ctx, args[0], args[1] if len(args) > 1 else None)
        ScriptEvent.__init__(self, ctx, made.ev, True)

    def __repr__(self) -> str:
        return f"<freeswitch.Event {self.getType()}>"


class EventConsumer(ScriptConsumer):
    """``EventConsumer([event_name[, subclass_name[, queue_size]]])``."""

    event_class = Event

    def __init__(self, event_name: str | None = None, subclass_name: str = "",
                 queue_size: int = 5000) -> None:
        ScriptConsumer.__init__(self, _ctx(), 5000 if queue_size is None else int(queue_size))
        if event_name:
            self.bind(event_name, subclass_name)


class API(ScriptAPI):
    """``API([session])``: ``execute(command[, data])``, ``executeString(line)``,
    ``getTime()``."""

    def __init__(self, s: Any = None) -> None:
        ScriptAPI.__init__(self, _ctx(), getattr(s, "session", s) if s is not None else None)


def Stream() -> Any:  # noqa: N802  (a class in FreeSWITCH)
    """A growable output buffer (``write``, ``raw_write``, ``get_data``, ``read``)."""
    return _CoreStream()


class Dbh(ScriptDbh):
    """``Dbh(dsn[, user[, password]])`` over mod_db (an fsd addition: FreeSWITCH's Python
    has no Dbh).  ``query(sql[, callback])`` calls ``callback(row_dict)``; a true return
    value stops the rows."""

    __slots__ = ()

    def __init__(self, dsn: str, user: str | None = None, password: str | None = None) -> None:
        made = new_dbh(_ctx(), dsn, user, password)
        ScriptDbh.__init__(self, made.ctx, made.h)


class IVRMenu(ScriptMenu):
    """``IVRMenu(main, name, greeting_sound, short_greeting_sound, invalid_sound,
    exit_sound, transfer_sound, confirm_macro, confirm_key, tts_engine, tts_voice,
    confirm_attempts, inter_timeout, digit_len, timeout, max_failures, max_timeouts)``."""

    __slots__ = ()

    def __init__(self, main: IVRMenu | None, name: str, greeting_sound: str,
                 short_greeting_sound: str, invalid_sound: str, exit_sound: str,
                 transfer_sound: str, confirm_macro: str, confirm_key: str, tts_engine: str,
                 tts_voice: str, confirm_attempts: int, inter_timeout: int, digit_len: int,
                 timeout: int, max_failures: int, max_timeouts: int) -> None:
        made = new_menu(_ctx(), main, name, greeting_sound, short_greeting_sound,
                        invalid_sound, exit_sound, transfer_sound, confirm_macro, confirm_key,
                        tts_engine, tts_voice, int(confirm_attempts), int(inter_timeout),
                        int(digit_len), int(timeout), int(max_failures), int(max_timeouts))
        ScriptMenu.__init__(self, made.ctx, made.menu, made.stack)


class Session(ScriptSession):
    """``Session()``, ``Session(uuid)`` (an existing channel) or ``Session(dial_string[,
    a_leg])`` (originate a new leg; it is hung up when the script ends unless
    ``setAutoHangup(False)``)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        if args and isinstance(args[0], ScriptContext):  # adopted by fsd
            ScriptSession.__init__(self, *args, **kw)
            return
        ScriptSession.__init__(self, _ctx())
        if args:
            init_session(self, args[0], args[1] if len(args) > 1 else None)

    def __repr__(self) -> str:
        return f"<freeswitch.Session {self.uuid or 'uninitialized'}>"

    # -- Python callbacks --------------------------------------------------------------
    def wrap_dtmf(self, dtmf: Any) -> Any:
        return DTMF(dtmf.digit, int(dtmf.duration))

    def wrap_event(self, event: Any) -> Any:
        return Event(self.ctx, event, False)

    def setHangupHook(self, pyfunc: Any, arg: Any = None) -> None:
        if self.session is None:
            ScriptSession.setHangupHook(self, None)
            return
        if not callable(pyfunc):
            log(WARNING, "Hangup hook is not a python function.\n", uuid=self.uuid or "")
            return
        self.hangup_func_str = pyfunc
        self.hangup_func_arg = arg
        self.listen()
        if self.session.hangup_cause is not None and not self._hook_mark:
            self._hook_pending = "hangup"

    def setInputCallback(self, cbfunc: Any, funcargs: Any = None) -> None:
        if self.session is None:
            ScriptSession.setInputCallback(self, None)
            return
        if not callable(cbfunc):
            log(WARNING, "Input callback is not a python function.\n", uuid=self.uuid or "")
            return
        self.cb_function = cbfunc
        self.cb_arg = funcargs

    def originate(self, a_leg_session: Any, dest: str, timeout: int = 60,  # type: ignore[override]
                  handlers: Any = None) -> int:
        return ScriptSession.originate(self, a_leg_session, dest, int(timeout or 60))

    def destroy(self) -> None:  # type: ignore[override]
        ScriptSession.destroy(self)

    _print = ScriptSession.print_text

    # SWIG/threading artefacts of mod_python3: harmless here
    def begin_allow_threads(self) -> bool:
        self.check_hangup_hook()
        return True

    def end_allow_threads(self) -> bool:
        self.check_hangup_hook()
        return True

    def setDTMFCallback(self, cbfunc: Any, funcargs: Any = None) -> None:
        self.setInputCallback(cbfunc, funcargs)

    def setPython(self, state: Any) -> None:
        return None

    def setSelf(self, state: Any) -> None:
        return None

    def run_dtmf_callback(self, input: Any, itype: Any) -> int:
        return 0

    def get_cb_args(self) -> Any:
        return None


CoreSession = Session


def adopt_session(ctx: Any, core: Any) -> Session:
    """The ``session`` a handler receives: the calling channel, without auto-hangup."""
    return Session(ctx, core)


def adopt_event(ctx: Any, core: Any) -> Event:
    """An event handed to a script (``env``, ``params``, ``message``): not its own."""
    return Event(ctx, core, False)


def getTime() -> str:  # noqa: N802
    return str(int(time.time() * 1000))


__all__ = ["API", "DTMF", "Dbh", "Event", "EventConsumer", "IVRMenu", "S_FREE", "S_HUP",
           "S_RDLOCK", "Session", "CoreSession", "Stream", "bridge", "consoleCleanLog",
           "consoleLog", "consoleLog2", "console_clean_log", "console_log", "console_log2",
           "dtmf_callback", "email", "getGlobalVariable", "hanguphook", "msleep", "running",
           "setGlobalVariable"]
