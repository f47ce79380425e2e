"""python.conf.xml ``<settings>`` (FreeSWITCH's mod_python3 ``do_config``).

FreeSWITCH's parameters: ``xml-handler-script``, ``xml-handler-bindings`` (sections, as
lua.conf.xml's), ``startup-script`` (repeatable: one ``runtime`` thread each).
fsd addition: ``module-path`` (repeatable): more directories searched for script modules,
after the scripts directory (FreeSWITCH takes them from ``PYTHONPATH``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fsd.scripting.languages import parse_sections


@dataclass
class PythonConfig:
    xml_handler_script: str = ""
    xml_handler_sections: set[str] = field(default_factory=set)
    startup_scripts: list[str] = field(default_factory=list)
    module_paths: list[str] = field(default_factory=list)


def parse_config(cfg: Any) -> PythonConfig:
    """``cfg`` is the ``<configuration name="python.conf">`` element (or None)."""
    out = PythonConfig()
    if cfg is None:
        return out
    settings = cfg.find("settings")
    if settings is None:
        return out
    for p in settings.iter("param"):
        name = (p.get("name") or "").strip()
        val = (p.get("value") or "").strip()
        if name == "xml-handler-script":
            out.xml_handler_script = val
        elif name == "xml-handler-bindings":
            # as FreeSWITCH: bound only when the script was named before
            if out.xml_handler_script:
                out.xml_handler_sections = parse_sections(val)
        elif name == "startup-script" and val:
            out.startup_scripts.append(val)
        elif name == "module-path" and val:
            out.module_paths.append(val)
    return out
