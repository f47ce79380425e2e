"""mod_dptools' broadcast and first-result hooks: the ``inline`` dialplan and the
variables FreeSWITCH puts on every outbound leg.

* ``inline`` dialplan (FreeSWITCH's inline_dialplan_hunt): ``transfer
  'playback:foo,park' inline`` routes to an extension made of the applications written
  in the destination (or in the dialplan's argument, ``inline:app:data``): ``app:data``
  items separated by ``,``, or by any character ``X`` given as a leading ``m:X:``.  It is
  answered through the ``fsd_dialplan_hunt`` hook rather than a registered dialplan.
* ``fsd_outgoing_channel``: a leg created for an originating channel carries
  ``originating_leg_uuid`` (the originator's uuid), and every leg ``originate_endpoint``
  (the endpoint that made it), as in FreeSWITCH's CDRs.
"""

from __future__ import annotations

from typing import Any

import fsd


def parse_inline(target: str) -> list[tuple[str, str]]:
    """``"playback:foo,park"`` → ``[("playback", "foo"), ("park", "")]``."""
    delim = ","
    if len(target) >= 4 and target.startswith("m:") and target[3] == ":":
        delim, target = target[2], target[4:]
    out: list[tuple[str, str]] = []
    for item in target.split(delim):
        app, _, data = item.strip().partition(":")
        if app.strip():
            out.append((app.strip(), data))
    return out


@fsd.hookimpl
def fsd_dialplan_hunt(session: Any, dialplan: str, args: str) -> list[tuple[str, str]] | None:
    if dialplan.strip().lower() != "inline":
        return None
    target = args or session.caller_profile.destination_number or ""
    apps = parse_inline(target)
    return apps or None  # nothing to run: no route, as in FreeSWITCH


@fsd.hookimpl
def fsd_outgoing_channel(originator: Any, leg: Any) -> None:
    endpoint = getattr(leg, "endpoint_name", "") or ""
    if endpoint:
        leg.set_variable("originate_endpoint", endpoint)
    if originator is not None:
        leg.set_variable("originating_leg_uuid", originator.uuid)
