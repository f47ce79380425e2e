"""``freeswitch.Session`` for Lua: the Lua adapter over
:class:`fsd.scripting.session.ScriptSession` (behaviour reference §4).

What is Lua's here: hangup hooks and input callbacks are named by global (looked up when
they run), the session a callback receives is the script's own proxy (the UUID global),
DTMF reaches a callback as a plain table, a hook's ``"exit"``/``"die"`` raises a Lua error
from the method (through the class's ``signals`` mechanism, see spec.py), and the argument
checks of the generated wrappers.  Everything else is the neutral class.
"""

from __future__ import annotations

from typing import Any

import lupa.lua53 as lua53

from fsd import causes
from fsd.scripting.session import S_HUP, ScriptSession, new_session

from . import register_class
from .event import LuaEvent
from .spec import Arg, ClassSpec, Method, args

SS_ = ScriptSession


class LuaSession(ScriptSession):
    hook_return_var = "lua_hangup_hook_return_val"
    hook_can_exit = True

    def can_call(self) -> bool:
        return self.ctx.lua is not None

    def resolve(self, ref: Any) -> Any:
        fn = self.ctx.lua.globals()[ref]
        return fn if lua53.lua_type(fn) == "function" else None

    def script_self(self) -> Any:
        sess = self.ctx.lua.globals()[self.uuid] if self.uuid else None
        return sess if sess is not None else self.proxy

    def script_value(self, ref: Any) -> Any:
        return self.ctx.lua.globals()[ref]

    def wrap_dtmf(self, dtmf: Any) -> Any:
        return self.ctx.table({"digit": dtmf.digit, "duration": int(dtmf.duration)})

    def wrap_event(self, event: Any) -> Any:
        return self.ctx.export.wrap("Event", LuaEvent(self.ctx, event, False))


def _new(ctx: Any, dial: str | None = None, aleg: LuaSession | None = None) -> ScriptSession:
    return new_session(ctx, dial, aleg, LuaSession)


def _register(o: LuaSession, proxy: Any) -> str | None:
    """Called when a proxy wraps ``o``: remember it; the UUID becomes a Lua global."""
    if o.proxy is None:
        o.proxy = proxy
    return o.uuid


def _noop(o: LuaSession, *a: Any) -> None:
    return None


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
    if isinstance(core, ScriptSession):
        return core
    return LuaSession(ctx, core)


S = Arg("s", "char const *")
SS = Arg("s", "char *")
M = Method
register_class(ClassSpec(
    "Session",
    ctor=M("Session", _new, [S, Arg("o:Session", "CoreSession *")], required=0),
    methods=[
        M("answer", SS_.answer, []),
        M("preAnswer", SS_.preAnswer, [], aliases=("pre_answer",)),
        M("answered", SS_.answered, []),
        M("mediaReady", SS_.mediaReady, []),
        M("ready", SS_.ready, []),
        M("bridged", SS_.bridged, []),
        M("hangup", SS_.hangup, [S], required=0),
        M("hangupState", SS_.hangupState, []),
        M("hangupCause", SS_.hangupCause, []),
        M("getState", SS_.getState, []),
        M("get_uuid", SS_.get_uuid, []),
        M("getVariable", SS_.getVariable, [SS]),
        M("setVariable", SS_.setVariable, [SS, SS]),
        M("execute", SS_.execute, [S, S], required=1),
        M("streamFile", SS_.streamFile, [SS, "i"], required=1),
        M("sleep", SS_.sleep, args("i", "i"), required=1),
        M("say", SS_.say, [S, S, S, S, S], required=4),
        M("sayPhrase", SS_.sayPhrase, [S, S, S], required=1),
        M("speak", SS_.speak, [SS]),
        M("set_tts_params", SS_.set_tts_params, [SS, SS]),
        M("set_tts_parms", SS_.set_tts_parms, [SS, SS]),
        M("getDigits", SS_.getDigits, [Arg("i"), SS, Arg("i"), Arg("i"), Arg("i")], required=3),
        M("read", SS_.read, args("i", "i", S, "i", S, "i"), required=5),
        M("playAndGetDigits", SS_.playAndGetDigits,
          args("i", "i", "i", "i", SS, SS, SS, SS, SS, "i", SS), required=8),
        M("collectDigits", SS_.collectDigits, args("i", "i"), required=1),
        M("recordFile", SS_.recordFile, args(SS, "i", "i", "i"), required=1),
        M("insertFile", SS_.insertFile, args(S, S, "i")),
        M("transfer", SS_.transfer, [SS, SS, SS], required=1),
        M("setAutoHangup", SS_.setAutoHangup, args("b")),
        M("setHangupHook", SS_.setHangupHook, [SS, SS], required=1),
        M("setInputCallback", SS_.setInputCallback, [SS, SS], required=1),
        M("unsetInputCallback", SS_.unsetInputCallback, []),
        M("flushDigits", SS_.flushDigits, []),
        M("flushEvents", SS_.flushEvents, []),
        M("sendEvent", SS_.sendEvent, [Arg("o:Event", "Event *")]),
        M("setEventData", SS_.setEventData, [Arg("o:Event", "Event *")]),
        M("getXMLCDR", SS_.getXMLCDR, []),
        M("waitForAnswer", SS_.waitForAnswer, [Arg("o:Session", "CoreSession *")]),
        M("originate", SS_.originate, args(Arg("o:Session", "CoreSession *"), SS, "i")),
        M("destroy", SS_.destroy_script, [S], required=0),
        M("consoleLog", SS_.consoleLog, [SS, SS]),
        M("consoleLog2", SS_.consoleLog2, args(SS, SS, SS, "i", SS)),
        M("detectSpeech", SS_.detectSpeech, [SS, SS, SS, SS], required=1),
        M("playAndDetectSpeech", SS_.playAndDetectSpeech, [SS, SS, SS]),
        M("print", SS_.print_text, [SS]),
        M("check_hangup_hook", lambda o: (o.check_hangup_hook(), None)[1], []),
        M("begin_allow_threads", _noop, []),
        M("setPrivate", SS_.setPrivate, [SS, Arg("any")]),
        M("getPrivate", SS_.getPrivate, [SS]),
        M("process_callback_result", SS_.process_callback_result, [SS]),
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
