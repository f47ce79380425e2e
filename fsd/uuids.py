"""Random (version 4) UUIDs drawn from a pooled block of ``os.urandom`` bytes.

``uuid.uuid4()`` asks the kernel for 16 bytes each time, and ``os.urandom`` releases the
GIL around that call: on a busy daemon the calling thread then waits to get the GIL back
(up to the switch interval).  A call sets up ~5 UUIDs (each channel, each application
run), all on the path of ``originate`` (issue 13, docs/performance.md).  Reading 4 KiB at
a time makes that one wait per 256 UUIDs; the bytes come from the same source.
"""

from __future__ import annotations

import os
import threading
import uuid

_lock = threading.Lock()
_buf = b""
_pos = 0


def _forget() -> None:
    """A forked child must not hand out the parent's remaining bytes again."""
    global _buf, _pos
    _buf, _pos = b"", 0


os.register_at_fork(after_in_child=_forget)


def uuid4_str() -> str:
    """``str(uuid.uuid4())``, from the pool."""
    global _buf, _pos
    with _lock:
        if _pos + 16 > len(_buf):
            _buf, _pos = os.urandom(4096), 0
        raw = _buf[_pos:_pos + 16]
        _pos += 16
    return str(uuid.UUID(bytes=raw, version=4))
