"""mod_commands: the API commands of the core (status, show, eval, fsctl…) and call control.

Everything this module offers is declared in ``fsd_module_load`` below."""

from __future__ import annotations

from fsd_modules.mod_commands.core_apis import CoreApis
from fsd_modules.mod_commands.state_counts import (
    StateCounts,
    fsd_channel_state,
    fsd_session_destroyed,
    fsd_status_lines,
)

import fsd
from fsd.module import ModuleInterface

__all__ = ["fsd_channel_state", "fsd_module_load", "fsd_session_destroyed", "fsd_status_lines"]


@fsd.hookimpl
def fsd_module_load(module: ModuleInterface) -> None:
    module.state["state_counts"] = StateCounts()
    c = CoreApis(module.switch)
    add = module.add_api
    add("version", "Version", "[short]", c.version)
    add("status", "status", "", c.status)
    add("uptime", "Show uptime", "[us|ms|s|m|h|d]", c.uptime)
    add("hostname", "Return the system hostname", "", c.hostname)
    add("log", "Log", "<level> <message>", c.log)
    add("show", "Show various reports", "codec|endpoint|application|api|dialplan|file|timer|calls "
        "[count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|"
        "detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|"
        "interface_types|tasks|limits|status", c.show)
    add("help", "Show help for all the api commands", "", c.help)
    add("global_getvar", "Get global var", "<var>", c.global_getvar)
    add("global_setvar", "Set global var", "<var>=<value> [=<value2>]", c.global_setvar)
    add("eval", "eval (noop)", "[uuid:<uuid> ]<expression>", c.eval)
    add("expand", "Execute an api with variable expansion", "[uuid:<uuid> ]<cmd> <args>", c.expand)
    add("echo", "Echo", "<data>", c.echo)
    add("reloadxml", "Reload XML", "", c.reloadxml)
    add("load", "Load Module", "<mod_name>", c.load)
    add("unload", "Unload module", "[-f] <mod_name>", c.unload)
    add("reload", "Reload module", "[-f] <mod_name>", c.reload)
    add("module_exists", "Check if module exists", "<module>", c.module_exists)
    add("fsctl", "FS control messages", "[loglevel [level]|max_sessions [n]|sps [n]|shutdown]", c.fsctl)
    add("console", "Console", "loglevel [level]|colorize [on|off|toggle]", c.console)
    add("bgapi", "Execute an api command in a thread", "<command>[ <arg>]", c.bgapi)
    add("getenv", "getenv", "<name>", c.getenv)
    from fsd_modules.mod_commands import (
        acl_apis,
        directory_apis,
        limit_apis,
        sched_apis,
        util_apis,
        uuid_apis,
    )

    limit_apis.declare(module)
    util_apis.declare(module)
    util_apis.declare_net(module)
    directory_apis.declare(module)
    sched_apis.declare(module)
    uuid_apis.declare(module)
    acl_apis.declare(module)
    try:
        from fsd_modules.mod_commands import call_control
    except ImportError:  # the call model is not installed in this build
        return
    call_control.declare(module)
