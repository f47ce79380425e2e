"""Text to speech through a command-line program, the way mod_tts_commandline works.

``conf/autoload/tts_commandline.conf.xml``::

    <configuration name="tts_commandline.conf">
      <settings>
        <param name="command" value="espeak-ng -v ${voice} -w ${file} ${text}"/>
      </settings>
    </configuration>

The command is split into words first (shell quoting rules), then ``${text}``,
``${voice}``, ``${file}`` and ``${rate}`` are replaced inside each word, and the program
runs as an argv list without a shell: the caller's text can never become a shell command.
(FreeSWITCH runs the line through a shell after escaping quotes.)  The program must write
a sound file to ``${file}``; fsd plays it (any rate: it is resampled) and deletes it.

Engines are named: ``tts_commandline`` (FreeSWITCH's name) is the configured command;
``<engines><engine name="flite" command="flite -t ${text} -o ${file}"/></engines>`` in the
same file adds more (an fsd extension).  An engine whose program is not installed gives a
clear :class:`TTSError`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import uuid
from typing import Any

DEFAULT_COMMAND = "espeak-ng -v ${voice} -w ${file} ${text}"
DEFAULT_VOICE = "en"
ENGINE_NAME = "tts_commandline"
TIMEOUT_SECS = 30


class TTSError(Exception):
    """Speech could not be produced; the message says why."""


class CommandLineTTS:
    """One command template, e.g. ``espeak-ng -w ${file} ${text}``."""

    def __init__(self, command: str, name: str = ENGINE_NAME) -> None:
        try:
            self.argv = shlex.split(command)
        except ValueError as exc:
            raise TTSError(f"{name}: bad command {command!r}: {exc}") from exc
        if not self.argv:
            raise TTSError(f"{name}: empty command")
        self.name = name
        self.command = command

    def render(self, text: str, voice: str, file: str, rate: int) -> list[str]:
        # A text that starts with "-" would be read as an option by the program.
        if text.startswith("-"):
            text = " " + text
        if not voice or voice.lower() == "default":
            voice = DEFAULT_VOICE
        values = {"text": text, "voice": voice, "file": file, "rate": str(rate)}
        out = []
        for word in self.argv:
            for k, v in values.items():
                word = word.replace("${" + k + "}", v)
            out.append(word)
        return out

    def synthesize(self, text: str, voice: str, file: str, rate: int) -> None:
        argv = self.render(text, voice, file, rate)
        program = argv[0]
        if shutil.which(program) is None:
            raise TTSError(f"{self.name}: program {program!r} is not installed (command: {self.command})")
        try:
            proc = subprocess.run(argv, capture_output=True, timeout=TIMEOUT_SECS, check=False)
        except subprocess.TimeoutExpired as exc:
            raise TTSError(f"{self.name}: {program} took more than {TIMEOUT_SECS} s") from exc
        except OSError as exc:
            raise TTSError(f"{self.name}: cannot run {program}: {exc}") from exc
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip()[:200]
            raise TTSError(f"{self.name}: {program} exited with {proc.returncode}: {err}")
        if not os.path.exists(file) or os.path.getsize(file) <= 44:
            raise TTSError(f"{self.name}: {program} produced no audio")


def engines(switch: Any) -> dict[str, CommandLineTTS]:
    """The configured engines (re-read each time, so reloadxml applies)."""
    command = DEFAULT_COMMAND
    extra: dict[str, str] = {}
    cfg = getattr(switch, "config", None)
    el = cfg.get_configuration("tts_commandline.conf") if cfg is not None else None
    if el is not None:
        for p in el.iter("param"):
            if (p.get("name") or "").lower() == "command" and p.get("value"):
                command = p.get("value")
        for e in el.iter("engine"):
            if e.get("name") and e.get("command"):
                extra[e.get("name").lower()] = e.get("command")
    out = {ENGINE_NAME: CommandLineTTS(command)}
    for name, cmd in extra.items():
        out[name] = CommandLineTTS(cmd, name)
    return out


def synthesize(switch: Any, engine: str, voice: str, text: str, rate: int) -> str:
    """Speak ``text`` into a temporary WAV and return its path (the caller deletes it)."""
    if not text or not text.strip():
        raise TTSError("nothing to speak")
    found = engines(switch).get((engine or "").lower())
    if found is None:
        raise TTSError(f"invalid TTS module [{engine}]")
    temp = getattr(getattr(switch, "dirs", None), "temp", None) or tempfile.gettempdir()
    os.makedirs(temp, exist_ok=True)
    path = os.path.join(temp, f"tts-{uuid.uuid4().hex}.wav")
    try:
        found.synthesize(text, voice, path, rate)
    except TTSError:
        try:
            os.unlink(path)
        except OSError:
            pass
        raise
    return path
