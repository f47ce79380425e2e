"""The API commands mod_dptools declares: strftime, strepoch, strmicroepoch, chat."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

from fsd.separate import separate_string

_STR_TIME = re.compile(
    r"^\s*(?:(\d{4})-(\d{1,2})-(\d{1,2}))?\s*(?:(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?)?\s*$")


def str_time(text: str) -> int:
    """switch_str_time: ``YYYY-MM-DD[ HH:MM[:SS[.frac]]]`` or ``HH:MM[:SS]`` (today), local
    time, in microseconds; 0 when it does not parse."""
    m = _STR_TIME.match(text or "")
    if not m or not any(m.groups()):
        return 0
    y, mo, d, h, mi, s, frac = m.groups()
    today = datetime.now()
    try:
        dt = datetime(int(y) if y else today.year, int(mo) if mo else today.month,
                      int(d) if d else today.day, int(h or 0), int(mi or 0), int(s or 0))
    except ValueError:
        return 0
    usec = int((frac or "0")[:6].ljust(6, "0"))
    return int(time.mktime(dt.timetuple())) * 1_000_000 + usec


def _atol(text: str) -> int:
    m = re.match(r"\s*([+-]?\d+)", text or "")
    return int(m.group(1)) if m else 0


def strftime_text(args: str) -> str:
    """``[<epoch>|]<format>``.  As mod_dptools' strftime API, the character right after
    the ``|`` is skipped (``1234|%Y`` formats ``Y``... FreeSWITCH's own off-by-one)."""
    q = args or ""
    when = time.time()
    if q and "|" in q:
        head, _, rest = q.partition("|")
        when = _atol(head)
        q = rest[1:]
    fmt = q or "%Y-%m-%d %T"
    try:
        return time.strftime(fmt, time.localtime(when))
    except (ValueError, OverflowError):
        return ""


class DptoolsApis:
    def __init__(self, switch: Any) -> None:
        self.switch = switch

    def strftime(self, args: str, session: Any, stream: Any) -> None:
        stream.write(strftime_text(args))

    def strepoch(self, args: str, session: Any, stream: Any) -> None:
        us = str_time(args) if args else int(time.time() * 1_000_000)
        stream.write(str(us // 1_000_000))

    def strmicroepoch(self, args: str, session: Any, stream: Any) -> None:
        stream.write(str(str_time(args) if args else int(time.time() * 1_000_000)))

    def chat(self, args: str, session: Any, stream: Any) -> None:
        """``chat <proto>|<from>|<to>|<message>|[<content-type>]``: hand the message to the
        chat interface ``proto`` (fsd has chat applications, not chat endpoints, so only a
        registered ``send_chat`` hook delivers it)."""
        argv = separate_string(args or "", "|", 5)
        if len(argv) < 4:
            stream.write("Invalid")
            return
        sender = getattr(self.switch, "send_chat", None)
        ok = False
        if callable(sender):
            try:
                ok = bool(sender(argv[0], argv[1], argv[2], argv[3],
                                 argv[4] if len(argv) > 4 and argv[4] else None))
            except Exception:  # noqa: BLE001 - a failed delivery is reported, not raised
                ok = False
        stream.write("Sent" if ok else "Error! Message Not Sent")


def chat_app(session: Any, data: str) -> None:
    """``chat <proto>|<from>|<to>|<message>|[<content-type>]`` from the dialplan."""
    from fsd.log import ERR

    out = session.switch.api_execute("chat", session.expand(data or ""))
    if out != "Sent":
        session.log(ERR, f"chat: {out}\n")


def declare(module: Any) -> None:
    a = DptoolsApis(module.switch)
    module.add_api("strftime", "strftime", "<format_string>", a.strftime)
    module.add_api("strepoch", "Convert a date string into epoch time", "<string>", a.strepoch)
    module.add_api("strmicroepoch", "Convert a date string into micoepoch time", "<string>",
                   a.strmicroepoch)
    module.add_application("chat", chat_app, "chat", "<proto>|<from>|<to>|<message>|[<content-type>]")
    module.add_api("chat", "chat", "<proto>|<from>|<to>|<message>|[<content-type>]", a.chat)
