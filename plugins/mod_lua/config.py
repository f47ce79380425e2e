"""lua.conf.xml ``<settings>`` and ``<hooks>`` (behaviour reference §1.2, §1.4).

fsd additions (ignored by FreeSWITCH, so one file serves both):
``max-memory`` (bytes per Lua state, suffixes k/m/g accepted; 0 = no cap) and
``cpu-limit`` (seconds of CPU a single run may use; 0 = none),
``kill-after-hangup-sec`` (stop a script still running that long after its channel hung
up; 0 = never, the default, as FreeSWITCH).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fsd.events import event_id
from fsd.log import ERR, WARNING, log
from fsd.scripting.languages import parse_sections  # noqa: F401  (used below, and re-exported)


def parse_size(text: str) -> int | None:
    t = (text or "").strip().lower()
    mult = 1
    if t[-1:] in ("k", "m", "g"):
        mult = {"k": 1024, "m": 1024**2, "g": 1024**3}[t[-1]]
        t = t[:-1]
    try:
        n = int(float(t) * mult)
    except ValueError:
        return None
    return n if n > 0 else None


@dataclass
class Hook:
    event: str  # canonical event-type name
    subclass: str | None
    script: str


@dataclass
class LuaConfig:
    script_dirs: list[str] = field(default_factory=list)
    module_dirs: list[str] = field(default_factory=list)
    startup_scripts: list[str] = field(default_factory=list)
    xml_handler_script: str | None = None
    #: sections the XML handler answers; None = not bound (see the ordering rule)
    xml_handler_sections: set[str] | None = None
    hooks: list[Hook] = field(default_factory=list)
    max_memory: int | None = None
    cpu_limit: float | None = None
    #: seconds a script may run on after its channel hung up; None = forever (FreeSWITCH)
    kill_after_hangup: float | None = None


def parse_config(cfg: Any) -> LuaConfig:
    """Read a ``<configuration name="lua.conf">`` element (lxml); None gives defaults."""
    out = LuaConfig()
    if cfg is None:
        return out
    settings = cfg.find("settings")
    if settings is not None:
        for p in settings.iter("param"):
            name = (p.get("name") or "").strip().lower()
            val = p.get("value") or ""
            if name == "script-directory" and val:
                out.script_dirs.append(val)
            elif name == "module-directory" and val:
                out.module_dirs.append(val)
            elif name == "startup-script" and val:
                out.startup_scripts.append(val)
            elif name == "xml-handler-script" and val:
                out.xml_handler_script = val
            elif name == "xml-handler-bindings":
                # honoured only when the script was named first, as FreeSWITCH reads it
                if out.xml_handler_script:
                    out.xml_handler_sections = parse_sections(val)
                else:
                    log(WARNING, "lua.conf: xml-handler-bindings ignored: it must come after "
                                 "xml-handler-script\n")
            elif name == "max-memory":
                out.max_memory = parse_size(val)
            elif name == "cpu-limit":
                try:
                    out.cpu_limit = float(val) if float(val) > 0 else None
                except ValueError:
                    log(ERR, f"lua.conf: bad cpu-limit {val!r}\n")
            elif name == "kill-after-hangup-sec":
                try:
                    out.kill_after_hangup = float(val) if float(val) > 0 else None
                except ValueError:
                    log(ERR, f"lua.conf: bad kill-after-hangup-sec {val!r}\n")
    hooks = cfg.find("hooks")
    if hooks is not None:
        for h in hooks.iter("hook"):
            ev, sub, script = h.get("event") or "", h.get("subclass") or "", h.get("script") or ""
            eid = event_id(ev)
            if eid is None or not script:
                log(WARNING, f"lua.conf: bad hook event={ev!r} script={script!r}\n")
                continue
            from fsd.events import event_name

            out.hooks.append(Hook(event_name(eid), sub or None, script))
    return out
