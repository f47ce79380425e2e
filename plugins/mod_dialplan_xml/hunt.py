"""The XML dialplan's hunt: find the context, walk its extensions, collect actions.

``hunt(session, args="", now=None)`` returns an :class:`~.conditions.Extension` (a list of
``(application, data)``) or ``None`` when no extension matched.  The context comes from
the caller profile (``default`` when empty), looked up through the switch's XML config —
bindings first (mod_lua's xml handler can answer), then the static ``dialplan`` section —
falling back to a context named ``global``.  ``args`` may name an XML file to read the
dialplan from instead (FreeSWITCH's alternate-path argument).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lxml import etree

from fsd.log import DEBUG, ERR, INFO, WARNING

from .conditions import Extension, ExtensionParser, is_true


class _Params(dict):
    """Collects ``add_header`` calls into a dict (for the XML lookup parameters)."""

    def add_header(self, name: str, value: str) -> bool:
        self[name] = value
        return True


def _lookup_params(session: Any) -> dict[str, str]:
    """What FreeSWITCH hands an XML handler for a dialplan lookup: the channel's data
    and the caller profile as ``Hunt-*`` headers."""
    params = _Params()
    params.add_header("Event-Name", "REQUEST_PARAMS")
    event_data = getattr(session, "event_data", None)
    try:
        if callable(event_data):
            event_data(params)
        else:
            session.caller_profile.add_headers(params, "Caller")
        session.caller_profile.add_headers(params, "Hunt")
    except Exception:  # parameters are a courtesy to handlers; never fail the hunt
        pass
    return dict(params)


def _find_context_in(doc: Any, name: str) -> Any:
    for sec in doc.iter("section"):
        if (sec.get("name") or "").lower() != "dialplan":
            continue
        for ctx in sec.iter("context"):
            if (ctx.get("name") or "") == name:
                return ctx
    return None


def _locate(session: Any, context: str, alt_path: str) -> Any:
    """The ``<context>`` element, or ``None`` (already logged)."""
    if alt_path:
        try:
            doc = etree.parse(alt_path, etree.XMLParser(remove_comments=True, no_network=True,
                                                        resolve_entities=False)).getroot()
        except (OSError, etree.XMLSyntaxError) as e:
            session.log(ERR, f"Open of [{alt_path}] failed ({e})")
            return None
        session.log(DEBUG, f"Getting dialplan from alternate path: {alt_path}")
        found = _find_context_in(doc, context)
        if found is None:
            found = _find_context_in(doc, "global")
        if found is None:
            session.log(WARNING, f"Context {context} not found")
        return found
    config = getattr(session.switch, "config", None)
    if config is None:
        session.log(ERR, "Open of dialplan failed")
        return None
    params = _lookup_params(session)
    for name in (context, "global"):
        try:
            found = config.lookup("dialplan", "context", "name", name, params)
        except Exception as e:
            session.log(ERR, f"Open of dialplan failed ({e})")
            return None
        if found is not None:
            return found
    session.log(WARNING, f"Context {context} not found")
    return None


def hunt(session: Any, args: str = "", now: datetime | float | None = None) -> Extension | None:
    """The ``XML`` dialplan.  ``now`` fixes the clock for time conditions (tests)."""
    prof = session.caller_profile
    if not prof.context:
        prof.context = "default"
    session.log(INFO, f"Processing {prof.caller_id_name} <{prof.caller_id_number}>->"
                      f"{prof.destination_number} in context {prof.context}")
    xcontext = _locate(session, prof.context, (args or "").strip())
    if xcontext is None:
        return None

    extensions = xcontext.findall("extension")
    start = 0
    if is_true(session.get_variable("auto_hunt")):
        for i, x in enumerate(extensions):
            if x.get("name") == prof.destination_number:
                start = i
                break

    parser = ExtensionParser(session, now)
    chan = getattr(session, "name", "") or prof.chan_name
    for xexten in extensions[start:]:
        cont = xexten.get("continue")
        name = xexten.get("name") or "UNKNOWN"
        session.log(DEBUG, f"Dialplan: {chan} parsing [{prof.context}->{name}] continue={cont or 'false'}")
        if parser.parse(xexten, name) and not is_true(cont):
            break
    return parser.extension
