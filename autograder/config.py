"""Loads and checks `course_config.py`, the instructor's one file; fails closed."""

from __future__ import annotations

import difflib
import hashlib
import math
import numbers
import re
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = KIT_ROOT / "course_config.py"

# The checks the hidden tests implement, in the order students meet them.
AUTOMATIC_CHECKS = (
    "sigmoid_derivative",
    "train_step",
    "train_step_keeps_inputs",
    "has_converged",
    "train",
    "learning_rate",
    "epochs",
    "tolerance",
    "convergence",
)
MANUAL_CHECKS = ("why_not_random",)
ALL_CHECKS = AUTOMATIC_CHECKS + MANUAL_CHECKS

_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ConfigError(ValueError):
    """course_config.py is missing, does not run, or holds a value against a rule."""


@dataclass(frozen=True)
class CourseConfig:
    path: Path
    course_id: str
    assignment_id: str
    epoch_budget: int
    learning_rate_step: float
    learning_rate_max: float
    course_tolerance: float
    grading_seeds: tuple[int, ...]
    seeds_to_pass: int
    points: dict
    cpu_seconds_per_cell: float
    cpu_seconds_total: float
    memory_mb: int
    output_kb: int
    max_processes: int
    notebook_max_mb: float
    feedback_language: str
    digest: str

    @property
    def learning_rate_grid(self) -> tuple[float, ...]:
        steps = round(self.learning_rate_max / self.learning_rate_step)
        return tuple(
            round(k * self.learning_rate_step, 10) for k in range(1, steps + 1)
        )

    @property
    def automatic_points(self) -> float:
        return sum(self.points[name] for name in AUTOMATIC_CHECKS)


def _fail(path, name, value, rule):
    raise ConfigError(
        f"{path.name}: {name} = {value!r} is not allowed: {rule}. "
        f"Fix it in {path} and run `python {path.name}` to check."
    )


def _whole(path, name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(path, name, value, f"it must be a whole number from {low:,} to {high:,}")
    if not low <= value <= high:
        _fail(path, name, value, f"it must be from {low:,} to {high:,}")
    return int(value)


def _real(path, name, value, low, high, *, low_open=True):
    ok_type = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok_type or not math.isfinite(value):
        _fail(path, name, value, "it must be a finite number")
    below = value <= low if low_open else value < low
    if below or value > high:
        bracket = "(" if low_open else "["
        _fail(path, name, value, f"it must lie in {bracket}{low}, {high}]")
    return float(value)


def _identifier(path, name, value):
    if not isinstance(value, str) or not _ID_PATTERN.match(value):
        _fail(
            path, name, value, "it must be a non-empty name of letters, digits, _ . -"
        )
    return value


def _seeds(path, value):
    name = "GRADING_SEEDS"
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        _fail(path, name, value, "it must be a list of whole numbers")
    seeds = tuple(value)
    if not seeds:
        _fail(path, name, value, "it must name at least one seed")
    for seed in seeds:
        _whole(path, name, seed, 0, 2**32 - 1)
    if len(set(seeds)) != len(seeds):
        _fail(path, name, value, "each seed may appear only once")
    return tuple(int(seed) for seed in seeds)


def _points(path, value):
    name = "POINTS"
    if not isinstance(value, dict):
        _fail(path, name, value, "it must be a dict of check name -> points")
    missing = [check for check in ALL_CHECKS if check not in value]
    unknown = [key for key in value if key not in ALL_CHECKS]
    if missing or unknown:
        _fail(
            path,
            name,
            value,
            f"it must give points to exactly the checks {list(ALL_CHECKS)} "
            f"(missing: {missing}, unknown: {unknown})",
        )
    return {
        check: _real(path, f"POINTS[{check!r}]", value[check], 0, 100, low_open=False)
        for check in ALL_CHECKS
    }


def _learning_rate_grid(path, settings):
    step = _real(path, "LEARNING_RATE_STEP", settings["LEARNING_RATE_STEP"], 0, 1)
    top = _real(path, "LEARNING_RATE_MAX", settings["LEARNING_RATE_MAX"], 0, 1)
    if abs(top / step - round(top / step)) > 1e-9:
        _fail(
            path, "LEARNING_RATE_MAX", top, f"it must be a multiple of the step {step}"
        )
    return step, top


REQUIRED = (
    "COURSE_ID", "ASSIGNMENT_ID", "EPOCH_BUDGET", "LEARNING_RATE_STEP",
    "LEARNING_RATE_MAX", "COURSE_TOLERANCE", "GRADING_SEEDS", "SEEDS_TO_PASS",
    "POINTS", "CPU_SECONDS_PER_CELL", "CPU_SECONDS_TOTAL", "MEMORY_MB",
    "OUTPUT_KB", "MAX_PROCESSES", "NOTEBOOK_MAX_MB", "FEEDBACK_LANGUAGE",
)  # fmt: skip


def _read_settings(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(
            f"{path} does not exist: the kit needs its course_config.py. "
            "Restore it from the repository (git checkout course_config.py)."
        )
    try:
        namespace = runpy.run_path(str(path), run_name="course_config")
    except Exception as error:  # the instructor's file: report whatever it raised
        raise ConfigError(
            f"{path} could not be run: {type(error).__name__}: {error}. "
            f"Fix the file and run `python {path.name}` to check."
        ) from error
    settings = {k: v for k, v in namespace.items() if k.isupper()}
    for name in settings:
        if name not in REQUIRED:
            guess = difflib.get_close_matches(name, REQUIRED, n=1)
            hint = f"; did you mean {guess[0]}?" if guess else ""
            raise ConfigError(f"{path.name}: {name} is not a known setting{hint}")
    for name in REQUIRED:
        if name not in settings:
            raise ConfigError(
                f"{path.name}: the setting {name} is missing. "
                f"Add it back; the repository's course_config.py shows its default."
            )
    return settings


def load(path: str | Path | None = None) -> CourseConfig:
    """Read `course_config.py`, check every value, and return it frozen."""
    path = Path(path or DEFAULT_PATH).resolve()
    s = _read_settings(path)
    step, top = _learning_rate_grid(path, s)
    seeds = _seeds(path, s["GRADING_SEEDS"])
    cell = _real(path, "CPU_SECONDS_PER_CELL", s["CPU_SECONDS_PER_CELL"], 0, 3600)
    total = _real(path, "CPU_SECONDS_TOTAL", s["CPU_SECONDS_TOTAL"], 0, 36000)
    if cell > total:
        _fail(
            path,
            "CPU_SECONDS_PER_CELL",
            cell,
            f"it cannot exceed CPU_SECONDS_TOTAL ({total})",
        )
    language = s["FEEDBACK_LANGUAGE"]
    if language not in ("ko", "en"):
        _fail(path, "FEEDBACK_LANGUAGE", language, 'it must be "ko" or "en"')
    return CourseConfig(
        path=path,
        course_id=_identifier(path, "COURSE_ID", s["COURSE_ID"]),
        assignment_id=_identifier(path, "ASSIGNMENT_ID", s["ASSIGNMENT_ID"]),
        epoch_budget=_whole(path, "EPOCH_BUDGET", s["EPOCH_BUDGET"], 1, 10_000_000),
        learning_rate_step=step,
        learning_rate_max=top,
        course_tolerance=_real(path, "COURSE_TOLERANCE", s["COURSE_TOLERANCE"], 0, 1),
        grading_seeds=seeds,
        seeds_to_pass=_whole(path, "SEEDS_TO_PASS", s["SEEDS_TO_PASS"], 1, len(seeds)),
        points=_points(path, s["POINTS"]),
        cpu_seconds_per_cell=cell,
        cpu_seconds_total=total,
        memory_mb=_whole(path, "MEMORY_MB", s["MEMORY_MB"], 256, 65536),
        output_kb=_whole(path, "OUTPUT_KB", s["OUTPUT_KB"], 1, 1_048_576),
        max_processes=_whole(path, "MAX_PROCESSES", s["MAX_PROCESSES"], 8, 4096),
        notebook_max_mb=_real(path, "NOTEBOOK_MAX_MB", s["NOTEBOOK_MAX_MB"], 0, 1024),
        feedback_language=language,
        digest=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


def main(path) -> None:
    """`python course_config.py`: check the file and show what the kit will use."""
    try:
        config = load(path)
    except ConfigError as error:
        print(f"course_config.py is NOT valid: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    grid = ", ".join(f"{rate:g}" for rate in config.learning_rate_grid)
    print(
        f"course_config.py is valid: course {config.course_id}, "
        f"assignment {config.assignment_id}"
    )
    print(f"  epoch budget {config.epoch_budget:,}; learning-rate grid {grid}")
    print(
        f"  course tolerance {config.course_tolerance}; pass on "
        f"{config.seeds_to_pass} of {len(config.grading_seeds)} grading seeds"
    )
    print(
        f"  automatic points {config.automatic_points:g}, manual "
        f"{sum(config.points[c] for c in MANUAL_CHECKS):g}"
    )
