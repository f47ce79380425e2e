"""API commands: the output ``Stream``, synchronous execution with its parameter event, and
background jobs (``bgapi``) that answer with a BACKGROUND_JOB event.

Behaviour follows FreeSWITCH's ``switch_api_execute`` (behaviour reference §1.3): command
and argument are trimmed; an ``API`` parameter event carries ``API-Command`` and
``API-Command-Argument`` and is fired after the command returns; an unknown command writes
``INVALID COMMAND!`` and a failing one appends ``COMMAND RETURNED ERROR!``.
"""

from __future__ import annotations

import io
import threading
import traceback
import uuid as uuidlib
from typing import TYPE_CHECKING, Any

from fsd.log import ERR, log

if TYPE_CHECKING:  # pragma: no cover
    from fsd.switch import Switch


class Stream:
    """A growable text buffer an API writes its output into (FreeSWITCH's stream handle).

    ``param_event`` is the API's parameter event (``env`` in Lua); ``reader`` gives request
    bodies for HTTP-originated calls."""

    def __init__(self, param_event: Any = None, reader: bytes | None = None) -> None:
        self._buf = io.StringIO()
        self.param_event = param_event
        self._reader = reader

    def write(self, text: Any) -> None:
        if text is None:
            return
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self._buf.write(str(text))

    def raw_write(self, data: bytes | str, length: int | None = None) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        if length is not None:
            data = data[: max(0, int(length))]
        self._buf.write(data.decode("utf-8", "replace"))

    def get_data(self) -> str:
        return self._buf.getvalue()

    def read(self) -> tuple[bytes, int]:
        """The request body of an HTTP-originated call (``("", 0)`` otherwise)."""
        data = self._reader or b""
        return data, len(data)


def split_command(line: str) -> tuple[str, str]:
    """``"cmd  args "`` → ``("cmd", "args")``, both trimmed."""
    line = (line or "").strip()
    cmd, _, args = line.partition(" ")
    return cmd.strip(), args.strip()


#: Background jobs running at once; one more is answered at once with ``-ERR`` in its
#: BACKGROUND_JOB instead of waiting behind the others.
MAX_BACKGROUND_JOBS = 1000


class ApiRunner:
    """Runs API commands for a switch; one per switch.

    Each background job runs on a thread of its own, as FreeSWITCH's do: a quick job never
    waits behind slow ones.  At most ``max_jobs`` run at once; beyond that a job is refused
    (its BACKGROUND_JOB body says why) rather than queued without end."""

    def __init__(self, switch: Switch, max_jobs: int = MAX_BACKGROUND_JOBS) -> None:
        self.switch = switch
        self.max_jobs = max_jobs
        self._lock = threading.Lock()
        self.jobs_running = 0
        self.jobs_refused = 0

    def execute(self, cmd: str, args: str = "", session: Any = None, stream: Stream | None = None,
                param_event: Any = None, fire: bool = True) -> tuple[str, bool]:
        """Run ``cmd args``; returns (output, ok).  ``ok`` is False for an unknown command or
        a command that reported failure."""
        from fsd.events import Event

        cmd, args = (cmd or "").strip(), (args or "").strip()
        if param_event is None:
            param_event = Event("API", calling_file="switch_loadable_module.c",
                                calling_func="switch_api_execute", calling_line=0)
        param_event.add_header("API-Command", cmd)
        if args:
            param_event.add_header("API-Command-Argument", args)
        if stream is None:
            stream = Stream(param_event)
        elif stream.param_event is None:
            stream.param_event = param_event
        api = self.switch.apis.get(cmd.lower()) if cmd else None
        ok = True
        if api is None:
            stream.write("INVALID COMMAND!\n")
            ok = False
        else:
            try:
                result = api.func(args, session, stream)
            except Exception as e:
                log(ERR, f"API {cmd} raised {type(e).__name__}: {e}\n{traceback.format_exc()}")
                stream.write(f"-ERR {cmd} failed: {e}\n")
                result = False
            if result is False:
                stream.write("COMMAND RETURNED ERROR!\n")
                ok = False
        if fire:
            self.switch.events.fire(param_event)
        return stream.get_data(), ok

    def execute_line(self, line: str, session: Any = None) -> str:
        cmd, args = split_command(line)
        return self.execute(cmd, args, session)[0]

    def background(self, cmd: str, args: str = "", job_uuid: str | None = None,
                   owner_uuid: str | None = None, calling_file: str = "switch_api.c",
                   calling_func: str = "api_exec", not_found_text: str | None = None) -> str:
        """Start ``cmd args`` in a worker; returns the Job-UUID at once.  The result is
        fired as BACKGROUND_JOB with Job-UUID, Job-Owner-UUID (when given), Job-Command,
        Job-Command-Arg (when non-empty) and the output as body."""
        job = job_uuid or str(uuidlib.uuid4())
        cmd, args = cmd.strip(), args.strip()

        def run(refused: bool = False) -> None:
            from fsd.events import Event

            try:
                if refused:
                    out = f"-ERR too many background jobs running ({self.max_jobs})\n"
                elif not_found_text is not None and cmd.lower() not in self.switch.apis:
                    out = not_found_text
                else:
                    out, _ = self.execute(cmd, args)
                ev = Event("BACKGROUND_JOB", calling_file=calling_file, calling_func=calling_func)
                ev.add_header("Job-UUID", job)
                if owner_uuid:
                    ev.add_header("Job-Owner-UUID", owner_uuid)
                ev.add_header("Job-Command", cmd)
                if args:
                    ev.add_header("Job-Command-Arg", args)
                ev.body = out
                self.switch.events.fire(ev)
            except Exception as e:  # never lose a job silently
                log(ERR, f"background job {job} ({cmd}) failed: {e}")
            finally:
                if not refused:
                    with self._lock:
                        self.jobs_running -= 1

        with self._lock:
            admitted = self.jobs_running < self.max_jobs
            if admitted:
                self.jobs_running += 1
            else:
                self.jobs_refused += 1
        if not admitted:
            log(ERR, f"background job {job} ({cmd}) refused: {self.max_jobs} jobs already running")
            run(refused=True)
            return job
        try:
            threading.Thread(target=run, name=f"bgapi-{cmd}", daemon=True).start()
        except RuntimeError as e:  # the OS refused a thread: answer, don't lose the job
            with self._lock:
                self.jobs_running -= 1
            log(ERR, f"background job {job} ({cmd}) could not start: {e}")
            run(refused=True)
        return job

    def shutdown(self) -> None:
        """Nothing to stop: job threads are daemons and end with their command."""
