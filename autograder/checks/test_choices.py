"""Hidden checks of the student's choices: learning rate, epochs, tolerance, and
whether they make the network converge from the grading seeds."""

import math
import numbers

import numpy as np
import pytest

from autograder import reference
from autograder.proxy import as_array, as_tuple
from autograder.sandbox import Opaque
from autograder.verdicts import CheckFailed

# Measured by tests/test_margins.py: at learning rates 0.1 and 0.2 a correct `train`
# written differently stays within 2.3e-14 of the reference trajectory; the textbook
# update order strays by at least 1.6e-3; fabricated weights by far more. (At 0.3 and
# above the dynamics are chaotic and rounding alone strays by 1e-2; those rates fail
# convergence on the grading seeds whichever way the code is written.)
TRAJECTORY_TOLERANCE = 1e-6


def shown(value) -> str:
    """A student's value as they would recognise it, kept short."""
    if isinstance(value, Opaque):
        return f"<{value.type_name}>"
    return repr(value)[:60]


def is_real_number(value) -> bool:
    return (
        isinstance(value, numbers.Real | np.floating | np.integer)
        and not isinstance(value, bool | np.bool_)
        and math.isfinite(float(value))
    )


def read_choice(submission, rerun, name):
    """The student's value for `name`; fails if a second run gave another value."""
    value = submission.get(name)
    if rerun is not None and name in rerun:
        again = rerun[name]
        if type(again) is not type(value) or shown(again) != shown(value):
            raise CheckFailed(
                "choice_changes", name=name, first=shown(value), second=shown(again),
                lessons=("epochs",),
            )  # fmt: skip
    return value


def on_grid(value, course) -> bool:
    if not is_real_number(value):
        return False
    value = float(value)
    steps = value / course.learning_rate_step
    return (
        0 < value <= course.learning_rate_max + 1e-12
        and abs(steps - round(steps)) < 1e-9
    )


def epochs_ok(value, course) -> bool:
    whole = isinstance(value, int | np.integer) and not isinstance(value, bool)
    return whole and 1 <= int(value) <= course.epoch_budget


def tolerance_ok(value, course) -> bool:
    return is_real_number(value) and 0 < float(value) <= course.course_tolerance


@pytest.mark.check("learning_rate")
def test_learning_rate_is_on_the_grid(submission, course, rerun):
    value = read_choice(submission, rerun, "LEARNING_RATE")
    if not on_grid(value, course):
        raise CheckFailed("off_grid", value=shown(value),
                          step=course.learning_rate_step,
                          top=course.learning_rate_max)  # fmt: skip


@pytest.mark.check("epochs")
def test_epochs_is_a_whole_number_within_the_budget(submission, course, rerun):
    value = read_choice(submission, rerun, "EPOCHS")
    if not epochs_ok(value, course):
        raise CheckFailed("epochs_out_of_budget", value=shown(value),
                          budget=course.epoch_budget)  # fmt: skip


@pytest.mark.check("tolerance")
def test_tolerance_is_no_looser_than_the_course(submission, course, rerun):
    value = read_choice(submission, rerun, "TOLERANCE")
    if not tolerance_ok(value, course):
        raise CheckFailed("tolerance_too_loose", value=shown(value),
                          course=course.course_tolerance)  # fmt: skip


def usable_choices(submission, course, rerun):
    """Learning rate, epochs (capped at the budget) and tolerance, if usable."""
    values = {
        name: read_choice(submission, rerun, name)
        for name in ("LEARNING_RATE", "EPOCHS", "TOLERANCE")
    }
    unusable = [
        f"{name} = {shown(value)}"
        for name, value in values.items()
        if not (is_real_number(value) and float(value) > 0)
        or (name == "EPOCHS" and not isinstance(value, int | np.integer))
    ]
    if unusable:
        raise CheckFailed("choices_unusable", which=", ".join(unusable))
    epochs = min(int(values["EPOCHS"]), course.epoch_budget)
    return float(values["LEARNING_RATE"]), epochs, float(values["TOLERANCE"])


@pytest.mark.check("convergence")
def test_choices_converge_from_enough_grading_seeds(submission, course, rerun):
    choices = usable_choices(submission, course, rerun)
    seeds, needed = list(course.grading_seeds), course.seeds_to_pass
    followed, reached = settle(
        lambda batch: judge_runs(submission, batch, choices, course), seeds, needed
    )
    passed, failed = count_passes(followed, reached)
    if passed >= needed:
        return
    off = int(np.sum(~followed))
    # The code is to blame when at least half the failed starts left the course's
    # path; otherwise the rule was followed and the choices did not converge.
    if off * 2 >= failed:
        raise CheckFailed("off_trajectory", off=off, tried=len(followed),
                          seeds=len(seeds))  # fmt: skip
    raise CheckFailed("not_converged", passed=passed, tried=len(followed),
                      seeds=len(seeds), needed=needed)  # fmt: skip


def settle(judge, seeds, needed):
    """Per seed run, (followed, reached): seeds go to `judge` in batches that stop
    as soon as `needed` passes are reached or can no longer be reached.

    The student's own train is most of a submission's grading time, and the
    verdict is the same as if every seed had run.
    """
    followed = reached = np.zeros(0, dtype=bool)
    while True:
        passed, failed = count_passes(followed, reached)
        if passed >= needed or failed > len(seeds) - needed:
            return followed, reached
        size = next_batch(passed, failed, needed, len(seeds))
        more = judge(seeds[len(followed) : len(followed) + size])
        followed = np.concatenate([followed, more[0]])
        reached = np.concatenate([reached, more[1]])


def count_passes(followed, reached) -> tuple[int, int]:
    passes = int(np.sum(followed & reached))
    return passes, len(followed) - passes


def next_batch(passed: int, failed: int, needed: int, seeds: int) -> int:
    """How many seeds to run next without running one the verdict does not need.

    Once some seeds have passed and none failed, the batch assumes the rest pass
    too (so an honest answer costs two batches); otherwise it is the fewest seeds
    that could settle the verdict either way.
    """
    if passed and not failed:
        return needed - passed
    return min(needed - passed, seeds - needed - failed + 1)


def judge_runs(submission, seeds, choices, course):
    """Per seed: did the student's run follow the reference trajectory, and did it
    end with every output within the course tolerance?"""
    if not seeds:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    learning_rate, epochs, tolerance = choices
    results = [
        run_from_seed(submission, seed, learning_rate, epochs, tolerance)
        for seed in seeds
    ]
    hidden = np.stack([hidden for hidden, _, _ in results])
    output = np.stack([output for _, output, _ in results])
    runs = np.array([run for _, _, run in results])

    start_hidden, start_output = reference.starting_weights_batch(seeds)
    want_hidden, want_output = reference.weights_after(
        reference.X, reference.Y, start_hidden, start_output, learning_rate, runs
    )
    followed = close_per_start(hidden, want_hidden) & close_per_start(
        output, want_output
    )
    _, outputs = reference.forward(reference.X, hidden, output)
    return followed, reference.converged(outputs, reference.Y, course.course_tolerance)


def run_from_seed(submission, seed, learning_rate, epochs, tolerance):
    start = reference.starting_weights(seed)
    call = f"train(X, Y, ..., {learning_rate:g}, {epochs}, {tolerance:g})"
    result = submission.call(
        "train", reference.X, reference.Y, *start, learning_rate, epochs, tolerance,
        label=call,
    )  # fmt: skip
    hidden, output, run = as_tuple(result, call, 3)
    valid_run = isinstance(run, int | np.integer) and not isinstance(run, bool)
    if not valid_run or not 0 <= int(run) <= epochs:
        raise CheckFailed("wrong_count", call=call, got=shown(run),
                          what=f"not a whole number from 0 to {epochs}")  # fmt: skip
    return as_array(hidden, call, (2, 3)), as_array(output, call, (3, 1)), int(run)


def close_per_start(got, want):
    with np.errstate(invalid="ignore"):
        close = np.abs(got - want) <= TRAJECTORY_TOLERANCE * (1 + np.abs(want))
    return close.all(axis=(-2, -1))
