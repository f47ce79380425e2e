"""A real switch with the media applications, a test dialplan context "m", a test
language "tl" with phrase macros, and small generated sound files under <base>/snd."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from fsd import testing
from fsd.testing import EventLog, running_switch, wait_until

MODULES = ["mod_commands", "mod_dptools", "mod_loopback", "mod_dialplan_xml", "mod_say_en"]

DIALPLAN = r"""<include>
<context name="m">
  <extension name="play_file">
    <condition field="destination_number" expression="^play$">
      <action application="answer"/>
      <action application="sleep" data="200"/>
      <action application="playback" data="${pfile}"/>
      <action application="set" data="after_play=${current_application_response}"/>
      <action application="sleep" data="300"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="read">
    <condition field="destination_number" expression="^read$">
      <action application="answer"/>
      <action application="read" data="${rd_args}"/>
      <action application="set" data="read_done=1"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="pagd">
    <condition field="destination_number" expression="^pagd$">
      <action application="answer"/>
      <action application="play_and_get_digits" data="${pagd_args}"/>
      <action application="set" data="pagd_done=1"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="failed_here">
    <condition field="destination_number" expression="^failed$">
      <action application="set" data="landed=failed"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="detect">
    <condition field="destination_number" expression="^detect$">
      <action application="answer"/>
      <action application="start_dtmf"/>
      <action application="read" data="1 8 silence got 4000 #"/>
      <action application="set" data="read_done=1"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="say">
    <condition field="destination_number" expression="^say$">
      <action application="answer"/>
      <action application="say" data="${say_args}"/>
      <action application="set" data="say_done=1"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="phrase">
    <condition field="destination_number" expression="^phrase$">
      <action application="answer"/>
      <action application="phrase" data="${ph_args}"/>
      <action application="set" data="phrase_done=1"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="speak">
    <condition field="destination_number" expression="^speak$">
      <action application="answer"/>
      <action application="sleep" data="100"/>
      <action application="speak" data="${sp_args}"/>
      <action application="set" data="speak_done=1"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="recsess">
    <condition field="destination_number" expression="^recsess$">
      <action application="answer"/>
      <action application="record_session" data="${rfile}"/>
      <action application="park"/>
    </condition>
  </extension>
</context>
</include>
"""

LANG = r"""<include>
  <language name="tl" say-module="en" sound-prefix="$${base_dir}/snd">
    <phrases>
      <macros>
        <macro name="count">
          <input pattern="^0$" break_on_match="true">
            <match>
              <action function="play-file" data="p/none.wav"/>
            </match>
          </input>
          <input pattern="^(\d+)$">
            <match>
              <action function="play-file" data="p/you_have.wav"/>
              <action function="say" data="$1" method="pronounced" type="items"/>
              <action function="play-file" data="p/messages.wav"/>
            </match>
            <nomatch>
              <action function="play-file" data="p/invalid.wav"/>
            </nomatch>
          </input>
        </macro>
        <macro name="setter">
          <input pattern="^(\w+)=(\w+)$">
            <match>
              <action function="execute" data="set($1=$2)"/>
            </match>
          </input>
        </macro>
      </macros>
    </phrases>
  </language>
</include>
"""

SOUND_NAMES = ["p/none", "p/you_have", "p/messages", "p/invalid", "digits/hundred",
               "digits/thousand", "digits/million", "currency/dollars", "currency/dollar",
               "currency/and", "currency/cents", "currency/cent", "prompt"] + [
    f"digits/{n}" for n in list(range(0, 20)) + [20, 30, 40, 50, 60, 70, 80, 90]]


def tone(freq: float, secs: float, rate: int = 8000, amp: float = 6000) -> np.ndarray:
    t = np.arange(int(rate * secs)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def write_wav(path, samples, rate=8000) -> str:
    path = str(path)
    sf.write(path, samples, rate, subtype="PCM_16")
    return path


@pytest.fixture
def sw(tmp_path):
    snd = tmp_path / "snd"
    for i, name in enumerate(SOUND_NAMES):
        p = snd / f"{name}.wav"
        p.parent.mkdir(parents=True, exist_ok=True)
        write_wav(p, tone(300 + 10 * i, 0.06))
    with running_switch(tmp_path, MODULES, extra_files={
        "conf/dialplan/m.xml": DIALPLAN,
        "conf/lang/tl/tl.xml": LANG,
    }) as switch:
        yield switch


@pytest.fixture
def events(sw):
    return EventLog(sw)


def originate(sw, text):
    uuid, out = testing.originate(sw, text)
    assert uuid, out
    return uuid


b_leg = testing.other_leg


def getvar(sw, uuid, name):
    return sw.api_execute(f"uuid_getvar {uuid} {name}")


def best_corr(got: np.ndarray, ref: np.ndarray) -> tuple[float, int]:
    """Best normalised correlation of ``ref`` inside ``got`` and where it is."""
    g = got.astype(np.float64)
    r = ref.astype(np.float64)
    if len(g) < len(r):
        return 0.0, -1
    c = np.correlate(g, r, "valid")
    i = int(np.argmax(c))
    seg = g[i:i + len(r)]
    denom = np.sqrt((seg ** 2).sum() * (r ** 2).sum())
    return (float(c[i] / denom) if denom else 0.0), i


def dominant_freq(samples: np.ndarray, rate: int = 8000) -> float:
    x = samples.astype(np.float64) * np.hanning(len(samples))
    spec = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spec))])


def peak_freqs(samples: np.ndarray, rate: int = 8000, n: int = 2) -> list[float]:
    x = samples.astype(np.float64) * np.hanning(len(samples))
    spec = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    out: list[float] = []
    for i in np.argsort(spec)[::-1]:
        f = float(freqs[i])
        if all(abs(f - o) > 40 for o in out):
            out.append(f)
        if len(out) == n:
            break
    return sorted(out)


@pytest.fixture
def h():
    """The helpers above, as a fixture (test modules cannot import conftest under
    --import-mode=importlib)."""
    import types

    return types.SimpleNamespace(
        tone=tone, write_wav=write_wav, originate=originate, b_leg=b_leg, getvar=getvar,
        best_corr=best_corr, dominant_freq=dominant_freq, peak_freqs=peak_freqs,
        wait_until=wait_until,
    )
