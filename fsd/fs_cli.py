"""``fsd_cli``: fs_cli for fsd, over the event socket.

    fsd_cli [-H host] [-P port] [-p password] [-u user@domain] [-x "cmd"] [-r] [-R] [-l level]

``-x`` runs one API command (several with ``;``) and exits; otherwise an interactive prompt
(prompt-toolkit with history on a terminal, plain lines when input is piped).  Lines are
API commands; ``/log <level>``, ``/nolog``, ``/event <fmt?> <names>``, ``/noevents``,
``/filter``, ``/uuid``, ``/exit`` (also ``/quit``, ``/bye``, ``...``) as in fs_cli.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

from fsd.esl import ESLconnection, ESLevent


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="fsd_cli", add_help=False,
                                description="Command line client for fsd's event socket")
    p.add_argument("-?", "-h", "--help", action="help", help="show this help")
    p.add_argument("-H", "--host", default="127.0.0.1")
    p.add_argument("-P", "--port", type=int, default=8021)
    p.add_argument("-p", "--password", default="ClueCon")
    p.add_argument("-u", "--user", default=None, help="user@domain for userauth")
    p.add_argument("-x", "--execute", default=None, help="run API command(s) and exit")
    p.add_argument("-l", "--loglevel", default=None, help="log level to show (e.g. info)")
    p.add_argument("-q", "--quiet", action="store_true", help="no log lines")
    p.add_argument("-r", "--retry", action="store_true", help="retry connecting for 120 s")
    p.add_argument("-R", "--reconnect", action="store_true", help="reconnect when disconnected")
    p.add_argument("-t", "--timeout", type=int, default=0, help="-x: timeout in ms (0: none)")
    p.add_argument("-n", "--no-color", action="store_true")
    p.add_argument("-b", "--batchmode", action="store_true", help="plain lines, no prompt")
    return p.parse_args(argv)


def connect(a: argparse.Namespace) -> ESLconnection | None:
    deadline = time.monotonic() + (120 if a.retry else 0)
    while True:
        if a.user:
            conn = ESLconnection(a.host, a.port, a.user, a.password)
        else:
            conn = ESLconnection(a.host, a.port, a.password)
        if conn.connected():
            return conn
        if time.monotonic() >= deadline:
            return None
        time.sleep(1)


def _print_frame(e: ESLevent, out) -> None:
    ctype = e.getHeader("Content-Type") or ""
    if ctype == "log/data":
        out.write(e.getBody() or "")
    elif ctype == "text/disconnect-notice":
        out.write(e.getBody() or "Disconnected.\n")
    else:
        out.write(e.serialize("plain"))
        if not (e.getBody() or "").endswith("\n"):
            out.write("\n")
    out.flush()


def run_command(conn: ESLconnection, line: str, out) -> bool:
    """One console line; False when the console should exit."""
    line = line.strip()
    if not line:
        return True
    if line in ("/exit", "/quit", "/bye", "...", "exit", "quit", "bye"):
        return False
    if line.startswith("/"):
        word, _, rest = line[1:].partition(" ")
        word = word.lower()
        if word == "help":
            out.write("/log <level>, /nolog, /event <fmt?> <names>, /noevents, "
                      "/filter <header> <value>, /uuid <uuid>, /exit\n")
            return True
        mapping = {"log": f"log {rest}".strip(), "nolog": "nolog", "noevents": "noevents",
                   "event": f"event {rest}", "nixevent": f"nixevent {rest}",
                   "filter": f"filter {rest}", "uuid": f"myevents {rest}",
                   "debug": "", "quiet": "nolog"}
        cmd = mapping.get(word)
        if cmd is None:
            out.write(f"Unknown command [/{word}]\n")
            return True
        if cmd:
            r = conn.sendRecv(cmd)
            if r is None:
                return False
            out.write((r.getHeader("Reply-Text") or "") + "\n")
        return True
    r = conn.api(line)
    if r is None:
        out.write("Disconnected.\n")
        return False
    out.write(r.getBody() or "")
    if r.getBody() and not r.getBody().endswith("\n"):
        out.write("\n")
    out.flush()
    return True


def _pump(conn: ESLconnection, out, stop: threading.Event) -> None:
    """Print log lines and events arriving between commands."""
    while not stop.is_set() and conn.connected():
        with conn._lock:
            e = conn.recvEventTimed(100)
        if e is not None:
            _print_frame(e, out)
        else:
            time.sleep(0.02)


def interactive(conn: ESLconnection, a: argparse.Namespace) -> int:
    out = sys.stdout
    tty = sys.stdin.isatty() and not a.batchmode
    if not a.quiet and a.loglevel:
        conn.sendRecv(f"log {a.loglevel}")
    stop = threading.Event()
    pump = None
    if tty:
        pump = threading.Thread(target=_pump, args=(conn, out, stop), daemon=True)
        pump.start()
    try:
        if tty:
            from prompt_toolkit import PromptSession
            from prompt_toolkit.history import FileHistory
            from prompt_toolkit.patch_stdout import patch_stdout

            hist = os.path.expanduser("~/.fsd_cli_history")
            session = PromptSession(history=FileHistory(hist))
            prompt = f"freeswitch@{a.host}> "
            while conn.connected():
                try:
                    with patch_stdout():
                        line = session.prompt(prompt)
                except (EOFError, KeyboardInterrupt):
                    break
                if not run_command(conn, line, out):
                    break
        else:
            for line in sys.stdin:
                if not run_command(conn, line, out):
                    break
                # show what arrived meanwhile (log lines, events)
                while True:
                    e = conn.recvEventTimed(50)
                    if e is None:
                        break
                    _print_frame(e, out)
    finally:
        stop.set()
        if pump is not None:
            pump.join(1)
        conn.sendRecv("exit") if conn.connected() else None
        conn.disconnect()
    return 0


def main(argv: list[str] | None = None) -> int:
    a = _args(argv)
    while True:
        conn = connect(a)
        if conn is None:
            sys.stderr.write(f"Error Connecting [Socket Connection Error] to {a.host}:{a.port}\n")
            return 1
        if a.execute is not None:
            rc = 0
            for cmd in a.execute.split(";"):
                cmd = cmd.strip()
                if not cmd:
                    continue
                r = conn.api(cmd)
                if r is None:
                    sys.stderr.write("Disconnected.\n")
                    rc = 1
                    break
                body = r.getBody() or ""
                sys.stdout.write(body)
                if body.startswith("-ERR"):
                    rc = 1
            sys.stdout.flush()
            conn.disconnect()
            return rc
        interactive(conn, a)
        if not a.reconnect:
            return 0
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
