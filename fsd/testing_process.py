"""Helpers for tests that run fsd as a user does: a daemon process (``fsd -nc``) on a
temporary base with its event socket on a free port, and third-party plugins installed
into a temporary ``--target`` directory (never into the running environment).

    with daemon_process(tmp_path, modules, env={"PYTHONPATH": target}) as d:
        assert d.api("status").startswith("UP ")
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fsd.testing import prepare_base

PASSWORD = "ClueCon"


def free_port() -> int:
    """A TCP port nobody listens on right now (the daemon binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def set_esl_port(base: str | os.PathLike, port: int) -> None:
    path = Path(base) / "conf" / "autoload" / "event_socket.conf.xml"
    text = re.sub(r'(name="listen-port"\s+value=")[^"]*(")', rf"\g<1>{port}\2", path.read_text())
    path.write_text(text)


def install_to_target(project: str | os.PathLike, target: str | os.PathLike,
                      python: str = sys.executable) -> Path:
    """``pip install --no-deps --target`` of a plugin project, built from a copy so that
    no build output lands in the source tree.  Returns ``target``: put it on the
    daemon's ``PYTHONPATH`` (entry points are found there)."""
    target = Path(target)
    work = target.parent / f"{Path(project).name}-src"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(project, work, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(work)],
                   check=True, capture_output=True, text=True)
    return target


@dataclass
class DaemonProcess:
    """A running ``fsd -nc``; ``api`` talks to it over its event socket."""

    base: Path
    port: int
    cmd: list[str]
    env: dict[str, str] = field(default_factory=dict)

    def api(self, command: str) -> str:
        from fsd.esl import ESLconnection

        conn = ESLconnection("127.0.0.1", str(self.port), PASSWORD)
        try:
            assert conn.connected(), f"cannot connect to the event socket on {self.port}"
            ev = conn.api(command)
            return ev.getBody() if ev is not None else ""
        finally:
            conn.disconnect()

    def log_text(self) -> str:
        path = self.base / "log" / "fsd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        r = subprocess.run(self.cmd + list(args), capture_output=True, text=True, timeout=60,
                           env=self.env, cwd=str(self.base))
        if check:
            assert r.returncode == 0, f"{args}: {r.returncode} {r.stdout} {r.stderr}"
        return r


@contextlib.contextmanager
def daemon_process(base: str | os.PathLike, modules: list[str] | None = None,
                   cmd: list[str] | None = None, env: dict[str, str] | None = None,
                   extra_files: dict[str, str] | None = None) -> Iterator[DaemonProcess]:
    """Start ``fsd -nc -base <base>`` (``cmd`` is the fsd command, by default this
    interpreter's ``-m fsd.cli``), yield it, and stop it with ``fsd -stop``."""
    base = Path(base)
    prepare_base(base, modules, extra_files)
    port = free_port()
    set_esl_port(base, port)
    full_env = dict(os.environ)
    full_env.update(env or {})
    d = DaemonProcess(base, port, cmd or [sys.executable, "-m", "fsd.cli"], full_env)
    d.run("-nc", "-base", str(base))
    try:
        yield d
    finally:
        d.run("-stop", "-base", str(base), check=False)
