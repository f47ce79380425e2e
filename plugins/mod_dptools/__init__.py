"""mod_dptools: the dialplan applications, the ``user/`` endpoint and the ``inline``
dialplan.

Everything this module offers is declared in ``fsd_module_load``; the media applications
(playback, record, read, …) live in ``media_apps`` and are declared there too.  Its hooks
(the ``inline`` dialplan, variables on outbound legs) are in ``call_hooks``."""

from __future__ import annotations

from fsd_modules.mod_dptools import apps
from fsd_modules.mod_dptools.call_hooks import fsd_dialplan_hunt, fsd_outgoing_channel
from fsd_modules.mod_dptools.user_endpoint import user_outgoing

import fsd
from fsd.module import APP_ROUTING_EXEC, APP_ZOMBIE_EXEC, ModuleInterface

__all__ = ["fsd_dialplan_hunt", "fsd_module_load", "fsd_outgoing_channel"]

_INLINE = APP_ROUTING_EXEC


@fsd.hookimpl
def fsd_module_load(module: ModuleInterface) -> None:
    add = module.add_application
    add("answer", apps.answer, "Answer the call")
    add("pre_answer", apps.pre_answer, "Pre-Answer the call")
    add("ring_ready", apps.ring_ready, "Indicate Ring_Ready")
    add("hangup", apps.hangup, "Hangup the call", "[<cause>]")
    add("set", apps.set_, "Set a channel variable", "<varname>=<value>", _INLINE | APP_ZOMBIE_EXEC)
    add("unset", apps.unset, "Unset a channel variable", "<varname>", _INLINE | APP_ZOMBIE_EXEC)
    add("export", apps.export, "Export a channel variable across a bridge", "<varname>=<value>", _INLINE | APP_ZOMBIE_EXEC)
    add("multiset", apps.multiset, "Set many channel variables", "[^^]<delim><varname>=<value> <var2>=<val2>", _INLINE | APP_ZOMBIE_EXEC)
    add("set_global", apps.set_global, "Set a global variable", "<varname>=<value>", _INLINE | APP_ZOMBIE_EXEC)
    add("log", apps.log_app, "Logs to the logger", "<log_level> <log_string>", _INLINE | APP_ZOMBIE_EXEC)
    add("info", apps.info, "Display Call Info", "", _INLINE | APP_ZOMBIE_EXEC)
    add("sleep", apps.sleep, "Pause a channel", "<pausemilliseconds>")
    add("transfer", apps.transfer, "Transfer a channel", "<exten> [<dialplan> <context>]")
    add("bridge", apps.bridge, "Bridge Audio", "<channel_url>")
    add("park", apps.park, "Park")
    add("event", apps.event, "Fire an event", "<var1>=<val1>,<var2>=<val2>", _INLINE | APP_ZOMBIE_EXEC)
    add("respond", apps.respond, "Send session respond", "<respond_data>")
    add("sched_hangup", apps.sched_hangup, "Schedule a hangup in the future", "[+]<time> [<cause>]", _INLINE)
    add("sched_transfer", apps.sched_transfer, "Schedule a transfer in the future", "[+]<time> <extension> <dialplan> <context>", _INLINE)
    add("eval", apps.eval_app, "Do Nothing", "", _INLINE | APP_ZOMBIE_EXEC)
    add("send_dtmf", apps.send_dtmf, "Send dtmf to be sent", "<dtmf_data>")
    add("flush_dtmf", apps.flush_dtmf, "flush any queued dtmf", "")
    add("wait_for_answer", apps.wait_for_answer, "Wait for call to be answered", "")
    add("noop", apps.noop, "Do nothing", "", _INLINE | APP_ZOMBIE_EXEC)
    module.add_endpoint("user", user_outgoing)
    from fsd_modules.mod_dptools import (
        bridge_apps,
        displace,
        dptools_apis,
        dtmf_bind,
        ivr_app,
        limit_apps,
        media_detect,
    )

    limit_apps.declare(module)
    apps.declare_more(module)
    apps.declare_small(module)
    media_detect.declare(module)
    ivr_app.declare(module)
    bridge_apps.declare(module)
    dtmf_bind.declare(module)
    displace.declare(module)
    dptools_apis.declare(module)
    try:
        from fsd_modules.mod_dptools import media_apps
    except ImportError:
        return
    media_apps.declare(module)
