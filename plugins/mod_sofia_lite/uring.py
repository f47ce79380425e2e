"""A minimal io_uring for one job: UDP datagrams the kernel sends at a deadline.

Why: the media clock sends every stream's packet once per tick.  Sent from Python, the
500th stream's packet leaves after 499 ``sendto`` calls, each of which lets go of the GIL
and must take it back, and the whole loop starts only when the clock thread has woken *and*
got the GIL — so every other thread's turn at the GIL, and every tick whose work ran long,
moves the packets of that tick.  Through io_uring, the clock thread queues the packets of
the next tick behind a kernel timer (``IORING_OP_TIMEOUT`` at the absolute deadline,
then ``IORING_OP_SENDMSG`` per packet, hard-linked in a chain): the timer fires at the
deadline and the kernel sends the chain right there, in the clock thread's context, whether
that thread is asleep, running Python or waiting for the GIL.

Only what that needs is here, over ctypes and mmap (no compiled part, no dependency):
``io_uring_setup``/``io_uring_enter`` by syscall number, the submission and completion
rings mapped with :mod:`mmap`, and submission entries written with :mod:`struct`.  The
clock thread is the only user of a ring, and it both submits and (through the kernel's
task work) completes, so program order is the only memory ordering the rings need.

:func:`open_ring` returns None where io_uring cannot be used (not Linux, an old kernel, a
sandbox that forbids it, ``kernel.io_uring_disabled``); callers then send from Python.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import platform
import struct
import sys
import time

_NR_SETUP = 425  # the io_uring syscalls have the same numbers on every architecture
_NR_ENTER = 426
_OFF_SQ_RING = 0
_OFF_CQ_RING = 0x8000000
_OFF_SQES = 0x10000000
_FEAT_SINGLE_MMAP = 1 << 0

SETUP_COOP_TASKRUN = 1 << 8

OP_NOP = 0
OP_SENDMSG = 9
OP_TIMEOUT = 11

F_IO_HARDLINK = 1 << 3
F_CQE_SKIP_SUCCESS = 1 << 6

TIMEOUT_ABS = 1 << 0
TIMEOUT_ETIME_SUCCESS = 1 << 5

MSG_DONTWAIT = 0x40

# struct io_uring_sqe, the fields used here: opcode, flags, ioprio, fd, off, addr, len,
# op flags, user_data (then buf_index, personality, file_index, addr3, pad: all zero).
_SQE = struct.Struct("<BBHiQQIIQ24x")
_CQE = struct.Struct("<QiI")
_U32 = struct.Struct("<I")


class Ring:
    """One io_uring instance: submission queue entries in, completions out."""

    def __init__(self, entries: int = 1024, flags: int = 0) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self._syscall = libc.syscall
        self._syscall.restype = ctypes.c_long
        params = ctypes.create_string_buffer(120)
        struct.pack_into("<I", params, 8, flags)
        fd = self._syscall(_NR_SETUP, ctypes.c_uint(entries), params)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"io_uring_setup: {os.strerror(err)}")
        self.fd = fd
        try:
            sq_entries, cq_entries, _flags, _cpu, _idle, features = struct.unpack_from(
                "<6I", params, 0)
            sq_off = struct.unpack_from("<8IQ", params, 40)
            cq_off = struct.unpack_from("<8IQ", params, 80)
            self.features = features
            sq_size = sq_off[6] + sq_entries * 4
            cq_size = cq_off[5] + cq_entries * _CQE.size
            prot = mmap.PROT_READ | mmap.PROT_WRITE
            if features & _FEAT_SINGLE_MMAP:
                self._sq = self._cq = mmap.mmap(fd, max(sq_size, cq_size), mmap.MAP_SHARED,
                                                prot, offset=_OFF_SQ_RING)
            else:
                self._sq = mmap.mmap(fd, sq_size, mmap.MAP_SHARED, prot, offset=_OFF_SQ_RING)
                self._cq = mmap.mmap(fd, cq_size, mmap.MAP_SHARED, prot, offset=_OFF_CQ_RING)
            self._sqes = mmap.mmap(fd, sq_entries * 64, mmap.MAP_SHARED, prot,
                                   offset=_OFF_SQES)
        except BaseException:
            os.close(fd)
            raise
        self.sq_entries = sq_entries
        self.cq_entries = cq_entries
        self._sq_tail_off = sq_off[1]
        self._sq_mask = _U32.unpack_from(self._sq, sq_off[2])[0]
        self._cq_head_off = cq_off[0]
        self._cq_tail_off = cq_off[1]
        self._cq_mask = _U32.unpack_from(self._cq, cq_off[2])[0]
        self._cqes_off = cq_off[5]
        # The submission array maps ring slot i to entry i once and for all: entries are
        # written in ring order, so only the tail moves.
        array = sq_off[6]
        for i in range(sq_entries):
            _U32.pack_into(self._sq, array + 4 * i, i)
        self._tail = _U32.unpack_from(self._sq, self._sq_tail_off)[0]
        self._pending = 0  # entries written since the last submit
        self.closed = False

    # -- submission -----------------------------------------------------------------
    @property
    def space(self) -> int:
        """Entries that can still be queued before :meth:`submit`."""
        return self.sq_entries - self._pending

    def prep(self, opcode: int, flags: int, fd: int, off: int, addr: int, length: int,
             op_flags: int, user_data: int) -> None:
        """Write one submission entry (sent to the kernel by the next :meth:`submit`)."""
        if self._pending >= self.sq_entries:
            raise OSError("io_uring submission queue full")
        _SQE.pack_into(self._sqes, (self._tail & self._sq_mask) * 64, opcode, flags, 0, fd,
                       off, addr, length, op_flags, user_data)
        self._tail = (self._tail + 1) & 0xFFFFFFFF
        self._pending += 1

    def submit(self) -> int:
        """Hand the queued entries to the kernel; returns how many it took."""
        n = self._pending
        if not n:
            return 0
        _U32.pack_into(self._sq, self._sq_tail_off, self._tail)
        got = self._syscall(_NR_ENTER, self.fd, n, 0, 0, None, 0)
        if got < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"io_uring_enter: {os.strerror(err)}")
        self._pending -= got
        return got

    # -- completion -----------------------------------------------------------------
    def completions(self) -> list[tuple[int, int]]:
        """(user_data, result) of every completion posted since the last call."""
        cq = self._cq
        head = _U32.unpack_from(cq, self._cq_head_off)[0]
        tail = _U32.unpack_from(cq, self._cq_tail_off)[0]
        if head == tail:
            return []
        out = []
        mask, base = self._cq_mask, self._cqes_off
        while head != tail:
            ud, res, _fl = _CQE.unpack_from(cq, base + (head & mask) * _CQE.size)
            out.append((ud, res))
            head = (head + 1) & 0xFFFFFFFF
        _U32.pack_into(cq, self._cq_head_off, head)
        return out

    def wait(self, count: int, timeout: float) -> list[tuple[int, int]]:
        """Completions until ``count`` arrived or ``timeout`` seconds passed (a short
        sleep between looks: the kernel runs this thread's task work while it sleeps)."""
        end = time.monotonic() + timeout
        out = self.completions()
        while len(out) < count and time.monotonic() < end:
            time.sleep(0.0005)
            out += self.completions()
        return out

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for m in {id(self._sq): self._sq, id(self._cq): self._cq}.values():
            m.close()
        self._sqes.close()
        os.close(self.fd)


def supported_platform() -> bool:
    return sys.platform.startswith("linux") and platform.machine() in ("x86_64", "aarch64")


def open_ring(entries: int = 1024, flags: int = 0) -> Ring | None:
    """A ring, or None where io_uring cannot be used here."""
    if not supported_platform():
        return None
    try:
        return Ring(entries, flags)
    except (OSError, ValueError, AttributeError):
        return None
