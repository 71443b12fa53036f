"""The hidden checks' handle on a submission: calls go into the sandbox, data comes out.

Whatever happens inside the sandbox becomes a `CheckFailed` with a sentence for the
student. A call that times out or kills the child ends that sandbox; the next call
starts a fresh one and runs the notebook again, so one runaway call costs only its
own check.
"""

from __future__ import annotations

import logging

import numpy as np

from .sandbox import CallFailed, CallTimedOut, Opaque, Sandbox, SubmissionDied
from .verdicts import CheckFailed

log = logging.getLogger(__name__)

# A submission whose sandbox dies this many times gets no further restarts.
MAX_STARTS = 3


class Submission:
    """One submission's code, run in a sandbox and reachable by name."""

    def __init__(self, sources, limits, *, slot: int = 0, seed: int | None = None):
        self.sources = list(sources)
        self.limits = limits
        self.slot = slot
        self.seed = seed
        self.cell_runs = None  # from the first start: what the student would see
        self._sandbox = None
        self._starts = 0
        self._last_death = ""

    def __enter__(self) -> Submission:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def start(self) -> list:
        """Run the notebook's cells in a fresh sandbox; returns the cell runs."""
        self.close()
        self._starts += 1
        self._sandbox = Sandbox(self.limits, slot=self.slot, seed=self.seed)
        self._sandbox.__enter__()
        runs = self._sandbox.run_cells(self.sources)
        if self.cell_runs is None:
            self.cell_runs = runs
        return runs

    def _ready_sandbox(self, label: str) -> Sandbox:
        if self._sandbox is not None and self._sandbox.alive:
            return self._sandbox
        if self._starts >= MAX_STARTS:
            raise CheckFailed("died", call=label, reason=self._last_death)
        self.start()
        return self._sandbox

    def call(self, name: str, *args, label: str | None = None, blame: str = ""):
        """`name(*args)` inside the sandbox; its plain result, or CheckFailed.

        `blame` names the student's function when `name` is a grader helper that
        calls it, so that feedback speaks of the student's own code.
        """
        label = label or f"{name}(...)"
        sandbox = self._ready_sandbox(label)
        try:
            return sandbox.call(name, *args)
        except CallFailed as error:
            raise _call_failure(blame or name, label, error) from None
        except CallTimedOut:
            raise CheckFailed(
                "timed_out", call=label, seconds=self.limits.cpu_seconds_per_cell
            ) from None
        except SubmissionDied as died:
            self._last_death = died.reason
            raise CheckFailed("died", call=label, reason=died.reason) from None

    def get(self, name: str):
        """The value of a global the notebook defined, or CheckFailed if it has none."""
        sandbox = self._ready_sandbox(name)
        try:
            return sandbox.get(name)
        except CallFailed as error:
            raise _call_failure(name, name, error) from None
        except (CallTimedOut, SubmissionDied) as error:
            raise CheckFailed("died", call=name, reason=str(error)) from None

    def define(self, source: str) -> None:
        """Add a grader-written helper to the notebook's namespace (runs like a cell)."""
        sandbox = self._ready_sandbox("a grader helper")
        (run,) = sandbox.run_cells([source])
        if run.status != "ok":
            raise CheckFailed("died", call="a grader helper", reason=run.error_message)


def _call_failure(name: str, label: str, error: CallFailed) -> CheckFailed:
    if error.error_name == "NameError" and name in (error.error_message or ""):
        return CheckFailed("not_defined", name=name)
    if error.error_name == "NotImplementedError":
        return CheckFailed("not_implemented", name=name)
    detail = f"{error.error_name}: {error.error_message}"[:300]
    return CheckFailed("raised", call=label, error=detail)


def as_array(value, label: str, shape: tuple[int, ...]) -> np.ndarray:
    """A returned value as a float array of `shape`, or CheckFailed saying what it was."""
    if isinstance(value, Opaque) or not isinstance(value, np.ndarray | np.generic):
        if isinstance(value, list | tuple | int | float):
            value = np.asarray(value)
        else:
            kind = (
                value.type_name if isinstance(value, Opaque) else type(value).__name__
            )
            raise CheckFailed("wrong_type", call=label, type=kind, want="a numpy array")
    if value.dtype.kind not in "fiub":
        raise CheckFailed("wrong_type", call=label, type=str(value.dtype),
                          want="a numeric array")  # fmt: skip
    if value.shape != shape:
        raise CheckFailed("wrong_shape", call=label, shape=value.shape, want=shape)
    return value.astype(float)


def as_tuple(value, label: str, length: int) -> tuple:
    if not isinstance(value, tuple | list) or len(value) != length:
        kind = value.type_name if isinstance(value, Opaque) else type(value).__name__
        raise CheckFailed("wrong_type", call=label, type=kind,
                          want=f"a tuple of {length} values")  # fmt: skip
    return tuple(value)
