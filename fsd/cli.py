"""The ``fsd`` command line, with FreeSWITCH's flags.

    fsd            console (same as -c)          fsd -nf     foreground, no console
    fsd -nc        background daemon; returns when ready (0) or failed (non-zero)
    fsd -stop      stop the instance of this base directory through its pid file
    fsd -base DIR  and -conf -log -run -db -scripts -sounds -recordings -storage -temp DIR

``-nc`` starts a child ``fsd -nf`` in a new session and waits on a pipe for the child to
say READY or FAIL <reason>; the parent then exits 0 or prints the reason and exits 1.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from fsd import __version__
from fsd.dirs import DIR_NAMES, Dirs, default_base
from fsd.log import WARNING, level_from_str

USAGE = """Usage: fsd [OPTIONS]

FreeSWITCH-compatible options:
  -help              this text
  -version           print the version and exit
  -nf                no forking: run in the foreground without a console
  -c                 run in the foreground with an interactive console (default)
  -nc                no console: run in the background as a daemon
  -ncwait            same as -nc (fsd always waits until the daemon is ready)
  -stop              stop the fsd running on this base directory
  -base DIR          base directory (conf/ log/ run/ db/ scripts/ sounds/ recordings/
                     storage/ temp/ inside it; default $FSD_BASE or ~/.fsd)
  -conf DIR  -log DIR  -run DIR  -db DIR  -scripts DIR  -sounds DIR
  -recordings DIR  -storage DIR  -temp DIR
                     override one directory
  -loglevel LEVEL    console log level (console alert crit err warning notice info debug)
  -rp / -hp          media clock threads at realtime priority (the default, as FreeSWITCH;
                     falls back to normal with a warning where not permitted)
  -np                media clock threads at normal priority
  -lp                media clock threads at low priority
Accepted and ignored for compatibility: -nonat -nonatmap -nocal -nort -nosql
  -heavy-timer -reincarnate -reincarnate-reexec -vg -core -u USER -g GROUP
"""

_IGNORED = {"-nonat", "-nonatmap", "-nocal", "-nort", "-nosql",
            "-heavy-timer", "-reincarnate", "-reincarnate-reexec", "-vg", "-core"}
#: FreeSWITCH's priority flags -> the media clock's priority (fsd.media.clock.set_priority).
#: FreeSWITCH's -hp also means realtime; without a flag it asks for realtime too.
_PRIORITY_FLAGS = {"-rp": "realtime", "-hp": "realtime", "-np": "normal", "-lp": "low"}
_IGNORED_WITH_VALUE = {"-u", "-g", "-cfgname", "-mod", "-htdocs", "-certs", "-cache"}


@dataclass
class Options:
    mode: str = "console"  # console | foreground | daemon | stop | version | help
    base: str = ""
    overrides: dict[str, str] = field(default_factory=dict)
    loglevel: str | None = None
    ready_fd: int | None = None
    priority: str = "realtime"  # the media clock's (see _PRIORITY_FLAGS)


class UsageError(Exception):
    pass


def parse_args(argv: list[str]) -> Options:
    opts = Options()
    it = iter(argv)
    for arg in it:
        a = arg.lower() if arg.startswith("-") else arg
        if a.startswith("--") and a not in ("--ready-fd",):
            a = a[1:]
        if a in ("-h", "-help", "-?"):
            opts.mode = "help"
        elif a in ("-version", "-v"):
            opts.mode = "version"
        elif a == "-nf":
            opts.mode = "foreground"
        elif a == "-c":
            opts.mode = "console"
        elif a in ("-nc", "-ncwait"):
            opts.mode = "daemon"
        elif a == "-stop":
            opts.mode = "stop"
        elif a == "--ready-fd":
            opts.ready_fd = int(_value(it, arg))
        elif a == "-base":
            opts.base = _value(it, arg)
        elif a == "-loglevel":
            opts.loglevel = _value(it, arg)
        elif a.lstrip("-") in DIR_NAMES:
            opts.overrides[a.lstrip("-")] = _value(it, arg)
        elif a in _PRIORITY_FLAGS:
            opts.priority = _PRIORITY_FLAGS[a]
        elif a in _IGNORED:
            continue
        elif a in _IGNORED_WITH_VALUE:
            _value(it, arg)
        else:
            raise UsageError(f"unknown option {arg!r} (try -help)")
    if not opts.base:
        opts.base = default_base()
    return opts


def _value(it, flag: str) -> str:
    try:
        return next(it)
    except StopIteration:
        raise UsageError(f"option {flag} needs a value") from None


def pid_file(dirs: Dirs) -> str:
    return os.path.join(dirs.run, "fsd.pid")


def read_pid(dirs: Dirs) -> int | None:
    try:
        with open(pid_file(dirs)) as fh:
            return int(fh.read().strip() or "0") or None
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its new parent) is not running
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


class PidLock:
    """An exclusive lock on ``<run>/fsd.pid`` held for the daemon's lifetime."""

    def __init__(self, dirs: Dirs) -> None:
        self.path = pid_file(dirs)
        self.fh = None

    def acquire(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            other = fh.read().strip()
            fh.close()
            raise RuntimeError(
                f"another fsd (pid {other or '?'}) is already running on this base directory "
                f"(lock held on {self.path})") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self.fh = fh

    def release(self) -> None:
        if self.fh:
            try:
                os.unlink(self.path)
            except OSError:
                pass
            self.fh.close()
            self.fh = None


def cmd_stop(dirs: Dirs) -> int:
    pid = read_pid(dirs)
    if pid is None or not _alive(pid):
        print(f"fsd is not running on {dirs.base} (no live pid in {pid_file(dirs)})", file=sys.stderr)
        return 1
    print(f"Killing: {pid}")
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 30
    while time.time() < deadline:
        if not _alive(pid):
            return 0
        time.sleep(0.05)
    print(f"fsd (pid {pid}) did not stop within 30 s", file=sys.stderr)
    return 1


def cmd_daemon(argv: list[str], dirs: Dirs) -> int:
    """Start a detached ``fsd -nf`` and wait for it to report READY or FAIL."""
    pid = read_pid(dirs)
    if pid and _alive(pid):
        print(f"fsd: another fsd (pid {pid}) is already running on this base directory "
              f"({pid_file(dirs)})", file=sys.stderr)
        return 1
    rfd, wfd = os.pipe()
    child_args = [a for a in argv if a.lower() not in ("-nc", "-ncwait", "-c", "-nf")]
    cmd = [sys.executable, "-m", "fsd.cli", "-nf", *child_args, "--ready-fd", str(wfd)]
    with open(os.devnull, "rb") as devnull_in, open(os.devnull, "wb") as devnull_out:
        proc = subprocess.Popen(cmd, stdin=devnull_in, stdout=devnull_out, stderr=devnull_out,
                                pass_fds=(wfd,), start_new_session=True, close_fds=True)
    os.close(wfd)
    data = b""
    with os.fdopen(rfd, "rb") as r:
        while True:
            chunk = r.read(4096)
            if not chunk:
                break
            data += chunk
            if b"\n" in data:
                break
    msg = data.decode("utf-8", "replace").strip()
    if msg.startswith("READY"):
        print(f"fsd {__version__} started in the background (pid {proc.pid})")
        return 0
    reason = msg[5:] if msg.startswith("FAIL ") else "the daemon exited before it was ready"
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
    print(f"fsd: {reason}", file=sys.stderr)
    return 1


def run_switch(opts: Options, dirs: Dirs, console: bool) -> int:
    from fsd.console import attach_console_log, request_shutdown, run_console, shutdown_requested
    from fsd.switch import StartupError, Switch

    def report(text: str) -> None:
        if opts.ready_fd is not None:
            try:
                os.write(opts.ready_fd, (text + "\n").encode())
                os.close(opts.ready_fd)
            except OSError:
                pass
            opts.ready_fd = None

    lock = PidLock(dirs)
    try:
        os.makedirs(dirs.run, exist_ok=True)
        lock.acquire()
    except (RuntimeError, OSError) as e:
        report(f"FAIL {e}")
        print(f"fsd: {e}", file=sys.stderr)
        return 1

    level = level_from_str(opts.loglevel, None) if opts.loglevel else None
    if opts.ready_fd is None:
        attach_console_log(level if level is not None else (6 if console else 7))
    switch = Switch(dirs)
    from fsd.hook_timeout import abort_waits

    def on_signal(*_: object) -> None:
        abort_waits()  # a module load hanging in switch.start() is abandoned (fsd -stop)
        request_shutdown(switch)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    from fsd.media.clock import set_priority

    set_priority(opts.priority)  # before any clock thread starts (modules start them)
    try:
        switch.start()
    except StartupError as e:
        report(f"FAIL {e}")
        print(f"fsd: {e}", file=sys.stderr)
        lock.release()
        return 1
    from fsd.gctune import tune_for_daemon

    tune_for_daemon()
    report("READY")
    from fsd.console import set_colour

    set_colour(switch.setting_bool("colorize-console", True))
    try:
        if console:
            run_console(switch)
        else:
            # no timeout needed: SIGTERM/SIGINT run their handler (which sets the event)
            # in this thread while it waits, and the wait then returns
            shutdown_requested().wait()
    finally:
        from fsd.log import log
        from fsd.shutdown_guard import ShutdownGuard, shutdown_timeout

        log(WARNING, "Shutting down")
        # Bounded: a script stuck in a C call must not keep the process alive (fsd -stop)
        guard = ShutdownGuard(shutdown_timeout(switch.settings))
        switch.shutdown()
        lock.release()
        guard.finish()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        opts = parse_args(argv)
    except UsageError as e:
        print(f"fsd: {e}", file=sys.stderr)
        return 2
    if opts.mode == "help":
        print(USAGE)
        return 0
    if opts.mode == "version":
        from fsd.switch import VERSION_STRING

        print(f"FreeSWITCH version: {VERSION_STRING} (fsd {__version__})")
        return 0
    dirs = Dirs.from_base(opts.base, **opts.overrides)
    if opts.mode == "stop":
        return cmd_stop(dirs)
    if opts.mode == "daemon":
        return cmd_daemon(argv, dirs)
    return run_switch(opts, dirs, console=opts.mode == "console")


if __name__ == "__main__":
    sys.exit(main())
