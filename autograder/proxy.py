"""The hidden checks' handle on a submission: calls go into the sandbox, data comes out.

Whatever happens inside the sandbox becomes a `CheckFailed` with a sentence for the
student. A call that times out or kills the child ends that sandbox; the next call
starts a fresh one and runs the notebook again, so one runaway call costs only its
own check. A cell that ended the child is left out of every later start, as if the
student had interrupted it in Jupyter: a cell that kills or hangs the interpreter
costs what that cell would have done, nothing more, and is never waited for twice.
All starts of one submission share one wall-clock allowance.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from .sandbox import (
    WALL_FACTOR,
    WALL_MARGIN_SECONDS,
    CallFailed,
    CallTimedOut,
    CellRun,
    Opaque,
    Sandbox,
    SubmissionDied,
)
from .submission import CHOICE_NAMES
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
        self.skipped_cells = set()  # positions in `sources` of cells that ended a start
        self.deadline = time.monotonic() + wall_allowance(limits)
        self._sandbox = None
        self._starts = 0
        self._last_death = ""
        self._values = {}

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
        self._sandbox = Sandbox(
            self.limits, slot=self.slot, seed=self.seed, deadline=self.deadline
        )
        kept = [k for k in range(len(self.sources)) if k not in self.skipped_cells]
        try:
            self._sandbox.__enter__()
        except SubmissionDied as died:  # the runner itself did not come up
            self._last_death = died.reason
            message = f"not run: {died.reason}"
            runs = [CellRun(k, "died", None, message, "") for k in range(len(kept))]
        else:
            runs = self._sandbox.run_cells([self.sources[k] for k in kept])
        if self._sandbox.fatal_cell is not None:
            fatal = kept[self._sandbox.fatal_cell]
            self.skipped_cells.add(fatal)
            self._last_death = runs[self._sandbox.fatal_cell].error_message or ""
            log.info("cell %d ended the sandbox; later starts leave it out", fatal)
        if self.cell_runs is None:
            self.cell_runs = runs
            self._read_choices_now()
        return runs

    def _read_choices_now(self) -> None:
        """Keep the choices as Run All left them, before any thread can change them."""
        if not self._sandbox.alive:
            return
        for name in CHOICE_NAMES:
            try:
                self.get(name)
            except CheckFailed:
                continue

    def _ready_sandbox(self, label: str) -> Sandbox:
        while self._sandbox is None or not self._sandbox.alive:
            if self._starts >= MAX_STARTS or time.monotonic() >= self.deadline:
                reason = self._last_death or "the submission used up its time"
                raise CheckFailed("died", call=label, reason=reason)
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
        """The value of a global the notebook defined, or CheckFailed if it has none.

        The first value read is kept: a thread the notebook left running cannot make
        one check see another value than the next.
        """
        if name in self._values:
            return self._values[name]
        sandbox = self._ready_sandbox(name)
        try:
            value = sandbox.get(name)
        except CallFailed as error:
            raise _call_failure(name, name, error) from None
        except (CallTimedOut, SubmissionDied) as error:
            raise CheckFailed("died", call=name, reason=str(error)) from None
        self._values[name] = value
        return value

    def define(self, source: str) -> None:
        """Add grader-written helpers, callable by name, out of the notebook's reach.

        They run with the notebook's globals but bypass IPython (no input transformers
        or cell hooks), and a later rebinding of their names in the notebook does not
        replace them.
        """
        sandbox = self._ready_sandbox("a grader helper")
        try:
            sandbox.define(source)
        except (CallFailed, CallTimedOut, SubmissionDied) as error:
            raise CheckFailed(
                "died", call="a grader helper", reason=str(error)
            ) from None


def wall_allowance(limits) -> float:
    """Seconds of wall-clock time one submission's sandboxes may use, all starts."""
    return WALL_FACTOR * limits.cpu_seconds_total + WALL_MARGIN_SECONDS


def _call_failure(name: str, label: str, error: CallFailed) -> CheckFailed:
    if error.error_name == "NameError" and name in (error.error_message or ""):
        return CheckFailed("not_defined", name=name)
    if error.error_name == "NotImplementedError":
        return CheckFailed("not_implemented", name=name)
    detail = f"{error.error_name}: {error.error_message}"[:300]
    return CheckFailed("raised", call=label, error=detail)


def as_array(value, label: str, shape: tuple[int, ...]) -> np.ndarray:
    """A returned value as a float array of `shape`, or CheckFailed saying why not."""
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
