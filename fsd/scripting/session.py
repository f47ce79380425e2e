"""``Session`` (behaviour reference §4) over :class:`fsd.session.Session`, for any language.

One :class:`ScriptSession` per script object.  It holds the core session (or none: an
unallocated object, whose methods log "session is not initalized" and return the
documented fallback), the auto-hangup flag, the stored cause, and the references of the
hangup hook and input callback (a global's name in Lua, a callable in Python).

The method names are FreeSWITCH's (``streamFile``, ``getDigits``…); a language adapter
subclasses this class and says, through a few small methods, how a callback reference
becomes something it can call (:meth:`ScriptSession.resolve`), what the script sees as
the session and the extra argument, and how DTMF and events are handed to callbacks.

Hangup hook (§4.4): a hangup or transfer of the channel only *marks* the hook pending
(from whatever thread does it); the hook runs in the script's thread at the next
``ready()`` or at the entry/exit of a blocking method, once per object.  In Lua its result
``"exit"``/``"die"`` raises an error with that string from the method
(``hook_can_exit``).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from fsd import causes
from fsd.log import DEBUG, ERR, log
from fsd.scripting import media
from fsd.scripting.context import ScriptKilled
from fsd.scripting.event import ScriptEvent
from fsd.scripting.funcs import console_log, console_log2

S_HUP = 1
NOT_INIT = "session is not initalized\n"


def script_string(value: Any) -> str | None:
    """A callback's result as text (lua_tostring's rule): strings and numbers convert,
    everything else is "no string"."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


class ScriptSession:
    def __init__(self, ctx: Any, session: Any = None, *, auto_hangup: bool = False,
                 cause: str = "NONE") -> None:
        self.ctx = ctx
        self.session = session
        self.allocated = session is not None
        self.uuid: str | None = session.uuid if session is not None else None
        self.flags = S_HUP if auto_hangup else 0
        self.cause = cause
        self.hook_state = 0
        self.hangup_func_str: Any = None  # a reference resolve() understands
        self.hangup_func_arg: Any = None
        self.cb_function: Any = None
        self.cb_arg: Any = None
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
        its loop runs.  Only the host's ``kill_after_hangup`` (lua.conf.xml
        ``kill-after-hangup-sec``, fsd, off by default) stops a script that still runs that
        long after its channel hung up."""
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

    # -- what an adapter says about its language -------------------------------------
    #: channel variable that receives the hook's result (Lua: lua_hangup_hook_return_val)
    hook_return_var: str | None = None
    #: a hook result "exit"/"die" stops the script (Lua)
    hook_can_exit = False

    def can_call(self) -> bool:
        """Can callbacks run now (the script's interpreter is still there)?"""
        return True

    def resolve(self, ref: Any) -> Any:
        """The callable a hook/callback reference names, or None when it is not one."""
        return ref if callable(ref) else None

    def script_self(self) -> Any:
        """What the script sees as this session (first callback argument)."""
        return self

    def script_value(self, ref: Any) -> Any:
        """The extra argument given to setHangupHook/setInputCallback, as passed on."""
        return ref

    def wrap_dtmf(self, dtmf: Any) -> Any:
        return dtmf

    def wrap_event(self, event: Any) -> Any:
        return ScriptEvent(self.ctx, event, False)

    # -- hangup hook -----------------------------------------------------------------
    def check_hangup_hook(self) -> bool:
        """Run a pending hangup hook here (the script's thread).  True when it asked the
        script to stop ("exit"/"die")."""
        what = self._hook_pending
        if what is None:
            # the channel may be hung up before its hangup listeners ran (they run in the
            # hanging-up thread after it woke this one): the hook must not wait for them
            s = self.session
            if (not self._listening or self._hook_mark or s is None
                    or s.hangup_cause is None):
                return False
            what = "hangup"
            self.hook_state = 10  # CS_HANGUP
        if self._hook_mark or not self.hangup_func_str or not self.can_call():
            return False
        self._hook_mark = True
        self._hook_pending = None
        fn = self.resolve(self.hangup_func_str)
        if fn is None:
            log(ERR, f"Failed to execute hangup hook {self.hangup_func_str}: not a function\n",
                uuid=self.uuid or "")
            return False
        call_args = [self.script_self(), what]
        if self.hangup_func_arg is not None:
            call_args.append(self.script_value(self.hangup_func_arg))
        ok, res = self.ctx.call(fn, *call_args)
        if not ok:
            log(ERR, f"{res}\n", uuid=self.uuid or "")
            res = None
        text = script_string(res)
        if text is not None and self.hook_return_var and self.session is not None:
            self.session.set_variable(self.hook_return_var, text)
        if self.hook_can_exit and text is not None and text.lower() in ("exit", "die"):
            self.ctx.raise_in_script(text)
            return True
        return False

    # -- input callback ----------------------------------------------------------------
    def on_input(self) -> Any:
        """The media layer's ``on_input(kind, payload)`` for the current callback, or None."""
        if not self.cb_function or not self.can_call():
            return None
        ctx = self.ctx

        def cb(kind: str, payload: Any) -> str | None:
            fn = self.resolve(self.cb_function) if self.cb_function else None
            if fn is None:
                log(ERR, f"input callback {self.cb_function} is not a function\n",
                    uuid=self.uuid or "")
                return "SCRIPT_ERROR"
            obj = self.wrap_dtmf(payload) if kind == "dtmf" else self.wrap_event(payload)
            call_args = [self.script_self(), kind, obj]
            if self.cb_arg is not None:
                call_args.append(self.script_value(self.cb_arg))
            ok, res = ctx.call(fn, *call_args)
            if not ok:
                log(ERR, f"{res}\n", uuid=self.uuid or "")
                return "SCRIPT_ERROR"
            return script_string(res)

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
        # drop the adapter's proxy so the script's interpreter state is not kept alive
        self.proxy = None

    close = destroy  # the run closes every Session object at script end (§4.3)

    def answer(o: ScriptSession) -> int:
        return _answer_with(o, "answer")

    def preAnswer(o: ScriptSession) -> int:
        return _answer_with(o, "pre_answer")

    def answered(o: ScriptSession) -> bool:
        if _inv(o):
            return False
        return bool(o.session.answered())

    def mediaReady(o: ScriptSession) -> bool:
        if _inv(o):
            return False
        return bool(o.session.media_ready())

    def ready(o: ScriptSession) -> bool:
        if o.session is None:
            return False
        if o.ctx.killed():
            raise ScriptKilled(o.ctx.kill_reason)
        o.check_hangup_hook()
        return bool(o.session.ready())

    def bridged(o: ScriptSession) -> bool:
        if _inv(o):
            return False
        return bool(o.session.bridged())

    def hangup(o: ScriptSession, cause: str | None = None) -> None:
        if _inv(o):
            return
        if not _enter(o):
            return
        o.session.hangup(causes.str2cause(cause or "normal_clearing"))
        _leave(o)

    def hangupState(o: ScriptSession) -> None:
        if _inv(o):
            return

    def hangupCause(o: ScriptSession) -> str:
        return o.cause

    def getState(o: ScriptSession) -> str:
        if o.session is None:
            log(ERR, NOT_INIT, uuid=o.ctx.uuid)
            return "ERROR"
        return o.session.state

    def get_uuid(o: ScriptSession) -> str:
        return o.uuid if o.uuid and o.allocated else "uninitialized"

    def getVariable(o: ScriptSession, name: str | None) -> str | None:
        if _inv(o):
            return ""
        return o.session.get_variable(name) if name else None

    def setVariable(o: ScriptSession, name: str | None, value: str | None) -> None:
        if _inv(o):
            return
        if name:
            o.session.set_variable(name, value)

    def execute(o: ScriptSession, app: str | None, data: str | None = None) -> None:
        if _inv(o):
            return
        if not _enter(o):
            return
        if app:
            o.session.execute(app, data or "")
        _leave(o)

    def streamFile(o: ScriptSession, file: str | None, start: int | None = None) -> int:
        if _inv(o):
            return 0
        if not _enter(o):
            return 0
        o.session.clear_break()
        ok = bool(file) and media.stream_file(o.session, file, _i(start), o.on_input(), o.ctx.killed)
        _leave(o)
        return 1 if ok else 0

    def sleep(o: ScriptSession, ms: int, sync: int | None = None) -> int:
        if _inv(o):
            return 0
        if not _enter(o):
            return 0
        o.session.clear_break()
        ok = media.sleep(o.session, ms, o.on_input(), o.ctx.killed)
        _leave(o)
        return 1 if ok else 0

    def say(o: ScriptSession, text: str | None, lang: str | None, kind: str | None,
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

    def sayPhrase(o: ScriptSession, name: str | None, data: str | None = None,
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

    def speak(o: ScriptSession, text: str | None) -> int:
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

    def set_tts_params(o: ScriptSession, engine: str | None, voice: str | None) -> None:
        if _inv(o):
            return
        o.tts_name, o.voice_name = engine, voice

    def set_tts_parms(o: ScriptSession, engine: str | None, voice: str | None) -> None:
        log(ERR, "set_tts_parms is deprecated. Use set_tts_params.\n", uuid=o.uuid or "")
        ScriptSession.set_tts_params(o, engine, voice)

    def getDigits(o: ScriptSession, maxd: int, terms: str | None, timeout: int,
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

    def read(o: ScriptSession, mn: int, mx: int, prompt: str | None, timeout: int,
              terms: str | None, digit_timeout: int | None = None) -> str:
        if _inv(o):
            return ""
        if not _enter(o):
            return ""
        res = media.read(o.session, mn, mx, prompt or "", timeout, terms or "", _i(digit_timeout),
                         o.ctx.killed)
        _leave(o)
        return res

    def playAndGetDigits(o: ScriptSession, mn: int, mx: int, tries: int, timeout: int, terms: str | None,
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

    def collectDigits(o: ScriptSession, a: int, b: int | None = None) -> int:
        if _inv(o):
            return -1
        digit_timeout, abs_timeout = (0, a) if b is None else (a, b)
        if not _enter(o):
            return 0
        media.collect_digits(o.session, digit_timeout, abs_timeout, o.on_input(), o.ctx.killed)
        _leave(o)
        return 0

    def recordFile(o: ScriptSession, path: str | None, max_secs: int | None = None,
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

    def insertFile(o: ScriptSession, orig: str | None, ins: str | None, pos: int) -> int:
        if _inv(o):
            return -1
        if not orig or not ins:
            return 0
        return 1 if media.insert_file(o.session, orig, ins, pos) else 0

    def transfer(o: ScriptSession, ext: str | None, dialplan: str | None = None,
                  context: str | None = None) -> int:
        if _inv(o):
            return -1
        if not _enter(o):
            return 0
        ok = o.session.transfer(ext or "", dialplan or None, context or None)
        _leave(o)
        return 1 if ok else 0

    def setAutoHangup(o: ScriptSession, val: bool) -> int:
        if _inv(o):
            return -1
        o.flags = (o.flags | S_HUP) if val else (o.flags & ~S_HUP)
        return 0

    def setHangupHook(o: ScriptSession, func: str | None, arg: str | None = None) -> None:
        if _inv(o):
            return
        o.hangup_func_str = func or None
        o.hangup_func_arg = arg or None
        if func:
            o.listen()
            s = o.session
            if s.hangup_cause is not None and not o._hook_mark:
                o._hook_pending = "hangup"

    def setInputCallback(o: ScriptSession, func: str | None, arg: str | None = None) -> None:
        if _inv(o):
            return
        o.cb_function = func or None
        o.cb_arg = arg or None

    def unsetInputCallback(o: ScriptSession) -> None:
        if _inv(o):
            return
        o.cb_function = o.cb_arg = None

    def flushDigits(o: ScriptSession) -> int:
        if _inv(o):
            return -1
        o.session.flush_dtmf()
        return 0

    def flushEvents(o: ScriptSession) -> int:
        if _inv(o):
            return -1
        o.session.flush_events()
        return 0

    def sendEvent(o: ScriptSession, ev: ScriptEvent | None) -> None:
        if _inv(o):
            return
        if ev is not None and ev.ev is not None:
            o.session.queue_event(ev.ev.copy())

    def setEventData(o: ScriptSession, ev: ScriptEvent | None) -> None:
        if _inv(o):
            return
        if ev is not None and ev.ev is not None:
            o.session.event_data(ev.ev)

    def getXMLCDR(o: ScriptSession) -> str:
        if _inv(o):
            return ""
        from xml.sax.saxutils import escape

        s = o.session
        with s.lock:
            items = list(s.variables.items())
        body = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in items if k.replace("_", "").isalnum())
        return (f'<?xml version="1.0"?>\n<cdr core-uuid="{s.switch.core_uuid}">'
                f"<variables>{body}</variables></cdr>")

    def waitForAnswer(o: ScriptSession, other: ScriptSession | None) -> None:
        if _inv(o):
            return
        if not _enter(o):
            return
        s = o.session
        while s.up() and not s.answered() and not o.ctx.killed():
            s.wait_for(s.answered, 0.1)
        _leave(o)

    def originate(o: ScriptSession, aleg: ScriptSession | None, dest: str | None, timeout: int) -> int:
        if not dest:
            log(ERR, "Missing destination.\n", uuid=o.ctx.uuid)
            return 0
        if o.session is not None:
            log(ERR, "Session already allocated\n", uuid=o.ctx.uuid)
            return 1
        ok = _originate_into(o, dest, aleg.session if aleg is not None else None, timeout or 60)
        return 0 if ok else 1

    def destroy_script(o: ScriptSession, err: str | None = None) -> None:
        o.destroy()
        if err:
            o.ctx.raise_in_script(err)

    def consoleLog(o: ScriptSession, level: str | None, msg: str | None) -> None:
        console_log(o.ctx, level, msg)

    def consoleLog2(o: ScriptSession, level: str | None, file: str | None, func: str | None,
                      line: int, msg: str | None) -> None:
        console_log2(o.ctx, level, file, func, line, msg)

    def detectSpeech(o: ScriptSession, cmd: str | None, a1: str | None = None,
                       a2: str | None = None, a3: str | None = None) -> None:
        if _inv(o):
            return
        log(ERR, "detectSpeech: no speech recognition engine is available in fsd\n", uuid=o.uuid or "")

    def playAndDetectSpeech(o: ScriptSession, file: str | None, engine: str | None,
                                grammar: str | None) -> str | None:
        if _inv(o):
            return None
        log(ERR, "playAndDetectSpeech: no speech recognition engine is available in fsd\n",
            uuid=o.uuid or "")
        o.streamFile(file)
        return None

    def print_text(o: ScriptSession, text: str | None) -> int:
        if _inv(o):
            return -1
        log(ERR, "print: real-time text is not supported in fsd\n", uuid=o.uuid or "")
        return 0

    def setPrivate(o: ScriptSession, key: str | None, value: Any = None) -> None:
        # FreeSWITCH stores a C pointer; here any Lua value, per object
        if key:
            o.private[key] = value

    def getPrivate(o: ScriptSession, key: str | None) -> Any:
        return o.private.get(key) if key else None

    def process_callback_result(o: ScriptSession, result: str | None) -> int:
        """0 (SUCCESS) when the result lets the operation go on, 1 (FALSE) when it stops."""
        return 0 if media.continues(result) else 1


# -- helpers ---------------------------------------------------------------------------
def _inv(o: ScriptSession) -> bool:
    """Not allocated: log as FreeSWITCH and tell the caller to return its fallback."""
    if o.session is None:
        log(ERR, NOT_INIT, uuid=o.ctx.uuid)
        return True
    return False


def _enter(o: ScriptSession) -> bool:
    """Entry of a blocking method: honour a kill, run a pending hook.  False means the
    hook said "exit": the method returns at once and the error is raised."""
    if o.ctx.killed():
        raise ScriptKilled(o.ctx.kill_reason)
    return not o.check_hangup_hook()


def _leave(o: ScriptSession) -> None:
    if o.ctx.killed():
        raise ScriptKilled(o.ctx.kill_reason)
    o.check_hangup_hook()


def _i(value: int | None, default: int = 0) -> int:
    return default if value is None else int(value)


# -- construction ----------------------------------------------------------------------
def new_session(ctx: Any, dial: str | None = None, aleg: ScriptSession | None = None,
                cls: type[ScriptSession] = ScriptSession) -> ScriptSession:
    """The ``Session([uuid_or_dial_string [, a_leg]])`` constructor: an empty object, the
    existing channel with that UUID, or a new outbound leg (auto-hangup on)."""
    return init_session(cls(ctx), dial, aleg)


def init_session(o: ScriptSession, dial: str | None, aleg: ScriptSession | None) -> ScriptSession:
    """Fill a fresh (unallocated) object as the constructor's arguments say."""
    ctx = o.ctx
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


def _originate_into(o: ScriptSession, dial: str, originator: Any, timeout: int) -> bool:
    from fsd.originate import originate

    sw = o.ctx.host.switch
    res = originate(sw, dial, originator, timeout)
    if res.session is None:
        o.cause = res.cause if res.cause not in ("SUCCESS", "NONE") else "ORIGINATOR_CANCEL"
        return False
    leg = res.session
    leg.set_state("CS_SOFT_EXECUTE")
    deadline = time.monotonic() + 5
    # entering a state notifies the leg's condition: no polling
    while (leg.up() and not leg.transferring and leg.running_state != "CS_SOFT_EXECUTE"
           and time.monotonic() < deadline):
        if not leg.wait_for(lambda: leg.running_state == "CS_SOFT_EXECUTE", deadline - time.monotonic()):
            leg.clear_break()
    o.attach(leg, True, "SUCCESS")
    return True


def _answer_with(o: ScriptSession, how: str) -> int:
    """answer()/preAnswer(): -1 unallocated, 1 for outbound legs (a no-op), 0 once hung up."""
    if _inv(o):
        return -1
    s = o.session
    if s.direction == "outbound":
        return 1
    if s.hangup_cause is not None:
        return 0
    return 1 if getattr(s, how)() else 0


def _noop(o: ScriptSession, *a: Any) -> None:
    return None



__all__ = ["NOT_INIT", "S_HUP", "ScriptSession", "init_session", "new_session", "script_string"]
