"""``freeswitch.Session`` (behaviour reference §4) over :class:`fsd.session.Session`.

One :class:`LuaSession` per Lua object.  It holds the core session (or none: an
unallocated object, whose methods log "session is not initalized" and return the
documented fallback), the auto-hangup flag, the stored cause, and the names of the
hangup hook and input callback globals.

Hangup hook (§4.4): a hangup or transfer of the channel only *marks* the hook pending
(from whatever thread does it); the hook runs in the script's thread at the next
``ready()`` or at the entry/exit of a blocking method, once per object.  Its result
``"exit"``/``"die"`` raises a Lua error with that string from the method (through the
class's ``signals`` mechanism, see spec.py).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import lupa.lua53 as lua53

from fsd import causes
from fsd.log import DEBUG, ERR, log

from .. import media
from ..runtime import ScriptKilled
from . import register_class
from .event import LuaEvent
from .funcs import console_log, console_log2
from .spec import Arg, ClassSpec, Method, args

S_HUP = 1
NOT_INIT = "session is not initalized\n"


def _lua_string(value: Any) -> str | None:
    """lua_tostring: strings and numbers convert, everything else is "no string"."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


class LuaSession:
    def __init__(self, ctx: Any, session: Any = None, *, auto_hangup: bool = False,
                 cause: str = "NONE") -> None:
        self.ctx = ctx
        self.session = session
        self.allocated = session is not None
        self.uuid: str | None = session.uuid if session is not None else None
        self.flags = S_HUP if auto_hangup else 0
        self.cause = cause
        self.hook_state = 0
        self.hangup_func_str: str | None = None
        self.hangup_func_arg: str | None = None
        self.cb_function: str | None = None
        self.cb_arg: str | None = None
        self.tts_name: str | None = None
        self.voice_name: str | None = None
        self.proxy: Any = None
        self._hook_pending: str | None = None
        self._hook_mark = False
        self._listening = False
        self._kill_bound: Any = None
        self.private: dict[str, Any] = {}
        ctx.own(self)
        ctx.sessions.append(self)
        if session is not None:
            ctx.on_kill(self._break)
            if ctx.uuid and session.uuid == ctx.uuid:
                self._bind_kill(session)

    def _bind_kill(self, session: Any) -> None:
        """The script's own channel.  A hangup (``uuid_kill`` included) never stops the
        script, as in FreeSWITCH: its hook runs at its next session call and the code after
        its loop runs.  Only lua.conf.xml ``kill-after-hangup-sec`` (fsd, off by default)
        stops a script that still runs that long after its channel hung up."""
        limit = getattr(self.ctx.host, "kill_after_hangup", None)
        if not limit:
            return
        ctx = self.ctx
        timer = threading.Timer(limit, ctx.kill,
                                (f"still running {limit:g} s after its channel hung up",))
        timer.daemon = True
        self._kill_bound = timer

        def on_hangup(s: Any) -> None:
            if ctx.thread is not None and not timer.finished.is_set():
                timer.start()

        session.add_hangup_listener(on_hangup)

    def attach(self, session: Any, auto_hangup: bool, cause: str) -> None:
        self.session = session
        self.allocated = True
        self.uuid = session.uuid
        self.flags = S_HUP if auto_hangup else 0
        self.cause = cause
        self.ctx.on_kill(self._break)

    def _break(self) -> None:
        s = self.session
        if s is not None and s.up():
            s.break_()

    # -- hangup hook -------------------------------------------------------------------
    def _on_hangup(self, session: Any) -> None:
        if self.allocated and not self._hook_mark:
            self.hook_state = 10  # CS_HANGUP
            self._hook_pending = "hangup"

    def _on_state(self, session: Any, state: str) -> None:
        if state == "CS_ROUTING" and self.allocated and not self._hook_mark and session.transferring:
            self.hook_state = 2  # CS_ROUTING
            self._hook_pending = "transfer"

    def listen(self) -> None:
        if self._listening or self.session is None:
            return
        self._listening = True
        self.session.add_state_listener(self._on_state)
        self.session.add_hangup_listener(self._on_hangup)

    def check_hangup_hook(self) -> bool:
        """Run a pending hangup hook here (the script's thread).  True when it asked the
        script to stop ("exit"/"die")."""
        what = self._hook_pending
        if what is None or self._hook_mark or not self.hangup_func_str or self.ctx.lua is None:
            return False
        self._hook_mark = True
        self._hook_pending = None
        g = self.ctx.lua.globals()
        fn = g[self.hangup_func_str]
        if lua53.lua_type(fn) != "function":
            log(ERR, f"Failed to execute hangup hook {self.hangup_func_str}: not a function\n",
                uuid=self.uuid or "")
            return False
        sess = g[self.uuid] if self.uuid else None
        call_args = [sess if sess is not None else self.proxy, what]
        if self.hangup_func_arg:
            call_args.append(g[self.hangup_func_arg])
        ok, res = self.ctx.call(fn, *call_args)
        if not ok:
            log(ERR, f"{res}\n", uuid=self.uuid or "")
            res = None
        text = _lua_string(res)
        if text is not None and self.session is not None:
            self.session.set_variable("lua_hangup_hook_return_val", text)
        if text is not None and text.lower() in ("exit", "die"):
            self.ctx.raise_in_lua(text)
            return True
        return False

    # -- input callback ----------------------------------------------------------------
    def on_input(self) -> Any:
        """The media layer's ``on_input(kind, payload)`` for the current callback, or None."""
        if not self.cb_function or self.ctx.lua is None:
            return None
        ctx = self.ctx

        def cb(kind: str, payload: Any) -> str | None:
            g = ctx.lua.globals()
            fn = g[self.cb_function] if self.cb_function else None
            if lua53.lua_type(fn) != "function":
                log(ERR, f"input callback {self.cb_function} is not a function\n", uuid=self.uuid or "")
                return "SCRIPT_ERROR"
            if kind == "dtmf":
                obj = ctx.table({"digit": payload.digit, "duration": int(payload.duration)})
            else:
                obj = ctx.export.wrap("Event", LuaEvent(ctx, payload, False))
            sess = g[self.uuid] if self.uuid else None
            call_args = [sess if sess is not None else self.proxy, kind, obj]
            if self.cb_arg:
                call_args.append(g[self.cb_arg])
            ok, res = ctx.call(fn, *call_args)
            if not ok:
                log(ERR, f"{res}\n", uuid=self.uuid or "")
                return "SCRIPT_ERROR"
            return _lua_string(res)

        return cb

    # -- lifetime ----------------------------------------------------------------------
    def destroy(self) -> None:
        s = self.session
        self.hangup_func_str = self.hangup_func_arg = None
        self.cb_function = self.cb_arg = None
        if s is not None:
            if self._kill_bound is not None:
                self._kill_bound.cancel()  # the kill-after-hangup timer, if armed
                self._kill_bound = None
            if self._listening:
                s.remove_state_listener(self._on_state)
            if self.flags & S_HUP and s.up() and not s.transferring:
                s.hangup("NORMAL_CLEARING")
        self.session = None
        self.allocated = False
        # the core session may outlive the script (its hangup listener holds this object):
        # drop the Lua proxy so the script's Lua state is not kept alive through it
        self.proxy = None

    close = destroy  # the run closes every Session object at script end (§4.3)


# -- helpers ---------------------------------------------------------------------------
def _inv(o: LuaSession) -> bool:
    """Not allocated: log as FreeSWITCH and tell the caller to return its fallback."""
    if o.session is None:
        log(ERR, NOT_INIT, uuid=o.ctx.uuid)
        return True
    return False


def _enter(o: LuaSession) -> bool:
    """Entry of a blocking method: honour a kill, run a pending hook.  False means the
    hook said "exit": the method returns at once and the error is raised."""
    if o.ctx.killed():
        raise ScriptKilled(o.ctx.kill_reason)
    return not o.check_hangup_hook()


def _leave(o: LuaSession) -> None:
    if o.ctx.killed():
        raise ScriptKilled(o.ctx.kill_reason)
    o.check_hangup_hook()


def _i(value: int | None, default: int = 0) -> int:
    return default if value is None else int(value)


# -- construction ----------------------------------------------------------------------
def _new(ctx: Any, dial: str | None = None, aleg: LuaSession | None = None) -> LuaSession:
    o = LuaSession(ctx)
    if not dial:
        return o
    sw = ctx.host.switch
    if sw is None:
        log(ERR, "Session: no switch to originate on\n", uuid=ctx.uuid)
        o.cause = "DESTINATION_OUT_OF_ORDER"
        return o
    if "/" not in dial:
        existing = sw.sessions.get(dial)
        if existing is not None:
            o.attach(existing, False, "NONE")
            return o
    _originate_into(o, dial, aleg.session if aleg is not None else None, 60)
    return o


def _originate_into(o: LuaSession, dial: str, originator: Any, timeout: int) -> bool:
    from fsd.originate import originate

    sw = o.ctx.host.switch
    res = originate(sw, dial, originator, timeout)
    if res.session is None:
        o.cause = res.cause if res.cause not in ("SUCCESS", "NONE") else "ORIGINATOR_CANCEL"
        return False
    leg = res.session
    leg.set_state("CS_SOFT_EXECUTE")
    deadline = time.monotonic() + 5
    while leg.up() and leg.running_state != "CS_SOFT_EXECUTE" and time.monotonic() < deadline:
        leg.wait_for(lambda: leg.running_state == "CS_SOFT_EXECUTE", 0.05)
    o.attach(leg, True, "SUCCESS")
    return True


def _register(o: LuaSession, proxy: Any) -> str | None:
    """Called when a proxy wraps ``o``: remember it; the UUID becomes a Lua global."""
    if o.proxy is None:
        o.proxy = proxy
    return o.uuid


# -- methods -----------------------------------------------------------------------------
def _answer_with(o: LuaSession, how: str) -> int:
    """answer()/preAnswer(): -1 unallocated, 1 for outbound legs (a no-op), 0 once hung up."""
    if _inv(o):
        return -1
    s = o.session
    if s.direction == "outbound":
        return 1
    if s.hangup_cause is not None:
        return 0
    return 1 if getattr(s, how)() else 0


def _answer(o: LuaSession) -> int:
    return _answer_with(o, "answer")


def _pre_answer(o: LuaSession) -> int:
    return _answer_with(o, "pre_answer")


def _answered(o: LuaSession) -> bool:
    if _inv(o):
        return False
    return bool(o.session.answered())


def _media_ready(o: LuaSession) -> bool:
    if _inv(o):
        return False
    return bool(o.session.media_ready())


def _ready(o: LuaSession) -> bool:
    if o.session is None:
        return False
    if o.ctx.killed():
        raise ScriptKilled(o.ctx.kill_reason)
    o.check_hangup_hook()
    return bool(o.session.ready())


def _bridged(o: LuaSession) -> bool:
    if _inv(o):
        return False
    return bool(o.session.bridged())


def _hangup(o: LuaSession, cause: str | None = None) -> None:
    if _inv(o):
        return
    if not _enter(o):
        return
    o.session.hangup(causes.str2cause(cause or "normal_clearing"))
    _leave(o)


def _hangup_state(o: LuaSession) -> None:
    if _inv(o):
        return


def _hangup_cause(o: LuaSession) -> str:
    return o.cause


def _get_state(o: LuaSession) -> str:
    if o.session is None:
        log(ERR, NOT_INIT, uuid=o.ctx.uuid)
        return "ERROR"
    return o.session.state


def _get_uuid(o: LuaSession) -> str:
    return o.uuid if o.uuid and o.allocated else "uninitialized"


def _get_variable(o: LuaSession, name: str | None) -> str | None:
    if _inv(o):
        return ""
    return o.session.get_variable(name) if name else None


def _set_variable(o: LuaSession, name: str | None, value: str | None) -> None:
    if _inv(o):
        return
    if name:
        o.session.set_variable(name, value)


def _execute(o: LuaSession, app: str | None, data: str | None = None) -> None:
    if _inv(o):
        return
    if not _enter(o):
        return
    if app:
        o.session.execute(app, data or "")
    _leave(o)


def _stream_file(o: LuaSession, file: str | None, start: int | None = None) -> int:
    if _inv(o):
        return 0
    if not _enter(o):
        return 0
    o.session.clear_break()
    ok = bool(file) and media.stream_file(o.session, file, _i(start), o.on_input(), o.ctx.killed)
    _leave(o)
    return 1 if ok else 0


def _sleep(o: LuaSession, ms: int, sync: int | None = None) -> int:
    if _inv(o):
        return 0
    if not _enter(o):
        return 0
    o.session.clear_break()
    ok = media.sleep(o.session, ms, o.on_input(), o.ctx.killed)
    _leave(o)
    return 1 if ok else 0


def _say(o: LuaSession, text: str | None, lang: str | None, kind: str | None,
         method: str | None, gender: str | None = None) -> None:
    if _inv(o):
        return
    if not (text and lang and kind and method):
        log(ERR, "Error! invalid args.\n", uuid=o.uuid or "")
        return
    if not _enter(o):
        return
    media.say(o.session, text, lang, kind, method, gender, o.on_input())
    _leave(o)


def _say_phrase(o: LuaSession, name: str | None, data: str | None = None,
                lang: str | None = None) -> None:
    if _inv(o):
        return
    if not name:
        log(ERR, "Error! invalid args.\n", uuid=o.uuid or "")
        return
    if not _enter(o):
        return
    media.say_phrase(o.session, name, data or "", lang, o.on_input())
    _leave(o)


def _speak(o: LuaSession, text: str | None) -> int:
    if _inv(o):
        return -1
    if not o.tts_name or not o.voice_name:
        log(ERR, "No TTS engine/voice specified\n", uuid=o.uuid or "")
        return 1
    if not _enter(o):
        return 0
    ok = media.speak(o.session, text or "", o.tts_name, o.voice_name, o.on_input())
    _leave(o)
    return 1 if ok else 0


def _set_tts_params(o: LuaSession, engine: str | None, voice: str | None) -> None:
    if _inv(o):
        return
    o.tts_name, o.voice_name = engine, voice


def _set_tts_parms(o: LuaSession, engine: str | None, voice: str | None) -> None:
    log(ERR, "set_tts_parms is deprecated. Use set_tts_params.\n", uuid=o.uuid or "")
    _set_tts_params(o, engine, voice)


def _get_digits(o: LuaSession, maxd: int, terms: str | None, timeout: int,
                interdigit: int | None = None, abstimeout: int | None = None) -> str:
    if _inv(o):
        return ""
    if not _enter(o):
        return ""
    digits, _ = media.get_digits(o.session, maxd, terms or "", timeout, _i(interdigit),
                                 _i(abstimeout), o.ctx.killed)
    shown = "X" * len(digits) if o.session.var_true("sensitive_dtmf") else digits
    log(DEBUG, f"getDigits: {shown}\n", uuid=o.uuid or "")
    _leave(o)
    return digits


def _read(o: LuaSession, mn: int, mx: int, prompt: str | None, timeout: int,
          terms: str | None, digit_timeout: int | None = None) -> str:
    if _inv(o):
        return ""
    if not _enter(o):
        return ""
    res = media.read(o.session, mn, mx, prompt or "", timeout, terms or "", _i(digit_timeout),
                     o.ctx.killed)
    _leave(o)
    return res


def _pagd(o: LuaSession, mn: int, mx: int, tries: int, timeout: int, terms: str | None,
          prompt: str | None, bad: str | None, rx: str | None, var: str | None = None,
          digit_timeout: int | None = None, xfer: str | None = None) -> str:
    if _inv(o):
        return ""
    if not _enter(o):
        return ""
    res = media.play_and_get_digits(o.session, mn, mx, tries, timeout, terms or "", prompt or "",
                                    bad or "", rx or None, var or None, _i(digit_timeout),
                                    xfer or None, o.ctx.killed)
    _leave(o)
    return res


def _collect_digits(o: LuaSession, a: int, b: int | None = None) -> int:
    if _inv(o):
        return -1
    digit_timeout, abs_timeout = (0, a) if b is None else (a, b)
    if not _enter(o):
        return 0
    media.collect_digits(o.session, digit_timeout, abs_timeout, o.on_input(), o.ctx.killed)
    _leave(o)
    return 0


def _record_file(o: LuaSession, path: str | None, max_secs: int | None = None,
                 thresh: int | None = None, secs: int | None = None) -> int:
    if _inv(o):
        return -1
    if not _enter(o):
        return 0
    thresh_v, secs_v = _i(thresh), _i(secs)
    if thresh_v > 0 and secs_v == 0:
        secs_v = 3
    ok = bool(path) and media.record_file(o.session, path, _i(max_secs), thresh_v, secs_v,
                                          o.on_input())
    _leave(o)
    return 1 if ok else 0


def _insert_file(o: LuaSession, orig: str | None, ins: str | None, pos: int) -> int:
    if _inv(o):
        return -1
    if not orig or not ins:
        return 0
    return 1 if media.insert_file(o.session, orig, ins, pos) else 0


def _transfer(o: LuaSession, ext: str | None, dialplan: str | None = None,
              context: str | None = None) -> int:
    if _inv(o):
        return -1
    if not _enter(o):
        return 0
    ok = o.session.transfer(ext or "", dialplan or None, context or None)
    _leave(o)
    return 1 if ok else 0


def _set_auto_hangup(o: LuaSession, val: bool) -> int:
    if _inv(o):
        return -1
    o.flags = (o.flags | S_HUP) if val else (o.flags & ~S_HUP)
    return 0


def _set_hangup_hook(o: LuaSession, func: str | None, arg: str | None = None) -> None:
    if _inv(o):
        return
    o.hangup_func_str = func or None
    o.hangup_func_arg = arg or None
    if func:
        o.listen()
        s = o.session
        if s.hangup_cause is not None and not o._hook_mark:
            o._hook_pending = "hangup"


def _set_input_callback(o: LuaSession, func: str | None, arg: str | None = None) -> None:
    if _inv(o):
        return
    o.cb_function = func or None
    o.cb_arg = arg or None


def _unset_input_callback(o: LuaSession) -> None:
    if _inv(o):
        return
    o.cb_function = o.cb_arg = None


def _flush_digits(o: LuaSession) -> int:
    if _inv(o):
        return -1
    o.session.flush_dtmf()
    return 0


def _flush_events(o: LuaSession) -> int:
    if _inv(o):
        return -1
    o.session.flush_events()
    return 0


def _send_event(o: LuaSession, ev: LuaEvent | None) -> None:
    if _inv(o):
        return
    if ev is not None and ev.ev is not None:
        o.session.queue_event(ev.ev.copy())


def _set_event_data(o: LuaSession, ev: LuaEvent | None) -> None:
    if _inv(o):
        return
    if ev is not None and ev.ev is not None:
        o.session.event_data(ev.ev)


def _get_xml_cdr(o: LuaSession) -> str:
    if _inv(o):
        return ""
    from xml.sax.saxutils import escape

    s = o.session
    with s.lock:
        items = list(s.variables.items())
    body = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in items if k.replace("_", "").isalnum())
    return (f'<?xml version="1.0"?>\n<cdr core-uuid="{s.switch.core_uuid}">'
            f"<variables>{body}</variables></cdr>")


def _wait_for_answer(o: LuaSession, other: LuaSession | None) -> None:
    if _inv(o):
        return
    if not _enter(o):
        return
    s = o.session
    while s.up() and not s.answered() and not o.ctx.killed():
        s.wait_for(s.answered, 0.1)
    _leave(o)


def _originate(o: LuaSession, aleg: LuaSession | None, dest: str | None, timeout: int) -> int:
    if not dest:
        log(ERR, "Missing destination.\n", uuid=o.ctx.uuid)
        return 0
    if o.session is not None:
        log(ERR, "Session already allocated\n", uuid=o.ctx.uuid)
        return 1
    ok = _originate_into(o, dest, aleg.session if aleg is not None else None, timeout or 60)
    return 0 if ok else 1


def _destroy(o: LuaSession, err: str | None = None) -> None:
    o.destroy()
    if err:
        o.ctx.raise_in_lua(err)


def _console_log(o: LuaSession, level: str | None, msg: str | None) -> None:
    console_log(o.ctx, level, msg)


def _console_log2(o: LuaSession, level: str | None, file: str | None, func: str | None,
                  line: int, msg: str | None) -> None:
    console_log2(o.ctx, level, file, func, line, msg)


def _detect_speech(o: LuaSession, cmd: str | None, a1: str | None = None,
                   a2: str | None = None, a3: str | None = None) -> None:
    if _inv(o):
        return
    log(ERR, "detectSpeech: no speech recognition engine is available in fsd\n", uuid=o.uuid or "")


def _play_and_detect_speech(o: LuaSession, file: str | None, engine: str | None,
                            grammar: str | None) -> str | None:
    if _inv(o):
        return None
    log(ERR, "playAndDetectSpeech: no speech recognition engine is available in fsd\n",
        uuid=o.uuid or "")
    _stream_file(o, file)
    return None


def _print(o: LuaSession, text: str | None) -> int:
    if _inv(o):
        return -1
    log(ERR, "print: real-time text is not supported in fsd\n", uuid=o.uuid or "")
    return 0


def _noop(o: LuaSession, *a: Any) -> None:
    return None


def _set_private(o: LuaSession, key: str | None, value: Any = None) -> None:
    # FreeSWITCH stores a C pointer; here any Lua value, per object
    if key:
        o.private[key] = value


def _get_private(o: LuaSession, key: str | None) -> Any:
    return o.private.get(key) if key else None


def _process_callback_result(o: LuaSession, result: str | None) -> int:
    """0 (SUCCESS) when the result lets the operation go on, 1 (FALSE) when it stops."""
    return 0 if media.continues(result) else 1


_GETTERS = {
    "uuid": lambda o: o.uuid,
    "cause": lambda o: causes.cause_code(o.cause),
    "hook_state": lambda o: o.hook_state,
    "allocated": lambda o: 1 if o.allocated else 0,
    "flags": lambda o: o.flags,
    "tts_name": lambda o: o.tts_name,
    "voice_name": lambda o: o.voice_name,
    "cb_function": lambda o: o.cb_function,
    "cb_arg": lambda o: o.cb_arg,
    "hangup_func_str": lambda o: o.hangup_func_str,
    "hangup_func_arg": lambda o: o.hangup_func_arg,
}


def _adopt(ctx: Any, core: Any) -> LuaSession:
    """The ``session`` global: the calling channel, without auto-hangup."""
    if isinstance(core, LuaSession):
        return core
    return LuaSession(ctx, core)


S = Arg("s", "char const *")
SS = Arg("s", "char *")
M = Method
register_class(ClassSpec(
    "Session",
    ctor=M("Session", _new, [S, Arg("o:Session", "CoreSession *")], required=0),
    methods=[
        M("answer", _answer, []),
        M("preAnswer", _pre_answer, [], aliases=("pre_answer",)),
        M("answered", _answered, []),
        M("mediaReady", _media_ready, []),
        M("ready", _ready, []),
        M("bridged", _bridged, []),
        M("hangup", _hangup, [S], required=0),
        M("hangupState", _hangup_state, []),
        M("hangupCause", _hangup_cause, []),
        M("getState", _get_state, []),
        M("get_uuid", _get_uuid, []),
        M("getVariable", _get_variable, [SS]),
        M("setVariable", _set_variable, [SS, SS]),
        M("execute", _execute, [S, S], required=1),
        M("streamFile", _stream_file, [SS, "i"], required=1),
        M("sleep", _sleep, args("i", "i"), required=1),
        M("say", _say, [S, S, S, S, S], required=4),
        M("sayPhrase", _say_phrase, [S, S, S], required=1),
        M("speak", _speak, [SS]),
        M("set_tts_params", _set_tts_params, [SS, SS]),
        M("set_tts_parms", _set_tts_parms, [SS, SS]),
        M("getDigits", _get_digits, [Arg("i"), SS, Arg("i"), Arg("i"), Arg("i")], required=3),
        M("read", _read, args("i", "i", S, "i", S, "i"), required=5),
        M("playAndGetDigits", _pagd,
          args("i", "i", "i", "i", SS, SS, SS, SS, SS, "i", SS), required=8),
        M("collectDigits", _collect_digits, args("i", "i"), required=1),
        M("recordFile", _record_file, args(SS, "i", "i", "i"), required=1),
        M("insertFile", _insert_file, args(S, S, "i")),
        M("transfer", _transfer, [SS, SS, SS], required=1),
        M("setAutoHangup", _set_auto_hangup, args("b")),
        M("setHangupHook", _set_hangup_hook, [SS, SS], required=1),
        M("setInputCallback", _set_input_callback, [SS, SS], required=1),
        M("unsetInputCallback", _unset_input_callback, []),
        M("flushDigits", _flush_digits, []),
        M("flushEvents", _flush_events, []),
        M("sendEvent", _send_event, [Arg("o:Event", "Event *")]),
        M("setEventData", _set_event_data, [Arg("o:Event", "Event *")]),
        M("getXMLCDR", _get_xml_cdr, []),
        M("waitForAnswer", _wait_for_answer, [Arg("o:Session", "CoreSession *")]),
        M("originate", _originate, args(Arg("o:Session", "CoreSession *"), SS, "i")),
        M("destroy", _destroy, [S], required=0),
        M("consoleLog", _console_log, [SS, SS]),
        M("consoleLog2", _console_log2, args(SS, SS, SS, "i", SS)),
        M("detectSpeech", _detect_speech, [SS, SS, SS, SS], required=1),
        M("playAndDetectSpeech", _play_and_detect_speech, [SS, SS, SS]),
        M("print", _print, [SS]),
        M("check_hangup_hook", lambda o: (o.check_hangup_hook(), None)[1], []),
        M("begin_allow_threads", _noop, []),
        M("setPrivate", _set_private, [SS, Arg("any")]),
        M("getPrivate", _get_private, [SS]),
        M("process_callback_result", _process_callback_result, [SS]),
        M("get_cb_args", _noop, []),
        M("run_dtmf_callback", lambda o, *a: 0, [Arg("any"), Arg("any")]),
        M("setDTMFCallback", _noop, [Arg("any"), SS]),
        M("setLUA", _noop, [Arg("any")]),
        M("end_allow_threads", _noop, []),
    ],
    getters=_GETTERS,
    lua_on_wrap="local u = F['Session.@reg'](o, p) if u then _G[u] = p end",
    signals=True,
    extra_funcs={"Session.@reg": _register},
), adopt=_adopt)


__all__ = ["LuaSession", "S_HUP"]
