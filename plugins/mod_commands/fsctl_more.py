"""The rest of ``fsctl`` (mod_commands.c ctl_function): the checks, DTMF durations,
api_expansion/verbose_events switches, the no-ops of a Python process (send_sighup,
calibrate_clock, reclaim_mem, sync_clock…), and ``shutdown elegant|asap|restart|cancel``."""

from __future__ import annotations

import threading
from typing import Any

from fsd.log import NOTICE, log
from fsd.numbers import is_digits

CTL_SYNTAX = ("[api_expansion [on|off]|recover|send_sighup|hupall|pause [inbound|outbound]|"
              "resume [inbound|outbound]|shutdown [cancel|elegant|asap|now|restart]|"
              "uuid_version [4|7]|sps|sps_peak_reset|sync_clock|sync_clock_when_idle|reclaim_mem|"
              "max_sessions|min_dtmf_duration [num]|max_dtmf_duration [num]|"
              "default_dtmf_duration [num]|min_idle_cpu|loglevel [level]|debug_level [level]|"
              "mdns_resolve [enable|disable]]")

_DTMF = {"min_dtmf_duration": ("min-dtmf-duration", 400, "min dtmf duration"),
         "max_dtmf_duration": ("max-dtmf-duration", 192000, "max dtmf duration"),
         "default_dtmf_duration": ("default-dtmf-duration", 2000, "default dtmf duration")}
_ONOFF = {"api_expansion": "api-expansion", "verbose_events": "verbose-channel-events",
          "threaded_system_exec": "threaded-system-exec"}


def _true(v: str | None) -> bool:
    return (v or "").strip().lower() in ("true", "on", "yes", "1", "enabled", "active", "allow")


def fsctl_more(sw: Any, words: list[str], stream: Any, request_shutdown: Any) -> bool:
    """Handle ``words`` (sub-command first); False when unknown."""
    sub = words[0].lower()
    arg = words[1] if len(words) > 1 else None
    settings = sw.settings
    if sub in ("flush_db_handles", "send_sighup", "calibrate_clock", "save_history",
               "reclaim_mem", "crash", "debug_pool"):
        stream.write("+OK\n")  # nothing to do in this process (crash is refused silently)
    elif sub == "recover":
        stream.write("+OK 0 session(s) recovered in total\n")
    elif sub in _ONOFF:
        key = _ONOFF[sub]
        if arg is not None:
            settings[key] = "true" if _true(arg) else "false"
        on = _true(settings.get(key, "true" if sub == "api_expansion" else "false"))
        if sub == "threaded_system_exec":
            stream.write(f"+OK threaded_system_exec is {'true' if on else 'false'} \n")
        else:
            stream.write(f"+OK {sub} is {'on' if on else 'off'} \n")
    elif sub == "pause_check":
        which = (arg or "").lower()
        state = {"inbound": sw.no_new_inbound, "outbound": sw.no_new_outbound}.get(
            which, sw.no_new_inbound and sw.no_new_outbound)
        stream.write("true" if state else "false")
    elif sub == "ready_check":
        stream.write("true" if sw.running else "false")
    elif sub == "shutdown_check":
        stream.write("true" if getattr(sw, "_shutdown_pending", False) or not sw.running else "false")
    elif sub in _DTMF:
        key, default, label = _DTMF[sub]
        if arg is not None and is_digits(arg.lstrip("-")):
            settings[key] = arg
        stream.write(f"+OK {label}: {sw.setting_int(key, default)}\n")
    elif sub == "min_idle_cpu":
        if arg is not None:
            try:
                settings["min-idle-cpu"] = str(float(arg))
            except ValueError:
                pass
        v = float(settings.get("min-idle-cpu") or 0)
        stream.write(f"+OK min idle cpu: {v:0.2f}%\n" if v > 0 else "+OK min idle cpu: DISABLED\n")
    elif sub == "debug_sql":
        sw._debug_sql = not getattr(sw, "_debug_sql", False)
        stream.write(f"+OK SQL DEBUG [{'on' if sw._debug_sql else 'off'}]\n")
    elif sub == "sps_peak_reset":
        if hasattr(sw, "sps_peak"):
            sw.sps_peak = 0
        stream.write("+OK max sessions per second counter reset\n")
    elif sub == "sync_clock":
        stream.write("+OK clock synchronized\n")
    elif sub == "sync_clock_when_idle":
        stream.write("+OK clock synchronized\n" if not sw.sessions else
                     "+OK clock will synchronize when there are no more calls\n")
    elif sub == "uuid_version":
        v = arg if arg in ("4", "7") else "4"
        stream.write(f"+OK set uuid version: {v}\n")
    elif sub == "mdns_resolve":
        stream.write("+OK\n")
    else:
        return False
    return True


def shutdown(sw: Any, words: list[str], stream: Any, request_shutdown: Any) -> None:
    """``fsctl shutdown [cancel|elegant|asap|now|restart]``: ``elegant``/``asap`` refuse new
    calls and stop once the last call has ended (``cancel`` withdraws that); ``restart``
    stops like ``now`` (the service manager restarts fsd: docs/compat.md)."""
    modes = [w.lower() for w in words[1:5]]
    if "cancel" in modes:
        sw._shutdown_pending = False
        sw.no_new_inbound = sw.no_new_outbound = False
        stream.write("+OK\n")
        return
    stream.write("+OK\n")
    if "elegant" in modes or "asap" in modes:
        sw._shutdown_pending = True
        sw.no_new_inbound = sw.no_new_outbound = True
        log(NOTICE, "Shutdown requested: waiting for the calls to end\n")

        def wait_then_stop() -> None:
            ev = threading.Event()
            while getattr(sw, "_shutdown_pending", False):
                if not sw.sessions:
                    request_shutdown(sw)
                    return
                ev.wait(0.2)

        threading.Thread(target=wait_then_stop, name="fsctl-shutdown", daemon=True).start()
        return
    threading.Timer(0.2, request_shutdown, args=(sw,)).start()
