"""Sandbox slots: each slot is a uid, and a slot belongs to one grader at a time.

A sandbox kills every process of its slot's uid when it starts and ends, so two
graders sharing a slot would kill each other's children. A slot is held through an
exclusive flock on a file per slot, which holds across processes and is released
however the holder ends (SIGKILL included): a batch worker, a Dask worker thread,
an `nbgrader autograde` and a test on the same machine each get slots of their own.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

LOCK_DIR = Path(tempfile.gettempdir()) / "xor-backprop-kit-slots"
SLOT_COUNT = 1000
WAIT_SECONDS = 600


@dataclass
class Slot:
    number: int
    lock_fd: int

    def release(self) -> None:
        if self.lock_fd >= 0:
            os.close(self.lock_fd)
            self.lock_fd = -1


def hold_slot(preferred: int = 0) -> Slot:
    """Hold the first free slot from `preferred` on, until released or this process
    ends; waits (up to WAIT_SECONDS) while every slot is busy."""
    LOCK_DIR.mkdir(mode=0o1777, exist_ok=True)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        for offset in range(SLOT_COUNT):
            number = (preferred + offset) % SLOT_COUNT
            handle = _try_lock(number)
            if handle is not None:
                return Slot(number, handle)
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"all {SLOT_COUNT} sandbox slots stayed busy for {WAIT_SECONDS} s; "
                f"other graders hold them (locks in {LOCK_DIR})"
            )
        time.sleep(0.5)


@contextlib.contextmanager
def claim_slot(preferred: int = 0):
    """A free slot number for the length of a `with` block."""
    slot = hold_slot(preferred)
    try:
        yield slot.number
    finally:
        slot.release()


def _try_lock(number: int) -> int | None:
    handle = os.open(LOCK_DIR / f"slot-{number}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(handle)
        return None
    return handle
