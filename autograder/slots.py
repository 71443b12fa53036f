"""Sandbox slots: each slot is a uid, and a slot belongs to one grading at a time.

A sandbox kills every process of its slot's uid when it starts and ends, so two
gradings sharing a slot would kill each other's children. Slots are claimed with
an exclusive lock file per slot, which holds across processes: a batch run, an
`nbgrader autograde` and a test on the same machine each get slots of their own.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from pathlib import Path

LOCK_DIR = Path(tempfile.gettempdir()) / "xor-backprop-kit-slots"
SLOT_COUNT = 256
WAIT_SECONDS = 600


@contextlib.contextmanager
def claim_slot(preferred: int = 0):
    """Yield a free slot number, trying `preferred` first; wait if all are taken."""
    LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        for offset in range(SLOT_COUNT):
            slot = (preferred + offset) % SLOT_COUNT
            handle = _try_lock(slot)
            if handle is not None:
                try:
                    yield slot
                finally:
                    os.close(handle)
                return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"all {SLOT_COUNT} sandbox slots stayed busy for {WAIT_SECONDS} s; "
                f"another grading run holds them (locks in {LOCK_DIR})"
            )
        time.sleep(0.5)


def _try_lock(slot: int) -> int | None:
    handle = os.open(LOCK_DIR / f"{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(handle)
        return None
    return handle
