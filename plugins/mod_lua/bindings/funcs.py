"""``freeswitch.*`` module functions for Lua (behaviour reference §3); the functions are
:mod:`fsd.scripting.funcs`."""

from __future__ import annotations

from typing import Any

from fsd.scripting.funcs import (
    console_clean_log,
    console_log,
    console_log2,
    get_global_variable,
    msleep,
    running,
    set_global_variable,
)

from . import register_constant, register_function
from .spec import Arg, Method, args

register_function(Method("consoleLog", console_log, args(Arg("s", "char *"), Arg("s", "char *")),
                         aliases=("console_log",)))
register_function(Method("consoleLog2", console_log2,
                         args(Arg("s", "char *"), Arg("s", "char *"), Arg("s", "char *"), "i",
                              Arg("s", "char *")),
                         aliases=("console_log2",)))
register_function(Method("consoleCleanLog", console_clean_log, args(Arg("s", "char *")),
                         aliases=("console_clean_log",)))
register_function(Method("getGlobalVariable", get_global_variable, args(Arg("s", "char *"))))
register_function(Method("setGlobalVariable", set_global_variable,
                         args(Arg("s", "char *"), Arg("s", "char *"))))
register_function(Method("running", running, []))
register_function(Method("msleep", msleep, args(Arg("i", "unsigned int"))))



def _trampoline(ctx: Any, *args: Any) -> None:
    """FreeSWITCH exposes its C hangup/DTMF trampolines as ``freeswitch.hanguphook`` and
    ``freeswitch.dtmf_callback``; they are of no use from Lua.  Present (as no-ops) so
    scripts probing for them find them."""
    return None


register_function(Method("hanguphook", _trampoline, args("any"), required=0))
register_function(Method("dtmf_callback", _trampoline, args("any", "any", "any", "any", "any"),
                         required=0))

# Session flag bits (switch_cpp.h)
register_constant("S_HUP", 1)
register_constant("S_FREE", 2)
register_constant("S_RDLOCK", 4)
