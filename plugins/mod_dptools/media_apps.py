"""mod_dptools' media applications: playback, record, read, say, phrase, speak, tones, echo,
and the media-aware sleep/park/send_dtmf.  They are thin: argument parsing FreeSWITCH's way,
then a call into :mod:`fsd.session_media`, which does the waiting on the channel's port.

Bad input (a missing file, a truncated WAV, an unknown tone, an unknown say type) is logged
with the reason and the application returns; the call goes on.
"""

from __future__ import annotations

from typing import Any

from fsd import session_media as sm
from fsd.log import ERR, WARNING, log
from fsd.media.errors import MediaError
from fsd.module import ModuleInterface

ALL_DIGITS = "1234567890*#"


# ---------------------------------------------------------------------------- helpers
def separate(data: str) -> list[str]:
    """switch_separate_string on spaces: quotes group words and are removed."""
    out: list[str] = []
    cur: list[str] = []
    quote = ""
    has = False
    for ch in data:
        if quote:
            if ch == quote:
                quote = ""
            else:
                cur.append(ch)
            continue
        if ch in "'\"":
            quote, has = ch, True
            continue
        if ch == " ":
            if cur or has:
                out.append("".join(cur))
                cur, has = [], False
            continue
        cur.append(ch)
    if cur or has:
        out.append("".join(cur))
    return out


def _int(text: str | None, default: int = 0) -> int:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return default


def _float(text: str | None, default: float = 0.0) -> float:
    try:
        return float(str(text).strip())
    except (TypeError, ValueError):
        return default


def playback_terminators(session: Any) -> str:
    """``playback_terminators``: default ``*``, ``none`` for none, ``any`` for all keys."""
    value = session.get_variable("playback_terminators")
    if value is None:
        return "*"
    if value.lower() == "none":
        return ""
    if value.lower() == "any":
        return ALL_DIGITS
    return value


def _usage(session: Any, app: str, syntax: str) -> None:
    log(ERR, f"{app}: usage: {app} {syntax}", uuid=session.uuid)


def _response(session: Any, text: str) -> None:
    session.set_variable("current_application_response", text)


# ---------------------------------------------------------------------------- playback
def playback(session: Any, data: str) -> None:
    """``playback <file>[@@<start sample>]``."""
    name = data.strip()
    start = 0
    if "@@" in name:
        name, _, pos = name.rpartition("@@")
        start = max(0, _int(pos))
    session.set_variable("playback_terminator_used", None)
    if not name:
        _usage(session, "playback", "<path>")
        _response(session, "PLAYBACK ERROR")
        return
    res = sm.play_file(session, name, terminators=playback_terminators(session),
                       start_sample=start)
    if res.terminator:
        session.set_variable("playback_terminator_used", res.terminator)
    session.set_variable("playback_samples", str(res.samples))
    session.set_variable("playback_last_offset_pos", str(start + res.samples))
    if res.status == "error":
        missing = any("not found" in e for e in res.errors)
        _response(session, "FILE NOT FOUND" if missing else "PLAYBACK ERROR")
    else:
        _response(session, "FILE PLAYED")


def endless_playback(session: Any, data: str) -> None:
    name = data.strip()
    if not name:
        _usage(session, "endless_playback", "<path>")
        return
    while session.up() and not session.transferring:
        res = sm.play_file(session, name)
        if res.status != "done":
            break


def loop_playback(session: Any, data: str) -> None:
    """``loop_playback [+<loops>] <file>`` (a negative count loops until hangup)."""
    text = data.strip()
    loops = 1
    if text.startswith("+"):
        count, _, text = text[1:].partition(" ")
        if not count:
            log(ERR, f"Missing loop in data [{data}]", uuid=session.uuid)
            session.hangup("DESTINATION_OUT_OF_ORDER")
            return
        loops = _int(count, 1)
        text = text.strip()
    if not text:
        log(ERR, f"Missing file arg in data [{data}]", uuid=session.uuid)
        session.hangup("DESTINATION_OUT_OF_ORDER")
        return
    status = "done"
    while session.up() and not session.transferring and (loops < 0 or loops > 0):
        loops -= 1 if loops > 0 else 0
        res = sm.play_file(session, text)
        status = res.status
        if status not in ("done", "break"):
            break
    _response(session, "PLAYBACK ERROR" if status == "error" else "FILE PLAYED")


def gentones(session: Any, data: str) -> None:
    """``gentones <tone script>[|<loops>]`` (libteletone syntax, no tone_stream://)."""
    script, _, loops = data.strip().partition("|")
    if not script.strip():
        _usage(session, "gentones", "<tone_script>[|<loops>]")
        return
    n = _int(loops, 0) if loops else 0
    name = script if script.startswith("tone_stream://") else f"tone_stream://{script}"
    if n:
        name += f";loops={-1 if n < 0 else n}"
    sm.play_file(session, name)


def echo(session: Any, data: str) -> None:
    port = sm._port(session)
    if port is None:
        return
    sm._pre_answer(session)
    port.echo()


def sleep(session: Any, data: str) -> None:
    """``sleep <ms>``: reads media; digits stay queued unless ``sleep_eat_digits``."""
    text = data.strip()
    if not text:
        log(ERR, "sleep: No timeout specified.", uuid=session.uuid)
        return
    ms = _int(text, -1)
    if ms < 0:
        log(WARNING, f"sleep: invalid duration [{data}]", uuid=session.uuid)
        return
    port = sm._port(session)
    if port is None:
        session.sleep(ms)
        return
    eat = (lambda d: None) if session.var_true("sleep_eat_digits") else None
    port.sleep(ms, on_dtmf=eat)


def park(session: Any, data: str) -> None:
    """Park: service queued messages until transferred, bridged or hung up, taking digits
    off the queue as they come (each fires its DTMF event, as FreeSWITCH's park loop)."""
    if not session.enter_state("CS_PARK"):
        return  # hung up or transferred meanwhile
    session.fire("CHANNEL_PARK")
    port = sm._port(session)
    while session.hangup_cause is None and session.state == "CS_PARK":
        if session.has_messages():
            session.process_messages()
            continue
        if port is not None and port.has_dtmf():
            port.get_dtmf(0)
            continue
        # Digits from endpoints and uuid_recv_dtmf, messages, transfer and hangup wake the
        # session; inband-detected digits only wake the port, so poll only while detecting.
        slice_ = 0.1 if port is not None and port._detector is not None else None
        with session.cond:
            if (session.hangup_cause is None and session.state == "CS_PARK"
                    and not session.has_messages()
                    and not (port is not None and port.has_dtmf())):
                session.cond.wait(slice_)
    if session.up():
        session.fire("CHANNEL_UNPARK")


# ---------------------------------------------------------------------------- DTMF
def send_dtmf(session: Any, data: str) -> None:
    """``send_dtmf <digits>[@<ms>]``: out of band through the endpoint, or as tones in the
    audio when the channel's ``dtmf_type`` is ``inband``."""
    digits, _, dur = data.strip().partition("@")
    ms = _int(dur, 100) if dur else 100
    if not digits:
        _usage(session, "send_dtmf", "<dtmf_data>")
        return
    if (session.get_variable("dtmf_type") or "").lower() == "inband":
        sm.play_inband_dtmf(session, digits, ms)
    else:
        session.send_dtmf(digits, ms)


def flush_dtmf(session: Any, data: str) -> None:
    session.flush_dtmf()


def start_dtmf(session: Any, data: str) -> None:
    """Detect inband DTMF on the caller's audio."""
    port = sm._port(session)
    if port is not None:
        port.set_inband_detection(True)


def stop_dtmf(session: Any, data: str) -> None:
    port = sm._port(session)
    if port is not None:
        port.set_inband_detection(False)


def break_app(session: Any, data: str) -> None:
    if data.strip().lower() == "all":
        session.flush_events()
    port = sm._port(session)
    if port is not None:
        port.break_media()


# ---------------------------------------------------------------------------- recording
def record(session: Any, data: str) -> None:
    """``record <path> [<time_limit_secs>] [<silence_thresh>] [<silence_hits>]``."""
    args = separate(data.strip())
    if not args:
        _usage(session, "record", "<path> [<time_limit_secs>] [<silence_thresh>] [<silence_hits>]")
        return
    limit = _float(args[1]) if len(args) > 1 else 0.0
    thresh = _float(args[2]) if len(args) > 2 else 0.0
    hits = _float(args[3]) if len(args) > 3 else 0.0
    session.set_variable("playback_terminator_used", None)
    res = sm.record_file(session, args[0], limit, thresh, hits,
                         terminators=playback_terminators(session))
    if res is None:
        _response(session, "RECORD ERROR")
        return
    if res.terminator:
        session.set_variable("playback_terminator_used", res.terminator)
    _response(session, "RECORD OK")


def record_session(session: Any, data: str) -> None:
    path = data.strip()
    port = sm._port(session)
    if not path or port is None:
        _usage(session, "record_session", "<path>")
        return
    full = sm.record_path(session, path)
    try:
        import os

        os.makedirs(os.path.dirname(full) or ".", exist_ok=True)
        port.record_session(full)
    except (MediaError, OSError, RuntimeError) as exc:
        log(ERR, f"record_session {full}: {exc}", uuid=session.uuid)


def stop_record_session(session: Any, data: str) -> None:
    port = sm._port(session)
    if port is None:
        return
    path = data.strip() or "all"
    if path != "all":
        path = sm.record_path(session, path)
    if not port.stop_record_session(path):
        log(WARNING, f"stop_record_session: no recording of {path}", uuid=session.uuid)


# ---------------------------------------------------------------------------- digits
def read(session: Any, data: str) -> None:
    """``read <min> <max> <sound file> <variable name> <timeout> <terminators> [digit_timeout]``."""
    args = separate(data.strip())
    if not args:
        _usage(session, "read", "<min> <max> <file> <var_name> <timeout> <terminators> [<digit_timeout>]")
        return
    min_d = max(1, _int(args[0], 0))
    max_d = _int(args[1], 0) if len(args) > 1 else 0
    prompt = args[2] if len(args) > 2 else ""
    var = args[3] if len(args) > 3 else None
    timeout = _int(args[4], 0) if len(args) > 4 else 0
    terms = args[5] if len(args) > 5 else ""
    digit_timeout = max(0, _int(args[6], 0)) if len(args) > 6 else 0
    max_d = max(max_d, min_d)
    timeout = max(timeout, 1000)
    terms = terms or "#"
    sm.read_into(session, min_d, max_d, prompt, var, timeout, terms, digit_timeout)


def play_and_get_digits(session: Any, data: str) -> None:
    """``play_and_get_digits <min> <max> <tries> <timeout> <terminators> <file>
    <invalid_file> <var_name> <regexp> [<digit_timeout>] ['<ext> [<dp> [<ctx>]]']``."""
    args = separate(data.strip())
    if len(args) < 6:
        _usage(session, "play_and_get_digits",
               "<min> <max> <tries> <timeout> <terminators> <file> <invalid_file> <var_name> "
               "<regexp> [<digit_timeout>] ['<failure_ext> [failure_dp [failure_context]]']")
        return
    min_d = max(0, _int(args[0]))
    max_d = max(_int(args[1]), min_d)
    tries = _int(args[2], 1)
    timeout = max(_int(args[3]), 1000)
    terms = args[4] or "#"
    prompt = args[5]
    bad = args[6] if len(args) > 6 else ""
    var = args[7] if len(args) > 7 else None
    rx = args[8] if len(args) > 8 else None
    digit_timeout = max(0, _int(args[9])) if len(args) > 9 else 0
    xfer = args[10] if len(args) > 10 else None
    sm.play_and_get_digits(session, min_d, max_d, tries, timeout, terms, prompt, bad, rx, var,
                           digit_timeout, xfer)


# ---------------------------------------------------------------------------- say / phrase / TTS
def say(session: Any, data: str) -> None:
    """``say <module_name>[:<lang>] <say_type> <say_method> [<gender>] <text>``."""
    args = separate(data.strip())
    if len(args) not in (4, 5):
        _usage(session, "say", "<module_name>[:<lang>] <say_type> <say_method> [<gender>] <text>")
        return
    text = args[3] if len(args) == 4 else args[4]
    gender = args[3] if len(args) == 5 else ""
    module = args[0] if ":" in args[0] else f"{args[0]}:{args[0]}"
    session.set_variable("playback_terminator_used", None)
    res = sm.say(session, text, module, args[1], args[2], gender,
                 terminators=playback_terminators(session))
    if res.terminator:
        session.set_variable("playback_terminator_used", res.terminator)


def phrase(session: Any, data: str) -> None:
    """``phrase <macro_name>[@<lang>][,<data>]`` (language from ``language``, else en)."""
    macro, _, mdata = data.strip().partition(",")
    if not macro.strip():
        _usage(session, "phrase", "<macro_name>,<data>")
        return
    session.set_variable("playback_terminator_used", None)
    res = sm.say_phrase(session, macro.strip(), mdata, None,
                        terminators=playback_terminators(session))
    if res.terminator:
        session.set_variable("playback_terminator_used", res.terminator)


def speak(session: Any, data: str) -> None:
    """``speak [<engine>|][<voice>|]<text>``; missing parts from tts_engine / tts_voice."""
    text = data.strip()
    if not text:
        _usage(session, "speak", "<engine>|<voice>|<text>")
        return
    parts = text.split("|", 2)
    engine = voice = None
    if len(parts) == 2:
        voice, text = parts
    elif len(parts) == 3:
        engine, voice, text = parts
    engine = engine or session.get_variable("tts_engine")
    voice = voice or session.get_variable("tts_voice")
    if not engine or not voice or not text:
        log(ERR, "speak: Invalid Params! (need an engine, a voice and text)", uuid=session.uuid)
        return
    sm.speak(session, text, engine=engine, voice=voice,
             terminators=playback_terminators(session))


def set_tts_params(session: Any, data: str) -> None:
    """``set_tts_params <engine>[|<voice>]`` (a comma works too)."""
    sep = "|" if "|" in data else ","
    engine, _, voice = data.strip().partition(sep)
    if not engine.strip():
        _usage(session, "set_tts_params", "<engine>|<voice>")
        return
    session.set_variable("tts_engine", engine.strip())
    if voice.strip():
        session.set_variable("tts_voice", voice.strip())


# ---------------------------------------------------------------------------- declare
def declare(module: ModuleInterface) -> None:
    add = module.add_application
    add("playback", playback, "Playback File", "<path>")
    add("endless_playback", endless_playback, "Playback File Endlessly", "<path>")
    add("loop_playback", loop_playback, "Playback File looply", "[+loops] <path>")
    add("gentones", gentones, "Generate Tones", "<tgml_script>[|<loops>]")
    add("echo", echo, "Echo", "")
    add("sleep", sleep, "Pause a channel", "<pausemilliseconds>")
    add("park", park, "Park", "")
    add("send_dtmf", send_dtmf, "Send dtmf to be sent", "<dtmf_data>")
    add("flush_dtmf", flush_dtmf, "flush any queued dtmf", "")
    add("start_dtmf", start_dtmf, "Detect dtmf", "")
    add("stop_dtmf", stop_dtmf, "stop inband dtmf", "")
    add("break", break_app, "Break", "[all]")
    add("record", record, "Record File",
        "<path> [<time_limit_secs>] [<silence_thresh>] [<silence_hits>]")
    add("record_session", record_session, "Record Session", "<path>")
    add("stop_record_session", stop_record_session, "Stop Record Session", "<path>")
    add("read", read, "Read Digits",
        "<min> <max> <file> <var_name> <timeout> <terminators> <digit_timeout>")
    add("play_and_get_digits", play_and_get_digits, "Play and get Digits",
        "<min> <max> <tries> <timeout> <terminators> <file> <invalid_file> <var_name> "
        "<regexp> [<digit_timeout>] ['<failure_ext> [failure_dp [failure_context]]']")
    add("say", say, "say", "<module_name>[:<lang>] <say_type> <say_method> [<gender>] <text>")
    add("phrase", phrase, "Say a Phrase", "<macro_name>,<data>")
    add("speak", speak, "Speak text", "<engine>|<voice>|<text>")
    add("set_tts_params", set_tts_params, "Set TTS parameters", "<engine>|<voice>")
    from fsd.media.files import FORMATS

    for ext, fmt in sorted(FORMATS.items()):
        module.add_file_format(ext, fmt.reader, fmt.writer)
