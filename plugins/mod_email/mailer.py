""":class:`Mailer` — FreeSWITCH's simple mailer (§3.1) with a spool behind it.

``send()`` validates, converts the attachment if asked, builds the message into
``<temp_dir>/mail.<epoch><4 hex>`` and hands it to a worker thread that runs the
transport (a sendmail program or SMTP).  The calling thread — usually a call's session
thread running a script — waits at most ``timeout`` seconds.  When the attempt failed or
has not finished by then, the message goes into the spool and the retry thread takes it
from there with back-off.  The spool is re-read when the mailer starts, so a restart
loses nothing.

Why threads and smtplib rather than aiosmtplib on the event loop: the callers are
blocking session threads anyway, the sendmail mode needs a blocking subprocess wait too,
and the mailer must work (and be tested) without a running switch; mail volume is small
enough that a few worker threads cost nothing.
"""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from fsd.log import DEBUG, ERR, NOTICE, WARNING, log

from .message import build_message
from .safety import UnsafeInput, check_address, check_file_name, normalise_headers, split_recipients
from .settings import MailerSettings
from .spool import Spool, SpoolEntry
from .transport import DeliveryError, make_transport


@dataclass
class SendResult:
    """``status`` is ``sent`` (delivered), ``queued`` (spooled; the retry thread owns it)
    or ``refused`` (bad input or configuration; nothing will be retried)."""

    status: str
    reason: str = ""
    spool_id: str = ""

    def __bool__(self) -> bool:
        return self.status != "refused"


class _Job:
    """One first delivery attempt, shared by the caller and the worker running it."""

    def __init__(self, path: str, sender: str, recipients: list[str]) -> None:
        self.path = path
        self.sender = sender
        self.recipients = recipients
        self.lock = threading.Lock()
        self.done = False
        self.error: DeliveryError | None = None
        self.spool_entry: SpoolEntry | None = None  # set when the caller stopped waiting


class Mailer:
    """Sends mail; see the module docstring.  ``start()`` loads the spool and starts the
    retry thread (done by the constructor unless ``start=False``); ``stop()`` ends it."""

    def __init__(
        self,
        settings: MailerSettings,
        temp_dir: str,
        spool_dir: str,
        *,
        start: bool = True,
    ) -> None:
        self.settings = settings
        self.temp_dir = temp_dir
        os.makedirs(temp_dir, exist_ok=True)
        os.makedirs(spool_dir, exist_ok=True)
        self.spool = Spool(spool_dir, fsync=settings.spool_fsync)
        self.transport = make_transport(settings)
        self._pool = ThreadPoolExecutor(
            max_workers=settings.workers, thread_name_prefix="mod_email"
        )
        self._inflight: set[str] = set()
        self._inflight_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats = {"sent": 0, "queued": 0, "refused": 0, "retried_ok": 0, "retry_failed": 0}
        if start:
            self.start()

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        n = self.spool.load()
        if n:
            log(NOTICE, f"email spool: {n} queued mail(s) found in {self.spool.dir}, retrying")
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._retry_loop, name="mod_email-retry", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the retry thread.  Queued mail stays in the spool for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
        self._pool.shutdown(wait=False)

    # -- the FreeSWITCH call ------------------------------------------------------------
    def send(
        self,
        to: str,
        from_: str = "",
        headers: str = "",
        body: str = "",
        file: str | None = None,
        convert_cmd: str | None = None,
        convert_ext: str | None = None,
    ) -> bool:
        """``freeswitch.email``: True when delivered or safely queued for retry, False
        (with the reason in the log) when refused."""
        return bool(self.send_ex(to, from_, headers, body, file, convert_cmd, convert_ext))

    def send_ex(
        self,
        to: str,
        from_: str = "",
        headers: str = "",
        body: str = "",
        file: str | None = None,
        convert_cmd: str | None = None,
        convert_ext: str | None = None,
    ) -> SendResult:
        """Like :meth:`send` but says what happened (for ``email_test``)."""
        file = str(file) if file else None  # FreeSWITCH's zstr(): "" means none
        try:
            recipients = split_recipients(str(to) if to is not None else "")
            sender = str(from_ or "") or self.settings.default_from or "freeswitch"
            check_address(sender, "from")
            header_block = normalise_headers(headers)
            if file:
                check_file_name(file)
        except UnsafeInput as e:
            return self._refuse(str(e))

        newfile = None
        try:
            attachment = None
            if file:
                path = file
                if convert_cmd and convert_ext:
                    try:
                        newfile = self._convert(file, str(convert_cmd), str(convert_ext))
                    except DeliveryError as e:
                        return self._refuse(e.reason)
                    path = newfile or file
                try:
                    with open(path, "rb") as f:
                        attachment = (path, f.read())
                except OSError as e:
                    return self._refuse(f"cannot open attachment [{path}]: {e.strerror}")
            message = build_message(header_block, str(body or ""), attachment)
        finally:
            if newfile and newfile != file:
                _unlink(newfile)

        try:
            tmp = self._write_temp(message)
        except OSError as e:
            return self._refuse(f"cannot write temp file in {self.temp_dir}: {e.strerror}")
        result = self._first_attempt(tmp, sender, recipients)
        if result.status == "sent":
            what = f"file [{file}]" if file else "data"
            log(DEBUG, f"Emailed {what} to [{', '.join(recipients)}]")
        return result

    # -- pieces -------------------------------------------------------------------------
    def _refuse(self, reason: str) -> SendResult:
        self.stats["refused"] += 1
        log(ERR, f"EMAIL NOT SENT, error [{reason}]")
        return SendResult("refused", reason)

    def _convert(self, file: str, convert_cmd: str, convert_ext: str) -> str | None:
        """Run ``<convert_cmd words...> <file> <file with convert_ext>`` (no shell; the
        command is split with shlex).  Returns the new file, or None when ``file`` has no
        extension (then the original is attached, as FreeSWITCH does)."""
        base = os.path.basename(file)
        if "." not in base:
            return None
        newfile = file[: len(file) - len(base)] + base.rsplit(".", 1)[0] + "." + convert_ext
        check_file_name(newfile)
        try:
            argv = shlex.split(convert_cmd) + [file, newfile]
        except ValueError as e:
            raise DeliveryError(f"cannot parse convert_cmd {convert_cmd!r}: {e}") from e
        if not argv[:-2]:
            raise DeliveryError("convert_cmd is empty")
        try:
            proc = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=self.settings.convert_timeout,
                close_fds=True,
            )
        except FileNotFoundError as e:
            raise DeliveryError(f"convert program {argv[0]!r} not found") from e
        except PermissionError as e:
            raise DeliveryError(f"convert program {argv[0]!r} is not executable") from e
        except subprocess.TimeoutExpired as e:
            if newfile != file:
                _unlink(newfile)
            raise DeliveryError(
                f"convert command did not finish within {self.settings.convert_timeout:g}s"
            ) from e
        if proc.returncode != 0:
            # FreeSWITCH ignores the status and attaches whatever was produced; so do we,
            # but say so.
            err = proc.stderr.decode("utf-8", "replace").strip()
            log(WARNING, f"convert command {argv[0]} exited with {proc.returncode}: {err[-200:]}")
        return newfile

    def _write_temp(self, message: bytes) -> str:
        """``<temp_dir>/mail.<epoch><4 hex>``, created exclusively and private."""
        for _ in range(20):
            name = os.path.join(self.temp_dir, f"mail.{int(time.time())}{secrets.randbits(16):04x}")
            try:
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "wb") as f:
                f.write(message)
            return name
        raise FileExistsError(17, "no free temp file name")

    def _next_try(self, attempts: int) -> float:
        sched = self.settings.retry_schedule
        return time.time() + sched[min(max(attempts, 1), len(sched)) - 1]

    def _first_attempt(self, tmp: str, sender: str, recipients: list[str]) -> SendResult:
        job = _Job(tmp, sender, recipients)
        try:
            future = self._pool.submit(self._run_job, job)
        except RuntimeError:  # pool shut down: straight to the spool
            future = None
        if future is not None:
            try:
                future.result(timeout=self.settings.timeout)
            except FutureTimeout:
                pass
        with job.lock:
            if job.done:
                if job.error is None or job.error.config_error:
                    _unlink(tmp)
                    if job.error is not None:
                        return self._refuse(job.error.reason)
                    self.stats["sent"] += 1
                    return SendResult("sent")
                rcpts = job.error.recipients or recipients
                entry = SpoolEntry(
                    Spool.new_id(),
                    sender,
                    rcpts,
                    attempts=1,
                    next_try=self._next_try(1),
                    last_error=job.error.reason,
                )
                return self._queue(tmp, entry, unlink_after=True)
            # Still running: spool a copy now; the worker finishes the job and then either
            # removes the entry (delivered) or schedules its retry.
            entry = SpoolEntry(
                Spool.new_id(),
                sender,
                recipients,
                attempts=0,
                next_try=self._next_try(1),
                last_error=f"no result within {self.settings.timeout:g}s",
            )
            if future is None:  # nothing will run it: the retry thread owns it now
                return self._queue(tmp, entry, unlink_after=True)
            with self._inflight_lock:
                self._inflight.add(entry.id)
            res = self._queue(tmp, entry, unlink_after=False)
            if res.status == "queued":
                job.spool_entry = entry
            else:
                with self._inflight_lock:
                    self._inflight.discard(entry.id)
            return res

    def _queue(self, tmp: str, entry: SpoolEntry, *, unlink_after: bool) -> SendResult:
        try:
            self.spool.add(tmp, entry)
        except OSError as e:
            return self._refuse(f"{entry.last_error}; and cannot write the spool: {e}")
        finally:
            if unlink_after:
                _unlink(tmp)
        self.stats["queued"] += 1
        delay = max(0.0, entry.next_try - time.time())
        log(
            WARNING,
            f"email to [{', '.join(entry.recipients)}] not delivered yet ({entry.last_error}); "
            f"queued as {entry.id}, next try in {delay:.0f}s",
        )
        self._wake.set()
        return SendResult("queued", entry.last_error, entry.id)

    def _run_job(self, job: _Job) -> None:
        error: DeliveryError | None = None
        try:
            self.transport.deliver(job.path, job.sender, job.recipients)
        except DeliveryError as e:
            error = e
        except Exception as e:  # a bug must not lose the mail: treat as a failed attempt
            error = DeliveryError(f"internal error: {type(e).__name__}: {e}")
        with job.lock:
            job.done = True
            job.error = error
            entry = job.spool_entry
            if entry is None:
                return  # the caller is still waiting and handles the outcome
        # The caller gave up waiting and spooled it: finish the bookkeeping here.
        _unlink(job.path)
        try:
            if error is None:
                self.spool.remove(entry.id)
                self.stats["retried_ok"] += 1
                log(NOTICE, f"email {entry.id} to [{', '.join(entry.recipients)}] delivered late")
            else:
                entry.attempts = 1
                entry.recipients = error.recipients or entry.recipients
                entry.last_error = error.reason
                entry.next_try = self._next_try(1)
                self.spool.update(entry)
        finally:
            with self._inflight_lock:
                self._inflight.discard(entry.id)
            self._wake.set()

    # -- retries --------------------------------------------------------------------------
    def retry_now(self) -> int:
        """Make every queued mail due now; returns how many."""
        entries = self.spool.entries()
        for e in entries:
            e.next_try = 0.0
            self.spool.update(e)
        self._wake.set()
        return len(entries)

    def _retry_loop(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            with self._inflight_lock:
                busy = set(self._inflight)
            for entry in self.spool.entries():
                if self._stop.is_set():
                    return
                if entry.id in busy or entry.next_try > now:
                    continue
                self._retry(entry)
            upcoming = [e.next_try for e in self.spool.entries() if e.id not in busy]
            wait = min(upcoming) - time.time() if upcoming else 60.0
            self._wake.wait(min(max(wait, 0.01), 60.0))
            self._wake.clear()

    def _retry(self, entry: SpoolEntry) -> None:
        if time.time() - entry.created > self.settings.max_age:
            self.spool.move_to_failed(
                entry.id, f"undelivered after {entry.attempts} attempts: {entry.last_error}"
            )
            return
        with self._inflight_lock:
            self._inflight.add(entry.id)
        try:
            try:
                self.transport.deliver(
                    self.spool.message_path(entry.id), entry.sender, entry.recipients
                )
            except DeliveryError as e:
                entry.attempts += 1
                entry.recipients = e.recipients or entry.recipients
                entry.last_error = e.reason
                entry.next_try = self._next_try(entry.attempts)
                self.spool.update(entry)
                self.stats["retry_failed"] += 1
                log(
                    WARNING,
                    f"email {entry.id}: attempt {entry.attempts} failed ({e.reason}); "
                    f"next try in {entry.next_try - time.time():.0f}s",
                )
                return
            except Exception as e:  # keep the entry; a bug must not lose mail
                entry.attempts += 1
                entry.last_error = f"internal error: {type(e).__name__}: {e}"
                entry.next_try = self._next_try(entry.attempts)
                self.spool.update(entry)
                log(ERR, f"email {entry.id}: {entry.last_error}")
                return
            self.spool.remove(entry.id)
            self.stats["retried_ok"] += 1
            log(
                NOTICE,
                f"email {entry.id} to [{', '.join(entry.recipients)}] delivered "
                f"after {entry.attempts + 1} attempts",
            )
        finally:
            with self._inflight_lock:
                self._inflight.discard(entry.id)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        log(WARNING, f"Failed to delete file [{path}]: {e.strerror}")
