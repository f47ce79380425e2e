"""The blocking media calls a script ``Session`` makes (any language), behind one small surface.

The core's ``fsd.session_media`` owns playback, recording, say/phrase and TTS on the
session's media port; this module calls it.  Digit collection (getDigits, read,
playAndGetDigits, collectDigits) runs ``fsd.media.collect`` over :class:`SessionDigits`,
whose ``ready()`` also honours the script's kill flag, so ``lua_kill`` ends a script
waiting for digits.  Channels without a media port get the same semantics from the
session's own queues (playback then lasts as long as the file would).

``on_input(kind, payload) -> str | None`` is the input callback: ``kind`` is ``"dtmf"``
(payload has ``digit`` and ``duration``) or ``"event"`` (payload is an Event); the result
is processed as behaviour reference §4.5 says (:func:`continues`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fsd.log import ERR, WARNING, log
from fsd.session_media import SessionVars

OnInput = Callable[[str, Any], "str | None"]
_SLICE = 0.05  # waits wake this often to deliver session events and honour kills
_NO_PORT_CAP = 300.0  # a port-less "playback" of an endless stream ends after this


def continues(result: str | None) -> bool:
    """Does an input-callback result let the operation go on (§4.5)?"""
    return result is None or result in ("", "true", "undefined")


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


def _sm() -> Any:
    from fsd import session_media

    return session_media


def stream_file(session: Any, path: str, start_sample: int = 0,
                on_input: OnInput | None = None, stop: Callable[[], bool] | None = None) -> bool:
    """Play ``path``; True when it played (to the end or broken by the callback)."""
    if _port(session) is not None:
        res = _sm().stream_file(session, path, start_sample, on_input)
        return res.status in ("done", "break")
    try:
        seconds = _duration(session, path)
    except Exception:
        return False
    res = wait_media(session, max(0.0, seconds - start_sample / 8000.0), on_input, stop=stop)
    return res in ("done", "break")


def sleep(session: Any, ms: int, on_input: OnInput | None = None,
          stop: Callable[[], bool] | None = None) -> bool:
    if _port(session) is not None:
        return _sm().sleep(session, ms, on_input) in ("done", "break")
    return wait_media(session, ms / 1000.0, on_input, stop=stop) in ("done", "break")


def collect_digits(session: Any, digit_timeout: int, abs_timeout: int,
                   on_input: OnInput | None, stop: Callable[[], bool] | None = None) -> None:
    """Feed DTMF and events to the callback until it stops, a timer fires or hangup."""
    if on_input is None:
        return
    from fsd.media.dtmf import DTMF

    port = SessionDigits(session, stop)
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
    from fsd.media import collect

    digits, term, _ = collect.get_digits(SessionDigits(session, stop), maxdigits, terminators,
                                         timeout, interdigit, abstimeout)
    return digits, term


def _player(session: Any, port: SessionDigits) -> Any:
    if _port(session) is None:
        return lambda file, capture: port.play(file, capture)
    sm = _sm()
    return lambda file, capture: sm.play_file(session, file, capture_digit=capture)


def read(session: Any, min_digits: int, max_digits: int, prompt: str, timeout: int,
         terminators: str, digit_timeout: int = 0,
         stop: Callable[[], bool] | None = None) -> str:
    from fsd.media import collect

    if not session.answered() and not session.early_media():
        session.pre_answer()
    port = SessionDigits(session, stop)
    return collect.session_read(port, min_digits, max_digits, prompt, timeout, terminators,
                                digit_timeout, SessionVars(session), _player(session, port))


def play_and_get_digits(session: Any, min_digits: int, max_digits: int, tries: int,
                        timeout: int, terminators: str, prompt: str, bad_prompt: str,
                        digits_regex: str | None, var_name: str | None = None,
                        digit_timeout: int = 0, transfer_on_failure: str | None = None,
                        stop: Callable[[], bool] | None = None) -> str:
    from fsd.media import collect

    if not session.answered() and not session.early_media():
        session.pre_answer()
    port = SessionDigits(session, stop)
    res = collect.play_and_get_digits(port, min_digits, max_digits, tries, timeout, terminators,
                                      prompt, bad_prompt, var_name, digits_regex, digit_timeout,
                                      transfer_on_failure, SessionVars(session), _player(session, port))
    if res.transfer is not None and session.up():
        session.transfer(*res.transfer)
    return res.digits


def record_file(session: Any, path: str, max_secs: int = 0, silence_thresh: int = 0,
                silence_secs: int = 0, on_input: OnInput | None = None) -> bool:
    """True when the recording ended normally (time limit or silence)."""
    if _port(session) is None:
        log(WARNING, f"recordFile {path}: the channel has no media", uuid=session.uuid)
        return False
    res = _sm().record_file(session, path, max_secs, silence_thresh, silence_secs, on_input)
    return res is not None and bool(res.ended_normally)


def insert_file(session: Any, orig: str, insert: str, sample_pos: int) -> bool:
    return bool(_sm().insert_file(session, orig, insert, sample_pos))


def say(session: Any, text: str, lang: str, say_type: str, method: str,
        gender: str | None = None, on_input: OnInput | None = None) -> None:
    if _port(session) is None:
        log(WARNING, "say: the channel has no media", uuid=session.uuid)
        return
    _sm().say(session, text, lang, say_type, method, gender or "", on_input)


def say_phrase(session: Any, name: str, data: str = "", lang: str | None = None,
               on_input: OnInput | None = None) -> None:
    if _port(session) is None:
        log(WARNING, "sayPhrase: the channel has no media", uuid=session.uuid)
        return
    _sm().say_phrase(session, name, data, lang, on_input)


def speak(session: Any, text: str, engine: str, voice: str,
          on_input: OnInput | None = None) -> bool:
    if _port(session) is None:
        log(WARNING, "speak: the channel has no media", uuid=session.uuid)
        return False
    res = _sm().speak(session, text, on_input, engine, voice)
    return res.status in ("done", "break")
