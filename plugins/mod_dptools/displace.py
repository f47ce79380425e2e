"""``displace_session``/``stop_displace_session`` (and the ``uuid_displace`` API) and
``three_way``: audio mixed into what a channel sends, through the media port's output
mixers (switch_ivr_displace_session, switch_ivr_eavesdrop_session with three-way flags)."""

from __future__ import annotations

from typing import Any

import numpy as np

from fsd.log import ERR, INFO
from fsd.media.sources import FileHandle
from fsd.numbers import is_digits

DISPLACE_SYNTAX = "<path> [<flags>] [+time_limit_ms]"
_KEY = "displacers"


class Displacer:
    """One file mixed into (``mux``) or replacing a channel's output, frame by frame."""

    def __init__(self, port: Any, path: str, mux: bool, loop: bool, limit_ms: int) -> None:
        self.port = port
        self.path = path
        self.mux = mux
        self.loop = loop
        self.frames_left = (limit_ms // port.ptime) if limit_ms > 0 else None
        self.handle = self._open()
        self.done = False

    def _open(self) -> FileHandle:
        return FileHandle(self.port._playback_source(self.path), self.port.rate)

    def __call__(self, out: np.ndarray) -> np.ndarray | None:
        if self.done:
            return None
        # runs on the clock under the port's lock: finish by setting ``done`` (the port
        # drops the mixer), never by calling back into the port
        if self.frames_left is not None:
            if self.frames_left <= 0:
                self.done = True
                return None
            self.frames_left -= 1
        frame = self.handle.next_frame(len(out))
        if frame is None:
            if not self.loop:
                self.done = True
                return None
            self.handle = self._open()
            frame = self.handle.next_frame(len(out))
            if frame is None:
                return None
        if len(frame) != len(out):
            frame = np.resize(frame, len(out))
        if not self.mux:
            return frame
        return np.clip(out.astype(np.int32) + frame.astype(np.int32), -32768, 32767).astype(np.int16)

    def stop(self) -> None:
        self.done = True
        self.port.remove_out_mixer(self)


def start_displace(session: Any, path: str, flags: str = "", limit_ms: int = 0) -> bool:
    """Start displacing ``path`` on ``session`` ('m' mux, 'l' loop, 'r' what the bridged
    peer hears from this channel instead of what this channel hears)."""
    target = session.peer if "r" in flags and session.peer is not None else session
    port = getattr(target, "media", None)
    if port is None or not path:
        return False
    try:
        d = Displacer(port, path, "m" in flags, "l" in flags, limit_ms)
    except Exception as e:  # noqa: BLE001 - a bad file fails the request
        session.log(ERR, f"Cannot displace {path}: {e}\n")
        return False
    port.add_out_mixer(d)
    active = session.get_private(_KEY) or {}
    active[path] = d
    session.set_private(_KEY, active)
    return True


def stop_displace(session: Any, path: str) -> bool:
    active = session.get_private(_KEY) or {}
    d = active.pop(path, None) if path else None
    if d is None and not path and active:
        path, d = next(iter(active.items()))
        del active[path]
    session.set_private(_KEY, active or None)
    if d is None:
        return False
    d.stop()
    return True


def displace_session(session: Any, data: str) -> None:
    words = (data or "").split()
    if not words:
        session.log(ERR, f"Usage: {DISPLACE_SYNTAX}\n")
        return
    path, flags, limit = words[0], "", 0
    for w in words[1:]:
        if w.startswith("+") and is_digits(w[1:]):
            limit = int(w[1:])
        else:
            flags += w
    if start_displace(session, path, flags, limit):
        session.log(INFO, f"displacing with {path}\n")


def stop_displace_session(session: Any, data: str) -> None:
    stop_displace(session, (data or "").strip())


class _Voice:
    """Adds what ``speaker`` says to a channel's output (three_way)."""

    def __init__(self, speaker: Any) -> None:
        self.speaker = speaker

    def __call__(self, out: np.ndarray) -> np.ndarray | None:
        port = getattr(self.speaker, "media", None)
        if port is None or port.closed:
            return None
        voice = port.last_read
        if len(voice) != len(out):
            voice = np.resize(voice, len(out))
        return np.clip(out.astype(np.int32) + voice.astype(np.int32), -32768, 32767).astype(np.int16)


def three_way(session: Any, data: str) -> None:
    """``three_way <uuid>``: join a call: we hear both of its sides, both hear us."""
    from fsd_modules.mod_dptools.bridge_apps import LiveMix

    uuid = (data or "").strip()
    target = session.switch.sessions.get(uuid)
    port = getattr(session, "media", None)
    if target is None or target is session or port is None or getattr(target, "media", None) is None:
        session.log(ERR, f"three_way: no channel {uuid}\n")
        session.set_variable("three_way_status", "failed")
        return
    session.answer()
    voice = _Voice(session)
    joined = [s for s in (target, target.peer) if s is not None and getattr(s, "media", None)]
    for s in joined:
        s.media.add_out_mixer(voice)
    try:
        port.play(LiveMix(target, port.rate), terminators="")
    finally:
        for s in joined:
            if s.media is not None:
                s.media.remove_out_mixer(voice)
    session.set_variable("three_way_status", "done")


def uuid_displace(switch: Any, args: str, stream: Any) -> None:
    syntax = "<uuid> [start|stop] <path> [<limit>] [mux]"
    words = (args or "").split()
    if len(words) < 3:
        stream.write(f"-USAGE: {syntax}\n")
        return
    s = switch.sessions.get(words[0])
    if s is None:
        stream.write("-ERR Cannot locate session!\n")
        return
    if words[1] == "start":
        limit = int(words[3]) * 1000 if len(words) > 3 and is_digits(words[3]) else 0
        flags = "m" if "mux" in words[3:] else ""
        ok = start_displace(s, words[2], flags, limit)
        stream.write("+OK Success\n" if ok else "-ERR Cannot displace session!\n")
    elif words[1] == "stop":
        stream.write("+OK Success\n" if stop_displace(s, words[2]) else
                     "-ERR Cannot stop displace session!\n")
    else:
        stream.write(f"-USAGE: {syntax}\n")


def declare(module: Any) -> None:
    add = module.add_application
    add("displace_session", displace_session, "Displace File", DISPLACE_SYNTAX)
    add("stop_displace_session", stop_displace_session, "Stop Displace File", "<path>")
    add("three_way", three_way, "three way call with a uuid", "<uuid>")
    module.add_api("uuid_displace", "Displace audio", "<uuid> [start|stop] <path> [<limit>] [mux]",
                   lambda args, session, stream: uuid_displace(module.switch, args, stream))
