"""pyVoIP as a real softphone: it registers to fsd, is called through ``user/<id>`` and
hears what fsd plays; it calls an extension and fsd records what it sends."""

from __future__ import annotations

import threading
import time
import wave

import numpy as np
import pytest

from fsd.testing import originate, wait_until

from .conftest import free_port

pyVoIP = pytest.importorskip("pyVoIP")
from pyVoIP.VoIP import CallState, VoIPPhone  # noqa: E402


def _tone_ratio(samples: np.ndarray, freq: float, rate: int = 8000) -> float:
    """Share of the signal's energy within ±40 Hz of ``freq``."""
    x = samples.astype(np.float64)
    x = x - x.mean()
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / rate)
    total = spec[f > 50].sum()
    band = spec[(f > freq - 40) & (f < freq + 40)].sum()
    return float(band / total) if total else 0.0


def _phone(rig, user, on_call=None):
    low = free_port()
    phone = VoIPPhone("127.0.0.1", rig.port, user, "1234", myIP="127.0.0.1", callCallback=on_call,
                      sipPort=free_port(), rtpPortLow=low, rtpPortHigh=low + 200)
    phone.start()
    return phone


def test_pyvoip_registers_answers_and_hears_the_tone(sip_rig):
    heard: list[bytes] = []
    done = threading.Event()

    def on_call(call):
        try:
            call.answer()
            end = time.monotonic() + 1.5
            while time.monotonic() < end and call.state == CallState.ANSWERED:
                heard.append(call.read_audio(160, blocking=True))
        finally:
            done.set()

    phone = _phone(sip_rig, "1010", on_call)
    try:
        dom = sip_rig.sw.globals.get("domain")
        assert wait_until(lambda: sip_rig.sw.api_execute(f"sofia_contact 1010@{dom}").startswith("sofia/"), 15)
        uuid, out = originate(sip_rig.sw, f"user/1010@{dom} &playback(tone_stream://%(4000,0,1000))")
        assert uuid, out
        assert done.wait(20)
        audio = np.frombuffer(b"".join(heard), dtype=np.uint8).astype(np.int16) - 128
        assert len(audio) >= 4000
        assert _tone_ratio(audio[800:], 1000) > 0.8
        sip_rig.sw.api_execute(f"uuid_kill {uuid}")
    finally:
        phone.stop()


def test_pyvoip_calls_an_extension_and_fsd_records_it(sip_rig):
    phone = _phone(sip_rig, "1011")
    try:
        call = phone.call("7008")
        assert wait_until(lambda: call.state == CallState.ANSWERED, 15)
        t = np.arange(8000 * 2) / 8000
        tone = (np.sin(2 * np.pi * 600 * t) * 100 + 128).astype(np.uint8).tobytes()
        for i in range(0, len(tone), 160):
            call.write_audio(tone[i:i + 160])
            time.sleep(0.02)
        call.hangup()
        sip_rig.events.wait("CHANNEL_HANGUP_COMPLETE", timeout=10)
        path = sip_rig.base / "recordings" / "sip_in.wav"
        assert wait_until(path.exists, 10)
        with wave.open(str(path)) as w:
            rate = w.getframerate()
            data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        assert len(data) > rate // 2
        assert _tone_ratio(data, 600, rate) > 0.5
    finally:
        phone.stop()
