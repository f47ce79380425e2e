"""``tone_stream://`` (FreeSWITCH's teletone language) and ``silence_stream://``.

Grammar as libteletone reads it (my own implementation):

* the text is split on ``;``; blank space and newlines are skipped;
* ``k=value`` segments set state: ``d=`` default tone duration (ms), ``w=`` default wait
  (ms), ``v=`` volume in dB (-63..0, default -7), ``l=`` repeat each following tone n
  times, ``L=`` loop the whole script n times (first one wins), ``>=``/``<=`` decay step
  (ms) downwards/upwards, ``+=`` decay factor (dB per step), ``c=`` channels and ``r=``
  rate (accepted; output is always mono at the channel rate);
* any other segment is a run of tones: ``%(on,off,f1[,f2...])`` a custom tone of up to 18
  frequencies, ``X(on,off)`` a mapped tone (the DTMF keys) with its own timing, or bare
  keys ``123#`` with the default timing;
* ``;loops=N`` anywhere in the spec makes the generated buffer replay: N plays in all,
  ``-1`` forever (mod_tone_stream).

Defaults are in samples as libteletone keeps them: duration 2000, wait 500 (250 ms and
62.5 ms at 8 kHz).  Unlike libteletone, which silently stops at a syntax error, anything
we cannot read raises :class:`MediaError` naming the offending segment.
"""

from __future__ import annotations

import math
import re

import numpy as np

from fsd.media.errors import MediaError

DTMF_FREQS: dict[str, tuple[float, float]] = {
    "1": (697.0, 1209.0), "2": (697.0, 1336.0), "3": (697.0, 1477.0), "A": (697.0, 1633.0),
    "4": (770.0, 1209.0), "5": (770.0, 1336.0), "6": (770.0, 1477.0), "B": (770.0, 1633.0),
    "7": (852.0, 1209.0), "8": (852.0, 1336.0), "9": (852.0, 1477.0), "C": (852.0, 1633.0),
    "*": (941.0, 1209.0), "0": (941.0, 1336.0), "#": (941.0, 1477.0), "D": (941.0, 1633.0),
}  # fmt: skip

VOL_MIN, VOL_MAX = -63.0, 0.0
MAX_TONES = 18
# libteletone's level scale: dBm0 relative to a full-scale sine (3.14 + 3.02 dB).
_DBM0_MAX_POWER = 3.14 + 3.02


def amplitude_for(volume_db: float) -> float:
    """Peak amplitude of one sine component at ``volume_db`` (libteletone's scale)."""
    return 10 ** ((volume_db - _DBM0_MAX_POWER) / 20.0) * 32767.0 * 1.414214


def _num(text: str, what: str, seg: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise MediaError(f"tone_stream: bad {what} {text!r} in {seg!r}") from None


class _State:
    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.duration = 2000
        self.wait = 500
        self.volume = -7.0
        self.loops = 0
        self.LOOPS = 0
        self.decay_step = 0
        self.decay_dir = 0
        self.decay_factor = 1.0


def _mux(st: _State, freqs: list[float], duration: int, wait: int) -> np.ndarray:
    """One tone burst (all ``freqs`` averaged, as libteletone does) then ``wait`` silence."""
    n = max(0, duration)
    t = np.arange(n, dtype=np.float64)
    if st.decay_dir and st.decay_step > 0:
        steps = (t // st.decay_step).astype(np.int64)
        vol = np.clip(st.volume + st.decay_dir * st.decay_factor * steps, VOL_MIN, VOL_MAX)
        amp = amplitude_for(0) * 10 ** (vol / 20.0)
    else:
        amp = amplitude_for(st.volume)
    acc = np.zeros(n, dtype=np.float64)
    for f in freqs:
        acc += np.sin(2 * math.pi * f * t / st.rate)
    tone = amp * acc / max(1, len(freqs))
    out = np.concatenate((np.clip(np.rint(tone), -32768, 32767), np.zeros(max(0, wait))))
    return out.astype(np.int16)


def _run_tones(st: _State, seg: str, out: list[np.ndarray]) -> None:
    pos = 0
    while pos < len(seg):
        ch = seg[pos]
        if ch in " \r\n\t":
            pos += 1
            continue
        if pos + 1 < len(seg) and seg[pos + 1] == "(":
            end = seg.find(")", pos + 2)
            if end < 0:
                raise MediaError(f"tone_stream: missing ')' in {seg!r}")
            fields = [f for f in seg[pos + 2 : end].split(",")]
            pos = end + 1
            if ch == "%":
                if len(fields) < 3:
                    raise MediaError(
                        f"tone_stream: %(on,off,freq...) needs at least one frequency in {seg!r}"
                    )
                on = int(_num(fields[0], "duration", seg)) * (st.rate // 1000)
                off = int(_num(fields[1], "wait", seg)) * (st.rate // 1000)
                freqs = [_num(f, "frequency", seg) for f in fields[2 : 2 + MAX_TONES]]
            else:
                if len(fields) != 2:
                    raise MediaError(f"tone_stream: {ch}(on,off) takes two numbers in {seg!r}")
                key = ch.upper()
                if key not in DTMF_FREQS:
                    raise MediaError(f"tone_stream: unknown tone {ch!r} in {seg!r}")
                on = int(_num(fields[0], "duration", seg)) * (st.rate // 1000)
                off = int(_num(fields[1], "wait", seg)) * (st.rate // 1000)
                freqs = list(DTMF_FREQS[key])
        else:
            key = ch.upper()
            if key not in DTMF_FREQS:
                raise MediaError(f"tone_stream: unknown tone {ch!r} in {seg!r}")
            on, off, freqs = st.duration, st.wait, list(DTMF_FREQS[key])
            pos += 1
        if any(f <= 0 for f in freqs):
            raise MediaError(f"tone_stream: frequencies must be positive in {seg!r}")
        burst = _mux(st, freqs, on, off)
        repeat = 1 if st.loops == 0 else max(1, st.loops)
        if st.loops < 0:
            raise MediaError("tone_stream: l=-1 (repeat forever) inside a tone is not supported")
        out.extend([burst] * repeat)
        st.loops = 0


def parse_tone_spec(spec: str, rate: int) -> tuple[np.ndarray, int]:
    """Render a teletone spec to samples at ``rate``; returns (samples, loops).

    ``loops`` follows mod_tone_stream: 0 or 1 play once, N plays N times, -1 forever.
    """
    loops = 0
    m = re.search(r";loops=", spec, re.I)
    if m:
        tail = spec[m.end() :]
        spec = spec[: m.start()]
        mm = re.match(r"\s*(-?\d+)", tail)
        if not mm:
            raise MediaError(f"tone_stream: bad loops value {tail!r}")
        loops = int(mm.group(1))
    if not spec.strip():
        raise MediaError("tone_stream: empty tone spec")
    st = _State(rate)
    out: list[np.ndarray] = []
    looping = False
    passes = 0
    while True:
        for raw in spec.split(";"):
            seg = raw.strip()
            if not seg:
                continue
            if len(seg) >= 2 and seg[1] == "=":
                key, val = seg[0], seg[2:]
                ms = rate // 1000
                if key == "d":
                    st.duration = int(_num(val, "d=", seg)) * ms
                elif key == "w":
                    st.wait = int(_num(val, "w=", seg)) * ms
                elif key == "v":
                    v = _num(val, "v=", seg)
                    if VOL_MIN <= v <= VOL_MAX:
                        st.volume = v
                elif key == "l":
                    st.loops = int(_num(val, "l=", seg))
                elif key == "L":
                    n = int(_num(val, "L=", seg))
                    if not looping and n > 0:
                        st.LOOPS = n
                        looping = True
                elif key in "<>":
                    st.decay_step = int(_num(val, "decay step", seg)) * ms
                    st.decay_dir = 1 if key == "<" else -1
                elif key == "+":
                    st.decay_factor = _num(val, "decay factor", seg)
                elif key in "cr":
                    _num(val, f"{key}=", seg)  # accepted; output stays mono at the channel rate
                else:
                    raise MediaError(f"tone_stream: unknown setting {key}= in {seg!r}")
            else:
                _run_tones(st, seg, out)
        passes += 1
        if st.LOOPS > 0:
            st.LOOPS -= 1
        if st.LOOPS <= 0 or passes > 10000:
            break
    if not out:
        raise MediaError(f"tone_stream: {spec!r} produces no tone")
    return np.concatenate(out), loops


def silence_spec(spec: str, rate: int) -> tuple[int | None, int]:
    """``silence_stream://ms[,noise]`` -> (samples or None for forever, noise divisor)."""
    parts = spec.split(",", 1)
    try:
        ms = int(parts[0].strip() or "0")
    except ValueError:
        raise MediaError(f"silence_stream: bad duration {parts[0]!r}") from None
    noise = 0
    if len(parts) > 1:
        try:
            noise = max(0, int(parts[1].strip() or "0"))
        except ValueError:
            raise MediaError(f"silence_stream: bad noise level {parts[1]!r}") from None
    return ((rate // 1000) * ms if ms > 0 else None), noise
