"""More ``uuid_*`` APIs (mod_commands.c) with FreeSWITCH's replies.  Those about signalling
fsd cannot do without SIP (hold, display, deflect, redirect, media re-INVITEs, INFO) are
handed to the channel's endpoint when it can (``on_indicate``) and otherwise recorded as a
CHANNEL_DATA event, answering as FreeSWITCH does when the endpoint accepts the message."""

from __future__ import annotations

from typing import Any

from fsd import limit
from fsd.log import level_from_str
from fsd.numbers import is_digits
from fsd.separate import separate_string

SESS_REC_SYNTAX = "<uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]"
LIMIT_SYNTAX = "<uuid> <backend> <realm> <resource> [<max>[/interval]] [number [dialplan [context]]]"
LIMIT_RELEASE_SYNTAX = "<uuid> <backend> [realm] [resource]"
DUAL_TRANSFER_SYNTAX = ("<uuid> <A-dest-exten>[/<A-dialplan>][/<A-context>] "
                        "<B-dest-exten>[/<B-dialplan>][/<B-context>]")


def _indicate(session: Any, what: str, data: str = "") -> bool:
    tech = getattr(session, "tech", None)
    handler = getattr(tech, "on_indicate", None)
    ok = True
    if callable(handler):
        try:
            res = handler(session, what, data)
            ok = res is not False
        except Exception:  # noqa: BLE001 - reported as a failed operation
            ok = False
    ev = session.new_event("CHANNEL_DATA")
    ev.add_header("Indication", what)
    ev.add_header("Indication-Data", data)
    session.switch.events.fire(ev)
    return ok


class UuidApis:
    def __init__(self, switch: Any) -> None:
        self.switch = switch

    def _s(self, uuid: str) -> Any:
        return self.switch.sessions.get(uuid or "")

    # -- media -------------------------------------------------------------------------
    def _app(self, name: str) -> Any:
        """Another module's application through the registry (modules never import each
        other): ``record_session`` and ``limit`` are mod_dptools'."""
        iface = self.switch.applications.get(name)
        return iface.func if iface is not None else None

    def uuid_record(self, args: str, session: Any, stream: Any) -> None:
        argv = separate_string(args or "", " ", 5)
        if len(argv) < 3:
            stream.write(f"-USAGE: {SESS_REC_SYNTAX}\n")
            return
        s = self._s(argv[0])
        if s is None:
            stream.write("-ERR Cannot locate session!\n")
            return
        action, path = argv[1].lower(), argv[2]
        port = getattr(s, "media", None)
        if action == "start":
            record = self._app("record_session")
            if port is None or record is None:
                stream.write("-ERR Cannot record session!\n")
                return
            record(s, path)
            stream.write("+OK Success\n")
        elif action == "stop":
            if port is None:
                stream.write("-ERR Cannot stop record session!\n")
                return
            from fsd import session_media as sm

            target = path if path == "all" else sm.record_path(s, path)
            ok = port.stop_record_session(target)
            stream.write("+OK Success\n" if ok else "-ERR Cannot stop record session!\n")
        elif action in ("mask", "unmask", "pause", "resume"):
            stream.write(f"-ERR Cannot {action} recording session!\n")
        else:
            stream.write(f"-USAGE: {SESS_REC_SYNTAX}\n")

    def uuid_buglist(self, args: str, session: Any, stream: Any) -> None:
        s = self._s((args or "").strip())
        if s is None:
            stream.write("-USAGE: <uuid>\n")
            return
        port = getattr(s, "media", None)
        recs = list(getattr(port, "_session_recorders", []) or []) if port is not None else []
        recs = [r for r in recs if getattr(r, "writer", None) is not None]
        stream.write("<media-bugs>\n")
        for r in recs:
            stream.write(f"  <media-bug>\n    <function>session_record</function>\n"
                         f"    <target>{getattr(r, 'path', '')}</target>\n"
                         f"    <thread-locked>0</thread-locked>\n  </media-bug>\n")
        stream.write("</media-bugs>\n")

    def uuid_flush_dtmf(self, args: str, session: Any, stream: Any) -> None:
        s = self._s((args or "").strip())
        if s is None:
            stream.write("-ERR No such session\n")
            return
        s.flush_dtmf()
        stream.write("+OK\n")

    def uuid_audio(self, args: str, session: Any, stream: Any) -> None:
        argv = (args or "").split()
        if len(argv) < 2 or argv[1] not in ("start", "stop"):
            stream.write("-USAGE: <uuid> [start [read|write] [mute|level <level>]|stop]\n")
            return
        s = self._s(argv[0])
        if s is None:
            stream.write("-ERR No such channel!\n")
            return
        if argv[1] == "start" and len(argv) >= 5:
            s.set_variable(f"audio_{argv[3]}_{argv[2]}", argv[4])
        elif argv[1] == "stop":
            for k in ("level_read", "level_write", "mute_read", "mute_write"):
                s.set_variable(f"audio_{k}", None)
        stream.write("+OK\n")

    # -- limits ------------------------------------------------------------------------
    def uuid_limit(self, args: str, session: Any, stream: Any) -> None:
        argv = (args or "").split()
        if len(argv) < 4:
            stream.write(f"USAGE: uuid_limit {LIMIT_SYNTAX}\n")
            return
        s = self._s(argv[0])
        if s is None:
            stream.write(f"-ERR Cannot find session with uuid {argv[0]}\n")
            return
        limit_app = self._app("limit")
        if limit_app is None:
            stream.write("-ERR the limit application is not loaded (mod_dptools)\n")
            return
        limit_app(s, " ".join(argv[1:]))
        stream.write("+OK")

    def uuid_limit_release(self, args: str, session: Any, stream: Any) -> None:
        argv = (args or "").split()
        if len(argv) < 2:
            stream.write(f"USAGE: uuid_limit_release {LIMIT_RELEASE_SYNTAX}\n")
            return
        s = self._s(argv[0])
        if s is None:
            stream.write(f"-ERR Cannot find session with uuid {argv[0]}\n")
            return
        limit.release(self.switch, argv[1], s, argv[2] if len(argv) > 2 else None,
                      argv[3] if len(argv) > 3 else None)
        stream.write("+OK")

    # -- call control ------------------------------------------------------------------
    def uuid_dual_transfer(self, args: str, session: Any, stream: Any) -> None:
        argv = (args or "").split()
        if len(argv) != 3:
            stream.write(f"-USAGE: {DUAL_TRANSFER_SYNTAX}\n")
            return
        s = self._s(argv[0])
        other = s.peer if s is not None else None
        if s is None or other is None:
            stream.write("-ERR No such channel!\n")
            return
        a = (argv[1].split("/") + [None, None])[:3]
        b = (argv[2].split("/") + [None, None])[:3]
        s.transfer(a[0], a[1], a[2])
        other.transfer(b[0], b[1], b[2])
        stream.write("+OK\n")

    def uuid_outgoing_answer(self, args: str, session: Any, stream: Any) -> None:
        s = self._s((args or "").strip())
        if not args:
            stream.write("-USAGE: <uuid>\n")
        elif s is None:
            stream.write("-ERR No such channel!\n")
        elif s.direction != "outbound":
            stream.write("-ERR Not an outbound channel!\n")
        else:
            s.answer()
            stream.write("+OK\n")

    def uuid_ring_ready(self, args: str, session: Any, stream: Any) -> None:
        argv = (args or "").split()
        if not argv:
            stream.write("-USAGE: <uuid> [queued]\n")
            return
        s = self._s(argv[0])
        if s is None:
            stream.write("-ERROR\n")
            return
        s.ring_ready()
        stream.write("+OK\n")

    def uuid_early_ok(self, args: str, session: Any, stream: Any) -> None:
        s = self._s((args or "").strip())
        if s is None:
            stream.write("-ERROR\n")
            return
        s.set_variable("ignore_early_media", "false")
        stream.write("+OK\n")

    def uuid_session_heartbeat(self, args: str, session: Any, stream: Any) -> None:
        argv = (args or "").split()
        if not argv:
            stream.write("-USAGE: uuid_session_heartbeat <uuid> [sched] [0|<seconds>]\n")
            return
        s = self._s(argv[0])
        if s is None:
            stream.write("-ERR Cannot locate session. USAGE: uuid_session_heartbeat "
                         "<uuid> [sched] [0|<seconds>]\n")
            return
        from fsd.scheduler import enable_heartbeat

        secs = int(argv[-1]) if len(argv) > 1 and is_digits(argv[-1]) else 60
        s.set_variable("enable_heartbeat_events", str(secs) if secs else None)
        enable_heartbeat(self.switch, s, secs)
        stream.write("+OK\n")

    def uuid_zombie_exec(self, args: str, session: Any, stream: Any) -> None:
        s = self._s((args or "").strip())
        if s is None:
            stream.write("-ERR no such session\n")
            return
        s.set_variable("zombie_exec", "true")
        stream.write("+OK MMM Brains...\n")

    def uuid_loglevel(self, args: str, session: Any, stream: Any) -> None:
        argv = (args or "").split()
        if len(argv) < 2:
            stream.write("-USAGE: <uuid> <level>\n")
            return
        s = self._s(argv[0])
        if s is None:
            stream.write(f"-ERR No such channel {argv[0]}!\n")
            return
        lvl = level_from_str(argv[1], None)
        if lvl is None:
            stream.write("-ERR Invalid log level!\n")
            return
        s.set_private("loglevel", lvl)
        stream.write("+OK\n")

    def uuid_set_media_stats(self, args: str, session: Any, stream: Any) -> None:
        s = self._s((args or "").strip())
        if not args:
            stream.write("-USAGE: <uuid>\n")
        elif s is None:
            stream.write(f"-ERR No such channel {args.strip()}!\n")
        else:
            port = getattr(s, "media", None)
            if port is not None:
                s.set_variable("rtp_audio_in_media_packet_count", str(port.frames_in))
                s.set_variable("rtp_audio_out_media_packet_count", str(port.frames_out))
            stream.write("+OK:\n")

    def uuid_fileman(self, args: str, session: Any, stream: Any) -> None:
        uuid, _, cmd = (args or "").partition(" ")
        if not cmd:
            stream.write("-USAGE: <uuid> <cmd>:<val>\n")
            return
        s = self._s(uuid)
        if s is None:
            stream.write("-ERR No such channel!\n")
            return
        port = getattr(s, "media", None)
        if port is None or getattr(port, "_playback", None) is None:
            stream.write("-ERR No file handle!\n")
            return
        op = cmd.partition(":")[0].lower()
        if op == "stop":
            port.break_media()
        stream.write("+OK\n")

    # -- messages to the endpoint ------------------------------------------------------
    def _message(self, args: str, stream: Any, what: str, usage: str, ok_text: str,
                 fail_text: str = "-ERR Operation failed\n", need_data: bool = True) -> None:
        uuid, _, data = (args or "").strip().partition(" ")
        if not uuid or (need_data and not data):
            stream.write(f"-USAGE: {usage}\n")
            return
        s = self._s(uuid)
        if s is None:
            stream.write(f"-ERR No such channel {uuid}!\n" if "%s" in ok_text or ok_text.startswith("+OK:")
                         else fail_text)
            return
        stream.write(ok_text.replace("%s", "") if _indicate(s, what, data) else fail_text)

    def uuid_hold(self, args: str, session: Any, stream: Any) -> None:
        words = (args or "").split()
        if not words:
            stream.write("-USAGE: [off|toggle] <uuid> [<display>]\n")
            return
        what = "HOLD"
        if words[0] in ("off", "toggle"):
            what = "UNHOLD" if words[0] == "off" else "HOLD_TOGGLE"
            words = words[1:]
        s = self._s(words[0]) if words else None
        if s is None:
            stream.write("-ERR Operation failed\n")
            return
        if what == "HOLD_TOGGLE":
            what = "UNHOLD" if s.get_variable("fsd_on_hold") == "true" else "HOLD"
        s.set_variable("fsd_on_hold", "true" if what == "HOLD" else None)
        _indicate(s, what, " ".join(words[1:]))
        stream.write("+OK Success\n")

    def uuid_display(self, args: str, session: Any, stream: Any) -> None:
        self._message(args, stream, "DISPLAY", "<uuid> <display>", "+OK Success\n")

    def uuid_deflect(self, args: str, session: Any, stream: Any) -> None:
        self._message(args, stream, "DEFLECT", "<uuid> <uri>", "+OK:%s\n")

    def uuid_redirect(self, args: str, session: Any, stream: Any) -> None:
        self._message(args, stream, "REDIRECT", "<uuid> <uri>", "+OK:%s\n")

    def uuid_send_info(self, args: str, session: Any, stream: Any) -> None:
        self._message(args, stream, "INFO", "<uuid> [<mime_type> <mime_subtype>] <message>",
                      "+OK Success\n", "-ERR Operation Failed\n")

    def uuid_phone_event(self, args: str, session: Any, stream: Any) -> None:
        self._message(args, stream, "PHONE_EVENT", "<uuid>", "+OK Success\n", need_data=False)

    def uuid_simplify(self, args: str, session: Any, stream: Any) -> None:
        self._message(args, stream, "SIMPLIFY", "<uuid>", "+OK Success\n", need_data=False)

    def uuid_media(self, args: str, session: Any, stream: Any) -> None:
        words = (args or "").split()
        off = bool(words) and words[0] == "off"
        uuid = words[1] if off and len(words) > 1 else (words[0] if words else "")
        if not uuid:
            stream.write("-USAGE: [off] <uuid>\n")
            return
        s = self._s(uuid)
        # fsd always has the media in its path: "media on" succeeds, "off" cannot
        ok = s is not None and not off
        if s is not None:
            _indicate(s, "NOMEDIA" if off else "MEDIA")
        stream.write("+OK Success\n" if ok else "-ERR Operation failed\n")

    def uuid_video_refresh(self, args: str, session: Any, stream: Any) -> None:
        words = (args or "").split()
        if not words:
            stream.write("-USAGE: <uuid> [auto|manual]\n")
            return
        s = self._s(words[0])
        if s is None:
            stream.write("-ERR Operation Failed\n")
            return
        if len(words) > 1 and words[1] in ("auto", "manual"):
            stream.write(f"{s.name} video refresh now in {words[1]} mode.\n")
            return
        stream.write("+OK Success\n")

    def uuid_chat(self, args: str, session: Any, stream: Any) -> None:
        uuid, _, text = (args or "").strip().partition(" ")
        if not uuid or not text:
            stream.write("-USAGE: <uuid> <text>\n")
            return
        s = self._s(uuid)
        if s is None:
            stream.write(f"-ERR No such channel {uuid}!\n")
            return
        ev = s.new_event("MESSAGE")
        ev.add_header("Proto", "fsd")
        ev.add_header("Delivery-Failure", "false")
        ev.add_header("Body", text)
        self.switch.events.fire(ev)
        stream.write("+OK\n")


def _drop_filter(session: Any, digit: str, duration_ms: int) -> bool:
    return session.get_variable("drop_dtmf") == "true"


def uuid_drop_dtmf(switch: Any, args: str, stream: Any) -> None:
    """``uuid_drop_dtmf <uuid> [on|off] [mask_digits <d>|mask_file <f>]`` (mod_commands.c
    wants all four words).  Dropped digits never reach the channel's applications or
    bridge; the masks are recorded in the variables (no masking tones are generated)."""
    syntax = "-USAGE: <uuid> [on | off ] [ mask_digits <digits> | mask_file <file>]\n"
    argv = (args or "").split()
    if len(argv) < 4:
        stream.write(syntax)
        return
    s = switch.sessions.get(argv[0])
    if s is None:
        stream.write(f"-ERR No such channel {argv[0]}!\n")
        return
    s.set_variable("drop_dtmf_masking_digits", None)
    s.set_variable("drop_dtmf_masking_file", None)
    if argv[2].lower() == "mask_digits":
        s.set_variable("drop_dtmf_masking_digits", argv[3])
    elif argv[2].lower() == "mask_file":
        s.set_variable("drop_dtmf_masking_file", argv[3])
    else:
        stream.write(syntax)
        return
    on = argv[1].lower() == "on"
    s.set_variable("drop_dtmf", "true" if on else "false")
    filters = getattr(switch, "dtmf_filters", None)
    if filters is None:
        filters = []
        switch.dtmf_filters = filters
    if _drop_filter not in filters:
        filters.insert(0, _drop_filter)
    stream.write(f"+OK {argv[0]} is {'dropping' if on else 'not dropping'} DTMF. mask_file: "
                 f"{s.get_variable('drop_dtmf_masking_file') or 'NONE'} mask_digits: "
                 f"{s.get_variable('drop_dtmf_masking_digits') or 'NONE'}\n")


def declare(module: Any) -> None:
    u = UuidApis(module.switch)
    add = module.add_api
    add("uuid_record", "Record session audio", SESS_REC_SYNTAX, u.uuid_record)
    add("uuid_buglist", "List media bugs on a session", "<uuid>", u.uuid_buglist)
    add("uuid_flush_dtmf", "Flush dtmf on a given uuid", "<uuid>", u.uuid_flush_dtmf)
    add("uuid_audio", "uuid_audio", "<uuid> [start [read|write] [mute|level <level>]|stop]", u.uuid_audio)
    add("uuid_limit", "Increase limit resource", LIMIT_SYNTAX, u.uuid_limit)
    add("uuid_limit_release", "Release limit resource", LIMIT_RELEASE_SYNTAX, u.uuid_limit_release)
    add("uuid_dual_transfer", "Transfer a session and its partner", DUAL_TRANSFER_SYNTAX,
        u.uuid_dual_transfer)
    add("uuid_outgoing_answer", "Answer outgoing channel", "<uuid>", u.uuid_outgoing_answer)
    add("uuid_ring_ready", "Sending ringing to a channel", "<uuid> [queued]", u.uuid_ring_ready)
    add("uuid_early_ok", "stop ignoring early media", "<uuid>", u.uuid_early_ok)
    add("uuid_session_heartbeat", "uuid_session_heartbeat", "<uuid> [sched] [0|<seconds>]",
        u.uuid_session_heartbeat)
    add("uuid_zombie_exec", "Set zombie_exec flag on the specified uuid", "<uuid>", u.uuid_zombie_exec)
    add("uuid_loglevel", "Set loglevel on session", "<uuid> <level>", u.uuid_loglevel)
    add("uuid_set_media_stats", "Set media stats", "<uuid>", u.uuid_set_media_stats)
    add("uuid_fileman", "Manage session audio", "<uuid> <cmd>:<val>", u.uuid_fileman)
    add("uuid_hold", "Place call on hold", "[off|toggle] <uuid> [<display>]", u.uuid_hold)
    add("uuid_display", "Update phone display", "<uuid> <display>", u.uuid_display)
    add("uuid_deflect", "Send a deflect", "<uuid> <uri>", u.uuid_deflect)
    add("uuid_redirect", "Send a redirect", "<uuid> <uri>", u.uuid_redirect)
    add("uuid_send_info", "Send info to the endpoint", "<uuid> [<mime_type> <mime_subtype>] <message>",
        u.uuid_send_info)
    add("uuid_phone_event", "Send an event to the phone", "<uuid>", u.uuid_phone_event)
    add("uuid_simplify", "Try to cut out of a call path / attended xfer", "<uuid>", u.uuid_simplify)
    add("uuid_media", "Reinvite FS in or out of media path", "[off] <uuid>", u.uuid_media)
    add("uuid_video_refresh", "Send video refresh.", "<uuid> [auto|manual]", u.uuid_video_refresh)
    add("uuid_chat", "Send a chat message", "<uuid> <text>", u.uuid_chat)
    add("uuid_drop_dtmf", "Drop all DTMF or replace it with a mask",
        "<uuid> [on | off ] [ mask_digits <digits> | mask_file <file>]",
        lambda args, session, stream: uuid_drop_dtmf(module.switch, args, stream))


__all__ = ["declare"]
