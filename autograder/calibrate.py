"""The instructor's second lesson as a command: an epoch budget this server can afford.

`python -m autograder calibrate --seconds-per-submission S` measures, inside the
sandbox, what one epoch of the reference answer's `train` costs on this machine and
what grading costs besides, proposes the largest EPOCH_BUDGET whose worst case fits
in S seconds, checks that the reference choices still converge within it, and prints
every number it used. It never edits course_config.py.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from dataclasses import dataclass

import numpy as np

from . import reference
from .config import CourseConfig
from .grading import grade_notebook
from .sandbox import Limits, Sandbox
from .submission import runnable_cells

MEASURE_EPOCHS = 2_000
REPEATS = 3
REFERENCE_RATES = (0.1, 0.2)
# How far past the proposal to look for the budget the reference choices need.
SEARCH_EPOCHS = 100_000


@dataclass(frozen=True)
class Measurement:
    """What grading costs on this machine, in wall-clock seconds."""

    epoch: float  # one epoch of the reference answer's train, in the sandbox
    notebook: float  # starting a sandbox and running the reference notebook
    overhead: float  # grading the reference answer with a one-epoch budget
    seeds: int  # grading seeds: train calls the convergence check makes

    def worst_case(self, budget: int) -> float:
        """Every grading seed trains to the budget, and the notebook runs twice."""
        return self.overhead + self.notebook + self.seeds * budget * self.epoch

    def budget_for(self, seconds: float) -> int:
        """The largest budget whose worst case fits, rounded down to 2 digits."""
        spare = seconds - self.overhead - self.notebook
        if spare <= 0:
            return 0
        return round_down(int(spare / (self.seeds * self.epoch)))


def round_down(value: int, digits: int = 2) -> int:
    """`value` rounded down to `digits` significant figures: 93,712 -> 93,000."""
    if value < 10**digits:
        return value
    scale = 10 ** (int(math.log10(value)) + 1 - digits)
    return value // scale * scale


def reference_notebook():
    from solutions.samples import sample_notebook

    return sample_notebook("reference")


def measure(config: CourseConfig, slot: int = 0) -> Measurement:
    """Time the reference answer in the sandbox: its notebook, an epoch, a grading."""
    nb = reference_notebook()
    sources = [source for _, source in runnable_cells(nb, config)]
    notebook, epoch = _time_epoch(sources, Limits.from_config(config), slot)

    # Grading with a budget of one epoch is everything but the epochs themselves.
    one_epoch = dataclasses.replace(config, epoch_budget=1)
    began = time.perf_counter()
    grade_notebook(nb, one_epoch, submission_name="calibrate")
    overhead = time.perf_counter() - began
    return Measurement(epoch, notebook, overhead, len(config.grading_seeds))


def _time_epoch(sources, limits, slot) -> tuple[float, float]:
    """(seconds to start and run the notebook, seconds per epoch of its train)."""
    hidden_weights, output_weights = reference.starting_weights(0)

    began = time.perf_counter()
    with Sandbox(limits, slot=slot) as sandbox:
        runs = sandbox.run_cells(sources)
        notebook = time.perf_counter() - began
        failed = [run for run in runs if run.status != "ok"]
        if failed:
            raise RuntimeError(
                f"the reference notebook failed in the sandbox at cell "
                f"{failed[0].index}: {failed[0].error_message}; run "
                f"`python -m autograder demo` to see why"
            )

        def seconds(epochs):
            # Tolerance 0 is never reached, so the call runs every epoch.
            began = time.perf_counter()
            sandbox.call(
                "train",
                reference.X,
                reference.Y,
                hidden_weights,
                output_weights,
                0.1,
                epochs,
                0.0,
            )
            return time.perf_counter() - began

        call = min(seconds(1) for _ in range(REPEATS))
        full = statistics.median(seconds(MEASURE_EPOCHS) for _ in range(REPEATS))
    return notebook, max(full - call, 0.0) / (MEASURE_EPOCHS - 1)


def epochs_needed(config: CourseConfig, learning_rate: float, cap: int) -> np.ndarray:
    """Per grading seed, the epochs the reference trainer needs, or -1 within `cap`."""
    from solutions.sweep import epochs_needed as needed

    hidden, output = reference.starting_weights_batch(config.grading_seeds)
    with np.errstate(all="ignore"):
        return needed(hidden, output, learning_rate, cap, config.course_tolerance)


def budget_to_pass(needed: np.ndarray, seeds_to_pass: int) -> int | None:
    """The fewest epochs with which `seeds_to_pass` seeds converge, or None."""
    converged = np.sort(needed[needed >= 0])
    if converged.size < seeds_to_pass:
        return None
    return int(converged[seeds_to_pass - 1])


def report(measurement: Measurement, seconds: float, config: CourseConfig) -> tuple:
    """(lines to print, proposed budget, whether the reference choices fit in it)."""
    m = measurement
    budget = m.budget_for(seconds)
    lines = [
        f"Calibrating EPOCH_BUDGET for {seconds:g} s per submission on this machine.",
        f"  one epoch       {m.epoch * 1e6:9.1f} µs  the reference answer's train "
        f"in the sandbox (median of {REPEATS} calls of {MEASURE_EPOCHS:,} epochs, "
        "less a 1-epoch call)",
        f"  notebook run    {m.notebook:9.2f} s   starting a sandbox and running "
        "the reference notebook's cells",
        f"  fixed overhead  {m.overhead:9.2f} s   grading the reference answer with "
        f"a 1-epoch budget (every check, {m.seeds} one-epoch train calls)",
        f"  worst case      = overhead + one more notebook run (choices that change "
        f"between runs) + {m.seeds} grading seeds x EPOCH_BUDGET x one epoch",
    ]
    if budget < 1:
        lines.append(
            f"  {seconds:g} s is less than the fixed cost alone "
            f"({m.overhead + m.notebook:.1f} s): no budget fits; allow more seconds."
        )
        return lines, 0, False
    lines.append(
        f"                  = {m.overhead:.2f} + {m.notebook:.2f} + {m.seeds} x B x "
        f"{m.epoch * 1e6:.1f} µs <= {seconds:g} s  ->  B <= {budget:,} (rounded "
        f"down); worst case then {m.worst_case(budget):.1f} s"
    )
    fits, needed_lines = _reference_check(config, budget)
    lines += needed_lines + _limit_lines(m, budget, config)
    return lines, budget, fits


def _reference_check(config, budget) -> tuple[bool, list[str]]:
    pass_count = config.seeds_to_pass
    seeds = len(config.grading_seeds)
    lines = [
        f"Reference choices within {budget:,} epochs (vectorized reference trainer, "
        f"{seeds} grading seeds, tolerance {config.course_tolerance:g}, "
        f"{pass_count} needed):"
    ]
    fits = True
    for learning_rate in REFERENCE_RATES:
        needed = epochs_needed(config, learning_rate, max(budget, SEARCH_EPOCHS))
        within = int(np.sum((needed >= 0) & (needed <= budget)))
        least = budget_to_pass(needed, pass_count)
        enough = least is not None and least <= budget
        fits &= enough
        least_text = (
            f"{least:,}" if least is not None else f"more than {SEARCH_EPOCHS:,}"
        )
        lines.append(
            f"  LEARNING_RATE {learning_rate:g}: converges on {within} of {seeds}; "
            f"{pass_count} seeds need {least_text} epochs -> "
            f"{'ok' if enough else 'NOT within the budget'}"
        )
    return fits, lines


def _limit_lines(m: Measurement, budget: int, config: CourseConfig) -> list[str]:
    one_call = budget * m.epoch
    all_calls = m.seeds * one_call
    ok = (
        one_call <= config.cpu_seconds_per_cell
        and all_calls + m.overhead <= config.cpu_seconds_total
    )
    return [
        f"CPU limits at this budget: one train call about {one_call:.1f} s "
        f"(CPU_SECONDS_PER_CELL = {config.cpu_seconds_per_cell:g}), all {m.seeds} "
        f"about {all_calls:.1f} s (CPU_SECONDS_TOTAL = {config.cpu_seconds_total:g})"
        f": {'within the limits' if ok else 'RAISE the limits to match'}"
    ]


def run_calibrate(args, config: CourseConfig) -> int:
    """The `calibrate` subcommand: measure, propose, print; 1 if nothing fits."""
    seconds = args.seconds_per_submission
    if not seconds > 0:
        print(f"calibrate: --seconds-per-submission must be above 0, got {seconds}")
        return 2
    print("measuring in the sandbox (about half a minute)...", flush=True)
    lines, budget, fits = report(measure(config, args.slot), seconds, config)
    print("\n".join(lines))
    if not fits:
        print(
            "\nThe reference choices do not converge on enough grading seeds within "
            "this budget: allow more seconds per submission, or lower SEEDS_TO_PASS."
        )
        return 1
    print(
        f"\nPut this line in {config.path.name} (calibrate does not change it; now "
        f"EPOCH_BUDGET = {config.epoch_budget:_}):\nEPOCH_BUDGET = {budget:_}"
    )
    if budget != config.epoch_budget:
        print(
            "The notebook in source/ states the budget in its text and public "
            "checks: update them and run `python -m autograder release`."
        )
    return 0
