"""The core API commands: version, status, show, globals, eval/expand, modules, fsctl.

Output texts follow FreeSWITCH's mod_commands, because ESL clients and dashboards parse
them (behaviour reference §14.3 and the issue's list)."""

from __future__ import annotations

import html
import os
import resource
import socket
from typing import TYPE_CHECKING, Any

from fsd_modules.mod_commands.show import html_start, http_format, parse_format, render, render_html

from fsd import __version__
from fsd.api import Stream, split_command
from fsd.log import DEBUG, level_from_str, level_name, logger
from fsd.module import ModuleLoadError
from fsd.numbers import is_digits
from fsd.switch import VERSION_STRING

if TYPE_CHECKING:  # pragma: no cover
    from fsd.switch import Switch


class CoreApis:
    """Holds the switch for the API functions; each method is one API command."""

    def __init__(self, switch: Switch) -> None:
        self.switch = switch

    # -- identity -----------------------------------------------------------------
    def version(self, args: str, session: Any, stream: Stream) -> None:
        if args.strip().lower() == "short":
            stream.write(VERSION_STRING.split("-")[0] + "\n")
        else:
            stream.write(f"FreeSWITCH Version {VERSION_STRING} (fsd {__version__}; 64bit)\n")

    def log(self, args: str, session: Any, stream: Stream) -> None:
        """``log <level> <message>``: write the message to the log at that level (an
        unknown level name logs at debug), as mod_commands' log API."""
        text = args.strip()
        if not text:
            stream.write("-ERR Usage: log <level> <message>\n")
            return
        level_s, _, message = text.partition(" ")
        from fsd.log import log as _log

        _log(level_from_str(level_s, DEBUG), message + "\n", file="mod_commands.c",
             func="log_function", line=0)
        stream.write("+OK\n")

    def hostname(self, args: str, session: Any, stream: Stream) -> None:
        stream.write(socket.gethostname())

    def uptime(self, args: str, session: Any, stream: Stream) -> None:
        secs = self.switch.uptime_seconds()
        unit = args.strip().lower() or "s"
        div = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}.get(unit, 1)
        stream.write(str(int(secs / div)))

    def status(self, args: str, session: Any, stream: Stream) -> None:
        sw = self.switch
        max_sessions = sw.setting_int("max-sessions", 1000)
        sps_max = sw.setting_int("sessions-per-second", 30)
        state = "ready" if sw.running else "not ready"
        stack = resource.getrlimit(resource.RLIMIT_STACK)[0]
        stack_k = "unlimited" if stack == resource.RLIM_INFINITY else f"{stack // 1024}K"
        lines = [
            f"UP {sw.uptime_text()}",
            f"FreeSWITCH (Version {VERSION_STRING} 64bit) is {state}",
            f"{sw.session_count_total} session(s) since startup",
            f"{len(sw.sessions)} session(s) - peak {sw.session_peak}, last 5min {sw.session_peak_5min} ",
            f"{sw.current_sps()} session(s) per Sec out of max {sps_max}, peak {sw.sps_peak}, "
            f"last 5min {sw.sps_peak_5min} ",
            f"{max_sessions} session(s) max",
            f"min idle cpu 0.00/{_idle_cpu():.2f}",
            f"Current Stack Size/Max 240K/{stack_k}",
        ]
        drops = dict(getattr(sw, "session_queue_drops", {}) or {})
        if drops:  # fsd's own line, only once a per-session queue has overflowed
            lines.append("session queue drops: " + " ".join(f"{k}={v}" for k, v in sorted(drops.items())))
        for extra in sw.modules.broadcast("fsd_status_lines", switch=sw):
            lines.extend(extra or [])
        web, api = http_format(stream)
        if web or api:  # over HTTP: FreeSWITCH's HTML page, on /api/ as well
            html_start(stream, api, "FreeSWITCH Status")
            stream.write("<br>\n".join(html.escape(line, quote=False) for line in lines) + "\n")
            return
        stream.write("\n".join(lines) + "\n")

    # -- show -----------------------------------------------------------------------
    def show(self, args: str, session: Any, stream: Stream) -> bool | None:
        words, fmt, delim = parse_format(args.split())
        what = words[0].lower() if words else ""
        sw = self.switch
        if what in ("modules", "module"):
            cols = ["type", "name", "ikey", "filename"]
            rows = []
            for mname, mi in sw.modules.loaded.items():
                for kind, names in (("api", mi.apis), ("application", mi.applications),
                                    ("endpoint", mi.endpoints), ("dialplan", mi.dialplans),
                                    ("say", mi.says), ("file", mi.file_formats)):
                    rows += [(kind, n, mname, mname) for n in names]
                if not any((mi.apis, mi.applications, mi.endpoints, mi.dialplans, mi.says)):
                    rows.append(("generic", mname, mname, mname))
        elif what == "api":
            cols = ["name", "description", "syntax", "ikey"]
            rows = [(a.name, a.description, a.syntax, a.module) for a in sorted(sw.apis.values(), key=lambda a: a.name)]
        elif what in ("application", "applications"):
            cols = ["name", "description", "syntax", "ikey"]
            rows = [(a.name, a.short_description, a.syntax, a.module)
                    for a in sorted(sw.applications.values(), key=lambda a: a.name)]
        elif what in ("endpoint", "endpoints"):
            cols = ["type", "name", "ikey"]
            rows = [("endpoint", e.name, e.module) for e in sorted(sw.endpoints.values(), key=lambda e: e.name)]
        elif what in ("dialplan", "dialplans"):
            cols = ["type", "name", "ikey"]
            rows = [("dialplan", d.name, d.module) for d in sw.dialplans.values()]
        elif what in ("say",):
            cols = ["type", "name", "ikey"]
            rows = [("say", s.language, s.module) for s in sw.says.values()]
        elif what in ("channels", "calls") and len(words) > 1 and words[1].lower() == "cluster":
            from fsd_modules.mod_commands.cluster_show import show_cluster

            show_cluster(sw, what, words[2:], fmt, delim, stream)
            return None
        elif what in ("channels", "calls", "detailed_calls", "bridged_calls"):
            from fsd_modules.mod_commands.channel_rows import show_channels

            show_channels(sw, what, words[1:], fmt, delim, stream)
            return None
        elif what == "tasks":
            from fsd_modules.mod_commands.sched_apis import show_tasks

            cols, rows = show_tasks(sw)
        elif what == "limits":
            from fsd import limit

            cols = ["type", "name", "ikey"]
            rows = [("limit", n, m) for n, m in limit.backends(sw)]
        elif what == "interfaces":
            cols = ["type", "name", "ikey"]
            rows = []
            for mname, mi in sw.modules.loaded.items():
                for kind, names in (("api", mi.apis), ("application", mi.applications),
                                    ("endpoint", mi.endpoints), ("dialplan", mi.dialplans)):
                    rows += [(kind, n, mname) for n in names]
        elif what == "status":
            self.status("", session, stream)
            return None
        elif what == "detailed_bridged_calls":
            from fsd_modules.mod_commands.channel_rows import show_channels

            show_channels(sw, "bridged_calls", words[1:], fmt, delim, stream)
            return None
        elif (more := _show_more(sw, what, words)) is not None:
            cols, rows = more
        else:
            stream.write("-USAGE: show codec|endpoint|application|api|dialplan|file|timer|calls "
                         "[count]|channels [count|like <match string>]|channels cluster [count]|calls cluster [count]|calls|detailed_calls|"
                         "bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|"
                         "modules|nat_map|say|interfaces|interface_types|tasks|limits|status\n")
            return None
        web, _api = http_format(stream)
        if web and fmt == "csv":
            html_start(stream, False, f"FreeSWITCH {what} ")
            stream.write(render_html(cols, rows))
            return None
        stream.write(render(cols, rows, fmt, delim))
        return None

    def help(self, args: str, session: Any, stream: Stream) -> None:
        self.show("api", session, stream)

    # -- globals / expansion --------------------------------------------------------
    def global_getvar(self, args: str, session: Any, stream: Stream) -> None:
        name = args.strip()
        if not name:
            for k, v in self.switch.globals.items():
                stream.write(f"{k}={v}\n")
            return
        stream.write(self.switch.globals.get(name) or "")

    def global_setvar(self, args: str, session: Any, stream: Stream) -> None:
        name, sep, value = args.partition("=")
        name = name.strip()
        if not name:
            stream.write("-USAGE: global_setvar <var>=<value>\n")
            return
        value = value.strip()
        self.switch.globals.set(name, value if value else None)
        stream.write("+OK")

    def _session_for(self, args: str, session: Any) -> tuple[Any, str, str | None]:
        """Handle the ``uuid:<uuid> `` prefix of eval/expand."""
        if args.startswith("uuid:"):
            ident, _, rest = args[5:].partition(" ")
            s = self.switch.sessions.get(ident)
            if s is None:
                return None, rest, f"-ERR invalid session id [{ident}]\n"
            return s, rest, None
        return session, args, None

    def eval(self, args: str, session: Any, stream: Stream) -> None:
        s, text, err = self._session_for(args, session)
        if err:
            stream.write(err)
            return
        stream.write(self.switch.expand(text, s))

    def expand(self, args: str, session: Any, stream: Stream) -> None:
        s, text, err = self._session_for(args, session)
        if err:
            stream.write(err)
            return
        if not text.strip():
            stream.write("-ERR, no input\n")
            return
        expanded = self.switch.expand(text, s)
        cmd, cargs = split_command(expanded)
        stream.write(self.switch.api.execute(cmd, cargs, s)[0])

    def echo(self, args: str, session: Any, stream: Stream) -> None:
        stream.write(args)

    # -- configuration and modules ----------------------------------------------------
    def reloadxml(self, args: str, session: Any, stream: Stream) -> None:
        ok, err = self.switch.reloadxml()
        if ok:
            stream.write("+OK [Success]\n")
        else:
            stream.write(f"-ERR [{err}]\n")

    def load(self, args: str, session: Any, stream: Stream) -> None:
        name = args.strip()
        if not name:
            stream.write("-USAGE: load <mod_name>\n")
            return
        try:
            self.switch.modules.load(name)
        except ModuleLoadError as e:
            stream.write(f"-ERR [{e}]\n")
            return
        stream.write("+OK\n")

    def unload(self, args: str, session: Any, stream: Stream) -> None:
        words = [w for w in args.split() if not w.startswith("-")]
        if not words:
            stream.write("-USAGE: unload [-f] <mod_name>\n")
            return
        try:
            self.switch.modules.unload(words[0])
        except ModuleLoadError as e:
            stream.write(f"-ERR [{e}]\n")
            return
        stream.write("+OK\n")

    def reload(self, args: str, session: Any, stream: Stream) -> None:
        words = [w for w in args.split() if not w.startswith("-")]
        if not words:
            stream.write("-USAGE: reload [-f] <mod_name>\n")
            return
        name = words[0]
        self.switch.reloadxml()
        try:
            if name in self.switch.modules.loaded:
                self.switch.modules.unload(name)
            self.switch.modules.load(name)
        except ModuleLoadError as e:
            stream.write(f"-ERR [{e}]\n")
            return
        stream.write("+OK\n")

    def module_exists(self, args: str, session: Any, stream: Stream) -> None:
        stream.write("true" if args.strip() in self.switch.modules.loaded else "false")

    # -- control ----------------------------------------------------------------------
    def fsctl(self, args: str, session: Any, stream: Stream) -> None:
        words = args.split()
        sub = words[0].lower() if words else ""
        sw = self.switch
        if sub == "loglevel":
            if len(words) > 1:
                lvl = level_from_str(words[1], None)
                if lvl is None:
                    stream.write("-ERR Invalid log level!\n")
                    return
                logger.level = lvl
            stream.write(f"+OK log level: {level_name(logger.level)} [{logger.level}]\n")
        elif sub == "max_sessions":
            if len(words) > 1 and is_digits(words[1]):
                sw.settings["max-sessions"] = words[1]
            stream.write(f"+OK max sessions: {sw.setting_int('max-sessions', 1000)}\n")
        elif sub in ("sps", "last_sps"):
            if sub == "sps" and len(words) > 1 and is_digits(words[1]):
                sw.settings["sessions-per-second"] = words[1]
            val = sw.current_sps() if sub == "last_sps" else sw.setting_int("sessions-per-second", 30)
            stream.write(f"+OK sessions per second: {val}\n")
        elif sub == "shutdown":
            from fsd_modules.mod_commands.fsctl_more import shutdown

            shutdown(sw, words, stream, _request_shutdown)
        elif sub in ("pause", "resume"):
            # SCSC_PAUSE_* / SCSC_RESUME_*: refuse (or accept again) new sessions
            which = words[1].lower() if len(words) > 1 else ""
            paused = sub == "pause"
            if which != "outbound":
                sw.no_new_inbound = paused
            if which != "inbound":
                sw.no_new_outbound = paused
            stream.write("+OK\n")
        elif sub == "hupall":
            cause = words[1] if len(words) > 1 else "MANAGER_REQUEST"
            n = sw.hangup_all(cause, wait=0)
            stream.write(f"+OK hungup {n}\n")
        elif sub == "debug_level":
            stream.write(f"+OK DEBUG level: {DEBUG}\n")
        else:
            from fsd_modules.mod_commands.fsctl_more import CTL_SYNTAX, fsctl_more

            if not words:
                stream.write(f"-USAGE: {CTL_SYNTAX}\n")
            elif not fsctl_more(sw, words, stream, _request_shutdown):
                stream.write(f"-ERR Invalid command\nUSAGE: fsctl {CTL_SYNTAX}\n")

    def console(self, args: str, session: Any, stream: Stream) -> None:
        words = args.split()
        if len(words) >= 1 and words[0].lower() == "loglevel":
            from fsd.console import console_level

            if len(words) > 1:
                lvl = level_from_str(words[1], None)
                if lvl is None:
                    stream.write("-ERR Invalid log level!\n")
                    return
                console_level(lvl)
            stream.write(f"+OK console log level set to {level_name(console_level())}\n")
            return
        if len(words) >= 1 and words[0].lower() == "colorize":
            stream.write("+OK\n")
            return
        stream.write("-USAGE: console loglevel [level]|colorize [on|off|toggle]\n")

    def bgapi(self, args: str, session: Any, stream: Stream) -> None:
        cmd, cargs = split_command(args)
        if not cmd:
            stream.write("-ERR Invalid syntax\n")
            return
        job = self.switch.api.background(cmd, cargs, owner_uuid=getattr(session, "uuid", None))
        stream.write(f"+OK Job-UUID: {job}\n")

    def getenv(self, args: str, session: Any, stream: Stream) -> None:
        stream.write(os.environ.get(args.strip(), ""))


def _idle_cpu() -> float:
    try:
        import psutil

        return max(0.0, 100.0 - psutil.cpu_percent(interval=None))
    except Exception:
        return 0.0


def _show_more(sw: Any, what: str, words: list[str]) -> Any:
    from fsd_modules.mod_commands.show_more import show_more

    return show_more(sw, what, words)


def _request_shutdown(switch: Switch) -> None:
    from fsd.console import request_shutdown

    request_shutdown(switch)
