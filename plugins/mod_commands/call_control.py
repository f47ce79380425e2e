"""Call-control API commands: originate and the ``uuid_*`` family, hupall, sched_api.

Reply texts are FreeSWITCH's (``+OK``, ``-ERR No such channel!``) because controllers
match on them."""

from __future__ import annotations

import re
import uuid as uuidlib
from typing import Any

from fsd.api import Stream
from fsd.module import ModuleInterface
from fsd.numbers import is_digits
from fsd.originate import originate
from fsd.session import Session

NO_CHANNEL = "-ERR No such channel!\n"
ORIGINATE_USAGE = ("-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] "
                   "[<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n")


def tokenize(text: str) -> list[str]:
    """Split on spaces outside {} [] () and quotes (originate's argument grammar)."""
    out, cur, depth, quote = [], [], 0, ""
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"" and depth == 0 and not cur:
            quote = ch
            cur.append(ch)
            continue
        if ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth = max(0, depth - 1)
        if ch == " " and depth == 0:
            if cur:
                out.append("".join(cur))
                cur = []
            continue
        cur.append(ch)
    if cur:
        out.append("".join(cur))
    return [t[1:-1] if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"" else t for t in out]


class CallControl:
    def __init__(self, switch: Any) -> None:
        self.switch = switch

    def _session(self, ident: str) -> Session | None:
        return self.switch.sessions.get(ident.strip())

    def _lookup(self, args: str, stream: Stream, usage: str,
                min_words: int = 1) -> tuple[Session, list[str]] | None:
        """``<uuid> …``: the session and the words, or None after writing the usage
        text (too few words) or ``-ERR No such channel!``."""
        words = args.split()
        if len(words) < min_words:
            stream.write(usage + "\n")
            return None
        s = self._session(words[0])
        if s is None:
            stream.write(NO_CHANNEL)
            return None
        return s, words

    # -- originate --------------------------------------------------------------------
    def originate(self, args: str, session: Any, stream: Stream) -> None:
        words = tokenize(args)
        if len(words) < 2:
            stream.write(ORIGINATE_USAGE)
            return
        dial, dest = words[0], words[1]
        dialplan = words[2] if len(words) > 2 and words[2] != "undef" else "XML"
        context = words[3] if len(words) > 3 and words[3] != "undef" else "default"
        cid_name = words[4] if len(words) > 4 and words[4] != "undef" else None
        cid_num = words[5] if len(words) > 5 and words[5] != "undef" else None
        timeout = None
        if len(words) > 6:
            try:
                timeout = int(words[6])
            except ValueError:
                stream.write(ORIGINATE_USAGE)
                return
        app = None
        if dest.startswith("&"):
            m = re.match(r"^&([\w\-.]+)(?:\((.*)\))?$", dest, re.DOTALL)
            if not m:
                stream.write(ORIGINATE_USAGE)
                return
            app = (m.group(1), m.group(2) or "")
            if app[0].lower() not in self.switch.applications:
                stream.write(f"-ERR Invalid Application {app[0]}\n")
                return
        result = originate(self.switch, dial, None, timeout, cid_name, cid_num)
        leg = result.session
        if leg is None:
            stream.write(f"-ERR {result.cause}\n")
            return
        leg.hit_dialplan = app is None
        if app is not None:
            leg.extension = [app]
            leg.set_state("CS_EXECUTE")
        else:
            leg.caller_profile.dialplan = dialplan
            leg.caller_profile.context = context
            leg.transfer(dest, dialplan, context)
        stream.write(f"+OK {leg.uuid}\n")

    # -- uuid_* -------------------------------------------------------------------------
    def uuid_kill(self, args: str, session: Any, stream: Stream) -> None:
        found = self._lookup(args, stream, "-USAGE: <uuid> [cause]", 1)
        if found is None:
            return
        s, words = found
        s.kill(words[1] if len(words) > 1 else "NORMAL_CLEARING")
        stream.write("+OK\n")

    def uuid_exists(self, args: str, session: Any, stream: Stream) -> None:
        stream.write("true" if self._session(args) is not None else "false")

    def uuid_getvar(self, args: str, session: Any, stream: Stream) -> None:
        found = self._lookup(args, stream, "-USAGE: <uuid> <var>", 2)
        if found is None:
            return
        s, words = found
        v = s.get_variable(words[1])
        stream.write(v if v is not None else "_undef_")

    def uuid_setvar(self, args: str, session: Any, stream: Stream) -> None:
        words = args.split(None, 2)
        if len(words) < 2:
            stream.write("-USAGE: <uuid> <var> [value]\n")
            return
        s = self._session(words[0])
        if s is None:
            stream.write(NO_CHANNEL)
            return
        name = words[1]
        value = words[2] if len(words) > 2 else None
        if value is None and "=" in name:
            name, _, value = name.partition("=")
        s.set_variable(name, value)
        stream.write("+OK\n")

    def uuid_setvar_multi(self, args: str, session: Any, stream: Stream) -> None:
        ident, _, rest = args.partition(" ")
        s = self._session(ident)
        if s is None:
            stream.write(NO_CHANNEL if ident else "-USAGE: <uuid> <var>=<value>;<var>=<value>...\n")
            return
        for pair in rest.split(";"):
            name, eq, value = pair.partition("=")
            if name.strip():
                s.set_variable(name.strip(), value if eq else None)
        stream.write("+OK\n")

    def uuid_dump(self, args: str, session: Any, stream: Stream) -> None:
        found = self._lookup(args, stream, "-USAGE: <uuid> [format]", 1)
        if found is None:
            return
        s, words = found
        from fsd.events import Event

        ev = Event("CHANNEL_DATA", calling_file="mod_commands.c", calling_func="uuid_dump_function")
        s.event_data(ev)
        fmt = words[1].lower() if len(words) > 1 else "txt"
        if fmt == "json":
            stream.write(ev.serialize("json"))
        elif fmt == "xml":
            stream.write(ev.serialize("xml"))
        else:
            stream.write(ev.serialize("plain"))

    def uuid_transfer(self, args: str, session: Any, stream: Stream) -> None:
        found = self._lookup(args, stream, "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]", 2)
        if found is None:
            return
        s, words = found
        targets = [s]
        rest = words[1:]
        if rest[0] in ("-bleg", "-both"):
            targets = [s.peer] if rest[0] == "-bleg" else [s, s.peer]
            rest = rest[1:]
        if not rest:
            stream.write("-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n")
            return
        ok = False
        for t in targets:
            if t is not None:
                ok = t.transfer(rest[0], rest[1] if len(rest) > 1 else None,
                                rest[2] if len(rest) > 2 else None) or ok
        stream.write("+OK\n" if ok else "-ERR No such channel!\n")

    def uuid_bridge(self, args: str, session: Any, stream: Stream) -> None:
        words = args.split()
        if len(words) < 2:
            stream.write("-USAGE: <uuid> <other_uuid>\n")
            return
        a, b = self._session(words[0]), self._session(words[1])
        if a is None or b is None:
            stream.write(f"-ERR Invalid uuid {words[0] if a is None else words[1]}\n")
            return
        a.request_bridge(b)
        stream.write(f"+OK {b.uuid}\n")

    def uuid_send_dtmf(self, args: str, session: Any, stream: Stream) -> None:
        found = self._lookup(args, stream, "-USAGE: <uuid> <dtmf_data>", 2)
        if found is None:
            return
        s, words = found
        digits, _, dur = words[1].partition("@")
        s.send_dtmf(digits, int(dur) if is_digits(dur) else 100)
        stream.write("+OK Success\n")

    def uuid_recv_dtmf(self, args: str, session: Any, stream: Stream) -> None:
        found = self._lookup(args, stream, "-USAGE: <uuid> <dtmf_data>", 2)
        if found is None:
            return
        s, words = found
        digits, _, dur = words[1].partition("@")
        valid = "".join(c for c in digits.upper() if c in "0123456789*#ABCDW")
        s.queue_dtmf(valid.replace("W", ""), int(dur) if is_digits(dur) else 100, source="INBAND_AUDIO")
        stream.write("+OK Success\n")

    def uuid_break(self, args: str, session: Any, stream: Stream) -> None:
        found = self._lookup(args, stream, "-USAGE: <uuid> [all]", 1)
        if found is None:
            return
        s, words = found
        s.break_()
        stream.write("+OK\n")

    def uuid_broadcast(self, args: str, session: Any, stream: Stream) -> None:
        found = self._lookup(args, stream, "-USAGE: <uuid> <path> [aleg|bleg|holdb|both]", 2)
        if found is None:
            return
        s, words = found
        path = words[1]
        leg = words[2].lower() if len(words) > 2 else "aleg"
        if "::" in path:
            app, _, data = path.partition("::")
        else:
            app, data = "playback", path
        targets = [s] if leg == "aleg" else [s.peer] if leg == "bleg" else [s, s.peer]
        for t in targets:
            if t is not None:
                t.break_()
                t.queue_app(app, data, priority=True)
        stream.write("+OK Message sent successfully\n")

    def _on_one(self, args: str, stream: Stream, action) -> None:
        """``<cmd> <uuid>``: run ``action(session)`` and answer ``+OK``."""
        words = args.split()
        s = self._session(words[0]) if words else None
        if s is None:
            stream.write(NO_CHANNEL if words else "-USAGE: <uuid>\n")
            return
        action(s)
        stream.write("+OK\n")

    def uuid_park(self, args: str, session: Any, stream: Stream) -> None:
        def park(s: Session) -> None:
            s.break_()
            s.queue_app("park", "", priority=True)

        self._on_one(args, stream, park)

    def uuid_answer(self, args: str, session: Any, stream: Stream) -> None:
        self._on_one(args, stream, lambda s: s.answer())

    def uuid_pre_answer(self, args: str, session: Any, stream: Stream) -> None:
        self._on_one(args, stream, lambda s: s.pre_answer())

    def hupall(self, args: str, session: Any, stream: Stream) -> None:
        """``hupall [<cause>] [<var> <value>]…``: every channel whose variables match all
        the pairs (none: every channel)."""
        from fsd import causes

        words = args.split()
        cause = causes.str2cause(words[0]) if words else "MANAGER_REQUEST"
        pairs = [(words[i], words[i + 1]) for i in range(1, len(words) - 1, 2)]
        with self.switch.sessions_lock:
            sessions = list(self.switch.sessions.values())
        for s in sessions:
            if all(s.get_variable(k) == v for k, v in pairs):
                s.hangup(cause)
        if not pairs:
            stream.write(f"+OK hangup all channels with cause {cause}\n")
        elif len(pairs) == 1:
            stream.write(f"+OK hangup all channels matching [{pairs[0][0]}]=[{pairs[0][1]}] "
                         f"with cause: {cause}\n")
        else:
            stream.write(f"+OK hangup all channels matching [{pairs[0][0]}]=[{pairs[0][1]}]... "
                         f"with cause: {cause}\n")

    def create_uuid(self, args: str, session: Any, stream: Stream) -> None:
        stream.write(str(uuidlib.uuid4()))


def declare(module: ModuleInterface) -> None:
    c = CallControl(module.switch)
    add = module.add_api
    add("originate", "Originate a call", ORIGINATE_USAGE[8:].strip(), c.originate)
    add("uuid_kill", "Kill channel", "<uuid> [cause]", c.uuid_kill)
    add("uuid_exists", "Check if a uuid exists", "<uuid>", c.uuid_exists)
    add("uuid_getvar", "Get a variable from a channel", "<uuid> <var>", c.uuid_getvar)
    add("uuid_setvar", "Set a variable", "<uuid> <var> [value]", c.uuid_setvar)
    add("uuid_setvar_multi", "Set multiple variables", "<uuid> <var>=<value>;<var>=<value>...", c.uuid_setvar_multi)
    add("uuid_dump", "Dump session vars", "<uuid> [format]", c.uuid_dump)
    add("uuid_transfer", "Transfer a session", "<uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]", c.uuid_transfer)
    add("uuid_bridge", "Bridge call legs", "<uuid> <other_uuid>", c.uuid_bridge)
    add("uuid_send_dtmf", "Send dtmf digits", "<uuid> <dtmf_data>", c.uuid_send_dtmf)
    add("uuid_recv_dtmf", "Receive dtmf digits", "<uuid> <dtmf_data>", c.uuid_recv_dtmf)
    add("uuid_break", "Break out of media sent to channel", "<uuid> [all]", c.uuid_break)
    add("uuid_broadcast", "Execute dialplan application", "<uuid> <path> [aleg|bleg|holdb|both]", c.uuid_broadcast)
    add("uuid_park", "Park channel", "<uuid>", c.uuid_park)
    add("uuid_answer", "answer", "<uuid>", c.uuid_answer)
    add("uuid_pre_answer", "pre_answer", "<uuid>", c.uuid_pre_answer)
    add("hupall", "hupall", "<cause> [<var> <value>]", c.hupall)
    add("create_uuid", "Create a uuid", "", c.create_uuid)
