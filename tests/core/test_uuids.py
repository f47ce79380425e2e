"""fsd.uuids: version-4 UUIDs from a pooled block of random bytes."""

from __future__ import annotations

import os
import uuid

from fsd import uuids


def test_version_4_and_unique_across_refills():
    seen = {uuids.uuid4_str() for _ in range(1000)}  # four refills of the pool
    assert len(seen) == 1000
    for s in seen:
        u = uuid.UUID(s)
        assert str(u) == s and u.version == 4 and u.variant == uuid.RFC_4122


def test_a_forked_child_does_not_reuse_the_parents_bytes():
    uuids.uuid4_str()  # the pool holds bytes now
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report its next UUID
        os.close(r)
        os.write(w, uuids.uuid4_str().encode())
        os._exit(0)
    os.close(w)
    child = os.read(r, 100).decode()
    os.close(r)
    os.waitpid(pid, 0)
    assert child != uuids.uuid4_str()
