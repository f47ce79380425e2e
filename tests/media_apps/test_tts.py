"""speak through the command-line TTS engine (espeak-ng, installed by .ci/setup.d)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from fsd.tts import CommandLineTTS, TTSError


def test_speak_produces_audio_heard_by_the_other_leg(sw, events, h, tmp_path):
    out = tmp_path / "speech.wav"
    a = h.originate(sw, "{sp_args='tts_commandline|en|Hello, this is a test of speech.'}"
                        f"loopback/speak/m &record({out} 3)")
    b = h.b_leg(sw, a)
    events.wait("RECORD_STOP", a, timeout=10)
    got, rate = sf.read(str(out), dtype="int16")
    loud = np.abs(got.astype(np.int32)) > 1000
    assert loud.sum() > 2000  # real speech, not silence
    spec = np.abs(np.fft.rfft(got.astype(float)))
    freqs = np.fft.rfftfreq(len(got), 1 / rate)
    band = spec[(freqs > 100) & (freqs < 3500)].sum() / spec.sum()
    assert band > 0.8
    assert events.of("PLAYBACK_STOP", b)[0].get_header("Playback-Status") == "done"


def test_set_tts_params_then_speak_text_only(sw, events, h):
    a = h.originate(sw, "{tts_engine=tts_commandline,tts_voice=en,sp_args=Good morning}"
                        "loopback/speak/m &park()")
    b = h.b_leg(sw, a)
    assert h.wait_until(lambda: h.getvar(sw, b, "speak_done") == "1", 10)
    stop = events.wait("PLAYBACK_STOP", b)[0]
    assert stop.get_header("Playback-Status") == "done"
    sw.api_execute(f"uuid_kill {a}")


def test_speak_without_engine_or_with_a_missing_program_fails_clearly(sw, events, h, tmp_path):
    conf = tmp_path / "conf" / "autoload" / "tts_commandline.conf.xml"
    conf.write_text("""<configuration name="tts_commandline.conf"><settings>
      <param name="command" value="espeak-ng -v ${voice} -w ${file} ${text}"/></settings>
      <engines><engine name="broken" command="no-such-tts-program -o ${file} ${text}"/>
      </engines></configuration>""")
    assert sw.reloadxml()[0]
    a = h.originate(sw, "{sp_args='broken|x|hello'}loopback/speak/m &park()")
    b = h.b_leg(sw, a)
    assert h.wait_until(lambda: h.getvar(sw, b, "speak_done") == "1", 10)
    a2 = h.originate(sw, "{sp_args=hello}loopback/speak/m &park()")
    b2 = h.b_leg(sw, a2)
    assert h.wait_until(lambda: h.getvar(sw, b2, "speak_done") == "1", 10)
    a3 = h.originate(sw, "{sp_args='nosuch|x|hello'}loopback/speak/m &park()")
    b3 = h.b_leg(sw, a3)
    assert h.wait_until(lambda: h.getvar(sw, b3, "speak_done") == "1", 10)
    log = open(f"{sw.dirs.log}/fsd.log").read()
    assert "program 'no-such-tts-program' is not installed" in log
    assert "speak: Invalid Params!" in log
    assert "invalid TTS module [nosuch]" in log
    assert not events.of("PLAYBACK_START", b)
    sw.api_execute("hupall")


def test_command_template_keeps_text_one_argument():
    eng = CommandLineTTS("espeak-ng -v ${voice} -w ${file} ${text}")
    argv = eng.render("rm -rf / ; echo $(id)", "default", "/t/x.wav", 8000)
    assert argv == ["espeak-ng", "-v", "en", "-w", "/t/x.wav", "rm -rf / ; echo $(id)"]
    # text that looks like an option is not read as one
    assert eng.render("-w /etc/x", "en", "/t/y.wav", 8000)[-1] == " -w /etc/x"
    with pytest.raises(TTSError, match="bad command"):
        CommandLineTTS("espeak-ng 'unclosed")
    with pytest.raises(TTSError, match="empty command"):
        CommandLineTTS("   ")
