"""The blocking media calls a Lua ``Session`` makes, behind one small surface.

The core's ``fsd.session_media`` owns the real implementations (playback and recording on
the session's media port, digit collection, say/phrase).  This module calls those when
they exist and otherwise falls back to the same FreeSWITCH semantics built from the
session's own primitives (DTMF queue, private event queue, condition variable) and the
media library (``fsd.media.collect`` for digit collection): the Lua binding works on
channels with or without a media port, and keeps working while the media integration
evolves.

``on_input(kind, payload) -> str | None`` is the input callback: ``kind`` is ``"dtmf"``
(payload has ``digit`` and ``duration``) or ``"event"`` (payload is an Event); the result
is processed as behaviour reference §4.5 says (:func:`continues`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fsd.log import ERR, WARNING, log

OnInput = Callable[[str, Any], "str | None"]
_SLICE = 0.05  # waits wake this often to deliver session events and honour kills
_NO_PORT_CAP = 300.0  # a port-less "playback" of an endless stream ends after this


def continues(result: str | None) -> bool:
    """Does an input-callback result let the operation go on (§4.5)?"""
    return result is None or result in ("", "true", "undefined")


def _core(name: str) -> Callable[..., Any] | None:
    try:
        from fsd import session_media
    except ImportError:  # pragma: no cover - the core always ships it
        return None
    fn = getattr(session_media, name, None)
    return fn if callable(fn) else None


def _port(session: Any) -> Any:
    port = getattr(session, "media", None)
    return port if port is not None and hasattr(port, "play") else None


class SessionDigits:
    """The port interface ``fsd.media.collect`` needs, over a session without a media
    port (its own DTMF queue)."""

    def __init__(self, session: Any, stop: Callable[[], bool] | None = None) -> None:
        self.session = session
        self.uuid = session.uuid
        self._stop = stop

    def ready(self) -> bool:
        return self.session.ready() and not (self._stop and self._stop())

    def has_dtmf(self) -> bool:
        return self.session.has_dtmf()

    def get_dtmf(self, timeout: float | None = 0) -> Any:
        from fsd.media.dtmf import DTMF

        if timeout and not self.wait_dtmf(timeout):
            return None
        d = self.session.pop_dtmf()
        if d is None:
            return None
        digit, dur = d
        return DTMF(digit, int(dur) * 8 if dur else 0)

    def wait_dtmf(self, timeout: float | None) -> bool:
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.session.has_dtmf():
                return True
            if not self.ready():
                return False
            left = _SLICE if end is None else min(_SLICE, end - time.monotonic())
            if left <= 0:
                return False
            self.session.wait_for(self.session.has_dtmf, left)

    def play(self, file: str, capture_digit: bool = False, **kw: Any) -> Any:
        from fsd.media.port import PlaybackResult

        res = wait_media(self.session, _duration(self.session, file), None,
                         capture=capture_digit, stop=self._stop)
        if isinstance(res, tuple):
            return PlaybackResult("break", digit=res[1], name=file)
        return PlaybackResult(res, name=file)


def _digits_port(session: Any, stop: Callable[[], bool] | None) -> Any:
    return _port(session) or SessionDigits(session, stop)


def _duration(session: Any, name: str) -> float:
    """Seconds a file would play (for sessions without a media port)."""
    try:
        from fsd.media.resolve import open_source

        sw = session.switch
        src = open_source(name, 8000, getattr(sw.dirs, "sounds", None), getattr(sw.dirs, "base", ""))
    except Exception as e:
        log(ERR, f"cannot play {name}: {e}", uuid=session.uuid)
        raise
    total = 0
    try:
        while total < _NO_PORT_CAP * 8000:
            chunk = src.read(8000)
            if chunk is None or len(chunk) == 0:
                break
            total += len(chunk)
    finally:
        src.close()
    return total / 8000.0


def wait_media(session: Any, seconds: float, on_input: OnInput | None, *,
               capture: bool = False, stop: Callable[[], bool] | None = None) -> Any:
    """Wait ``seconds`` on a session without a port, feeding DTMF and session events to
    ``on_input``.  Returns "done", "break", "hangup" or ("digit", d) when ``capture``."""
    end = time.monotonic() + max(0.0, seconds)
    while True:
        if not session.ready() or (stop and stop()):
            return "hangup"
        if on_input is not None or capture:
            d = session.pop_dtmf()
            if d is not None:
                if capture:
                    return ("digit", d[0])
                from fsd.media.dtmf import DTMF

                if not continues(on_input("dtmf", DTMF(d[0], int(d[1]) * 8 if d[1] else 0))):
                    return "break"
                continue
        if on_input is not None:
            ev = session.pop_event()
            if ev is not None:
                if not continues(on_input("event", ev)):
                    return "break"
                continue
        left = end - time.monotonic()
        if left <= 0:
            return "done"
        want = (lambda: session.has_dtmf() or session.has_events()) if (on_input or capture) else (lambda: False)
        session.wait_for(want, min(left, _SLICE))


def _poll_events(session: Any, on_input: OnInput | None) -> Callable[[], str | None] | None:
    if on_input is None:
        return None

    def poll() -> str | None:
        while True:
            ev = session.pop_event()
            if ev is None:
                return None
            if not continues(on_input("event", ev)):
                return "break"

    return poll


def _dtmf_cb(on_input: OnInput | None) -> Any:
    if on_input is None:
        return None
    return lambda d: on_input("dtmf", d)


# -- the calls -------------------------------------------------------------------------
def stream_file(session: Any, path: str, start_sample: int = 0,
                on_input: OnInput | None = None, stop: Callable[[], bool] | None = None) -> bool:
    """Play ``path``; True when it played (to the end or broken by the callback)."""
    fn = _core("stream_file")
    if fn is not None:
        return bool(fn(session, path, start_sample, on_input))
    port = _port(session)
    if port is not None:
        from fsd.media.errors import MediaError

        try:
            res = port.play(path, on_dtmf=_dtmf_cb(on_input), start_sample=start_sample,
                            poll=_poll_events(session, on_input))
        except MediaError as e:
            log(ERR, f"cannot play {path}: {e}", uuid=session.uuid)
            return False
        return res.status in ("done", "break")
    try:
        seconds = _duration(session, path)
    except Exception:
        return False
    res = wait_media(session, max(0.0, seconds - start_sample / 8000.0), on_input, stop=stop)
    return res in ("done", "break")


def sleep(session: Any, ms: int, on_input: OnInput | None = None,
          stop: Callable[[], bool] | None = None) -> bool:
    fn = _core("sleep")
    if fn is not None:
        return bool(fn(session, ms, on_input))
    port = _port(session)
    if port is not None:
        st = port.sleep(ms, on_dtmf=_dtmf_cb(on_input), poll=_poll_events(session, on_input))
        return st in ("done", "break")
    return wait_media(session, ms / 1000.0, on_input, stop=stop) in ("done", "break")


def collect_digits(session: Any, digit_timeout: int, abs_timeout: int,
                   on_input: OnInput | None, stop: Callable[[], bool] | None = None) -> None:
    """Feed DTMF and events to the callback until it stops, a timer fires or hangup."""
    fn = _core("collect_digits")
    if fn is not None:
        fn(session, digit_timeout, abs_timeout, on_input)
        return
    if on_input is None:
        return
    from fsd.media.dtmf import DTMF

    port = _digits_port(session, stop)
    start = time.monotonic()
    digit_start = start
    while port.ready():
        now = time.monotonic()
        if abs_timeout and now - start >= abs_timeout / 1000.0:
            return
        if digit_timeout and now - digit_start >= digit_timeout / 1000.0:
            return
        d = port.get_dtmf(0)
        if d is not None:
            digit_start = time.monotonic()
            if not continues(on_input("dtmf", DTMF(d.digit, d.duration))):
                return
            continue
        ev = session.pop_event()
        if ev is not None:
            if not continues(on_input("event", ev)):
                return
            continue
        port.wait_dtmf(_SLICE)


def get_digits(session: Any, maxdigits: int, terminators: str, timeout: int,
               interdigit: int = 0, abstimeout: int = 0,
               stop: Callable[[], bool] | None = None) -> tuple[str, str]:
    """(digits, terminator)."""
    fn = _core("get_digits")
    if fn is not None:
        res = fn(session, maxdigits, terminators, timeout, interdigit, abstimeout)
        return (res, "") if isinstance(res, str) else (res[0], res[1])
    from fsd.media import collect

    digits, term, _ = collect.get_digits(_digits_port(session, stop), maxdigits, terminators,
                                         timeout, interdigit, abstimeout)
    return digits, term


class _Vars:
    def __init__(self, session: Any) -> None:
        self.session = session

    def get(self, name: str) -> str | None:
        return self.session.get_variable(name)

    def set(self, name: str, value: str | None) -> None:
        self.session.set_variable(name, value)


def _player(session: Any, port: Any) -> Any:
    from fsd.media.collect import default_player

    if isinstance(port, SessionDigits):
        return lambda file, capture: port.play(file, capture)
    return default_player(port)


def read(session: Any, min_digits: int, max_digits: int, prompt: str, timeout: int,
         terminators: str, digit_timeout: int = 0,
         stop: Callable[[], bool] | None = None) -> str:
    fn = _core("read")
    if fn is not None:
        return fn(session, min_digits, max_digits, prompt, timeout, terminators, digit_timeout)
    from fsd.media import collect

    session.pre_answer()
    port = _digits_port(session, stop)
    return collect.session_read(port, min_digits, max_digits, prompt, timeout, terminators,
                                digit_timeout, _Vars(session), _player(session, port))


def play_and_get_digits(session: Any, min_digits: int, max_digits: int, tries: int,
                        timeout: int, terminators: str, prompt: str, bad_prompt: str,
                        digits_regex: str | None, var_name: str | None = None,
                        digit_timeout: int = 0, transfer_on_failure: str | None = None,
                        stop: Callable[[], bool] | None = None) -> str:
    fn = _core("play_and_get_digits")
    if fn is not None:
        return fn(session, min_digits, max_digits, tries, timeout, terminators, prompt,
                  bad_prompt, digits_regex, var_name, digit_timeout, transfer_on_failure)
    from fsd.media import collect

    session.pre_answer()
    port = _digits_port(session, stop)
    res = collect.play_and_get_digits(port, min_digits, max_digits, tries, timeout, terminators,
                                      prompt, bad_prompt, var_name, digits_regex, digit_timeout,
                                      transfer_on_failure, _Vars(session), _player(session, port))
    if res.transfer is not None:
        session.transfer(*res.transfer)
    return res.digits


def record_file(session: Any, path: str, max_secs: int = 0, silence_thresh: int = 0,
                silence_secs: int = 0, on_input: OnInput | None = None) -> bool:
    """True when the recording ended normally (time limit or silence)."""
    fn = _core("record_file")
    if fn is not None:
        return bool(fn(session, path, max_secs, silence_thresh, silence_secs, on_input))
    session.pre_answer()
    port = _port(session)
    if port is None:
        log(WARNING, f"recordFile {path}: the channel has no media", uuid=session.uuid)
        return False
    res = port.record(path, max_secs, silence_thresh, silence_secs, on_dtmf=_dtmf_cb(on_input),
                      poll=_poll_events(session, on_input))
    session.set_variable("silence_hits_exhausted", "true" if res.reason == "silence" else None)
    return bool(res.ended_normally)


def say(session: Any, text: str, lang: str, say_type: str, method: str,
        gender: str | None = None, on_input: OnInput | None = None) -> None:
    fn = _core("say")
    if fn is not None:
        fn(session, text, lang, say_type, method, gender, on_input)
        return
    sayer = session.switch.says.get((lang or "en").lower())
    if sayer is None:
        log(ERR, f"Invalid SAY Interface [{lang}]!", uuid=session.uuid)
        return
    session.execute("say", f"{lang} {say_type} {method} {gender or ''} {text}".replace("  ", " "))


def say_phrase(session: Any, name: str, data: str = "", lang: str | None = None,
               on_input: OnInput | None = None) -> None:
    fn = _core("say_phrase")
    if fn is not None:
        fn(session, name, data, lang, on_input)
        return
    session.execute("phrase", f"{name},{data}" if data else name)


def speak(session: Any, text: str, engine: str, voice: str,
          on_input: OnInput | None = None) -> bool:
    fn = _core("speak")
    if fn is not None:
        return bool(fn(session, text, engine, voice, on_input))
    return stream_file(session, f"say:{engine}:{voice}:{text}", 0, on_input)
