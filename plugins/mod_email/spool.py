"""The on-disk queue of mails that could not be delivered yet.

Each entry is two files in the spool directory: ``<id>.eml`` (the message exactly as
built) and ``<id>.json`` (sender, recipients, attempts, next try, last error).  The
message is written first and the JSON last, each through a temporary name and an atomic
rename, so a crash leaves either a complete entry or an ``.eml`` without JSON (moved to
``failed/`` with a log line at the next load, never deleted).  Entries that exhaust
``max-age`` move to ``<spool>/failed/`` and stay there for a human: nothing is dropped
silently.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field

from fsd.log import ERR, WARNING, log


@dataclass
class SpoolEntry:
    id: str
    sender: str
    recipients: list[str]
    created: float = field(default_factory=time.time)
    attempts: int = 0
    next_try: float = 0.0
    last_error: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SpoolEntry:
        d = json.loads(text)
        return cls(
            id=str(d["id"]),
            sender=str(d["sender"]),
            recipients=[str(r) for r in d["recipients"]],
            created=float(d.get("created", time.time())),
            attempts=int(d.get("attempts", 0)),
            next_try=float(d.get("next_try", 0.0)),
            last_error=str(d.get("last_error", "")),
        )


class Spool:
    """Thread-safe index of the spool directory."""

    def __init__(self, directory: str, fsync: bool = True) -> None:
        self.dir = directory
        self.failed_dir = os.path.join(directory, "failed")
        self.fsync = fsync
        self._lock = threading.Lock()
        self._entries: dict[str, SpoolEntry] = {}
        os.makedirs(self.failed_dir, exist_ok=True)

    # -- paths ----------------------------------------------------------------------
    def message_path(self, sid: str) -> str:
        return os.path.join(self.dir, sid + ".eml")

    def _meta_path(self, sid: str) -> str:
        return os.path.join(self.dir, sid + ".json")

    @staticmethod
    def new_id() -> str:
        return f"{int(time.time())}-{secrets.token_hex(4)}"

    # -- writing ----------------------------------------------------------------------
    def _write_atomic(self, path: str, data: bytes) -> None:
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # mail is private
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if self.fsync:
                os.fsync(f.fileno())
        os.replace(tmp, path)

    def add(self, source_path: str, entry: SpoolEntry) -> None:
        """Store a copy of the message at ``source_path`` with ``entry``'s metadata.
        Raises OSError when the spool cannot be written (the caller reports failure)."""
        with open(source_path, "rb") as f:
            data = f.read()
        self._write_atomic(self.message_path(entry.id), data)
        self._write_atomic(self._meta_path(entry.id), entry.to_json().encode())
        with self._lock:
            self._entries[entry.id] = entry

    def update(self, entry: SpoolEntry) -> None:
        try:
            self._write_atomic(self._meta_path(entry.id), entry.to_json().encode())
        except OSError as e:  # the old metadata stays valid; only the schedule is stale
            log(ERR, f"email spool: cannot update {entry.id}: {e}")
        with self._lock:
            if entry.id in self._entries:
                self._entries[entry.id] = entry

    def remove(self, sid: str) -> None:
        with self._lock:
            self._entries.pop(sid, None)
        for p in (self._meta_path(sid), self.message_path(sid)):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass

    def move_to_failed(self, sid: str, reason: str) -> None:
        with self._lock:
            self._entries.pop(sid, None)
        for p in (self.message_path(sid), self._meta_path(sid)):
            if os.path.exists(p):
                shutil.move(p, os.path.join(self.failed_dir, os.path.basename(p)))
        log(ERR, f"email spool: giving up on {sid}, kept in {self.failed_dir}: {reason}")

    # -- reading ----------------------------------------------------------------------
    def load(self) -> int:
        """Read every entry in the directory (at module load: the spool survives a
        restart).  Returns the number of entries queued."""
        found: dict[str, SpoolEntry] = {}
        names = set(os.listdir(self.dir))
        for name in sorted(names):
            if name.endswith(".tmp"):
                os.unlink(os.path.join(self.dir, name))  # an interrupted write
                continue
            if not name.endswith(".json"):
                continue
            sid = name[: -len(".json")]
            try:
                with open(os.path.join(self.dir, name), encoding="utf-8") as f:
                    entry = SpoolEntry.from_json(f.read())
            except (OSError, ValueError, KeyError, TypeError) as e:
                log(ERR, f"email spool: unreadable {name} ({e}), moving it to failed/")
                self.move_to_failed(sid, f"unreadable metadata: {e}")
                continue
            if sid + ".eml" not in names:
                log(ERR, f"email spool: {name} has no message file, moving it to failed/")
                self.move_to_failed(sid, "message file missing")
                continue
            entry.id = sid
            found[sid] = entry
        for name in names:
            if name.endswith(".eml") and name[: -len(".eml")] not in found:
                sid = name[: -len(".eml")]
                if os.path.exists(os.path.join(self.dir, name)):
                    log(
                        WARNING,
                        f"email spool: {name} has no metadata (interrupted write), moving it to failed/",
                    )
                    self.move_to_failed(sid, "metadata missing")
        with self._lock:
            self._entries = found
        return len(found)

    def entries(self) -> list[SpoolEntry]:
        with self._lock:
            return sorted(self._entries.values(), key=lambda e: (e.next_try, e.id))

    def get(self, sid: str) -> SpoolEntry | None:
        with self._lock:
            return self._entries.get(sid)

    def failed(self) -> list[str]:
        """Ids of the entries given up on (kept in ``failed/``)."""
        try:
            return sorted({n.rsplit(".", 1)[0] for n in os.listdir(self.failed_dir)})
        except FileNotFoundError:
            return []

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
