"""Applications that listen to the channel's audio: ``wait_for_silence``, ``detect_audio``,
``detect_silence`` (switch_ivr_play_say.c energy scores) and ``tone_detect`` /
``stop_tone_detect`` (a Goertzel detector standing in for libteletone's).

A listener is an observer the media clock calls once per frame with the frames read from
and written to the channel (the port's session-recorder list: the core's only per-frame
hook today).  It does constant work per frame and never blocks the clock; the waiting
application sleeps on a condition the observer signals."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

import numpy as np

from fsd.log import ERR, NOTICE
from fsd.numbers import is_digits

WAIT_FOR_SILENCE_SYNTAX = "<silence_thresh> <silence_hits> <listen_hits> <timeout_ms> [<file>]"
DETECT_AUDIO_SYNTAX = "<threshold> <audio_hits> <timeout_ms> [<file>]"
DETECT_SILENCE_SYNTAX = "<threshold> <silence_hits> <timeout_ms> [<file>]"
TONE_DETECT_SYNTAX = "<key> <freq>[,<freq>...] [r|w] [+<timeout>|<epoch>] [<app> <data>] [<hits>]"


class _Observer:
    """Collects one value per frame for a waiting application."""

    def __init__(self, port: Any, fn: Any, on_write: bool = False) -> None:
        self.port = port
        self.fn = fn
        self.on_write = on_write
        self.cond = threading.Condition()
        self.scores: deque[Any] = deque(maxlen=1000)
        self.path = "(listener)"  # not a recording: stop_record_session by path skips it
        self.writer = None

    def on_frames(self, read: np.ndarray, write: np.ndarray) -> None:
        value = self.fn(write if self.on_write else read)
        if value is None:
            return
        with self.cond:
            self.scores.append(value)
            self.cond.notify_all()

    def close(self) -> None:  # the port closes its recorders at hangup
        with self.cond:
            self.cond.notify_all()


def attach(port: Any, obs: Any) -> None:
    with port._lock:
        port._session_recorders.append(obs)


def detach(port: Any, obs: Any) -> None:
    with port._lock:
        if obs in port._session_recorders:
            port._session_recorders.remove(obs)


def energy_score(frame: np.ndarray, rate: int) -> int:
    """Sum of absolute samples over the frame's length in 8 kHz samples."""
    n = len(frame)
    if n == 0:
        return 0
    divisor = max(rate // 8000, 1)
    return int(np.abs(frame.astype(np.int32)).sum() / (n / divisor))


def _ints(data: str, n: int) -> list[int] | None:
    words = data.split()
    if len(words) < n:
        return None
    try:
        return [int(w) for w in words[:n]]
    except ValueError:
        return None


def _listen(session: Any, timeout_ms: int, step: Any, file: str | None = None) -> str:
    """Feed each frame's score to ``step(score) -> bool`` (True: done) until done, timeout
    (counted in audio time, as FreeSWITCH counts samples) or hangup; ``file`` plays to the
    caller meanwhile (looped, as FreeSWITCH re-reads it)."""
    port = getattr(session, "media", None)
    if port is None:
        return "nomedia"
    player = None
    if file:
        from fsd_modules.mod_dptools.displace import Displacer

        try:
            player = Displacer(port, file, mux=False, loop=True, limit_ms=0)
            port.add_out_mixer(player)
        except Exception as e:  # noqa: BLE001 - a bad file: listen without it
            session.log(ERR, f"cannot play {file}: {e}\n")
            player = None
    obs = _Observer(port, lambda f: energy_score(f, port.rate))
    attach(port, obs)
    budget = (timeout_ms / port.ptime) if timeout_ms else None
    frames = 0
    try:
        while session.up():
            with obs.cond:
                if not obs.scores:
                    obs.cond.wait(0.1)
                scores = list(obs.scores)
                obs.scores.clear()
            for sc in scores:
                frames += 1
                if budget is not None and frames > budget:
                    return "timeout"
                if step(sc):
                    return "done"
        return "hangup"
    finally:
        detach(port, obs)
        if player is not None:
            player.stop()


def wait_for_silence(session: Any, data: str) -> None:
    args = _ints(data, 4)
    if args is None:
        session.log(ERR, f"Usage: {WAIT_FOR_SILENCE_SYNTAX}\n")
        return
    thresh, silence_hits, listen_hits, timeout_ms = args
    state = {"listening": 0, "left": silence_hits}

    def step(score: int) -> bool:
        if score >= thresh:
            state["listening"] += 1
        if (listen_hits == 0 or state["listening"] > listen_hits) and score < thresh:
            state["left"] -= 1
            if state["left"] <= 0:
                return True
        else:
            state["left"] = silence_hits
        return False

    words = data.split()
    res = _listen(session, timeout_ms, step, words[4] if len(words) > 4 else None)
    if res in ("done", "timeout"):
        session.set_variable("wait_for_silence_timeout", "true" if res == "timeout" else "false")
        session.set_variable("wait_for_silence_listenhits", str(state["listening"]))
        session.set_variable("wait_for_silence_silence_hits", str(state["left"]))


def _detect(session: Any, data: str, want_audio: bool) -> None:
    syntax = DETECT_AUDIO_SYNTAX if want_audio else DETECT_SILENCE_SYNTAX
    args = _ints(data, 3)
    if args is None or args[0] <= 0 or args[1] <= 0:
        session.log(ERR, f"Usage: {syntax}\n")
        return
    thresh, need, timeout_ms = args
    state = {"hits": 0}

    def step(score: int) -> bool:
        hit = score >= thresh if want_audio else score < thresh
        state["hits"] = state["hits"] + 1 if hit else 0
        return state["hits"] > need

    words = data.split()
    res = _listen(session, timeout_ms, step, words[3] if len(words) > 3 else None)
    prefix = "detect_audio" if want_audio else "detect_silence"
    if res in ("done", "timeout"):
        session.set_variable(f"{prefix}_timeout", "true" if res == "timeout" else "false")
        session.set_variable(f"{prefix}_hits", str(state["hits"]))


def detect_audio(session: Any, data: str) -> None:
    _detect(session, data, True)


def detect_silence(session: Any, data: str) -> None:
    _detect(session, data, False)


# -- tone detection -------------------------------------------------------------------
def goertzel_power(frame: np.ndarray, freq: float, rate: int) -> float:
    """Relative power of ``freq`` in the frame (0..1 of the frame's energy)."""
    x = frame.astype(np.float64)
    total = float(np.dot(x, x))
    if total <= 0:
        return 0.0
    n = np.arange(len(x))
    w = 2 * np.pi * freq / rate
    re = float(np.dot(x, np.cos(w * n)))
    im = float(np.dot(x, np.sin(w * n)))
    return (re * re + im * im) * 2 / (len(x) * total)


class ToneDetector:
    """One ``tone_detect`` spec on a channel: all ``freqs`` present for ``hits`` frames."""

    def __init__(self, session: Any, key: str, freqs: list[float], on_write: bool,
                 expires: float, hits: int, app: str | None, app_data: str | None) -> None:
        self.session = session
        self.key = key
        self.freqs = freqs
        self.on_write = on_write
        self.expires = expires
        self.total_hits = max(hits, 1)
        self.hits = 0
        self.app = app
        self.app_data = app_data
        self.up = True
        self.path = "(tone_detect)"
        self.writer = None

    def on_frames(self, read: np.ndarray, write: np.ndarray) -> None:
        if not self.up:
            return
        if self.expires and time.time() > self.expires:
            self.up = False
            return
        frame = write if self.on_write else read
        port = getattr(self.session, "media", None)
        rate = port.rate if port is not None else 8000
        if np.abs(frame).max(initial=0) < 200:
            return
        if all(goertzel_power(frame, f, rate) > 0.3 / len(self.freqs) for f in self.freqs):
            self.hits += 1
            if self.hits >= self.total_hits:
                self.up = False
                threading.Thread(target=self._fire, daemon=True, name="tone-detect").start()

    def _fire(self) -> None:
        s = self.session
        if self.app:
            s.queue_app(self.app, self.app_data or "", priority=True)
        ev = s.new_event("DETECTED_TONE")
        ev.add_header("Detected-Tone", self.key)
        s.switch.events.fire(ev)

    def close(self) -> None:
        self.up = False


def tone_detect(session: Any, data: str) -> None:
    from fsd.separate import separate_string

    argv = separate_string(data or "", " ", 7)
    if len(argv) < 2:
        session.log(ERR, "INVALID ARGS!\n")
        return
    port = getattr(session, "media", None)
    if port is None:
        session.log(ERR, "tone_detect needs media\n")
        return
    try:
        freqs = [float(f) for f in argv[1].replace("+", ",").split(",") if f]
    except ValueError:
        session.log(ERR, "INVALID ARGS!\n")
        return
    flags = argv[2] if len(argv) > 2 else ""
    expires = 0.0
    if len(argv) > 3 and argv[3]:
        t = argv[3]
        if t.startswith("+"):
            expires = time.time() + max(int(t[1:] or 0), 0)
        elif is_digits(t) and int(t) > time.time():
            expires = float(t)
    app = argv[4] if len(argv) > 4 else None
    app_data = argv[5] if len(argv) > 5 else None
    hp = argv[6] if len(argv) > 6 else (argv[4] if len(argv) == 5 else None)
    if len(argv) == 5:
        app = None
    hits = int(hp) if hp and is_digits(hp) else int(session.get_variable("tone_detect_hits") or 1)
    session.log(NOTICE, f"Enabling tone detection '{argv[0]}' '{argv[1]}'\n")
    det = ToneDetector(session, argv[0], freqs, "w" in flags and "r" not in flags, expires,
                       hits, app, app_data)
    dets = session.get_private("tone_detectors") or []
    dets.append(det)
    session.set_private("tone_detectors", dets)
    attach(port, det)


def stop_tone_detect(session: Any, data: str) -> None:
    session.log(NOTICE, "Disabling tone detection\n")
    port = getattr(session, "media", None)
    for det in session.get_private("tone_detectors") or []:
        det.up = False
        if port is not None:
            detach(port, det)
    session.set_private("tone_detectors", None)


def declare(module: Any) -> None:
    add = module.add_application
    add("wait_for_silence", wait_for_silence, "wait_for_silence", WAIT_FOR_SILENCE_SYNTAX)
    add("detect_audio", detect_audio, "detect_audio", DETECT_AUDIO_SYNTAX)
    add("detect_silence", detect_silence, "detect_silence", DETECT_SILENCE_SYNTAX)
    add("tone_detect", tone_detect, "Detect tones", TONE_DETECT_SYNTAX)
    add("stop_tone_detect", stop_tone_detect, "stop detecting tones", "")
