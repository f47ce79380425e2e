"""Shared fixtures: ports on a private media clock, and generated sound files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from fsd.log import logger
from fsd.media.clock import MediaClock
from fsd.media.port import MediaPort


@pytest.fixture
def clock():
    c = MediaClock(20, name="test-clock")
    yield c
    c.stop()


@pytest.fixture
def make_port(clock):
    ports: list[MediaPort] = []

    def make(rate: int = 8000, **kw) -> MediaPort:
        p = MediaPort(rate, clock=clock, **kw)
        ports.append(p)
        return p

    yield make
    for p in ports:
        p.close()


@pytest.fixture
def chirp():
    """A 1 s sweep: correlation against it pins both content and alignment."""

    def make(rate: int = 8000, secs: float = 1.0, amp: int = 8000) -> np.ndarray:
        t = np.arange(int(rate * secs)) / rate
        return (amp * np.sin(2 * np.pi * (300 * t + 600 * t * t))).astype(np.int16)

    return make


@pytest.fixture
def wav(tmp_path):
    def make(name: str, samples: np.ndarray, rate: int, **kw) -> str:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), samples, rate, subtype=kw.pop("subtype", "PCM_16"), **kw)
        return str(path)

    return make


def _best_corr(got: np.ndarray, ref: np.ndarray) -> tuple[float, int]:
    """Highest normalised correlation of ``ref`` inside ``got`` and where it sits."""
    got = got.astype(np.float64)
    ref = ref.astype(np.float64)
    c = np.correlate(got, ref, "valid")
    lag = int(np.argmax(c))
    seg = got[lag : lag + len(ref)]
    return float(np.corrcoef(seg, ref)[0, 1]), lag


@pytest.fixture
def best_corr():
    return _best_corr


class _LogCapture:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, record) -> None:
        self.texts.append(record.text)

    def has(self, text: str) -> bool:
        return any(text in t for t in self.texts)


@pytest.fixture
def logs():
    cap = _LogCapture()
    sid = logger.add_sink(cap)
    yield cap
    logger.remove_sink(sid)
