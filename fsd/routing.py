"""One dialplan hunt, as the core does it: modules' ``fsd_dialplan_hunt`` hook first (the
first to answer wins), then the dialplan registered under that name with
``add_dialplan``, called as ``hunt(session, args)``.  And the application flags the core
enforces before running an application (FreeSWITCH's SAF_* checks in
switch_core_session_execute_application)."""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any

from fsd.interfaces import APP_ROUTING_EXEC, APP_SUPPORT_NOMEDIA, APP_ZOMBIE_EXEC
from fsd.log import ERR

if TYPE_CHECKING:  # pragma: no cover
    from fsd.interfaces import AppInterface, Extension


def hunt(session: Any, name: str, args: str) -> tuple[bool, Extension | None]:
    """``(dialplan_found, extension)`` for dialplan ``name`` with ``args``."""
    sw = session.switch
    ext = sw.modules.first_result("fsd_dialplan_hunt", switch=sw, session=session,
                                  dialplan=name, args=args)
    if ext is not None:
        return True, ext
    dp = sw.dialplans.get(name.lower())
    if dp is None:
        session.log(ERR, f"No Dialplan on answered channel, changing state to HANGUP (dialplan {name} unknown)")
        return False, None
    try:
        return True, dp.hunt(session, args)
    except Exception as e:
        session.log(ERR, f"dialplan {name} ({dp.module}) failed: {e}\n{traceback.format_exc()}")
        return True, None


def app_refusal(session: Any, app: AppInterface, *, inline: bool = False) -> str | None:
    """Why ``app`` may not run on ``session`` now (``""``: refuse silently), or ``None``.

    * inline (``inline="true"`` while routing) needs ``APP_ROUTING_EXEC``;
    * a hung-up channel runs only ``APP_ZOMBIE_EXEC`` applications (silently refused);
    * a channel without media (``session.proxy_mode``, set by an endpoint doing bypass or
      proxy media) runs only ``APP_SUPPORT_NOMEDIA`` applications."""
    if inline and not app.flags & APP_ROUTING_EXEC:
        return "This application cannot be executed inline"
    if session.hangup_cause is not None and not app.flags & APP_ZOMBIE_EXEC:
        return ""
    if getattr(session, "proxy_mode", False) and not app.flags & APP_SUPPORT_NOMEDIA:
        return f"Application {app.name} Cannot be used with PROXY or BYPASS media mode!"
    return None
