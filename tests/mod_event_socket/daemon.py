"""A real fsd with its event socket on an ephemeral port, for tests in any folder.

    from tests.mod_event_socket.daemon import esl_daemon   # or load it by path
    with esl_daemon(tmp_path) as (switch, port):
        ...  # connect to 127.0.0.1:port with password "ClueCon"

``modules`` replaces the module list (mod_event_socket is added if missing);
``esl_params`` sets extra ``<param>``s of event_socket.conf.xml (``{"password": "x"}``);
``extra_files`` writes files under the base (``{"conf/dialplan/test.xml": "..."}``).
Tests use ``--import-mode=importlib``: import this file by path with
``importlib.util.spec_from_file_location`` when it is not importable as a package.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

from fsd.switch import Switch
from fsd.testing import prepare_base

HOST = "127.0.0.1"
PASSWORD = "ClueCon"
DEFAULT_MODULES = ["mod_commands", "mod_event_socket"]


def write_esl_params(base: str | os.PathLike, params: dict[str, str]) -> None:
    """Set (or add) ``<param name=k value=v/>`` in the base's event_socket.conf.xml."""
    path = Path(base) / "conf" / "autoload" / "event_socket.conf.xml"
    # comments hold example params (tls-cert...) that must not be the ones edited
    text = re.sub(r"<!--.*?-->", "", path.read_text(), flags=re.S)
    for k, v in params.items():
        pat = re.compile(rf'(<param name="{re.escape(k)}"\s+value=")[^"]*(")')
        if pat.search(text):
            text = pat.sub(lambda m, v=v: m.group(1) + v + m.group(2), text)
        else:
            text = text.replace("<settings>", f'<settings>\n    <param name="{k}" value="{v}"/>', 1)
    path.write_text(text)


@contextlib.contextmanager
def esl_daemon(base: str | os.PathLike, modules: list[str] | None = None,
               esl_params: dict[str, str] | None = None,
               extra_files: dict[str, str] | None = None) -> Iterator[tuple[Switch, int]]:
    """Start a Switch on ``base`` and yield ``(switch, esl_port)``; shut it down after."""
    mods = list(modules) if modules is not None else list(DEFAULT_MODULES)
    if "mod_event_socket" not in mods:
        mods.append("mod_event_socket")
    dirs = prepare_base(base, mods, extra_files)
    write_esl_params(base, {"listen-port": "0", **(esl_params or {})})
    # as in the shipped modules.conf.xml: without its event socket the daemon must not run
    mc = Path(base) / "conf" / "autoload" / "modules.conf.xml"
    mc.write_text(mc.read_text().replace('module="mod_event_socket"/>',
                                         'module="mod_event_socket" critical="true"/>'))
    sw = Switch(dirs)
    sw.start()
    try:
        from fsd_modules.mod_event_socket import bound_address

        addr = bound_address(sw)
        assert addr is not None, "mod_event_socket did not start"
        yield sw, addr[1]
    finally:
        sw.shutdown()


def read_frame(sock: socket.socket, buf: bytearray) -> tuple[dict[str, str], bytes, bytes]:
    """Read one server message: (headers, body, the exact raw bytes)."""
    while b"\n\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed while reading headers")
        buf += data
    i = buf.index(b"\n\n")
    head = bytes(buf[:i])
    del buf[: i + 2]
    headers: dict[str, str] = {}
    for line in head.decode().split("\n"):
        k, _, v = line.partition(": ")
        headers.setdefault(k, v)
    n = int(headers.get("Content-Length", "0") or 0)
    while len(buf) < n:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed while reading a body")
        buf += data
    body = bytes(buf[:n])
    del buf[:n]
    return headers, body, head + b"\n\n" + body


class RawClient:
    """A byte-level ESL client for exact-reply tests."""

    def __init__(self, port: int, host: str = HOST, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = bytearray()

    def send(self, data: bytes | str) -> None:
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def frame(self) -> tuple[dict[str, str], bytes, bytes]:
        return read_frame(self.sock, self.buf)

    def raw(self) -> bytes:
        return self.frame()[2]

    def cmd(self, text: str) -> bytes:
        """Send ``text`` + blank line and return the raw reply."""
        self.send(text + "\n\n")
        return self.raw()

    def auth(self, password: str = PASSWORD) -> bytes:
        assert self.raw() == b"Content-Type: auth/request\n\n"
        return self.cmd(f"auth {password}")

    def read_until_closed(self, timeout: float = 5.0) -> bytes:
        self.sock.settimeout(timeout)
        out = bytes(self.buf)
        self.buf.clear()
        while True:
            try:
                data = self.sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not data:
                break
            out += data
        return out

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def reply(text: str) -> bytes:
    return f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode()
