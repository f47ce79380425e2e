"""``freeswitch.bridge`` and ``freeswitch.email`` (behaviour reference §3, §3.1), for any
language."""

from __future__ import annotations

from typing import Any

from fsd.log import ERR, log
from fsd.scripting.context import ScriptKilled
from fsd.services import MAILER


def bridge(ctx: Any, a: Any, b: Any) -> None:
    sa = a.session if a is not None else None
    sb = b.session if b is not None else None
    if sa is None or sb is None or not sa.ready() or not sb.ready():
        log(ERR, "Channels not ready\n", uuid=ctx.uuid)
        return
    if sa.direction == "inbound" and not (sa.answered() or sa.early_media()):
        sa.pre_answer()
    sa.bridge_to(sb)
    if ctx.killed():
        raise ScriptKilled(ctx.kill_reason)
    a.check_hangup_hook()


def email(ctx: Any, to: str | None, from_: str | None, headers: str | None = None,
          body: str | None = None, file: str | None = None, convert_cmd: str | None = None,
          convert_ext: str | None = None) -> bool:
    if not to:
        log(ERR, "No to address specified\n", uuid=ctx.uuid)
        return False
    sw = ctx.host.switch
    mailer = sw.services.get(MAILER) if sw is not None else None  # mod_email's, if loaded
    if mailer is None:
        log(ERR, "freeswitch.email: mod_email is not loaded, no mail sent\n", uuid=ctx.uuid)
        return False
    return bool(mailer.send(to, from_ or "freeswitch", headers or "", body or "", file or None,
                            convert_cmd or None, convert_ext or None))
