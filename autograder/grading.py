"""The grading core: one submission in, one verdict per check out.

Both front doors call `grade_notebook`: the command line on files, nbgrader's
autograde through `nbgrader_door.KitGrade`. The notebook's cells run in a sandbox;
the hidden checks run here, in the grader's process, through `proxy.Submission`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from . import verdicts
from .config import AUTOMATIC_CHECKS, MANUAL_CHECKS, CourseConfig
from .proxy import Submission
from .sandbox import Limits, SandboxError
from .submission import (
    CHOICE_NAMES,
    BadSubmission,
    choices_are_constant,
    read_notebook,
    runnable_cells,
)

log = logging.getLogger(__name__)

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
# The second run that tests whether choices are reproducible uses another seed for
# Python's and numpy's global generators.
RERUN_SEED = 20_231_129


@dataclass
class GradeResult:
    """Everything one grading of one submission produced."""

    submission: str
    verdicts: list[verdicts.Verdict]
    cell_runs: list = field(default_factory=list)
    cell_indices: list[int] = field(default_factory=list)
    problem: str | None = None  # why the file could not be graded at all
    seconds: float = 0.0
    choices: dict = field(default_factory=dict)  # the student's values, as read

    @property
    def score(self) -> float:
        return sum(verdict.score for verdict in self.verdicts)

    @property
    def max_score(self) -> float:
        return sum(verdict.max_score for verdict in self.verdicts)

    @property
    def automatic_max(self) -> float:
        return sum(v.max_score for v in self.verdicts if v.status != "pending")


def grade_file(path: Path, config: CourseConfig, *, name: str | None = None,
               slot: int = 0) -> GradeResult:  # fmt: skip
    """Grade the notebook at `path`; an unreadable file gets zero and the reason."""
    name = name or Path(path).stem
    began = time.perf_counter()
    try:
        nb = read_notebook(path, config)
    except BadSubmission as problem:
        log.warning("%s: not graded: %s", name, problem)
        result = unreadable(name, config, str(problem))
    else:
        result = grade_notebook(nb, config, submission_name=name, slot=slot)
    result.seconds = time.perf_counter() - began
    return result


def unreadable(name: str, config: CourseConfig, reason: str) -> GradeResult:
    checks = [
        verdicts.not_graded(check, config.points[check], reason)
        for check in AUTOMATIC_CHECKS
    ]
    checks += [
        verdicts.not_graded(check, config.points[check], reason)
        for check in MANUAL_CHECKS
    ]
    return GradeResult(name, checks, problem=reason)


def grade_notebook(nb, config: CourseConfig, *, submission_name: str,
                   slot: int = 0) -> GradeResult:  # fmt: skip
    """Run the notebook in a sandbox and decide every check.

    `slot` is where the sandbox starts looking for a free uid (a worker's index);
    the sandbox itself locks the uid it takes, so graders never share one.
    """
    began = time.perf_counter()
    cells = runnable_cells(nb, config)
    sources = [source for _, source in cells]
    limits = Limits.from_config(config)

    rerun = None
    if not choices_are_constant(sources):
        rerun = read_choices_again(sources, limits, slot)

    with Submission(sources, limits, slot=slot) as submission:
        cell_runs = start_sandbox(submission)
        outcomes = run_checks(submission, config, rerun)
        choices = read_choices(submission)

    checks = outcomes + [
        verdicts.pending(check, config.points[check]) for check in MANUAL_CHECKS
    ]
    result = GradeResult(
        submission_name, checks, cell_runs, [index for index, _ in cells],
        choices=choices,
    )  # fmt: skip
    result.seconds = time.perf_counter() - began
    log.info("%s: %g / %g automatic points in %.2f s", submission_name,
             result.score, result.automatic_max, result.seconds)  # fmt: skip
    return result


def start_sandbox(submission) -> list:
    """Run the notebook's cells; a sandbox that cannot even start is the grader's
    problem (GraderError), never a zero for the student."""
    try:
        return submission.start()
    except SandboxError as error:
        raise GraderError(f"the sandbox could not start: {error}") from error


def read_choices(submission) -> dict:
    """The choices as plain numbers (or their repr), for reports; never raises."""
    values = {}
    for name in CHOICE_NAMES:
        try:
            value = submission.get(name)
        except AssertionError:  # CheckFailed: not defined, or the child is gone
            continue
        is_number = isinstance(value, int | float | np.integer | np.floating)
        values[name] = value.item() if isinstance(value, np.generic) else value
        if not is_number or isinstance(value, bool):
            values[name] = repr(value)[:60]
    return values


def read_choices_again(sources, limits, slot) -> dict:
    """The choices from a second run of the notebook under other random seeds."""
    values = {}
    with Submission(sources, limits, slot=slot, seed=RERUN_SEED) as again:
        again.start()
        for name in CHOICE_NAMES:
            try:
                values[name] = again.get(name)
            except AssertionError:  # CheckFailed: not defined, or the child is gone
                continue
    return values


class GraderError(RuntimeError):
    """The kit itself cannot grade (its checks are broken); no score is recorded."""


class _ChecksPlugin:
    """Hands the hidden checks their fixtures and collects one outcome per check."""

    def __init__(self, submission, config, rerun):
        self._submission = submission
        self._config = config
        self._rerun = rerun
        self.outcomes: dict[str, tuple[bool, BaseException | None, str]] = {}

    @pytest.fixture
    def submission(self):
        return self._submission

    @pytest.fixture
    def course(self):
        return self._config

    @pytest.fixture
    def rerun(self):
        return self._rerun

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        marker = item.get_closest_marker("check")
        if marker is None or not (report.when == "call" or report.failed):
            return
        error = call.excinfo.value if call.excinfo is not None else None
        self.outcomes[marker.args[0]] = (report.passed, error, report.longreprtext)


def pytest_arguments() -> list[str]:
    """pytest.main's arguments for one run of the hidden checks."""
    return [
        str(CHECKS_DIR),
        "-c", str(CHECKS_DIR / "pytest.ini"),
        "--rootdir", str(CHECKS_DIR),
        "-p", "no:terminal",
        # These two run gc.collect() around every test: 0.5-0.8 s per submission
        # with nothing to find, since the checks hold no threads or finalizers.
        "-p", "no:unraisableexception",
        "-p", "no:threadexception",
        "-W", "ignore::RuntimeWarning",
    ]  # fmt: skip


def run_checks(submission, config, rerun) -> list[verdicts.Verdict]:
    """Run the hidden pytest files against `submission`; one verdict per check."""
    plugin = _ChecksPlugin(submission, config, rerun)
    arguments = pytest_arguments()
    exit_code = pytest.main(arguments, plugins=[plugin])
    if exit_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        # The kit's own checks are broken: zero for everyone would be a lie.
        raise GraderError(
            f"the hidden checks in {CHECKS_DIR} did not run (pytest exit code "
            f"{int(exit_code)}); run `pytest {CHECKS_DIR}` to see why"
        )

    results = []
    for check in AUTOMATIC_CHECKS:
        points = config.points[check]
        passed, error, report = plugin.outcomes.get(
            check, (False, RuntimeError("check did not run"), "")
        )
        if isinstance(error, SandboxError):
            # The sandbox itself failed to start: the machine's fault, not the
            # student's. No score beats a wrong zero; the run can retry.
            raise GraderError(f"check {check}: the sandbox failed: {error}")
        if passed:
            results.append(verdicts.passed(check, points))
        else:
            log.info("check %s failed for the submission:\n%s", check, report)
            results.append(verdicts.failed(check, points, error, report))
    return results
