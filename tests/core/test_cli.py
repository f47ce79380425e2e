"""The fsd command line, run as a user runs it: a real process on a temporary base."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fsd.testing import prepare_base

FSD = [sys.executable, "-m", "fsd.cli"]
SAFE_MODULES = ["mod_commands", "mod_loopback", "mod_dptools"]


def run(args, **kw):
    return subprocess.run(FSD + args, capture_output=True, text=True, timeout=60, **kw)


from fsd.cli import _alive  # noqa: E402  (a zombie counts as stopped)


def test_version_and_help():
    r = run(["-version"])
    assert r.returncode == 0
    assert r.stdout.startswith("FreeSWITCH version: 1.10.12")
    r = run(["-help"])
    assert r.returncode == 0 and "-nc" in r.stdout and "-base DIR" in r.stdout


def test_unknown_flag_is_refused():
    r = run(["-bogus"])
    assert r.returncode == 2
    assert "unknown option '-bogus'" in r.stderr


def test_daemon_start_stop_and_second_instance(tmp_path):
    prepare_base(tmp_path, SAFE_MODULES)
    r = run(["-nc", "-base", str(tmp_path)])
    assert r.returncode == 0, r.stderr
    pid_file = tmp_path / "run" / "fsd.pid"
    pid = int(pid_file.read_text())
    assert _alive(pid)
    try:
        second = run(["-nc", "-base", str(tmp_path)])
        assert second.returncode == 1
        assert "already running on this base directory" in second.stderr
        second_fg = run(["-nf", "-base", str(tmp_path)])
        assert second_fg.returncode == 1
        assert "already running" in second_fg.stderr
    finally:
        stop = run(["-stop", "-base", str(tmp_path)])
    assert stop.returncode == 0, stop.stderr
    assert not _alive(pid)
    assert not pid_file.exists()
    # nothing left: stopping again says so
    again = run(["-stop", "-base", str(tmp_path)])
    assert again.returncode == 1 and "not running" in again.stderr


def test_missing_base_directories_are_created(tmp_path):
    conf_src = tmp_path / "prepared"
    prepare_base(conf_src, SAFE_MODULES)
    base = tmp_path / "fresh"
    r = run(["-nc", "-base", str(base), "-conf", str(conf_src / "conf")])
    try:
        assert r.returncode == 0, r.stderr
        for name in ("log", "run", "db", "scripts", "sounds", "recordings", "storage", "temp"):
            assert (base / name).is_dir(), name
    finally:
        run(["-stop", "-base", str(base)])


def test_empty_conf_is_filled_from_embedded_default(tmp_path):
    # In-process: starting a daemon on the embedded default would listen on 8021.
    from fsd.dirs import Dirs

    d = Dirs.from_base(str(tmp_path / "b"))
    d.create()
    assert (tmp_path / "b" / "conf" / "freeswitch.xml").is_file()
    assert (tmp_path / "b" / "conf" / "autoload" / "modules.conf.xml").is_file()


def test_broken_config_names_file_and_line(tmp_path):
    prepare_base(tmp_path, SAFE_MODULES)
    bad = tmp_path / "conf" / "autoload" / "broken.conf.xml"
    bad.write_text('<configuration name="broken.conf">\n  <settings>\n    <param name="x" value="1">\n'
                   '  </settings>\n</configuration>\n')
    r = run(["-nc", "-base", str(tmp_path)])
    assert r.returncode == 1
    line = r.stderr.strip().splitlines()[-1]
    assert str(bad) in line and ":4:" in line, line


def test_unwritable_directory_is_a_one_line_error(tmp_path):
    prepare_base(tmp_path, SAFE_MODULES)
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    r = run(["-nc", "-base", str(tmp_path), "-log", str(blocker / "log")])
    assert r.returncode == 1
    assert str(blocker / "log") in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_directory_overrides(tmp_path):
    prepare_base(tmp_path, SAFE_MODULES)
    logs = tmp_path / "elsewhere-logs"
    r = run(["-nc", "-base", str(tmp_path), "-log", str(logs)])
    assert r.returncode == 0, r.stderr
    try:
        assert (logs / "fsd.log").exists()
    finally:
        run(["-stop", "-base", str(tmp_path)])


def test_console_executes_commands(tmp_path):
    prepare_base(tmp_path, SAFE_MODULES)
    p = subprocess.run(FSD + ["-c", "-base", str(tmp_path), "-loglevel", "err"],
                       input="version\nstatus\nglobal_setvar x=42\nglobal_getvar x\n/exit\n",
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "FreeSWITCH Version 1.10.12" in out
    assert "is ready" in out and "session(s) since startup" in out
    assert "\n42\n" in out


def test_foreground_stops_on_sigterm(tmp_path):
    prepare_base(tmp_path, SAFE_MODULES)
    p = subprocess.Popen(FSD + ["-nf", "-base", str(tmp_path), "-loglevel", "err"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid_file = tmp_path / "run" / "fsd.pid"
    deadline = time.time() + 20
    while time.time() < deadline and not pid_file.exists():
        time.sleep(0.05)
    assert pid_file.exists()
    time.sleep(0.3)
    p.terminate()
    assert p.wait(timeout=20) == 0
    assert not pid_file.exists()


@pytest.mark.parametrize("flag", ["-nonat", "-nosql", "-nonatmap"])
def test_ignored_compat_flags_accepted(flag, tmp_path):
    r = run([flag, "-version"])
    assert r.returncode == 0


def test_log_file_written(tmp_path):
    prepare_base(tmp_path, SAFE_MODULES)
    p = subprocess.run(FSD + ["-c", "-base", str(tmp_path)], input="version\n/exit\n",
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0
    log = Path(tmp_path / "log" / "fsd.log").read_text()
    assert "Successfully Loaded [mod_commands]" in log


def test_port_taken_is_a_one_line_error_naming_the_port(tmp_path):
    import re
    import socket

    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        prepare_base(tmp_path, ["mod_commands", "mod_event_socket"])
        mc = tmp_path / "conf" / "autoload" / "modules.conf.xml"
        mc.write_text(mc.read_text().replace('module="mod_event_socket"',
                                             'module="mod_event_socket" critical="true"'))
        esl = tmp_path / "conf" / "autoload" / "event_socket.conf.xml"
        esl.write_text(re.sub(r'(name="listen-port"\s+value=")[^"]*(")', rf"\g<1>{port}\2", esl.read_text()))
        r = run(["-nc", "-base", str(tmp_path)])
        assert r.returncode == 1
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and str(port) in lines[0], r.stderr
    finally:
        blocker.close()
        run(["-stop", "-base", str(tmp_path)])


def test_every_directory_override(tmp_path):
    prepare_base(tmp_path / "base", SAFE_MODULES)
    names = ["run", "db", "scripts", "sounds", "recordings", "storage", "temp"]
    args = ["-c", "-base", str(tmp_path / "base"), "-loglevel", "err"]
    for n in names:
        args += [f"-{n}", str(tmp_path / f"x-{n}")]
    script = "".join(f"global_getvar {'script' if n == 'scripts' else n}_dir\n" for n in names) + "/exit\n"
    p = subprocess.run(FSD + args, input=script, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    for n in names:
        assert (tmp_path / f"x-{n}").is_dir(), n
        assert str(tmp_path / f"x-{n}") in p.stdout, n


def test_console_on_a_terminal_keeps_history(tmp_path):
    """-c on a real terminal (a pty): prompt, command output, /exit, history file."""
    import pty
    import select

    prepare_base(tmp_path, ["mod_commands"])
    pid, fd = pty.fork()
    if pid == 0:  # child: become the console
        try:
            os.environ["TERM"] = "xterm"
            os.execvp(sys.executable, [*FSD, "-c", "-base", str(tmp_path), "-loglevel", "err"])
        finally:
            os._exit(127)
    out = b""

    def read_for(seconds: float) -> None:
        nonlocal out
        end = time.time() + seconds
        while time.time() < end:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    return

    read_for(3)
    os.write(fd, b"version\r")
    read_for(1.5)
    os.write(fd, b"/exit\r")
    read_for(3)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert b"freeswitch@" in out and b"FreeSWITCH Version" in out
    assert "+version" in (tmp_path / ".fsd_history").read_text()
