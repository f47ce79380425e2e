"""Media for sessions: one MediaPort per channel, and the blocking media operations that
dialplan applications and language modules (mod_lua) call on a session.

Functions for language modules (all run in the session's own thread and block only it;
none raises for bad media input: errors are logged and reported in the result):

    InputCallback = Callable[[str, Any], str | None]
        called as on_input("dtmf", DTMF) or on_input("event", Event); its string result
        is processed as §4.5 (None/""/"true"/"undefined" continue; file-handle commands
        "pause", "seek:+ms", "speed:+n", "volume:-n", "restart" act and continue; "stop",
        "truncate" and anything else stop).  An exception counts as "SCRIPT_ERROR" (stops).

    stream_file(session, path, start_sample=0, on_input=None) -> PlaybackResult
        streamFile.  Pre-answers.  Without on_input digits stay queued.  result.ok is
        False for hangup/error; result.status is done, break, hangup or error.
    sleep(session, ms, on_input=None) -> str                  "done" | "break" | "hangup"
    record_file(session, path, max_secs=0, silence_thresh=0, silence_secs=0,
                on_input=None) -> RecordResult | None
        recordFile.  result.ended_normally is what recordFile returns 1 for.  Sets
        silence_hits_exhausted, record_ms, record_samples.  None when the file cannot be
        opened (logged).
    get_digits(session, maxdigits, terminators, timeout, interdigit=0, abstimeout=0)
        -> tuple[str, str, str]                               (digits, terminator, status)
    read(session, min_digits, max_digits, prompt, timeout, terminators,
         digit_timeout=0) -> str
    play_and_get_digits(session, min_digits, max_digits, max_tries, timeout, terminators,
                        prompt, bad_prompt, digits_regex, var_name=None, digit_timeout=0,
                        transfer_on_failure=None) -> str
    say(session, text, module_name, say_type, say_method, gender="", on_input=None)
        -> PlaybackResult          module_name is "en" or "en:<language>"
    say_phrase(session, name, data="", lang=None, on_input=None) -> PlaybackResult
    speak(session, text, on_input=None) -> PlaybackResult
        uses set_tts_params / tts_engine + tts_voice; status "error" when no engine.
    set_tts_params(session, engine, voice) -> None
    collect_digits(session, digit_timeout, abs_timeout, on_input) -> str
        "done" (no callback) | "break" | "timeout" | "hangup"
    insert_file(session, orig, insert, sample_pos) -> bool
    flush_digits(session) -> None
    play_file(session, name, **kw) -> PlaybackResult
        what every prompt goes through: plain files, file_string://, tone_stream://,
        silence_stream://, "phrase:<macro>[:<data>]", "say:<text>" (TTS).

The wiring (called by the core): attach_media, link_media, bridge_media, unbridge_media.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from fsd.log import DEBUG, ERR, log
from fsd.media import collect
from fsd.media.dtmf import DTMF, generate_dtmf
from fsd.media.errors import MediaError
from fsd.media.port import MediaPort, PlaybackResult, RecordResult, bridge, unbridge

InputCallback = Callable[[str, Any], "str | None"]

DEFAULT_RATE = 8000
DEFAULT_PTIME = 20
_CONTINUE = (None, "", "true", "undefined")


# ---------------------------------------------------------------------------- wiring
def attach_media(switch: Any, session: Any) -> MediaPort:
    """Give a new session its port (8 kHz L16 on the shared 20 ms clock)."""
    rate = DEFAULT_RATE
    try:
        rate = int(session.variables.get("fsd_media_rate") or DEFAULT_RATE)
    except ValueError:
        rate = DEFAULT_RATE

    def on_event(name: str, headers: dict) -> None:
        ev = session.new_event(name)
        for k, v in headers.items():
            ev.add_header(k, str(v))
        switch.events.fire(ev)

    # Not ready on hangup or transfer.  A uuid_break is delivered through
    # port.break_media() instead, so that blocking calls report "break", not "hangup".
    def ready() -> bool:
        return session.hangup_cause is None and not session.transferring

    port = MediaPort(
        rate,
        DEFAULT_PTIME,
        name=session.name,
        uuid=session.uuid,
        codec="L16",
        on_event=on_event,
        sound_prefix=sound_prefix(session),
        base_dir=switch.dirs.base,
        ready_check=ready,
    )
    session.media = port
    return port


def link_media(switch: Any, a: Any, b: Any) -> None:
    """A loopback pair: what one leg sends is what the other receives (audio and
    inband DTMF alike)."""
    pa, pb = _port(a), _port(b)
    if pa is None or pb is None:
        return
    pa.sink = pb.feed
    pb.sink = pa.feed


def bridge_media(switch: Any, a: Any, b: Any) -> None:
    pa, pb = _port(a), _port(b)
    if pa is None or pb is None:
        return
    try:
        bridge(pa, pb)
    except MediaError as exc:
        log(ERR, f"cannot bridge media: {exc}", uuid=a.uuid)


def unbridge_media(switch: Any, a: Any, b: Any) -> None:
    for s in (a, b):
        p = _port(s)
        if p is not None:
            unbridge(p)


# ---------------------------------------------------------------------------- helpers
def _port(session: Any) -> MediaPort | None:
    port = getattr(session, "media", None)
    return port if isinstance(port, MediaPort) else None


def sound_prefix(session: Any) -> str:
    """The channel's ``sound_prefix``, else the global one, else the sounds directory."""
    value = session.get_variable("sound_prefix")
    return value or session.switch.dirs.sounds


class SessionVars:
    """The ``get``/``set`` store fsd.media.collect expects, over channel variables."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def get(self, name: str) -> str | None:
        return self.session.get_variable(name)

    def set(self, name: str, value: str | None) -> None:
        self.session.set_variable(name, value)


def continues(result: str | None) -> bool:
    return result in _CONTINUE


def _adapt(session: Any, on_input: InputCallback | None):
    """(on_dtmf, poll) for the port from one input callback; events queued to the session
    are delivered to it from ``poll`` (on every wake-up of the waiting thread)."""
    if on_input is None:
        return None, None

    def on_dtmf(d: DTMF) -> str | None:
        return on_input("dtmf", d)

    def poll() -> str | None:
        while True:
            ev = session.pop_event()
            if ev is None:
                return None
            try:
                res = on_input("event", ev)
            except Exception as exc:
                log(ERR, f"input callback failed: {exc!r}", uuid=session.uuid)
                res = "SCRIPT_ERROR"
            if not continues(res):
                return "break"

    return on_dtmf, poll


def _pre_answer(session: Any) -> None:
    if not session.answered() and not session.early_media():
        session.pre_answer()


def _error(name: str, message: str, session: Any) -> PlaybackResult:
    log(ERR, message, uuid=session.uuid)
    return PlaybackResult("error", name=name, errors=[message])


# ---------------------------------------------------------------------------- playback
def play_file(
    session: Any,
    name: str,
    *,
    on_input: InputCallback | None = None,
    on_dtmf: Callable[[DTMF], str | None] | None = None,
    capture_digit: bool = False,
    terminators: str = "",
    start_sample: int = 0,
    prefix: str | None = None,
) -> PlaybackResult:
    """Play one prompt to the caller (see the module docstring for what ``name`` may be).
    ``on_dtmf`` (a raw DTMF callback) wins over ``on_input``'s DTMF side."""
    port = _port(session)
    if port is None:
        return _error(name, f"cannot play {name}: channel has no media", session)
    if not name or not name.strip():
        return _error(name or "", "cannot play: no file name given", session)
    low = name.lower()
    kw = dict(on_input=on_input, on_dtmf=on_dtmf, capture_digit=capture_digit,
              terminators=terminators)
    if low.startswith("phrase:"):
        macro, _, data = name[7:].partition(":")
        return say_phrase(session, macro, data, None, **kw)
    if low.startswith("say:"):
        return speak(session, name[4:], **kw)
    dtmf_cb, poll = _adapt(session, on_input)
    if on_dtmf is not None:
        dtmf_cb = on_dtmf
    _pre_answer(session)
    port.sound_prefix = prefix or sound_prefix(session)
    try:
        return port.play(name, on_dtmf=dtmf_cb, capture_digit=capture_digit,
                         terminators=terminators, start_sample=start_sample, poll=poll)
    except MediaError as exc:
        return _error(name, f"cannot play {name}: {exc}", session)
    except Exception as exc:  # an unreadable file must not end the call
        return _error(name, f"cannot play {name}: {type(exc).__name__}: {exc}", session)


def play_sequence(session: Any, files: list[str], **kw: Any) -> PlaybackResult:
    """Play files in order; stop at the first that does not end normally."""
    last = PlaybackResult("done")
    for f in files:
        last = play_file(session, f, **kw)
        if last.status == "error":
            continue  # a missing prompt in a sequence is skipped, as file_string:// does
        if last.status != "done":
            return last
    return last


def stream_file(session: Any, path: str, start_sample: int = 0,
                on_input: InputCallback | None = None) -> PlaybackResult:
    return play_file(session, path, on_input=on_input, start_sample=max(0, int(start_sample)))


def sleep(session: Any, ms: int, on_input: InputCallback | None = None) -> str:
    port = _port(session)
    if port is None:
        return "done" if session.sleep(ms) else "hangup"
    on_dtmf, poll = _adapt(session, on_input)
    return port.sleep(max(0, int(ms)), on_dtmf=on_dtmf, poll=poll)


def play_inband_dtmf(session: Any, digits: str, duration_ms: int = 100) -> PlaybackResult:
    """Generate DTMF tones on the write side (send_dtmf with dtmf_type=inband)."""
    port = _port(session)
    if port is None:
        return _error(digits, "cannot send inband DTMF: channel has no media", session)
    samples = generate_dtmf(digits, port.rate, max(40, duration_ms))
    if not len(samples):
        return _error(digits, f"no valid DTMF digits in {digits!r}", session)
    return port.play_samples(samples, name=f"dtmf:{digits}")


# ---------------------------------------------------------------------------- recording
def record_path(session: Any, path: str) -> str:
    """Relative recording names go under the channel's sound_prefix or the base
    directory, as switch_ivr_record_file does."""
    if path.startswith("/") or "://" in path:
        return path
    prefix = session.get_variable("sound_prefix") or session.switch.dirs.base
    return os.path.join(prefix, path)


def record_file(session: Any, path: str, max_secs: float = 0, silence_thresh: float = 0,
                silence_secs: float = 0, on_input: InputCallback | None = None,
                terminators: str = "") -> RecordResult | None:
    port = _port(session)
    if port is None:
        log(ERR, f"cannot record {path}: channel has no media", uuid=session.uuid)
        return None
    _pre_answer(session)
    full = record_path(session, path)
    try:
        os.makedirs(os.path.dirname(full) or ".", exist_ok=True)
    except OSError:
        pass
    on_dtmf, poll = _adapt(session, on_input)
    try:
        res = port.record(full, max(0.0, float(max_secs)), max(0.0, float(silence_thresh)),
                          max(0.0, float(silence_secs)), on_dtmf=on_dtmf,
                          terminators=terminators, poll=poll)
    except (MediaError, OSError, RuntimeError) as exc:
        log(ERR, f"cannot record {full}: {exc}", uuid=session.uuid)
        return None
    session.set_variable("silence_hits_exhausted", "true" if res.reason == "silence" else "false")
    session.set_variable("record_samples", str(res.samples))
    session.set_variable("record_ms", str(res.samples * 1000 // port.rate))
    return res


def insert_file(session: Any, orig: str, insert: str, sample_pos: int) -> bool:
    port = _port(session)
    try:
        rate = port.rate if port else DEFAULT_RATE
        from fsd.media.files import insert_file as _insert

        _insert(record_path(session, orig), record_path(session, insert), int(sample_pos), rate)
        return True
    except (MediaError, OSError, RuntimeError, ValueError) as exc:
        log(ERR, f"insertFile {orig} <- {insert} failed: {exc}", uuid=session.uuid)
        return False


# ---------------------------------------------------------------------------- digits
def _player(session: Any) -> collect.Player:
    def play(file: str, capture_digit: bool) -> PlaybackResult:
        return play_file(session, file, capture_digit=capture_digit)

    return play


def get_digits(session: Any, maxdigits: int, terminators: str, timeout: int,
               interdigit: int = 0, abstimeout: int = 0) -> tuple[str, str, str]:
    port = _port(session)
    if port is None:
        return "", "", "false"
    digits, term, status = collect.get_digits(port, int(maxdigits), terminators or "",
                                              int(timeout), int(interdigit), int(abstimeout))
    if digits:
        shown = "X" * len(digits) if session.var_true("sensitive_dtmf") else digits
        log(DEBUG, f"getDigits: {shown}", uuid=session.uuid)
    return digits, term, status


def read(session: Any, min_digits: int, max_digits: int, prompt: str, timeout: int,
         terminators: str, digit_timeout: int = 0) -> str:
    port = _port(session)
    if port is None:
        return ""
    _pre_answer(session)
    return collect.session_read(port, int(min_digits), int(max_digits), prompt or "",
                                int(timeout), terminators or "", int(digit_timeout),
                                SessionVars(session), _player(session))


def read_into(session: Any, min_digits: int, max_digits: int, prompt: str, var_name: str | None,
              timeout: int, terminators: str, digit_timeout: int = 0) -> collect.ReadResult:
    """The ``read`` application's switch_ivr_read (sets ``var_name``)."""
    port = _port(session)
    if port is None:
        return collect.ReadResult("false", "")
    _pre_answer(session)
    return collect.ivr_read(port, min_digits, max_digits, prompt, var_name, timeout,
                            terminators, digit_timeout, SessionVars(session), _player(session))


def play_and_get_digits(session: Any, min_digits: int, max_digits: int, max_tries: int,
                        timeout: int, terminators: str, prompt: str, bad_prompt: str,
                        digits_regex: str | None, var_name: str | None = None,
                        digit_timeout: int = 0,
                        transfer_on_failure: str | None = None) -> str:
    port = _port(session)
    if port is None:
        return ""
    _pre_answer(session)
    res = collect.play_and_get_digits(
        port, int(min_digits), int(max_digits), int(max_tries), int(timeout),
        terminators or "", prompt or "", bad_prompt or "", var_name or None,
        digits_regex or None, int(digit_timeout), transfer_on_failure,
        SessionVars(session), _player(session),
    )
    if res.transfer is not None and session.up():
        ext, dp, ctx = res.transfer
        session.transfer(ext, dp, ctx)
    return res.digits


def collect_digits(session: Any, digit_timeout: int, abs_timeout: int,
                   on_input: InputCallback | None) -> str:
    """session:collectDigits: feed digits and queued events to the callback until it
    stops, a timer runs out (the digit timer restarts after each digit) or hangup."""
    port = _port(session)
    if on_input is None or port is None:
        return "done"
    now = time.monotonic
    start = digit_start = now()
    _, poll = _adapt(session, on_input)
    while port.ready():
        waits = [0.25]
        if abs_timeout:
            left = abs_timeout / 1000 - (now() - start)
            if left <= 0:
                return "timeout"
            waits.append(left)
        if digit_timeout:
            left = digit_timeout / 1000 - (now() - digit_start)
            if left <= 0:
                return "timeout"
            waits.append(left)
        if poll() is not None:
            return "break"
        if port.wait_dtmf(min(waits)):
            d = port.get_dtmf(0)
            if d is None:
                continue
            digit_start = now()
            try:
                res = on_input("dtmf", d)
            except Exception as exc:
                log(ERR, f"input callback failed: {exc!r}", uuid=session.uuid)
                return "break"
            if not continues(res):
                return "break"
    return "hangup"


def flush_digits(session: Any) -> None:
    session.flush_dtmf()


# ---------------------------------------------------------------------------- say / phrase / TTS
def say(session: Any, text: str, module_name: str, say_type: str, say_method: str,
        gender: str = "", on_input: InputCallback | None = None, **kw: Any) -> PlaybackResult:
    """switch_ivr_say: the say module turns ``text`` into files, played in order with the
    language's sound prefix."""
    from fsd.phrases import SayError, say_files

    try:
        files, prefix = say_files(session, text, module_name, say_type, say_method, gender)
    except SayError as exc:
        return _error(text, f"say: {exc}", session)
    return play_sequence(session, files, on_input=on_input, prefix=prefix, **kw)


def say_phrase(session: Any, name: str, data: str = "", lang: str | None = None,
               on_input: InputCallback | None = None, **kw: Any) -> PlaybackResult:
    from fsd.phrases import run_macro

    return run_macro(session, name, data or "", lang, on_input=on_input, **kw)


def set_tts_params(session: Any, engine: str, voice: str) -> None:
    session.set_variable("tts_engine", engine)
    session.set_variable("tts_voice", voice)


def speak(session: Any, text: str, on_input: InputCallback | None = None,
          engine: str | None = None, voice: str | None = None, **kw: Any) -> PlaybackResult:
    """Speak ``text`` with the channel's TTS engine (``tts_engine``/``tts_voice``)."""
    from fsd import tts

    engine = engine or session.get_variable("tts_engine")
    voice = voice or session.get_variable("tts_voice") or ""
    if not engine:
        return _error(text, "No TTS engine/voice specified", session)
    port = _port(session)
    rate = port.rate if port else DEFAULT_RATE
    try:
        path = tts.synthesize(session.switch, engine, voice, text, rate)
    except tts.TTSError as exc:
        return _error(text, f"speak: {exc}", session)
    try:
        return play_file(session, path, on_input=on_input, **kw)
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
