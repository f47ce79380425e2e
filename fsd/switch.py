"""The running switch: configuration, registries, the event loop, sessions, lifecycle.

One :class:`Switch` per process.  It owns one asyncio loop (in the thread ``fsd-loop``) for
all network I/O, the event bus (its own dispatch thread), the API runner, and the module
manager.  Modules reach everything through ``module.switch``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid as uuidlib
from collections import deque
from typing import Any

from fsd import __version__
from fsd.api import ApiRunner, Stream
from fsd.config import ConfigError, XmlConfig, params_of
from fsd.dirs import Dirs
from fsd.globals import GlobalVariables
from fsd.interfaces import (
    ApiInterface,
    AppInterface,
    DialplanInterface,
    EndpointInterface,
    FileFormatInterface,
    LanguageInterface,
    SayInterface,
    XmlBinding,
)
from fsd.log import ERR, INFO, NOTICE, WARNING, FileSink, level_from_str, log, logger
from fsd.module import ModuleLoadError
from fsd.modules import ModuleManager
from fsd.registry import Registry
from fsd.services import ServiceRegistry
from fsd.truth import is_true

#: What ``version`` prints after "FreeSWITCH Version ": the FreeSWITCH release whose
#: behaviour fsd follows, then fsd's own version (clients parse the leading numbers).
FS_COMPAT_VERSION = "1.10.12"
VERSION_STRING = f"{FS_COMPAT_VERSION}-release+fsd.{__version__}"

DEFAULT_SETTINGS = {
    "max-sessions": "1000",
    "sessions-per-second": "30",
    "loglevel": "debug",
    "colorize-console": "true",
    "max-db-handles": "5",
    "db-handle-timeout": "10",
    "mailer-app": "sendmail",
    "mailer-app-args": "-t",
    "api-expansion": "true",
    "rtp-start-port": "16384",
    "rtp-end-port": "32768",
}


class StartupError(Exception):
    """The switch cannot start; the message is the one line shown to the user."""


def _local_ipv4() -> str:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
            return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"


class Switch:
    """The softswitch core.  See docs/architecture.md for the picture."""

    def __init__(self, dirs: Dirs, *, console_loglevel: int | None = None) -> None:
        self.dirs = dirs
        self.core_uuid = str(uuidlib.uuid4())
        self.hostname = socket.gethostname()
        self.switchname = self.hostname
        self.ipv4 = _local_ipv4()
        self.ipv6 = "::1"
        self.started_at = time.time()
        self.running = False
        self.ready = threading.Event()
        # FreeSWITCH's SCF_SHUTTING_DOWN and SCF_NO_NEW_{IN,OUT}BOUND_SESSIONS
        # (fsctl pause/resume); read through core_ready().
        self.shutting_down = False
        self.no_new_inbound = False
        self.no_new_outbound = False
        self.stopped = threading.Event()
        self.console_loglevel = console_loglevel

        # Registries filled by modules through ModuleInterface; each entry records its
        # owning module (fsd/registry.py), so a name is never silently taken over and
        # unload removes exactly what the module added.
        self.apis: Registry[ApiInterface] = Registry("api")
        self.applications: Registry[AppInterface] = Registry("application")
        self.chat_applications: Registry[AppInterface] = Registry("chat application")
        self.endpoints: Registry[EndpointInterface] = Registry("endpoint")
        self.dialplans: Registry[DialplanInterface] = Registry("dialplan")
        self.says: Registry[SayInterface] = Registry("say language")
        self.file_formats: Registry[FileFormatInterface] = Registry("file format")
        self.languages: Registry[LanguageInterface] = Registry("language")
        self.xml_bindings: list[XmlBinding] = []
        #: Services modules offer each other (fsd/services.py): the database, the mailer.
        self.services = ServiceRegistry()

        self.globals = GlobalVariables()
        self.settings: dict[str, str] = dict(DEFAULT_SETTINGS)
        self.config: XmlConfig | None = None
        self.rtp_port_range = (16384, 32768)

        from fsd.events import EventBus

        self.events = EventBus()
        self.api = ApiRunner(self)
        self.modules = ModuleManager(self)

        # Sessions (the call model fills these; see fsd/session.py).
        self.sessions: dict[str, Any] = {}
        self.sessions_lock = threading.RLock()
        # Notified whenever a session leaves the table (hangup_all waits on it).
        self.sessions_changed = threading.Condition(self.sessions_lock)
        self.session_count_total = 0
        self.session_peak = 0
        #: Items dropped from full per-session queues, by queue (messages, events, dtmf).
        self.session_queue_drops: dict[str, int] = {}
        self.session_peak_5min = 0
        self._recent_starts: deque[float] = deque()  # the last second's (note_session_start)
        self.sps_peak = 0
        self.sps_peak_5min = 0

        self.loop: asyncio.AbstractEventLoop = asyncio.new_event_loop()
        self._loop_thread: threading.Thread | None = None
        self._file_sink_id: int | None = None
        self._heartbeat: threading.Thread | None = None

    # -- configuration ------------------------------------------------------------
    def load_config(self) -> XmlConfig:
        """Parse the configuration tree (raises ConfigError naming file and line)."""
        base_vars = self.dirs.as_globals()
        base_vars.update({
            "hostname": self.hostname,
            "local_ip_v4": self.ipv4,
            "local_ip_v6": self.ipv6,
            "core_uuid": self.core_uuid,
            "switch_serial": self.core_uuid,
            "sound_prefix": self.dirs.sounds,
        })
        cfg = XmlConfig.load(self.dirs.conf, base_vars,
                             warn=lambda msg: log(WARNING, msg, file="switch_xml.c"))
        cfg.bindings = self.xml_bindings
        return cfg

    def apply_config(self, cfg: XmlConfig) -> None:
        """Install a parsed configuration: globals, switch.conf settings."""
        self.config = cfg
        self.globals.update(cfg.variables)
        sw = cfg.get_configuration("switch.conf")
        settings = dict(DEFAULT_SETTINGS)
        settings.update(params_of(sw, "settings"))
        self.settings = settings
        if sw is not None:
            for v in sw.iter("variable"):
                if v.get("name"):
                    self.globals.set(v.get("name"), v.get("value", ""))
        self.switchname = settings.get("switchname") or self.hostname
        self.rtp_port_range = self._rtp_range(settings)
        lvl = level_from_str(settings.get("loglevel"), None)
        if lvl is not None:
            logger.level = lvl
        from fsd.events import identity

        identity.set_identity(core_uuid=self.core_uuid, hostname=self.hostname,
                              switchname=self.switchname, ipv4=self.ipv4, ipv6=self.ipv6)

    @staticmethod
    def _rtp_range(settings: dict[str, str]) -> tuple[int, int]:
        """``rtp-start-port``/``rtp-end-port``, checked: the range media endpoints take
        their ports from (``switch.rtp_port_range``).  A bad pair falls back to FreeSWITCH's
        defaults with a warning."""
        try:
            lo = int(settings.get("rtp-start-port", "16384"))
            hi = int(settings.get("rtp-end-port", "32768"))
        except ValueError:
            lo, hi = -1, -1
        if not (1024 <= lo < hi <= 65535):
            log(WARNING, f"invalid rtp-start-port/rtp-end-port [{settings.get('rtp-start-port')}-"
                         f"{settings.get('rtp-end-port')}], using 16384-32768")
            return 16384, 32768
        return lo, hi

    def setting_int(self, name: str, default: int) -> int:
        try:
            return int(str(self.settings.get(name, default)).strip())
        except ValueError:
            return default

    def setting_bool(self, name: str, default: bool = False) -> bool:
        return is_true(self.settings.get(name), default)

    def reloadxml(self) -> tuple[bool, str]:
        """Re-read everything; keep the old tree if the new one is broken."""
        try:
            cfg = self.load_config()
        except ConfigError as e:
            log(ERR, f"reloadxml failed, keeping the previous configuration: {e}")
            return False, str(e)
        self.apply_config(cfg)
        from fsd.events import Event

        self.events.fire(Event("RELOADXML"))
        log(INFO, "Reloading XML")
        return True, ""

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> None:
        """Bring the switch up; raises StartupError with a one-line reason."""
        try:
            self.dirs.create()
        except OSError as e:
            raise StartupError(str(e)) from e
        try:
            self._file_sink_id = logger.add_sink(FileSink(os.path.join(self.dirs.log, "fsd.log")))
        except OSError as e:
            raise StartupError(f"cannot open log file in {self.dirs.log}: {e.strerror}") from e
        try:
            cfg = self.load_config()
        except ConfigError as e:
            raise StartupError(str(e)) from e
        self.apply_config(cfg)
        from fsd.media import files

        files.use_module_formats(self.file_formats)  # playback/record read add_file_format
        self.running = True
        self.events.start()
        self._loop_thread = threading.Thread(target=self._run_loop, name="fsd-loop", daemon=True)
        self._loop_thread.start()

        for name, critical in self.module_list():
            try:
                self.modules.load(name, run_runtime=False)
            except ModuleLoadError as e:
                log(ERR, f"Error Loading module {name}: {e}")
                if critical:
                    self.shutdown()
                    raise StartupError(f"critical module {name} failed to load: {e}") from e
        for name in list(self.modules.loaded):
            self.modules.runtime(name)
        from fsd.events import Event

        ev = Event("STARTUP")
        ev.add_header("Event-Info", "System Ready")
        self.events.fire(ev)
        self._heartbeat = threading.Thread(target=self._heartbeat_loop, name="fsd-heartbeat", daemon=True)
        self._heartbeat.start()
        self.ready.set()
        log(NOTICE, f"fsd {__version__} ready (FreeSWITCH {FS_COMPAT_VERSION} compatible)")

    def module_list(self) -> list[tuple[str, bool]]:
        """(name, critical) from modules.conf.xml, in order."""
        el = self.config.get_configuration("modules.conf") if self.config else None
        out: list[tuple[str, bool]] = []
        if el is None:
            return out
        for load in el.iter("load"):
            name = load.get("module")
            if name:
                crit = is_true(load.get("critical"))
                out.append((name, crit))
        return out

    def shutdown(self) -> None:
        """Stop everything: hang up calls, unload modules, stop the loop and the bus."""
        if not self.running:
            self.stopped.set()
            return
        from fsd.events import Event

        self.shutting_down = True
        ev = Event("SHUTDOWN")
        ev.add_header("Event-Info", "System Shutting Down")
        self.events.fire(ev)
        self.hangup_all("SYSTEM_SHUTDOWN")
        self.modules.unload_all()
        self.running = False
        self.api.shutdown()
        self.events.stop()  # delivers what is still queued before the thread ends
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        if self._loop_thread:
            self._loop_thread.join(timeout=5)
        if self._file_sink_id is not None:
            logger.remove_sink(self._file_sink_id)
        self.stopped.set()

    def hangup_all(self, cause: str = "MANAGER_REQUEST", wait: float = 5.0) -> int:
        with self.sessions_lock:
            sessions = list(self.sessions.values())
        for s in sessions:
            try:
                s.hangup(cause)
            except Exception as e:
                log(ERR, f"hangup of {getattr(s, 'uuid', '?')} failed: {e}")
        deadline = time.monotonic() + wait
        with self.sessions_changed:
            while self.sessions:
                left = deadline - time.monotonic()
                if left <= 0:
                    log(ERR, f"{len(self.sessions)} session(s) still up after hangup_all")
                    break
                self.sessions_changed.wait(left)
        return len(sessions)

    def forget_session(self, session: Any) -> None:
        """Remove a destroyed session from the table (the session's teardown calls this)."""
        with self.sessions_changed:
            self.sessions.pop(session.uuid, None)
            self.sessions_changed.notify_all()

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _heartbeat_loop(self) -> None:
        from fsd.events import Event

        interval = max(1, self.setting_int("event-heartbeat-interval", self.setting_int("heartbeat-interval", 20)))
        while not self.stopped.wait(interval):
            if not self.running:
                return
            ev = Event("HEARTBEAT")
            ev.add_header("Event-Info", "System Ready")
            ev.add_header("Up-Time", self.uptime_text())
            ev.add_header("FreeSWITCH-Version", VERSION_STRING)
            ev.add_header("Uptime-msec", str(int((time.time() - self.started_at) * 1000)))
            ev.add_header("Session-Count", str(len(self.sessions)))
            ev.add_header("Max-Sessions", str(self.setting_int("max-sessions", 1000)))
            ev.add_header("Session-Per-Sec", str(self.setting_int("sessions-per-second", 30)))
            ev.add_header("Session-Since-Startup", str(self.session_count_total))
            ev.add_header("Idle-CPU", "0.000000")
            self.events.fire(ev)

    def core_ready(self, direction: str = "") -> bool:
        """FreeSWITCH's ``switch_core_ready[_inbound|_outbound]``: running, not shutting
        down, and new sessions (of that direction, or of both when none is named) not
        paused by ``fsctl pause``."""
        if not self.running or self.shutting_down:
            return False
        if direction == "inbound":
            return not self.no_new_inbound
        if direction == "outbound":
            return not self.no_new_outbound
        return not (self.no_new_inbound and self.no_new_outbound)

    # -- helpers for modules ------------------------------------------------------
    def run_coroutine(self, coro: Any) -> Any:
        """Schedule a coroutine on the loop from any thread; returns a Future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def on_loop_thread(self) -> bool:
        """True when called from the switch's own event loop (where nothing may wait)."""
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    def finish_on_loop(self, coro: Any, what: str, timeout: float = 5.0) -> None:
        """Run ``coro`` (a listener's ``stop()``, say) on the loop from a module's shutdown:
        from another thread wait for it up to ``timeout`` and log ``what`` if it fails; from
        the loop itself only schedule it; with the loop stopped, drop it."""
        if not self.loop.is_running():
            coro.close()
            return
        if self.on_loop_thread():
            self.loop.create_task(coro)
            return
        try:
            asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=timeout)
        except Exception as e:
            log(ERR, f"{what} did not stop cleanly: {e}")

    def api_execute(self, cmd: str, args: str = "", session: Any = None,
                    stream: Stream | None = None) -> str:
        """Run an API command and return its output (the core's ``switch_api_execute``).
        ``api_execute("show channels")`` works too: without ``args`` the first word is the
        command."""
        if not args and " " in cmd.strip():
            from fsd.api import split_command

            cmd, args = split_command(cmd)
        return self.api.execute(cmd, args, session, stream)[0]

    def expand(self, text: str, session: Any = None, lookup: Any = None) -> str:
        """Expand ``${...}`` against a session's variables (or ``lookup``), globals, APIs."""
        from fsd.expand import expand
        from fsd.scripting.languages import expand_call

        if lookup is None:
            lookup = session.get_variable if session is not None else self.globals.get
        return expand(
            text,
            lookup,
            global_lookup=self.globals.get,
            api=lambda cmd, args: expand_call(self, cmd, args, session),
            api_allowed=self.setting_bool("api-expansion", True),
        )

    def uptime_seconds(self) -> float:
        return time.time() - self.started_at

    def uptime_text(self) -> str:
        total_us = int(self.uptime_seconds() * 1_000_000)
        us = total_us % 1000
        ms = (total_us // 1000) % 1000
        secs = total_us // 1_000_000
        y, rem = divmod(secs, 365 * 86400)
        d, rem = divmod(rem, 86400)
        h, rem = divmod(rem, 3600)
        m, s = divmod(rem, 60)
        return (f"{y} year{'s' if y != 1 else ''}, {d} day{'s' if d != 1 else ''}, "
                f"{h} hour{'s' if h != 1 else ''}, {m} minute{'s' if m != 1 else ''}, "
                f"{s} second{'s' if s != 1 else ''}, {ms} millisecond{'s' if ms != 1 else ''}, "
                f"{us} microsecond{'s' if us != 1 else ''}")

    # -- media hooks (the call model calls these; fsd/session_media.py implements them) --
    def attach_media(self, session: Any) -> None:
        """Give a new session its media port."""
        from fsd import session_media

        session_media.attach_media(self, session)

    def link_media(self, a: Any, b: Any) -> None:
        """Connect two channels' media back to back (a loopback pair)."""
        from fsd import session_media

        session_media.link_media(self, a, b)

    def bridge_media(self, a: Any, b: Any) -> None:
        from fsd import session_media

        session_media.bridge_media(self, a, b)

    def unbridge_media(self, a: Any, b: Any) -> None:
        from fsd import session_media

        session_media.unbridge_media(self, a, b)

    # -- session accounting (used by the call model) --------------------------------
    def note_session_start(self) -> None:
        now = time.time()
        self.session_count_total += 1
        n = len(self.sessions)
        self.session_peak = max(self.session_peak, n)
        self.session_peak_5min = max(self.session_peak_5min, n)
        # the starts of the last second alone, pruned here (under sessions_lock): counting
        # them in a deque of five minutes of starts walked thousands per new session
        recent = self._recent_starts
        recent.append(now)
        while now - recent[0] > 1.0:
            recent.popleft()
        sps = len(recent)
        self.sps_peak = max(self.sps_peak, sps)
        self.sps_peak_5min = max(self.sps_peak_5min, sps)

    def current_sps(self) -> int:
        """Sessions started in the last second."""
        now = time.time()
        recent = self._recent_starts
        try:
            old = 0
            for t in recent:  # in order: skip those that aged since the last start
                if now - t <= 1.0:
                    break
                old += 1
            return len(recent) - old
        except RuntimeError:  # a session started meanwhile: count a snapshot
            return sum(1 for t in list(recent) if now - t <= 1.0)
