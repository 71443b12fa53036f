"""The student's random-search answer, made runnable: bounded, reproducible, quiet.

The student drew the epochs from 0..10,000 and the learning rate from [0, 1),
re-drew the weights, trained, and stopped once every output was within 0.1 of its
target. This keeps that idea and fixes what kept it from running: `Hidden_result`
was read before it existed, the `while True:` loop had no bound, and every epoch
printed every matrix. The instructor's verdict on the idea is in
`solutions/feedback_notes.md`.

Run `python -m solutions.random_search [--seed S] [--max-trials N] [--max-seconds T]`.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from autograder import config

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([[0], [1], [1], [0]], dtype=float)
INPUT_SIZE, HIDDEN_SIZE, OUTPUT_SIZE = 2, 3, 1

# The student's own numbers: epochs drawn from 0..10,000, outputs within 0.1.
EPOCH_BUDGET = 10_000
TOLERANCE = 0.1

# How often, in epochs, a trial looks at the clock; small enough to honour
# max_seconds closely, large enough that the clock costs nothing.
_CLOCK_EVERY = 200


@dataclass(frozen=True, eq=False)
class SearchResult:
    """What the search found. The trial fields describe the winning trial, or are
    None when nothing was found.

    hidden_weights (2, 3), output_weights (3, 1) and output (4, 1) are the weights
    the trial stopped at and the network's output with those very weights.
    """

    found: bool
    trials: int
    seconds: float
    stopped_by: str  # "found", "max_trials" or "max_seconds"
    epochs: int | None = None  # the epochs drawn for the trial
    epochs_run: int | None = None  # the updates made before it converged
    learning_rate: float | None = None
    hidden_weights: np.ndarray | None = None
    output_weights: np.ndarray | None = None
    output: np.ndarray | None = None

    def summary(self) -> str:
        trials = "1 trial" if self.trials == 1 else f"{self.trials} trials"
        head = f"after {trials} in {self.seconds:.1f} s"
        if not self.found:
            return f"not found {head} (stopped by {self.stopped_by})"
        first = (
            f"found {head}: learning_rate {self.learning_rate:.4f}, "
            f"converged after {self.epochs_run:,} of {self.epochs:,} epochs; "
            f"largest |output - Y| {np.max(np.abs(self.output - Y)):.6f}"
        )
        with np.printoptions(precision=4, suppress=True):
            return (
                f"{first}\nhidden_weights\n{self.hidden_weights}"
                f"\noutput_weights\n{self.output_weights}\noutput\n{self.output}"
            )


def sigmoid(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def sigmoid_(a):
    return a * (1 - a)


def within_tolerance(output, tolerance) -> bool:
    return bool(np.all(np.abs(output - Y) < tolerance))


def train_trial(
    hidden_weights,
    output_weights,
    learning_rate,
    epochs,
    tolerance,
    deadline=float("inf"),
):
    """Train one start with the course's rule; stop once every output is in tolerance.

    The check comes before each update, so the weights returned are the ones that
    produced the output returned. Returns (hidden_weights, output_weights, output,
    epochs_run, converged); a trial that overflows or passes the deadline stops
    with converged False.
    """
    hidden_weights, output_weights = hidden_weights.copy(), output_weights.copy()

    for epoch in range(epochs + 1):
        hidden_result = sigmoid(X @ hidden_weights)
        output = hidden_result @ output_weights
        if not np.all(np.isfinite(output)):
            return hidden_weights, output_weights, output, epoch, False
        if within_tolerance(output, tolerance):
            return hidden_weights, output_weights, output, epoch, True
        if epoch == epochs or (epoch % _CLOCK_EVERY == 0 and _late(deadline)):
            return hidden_weights, output_weights, output, epoch, False

        dz = (Y - output) * learning_rate
        # A diverging trial overflows here; the next epoch sees it and stops.
        with np.errstate(over="ignore", invalid="ignore"):
            output_weights += hidden_result.T @ dz
            # The course's order: the hidden delta uses the output weights just
            # updated.
            d_hidden_result = dz @ output_weights.T * sigmoid_(hidden_result)
            hidden_weights += X.T @ d_hidden_result


def _late(deadline) -> bool:
    return time.perf_counter() >= deadline


def search(
    seed,
    max_trials=200,
    max_seconds=30.0,
    tolerance=TOLERANCE,
    epoch_budget=EPOCH_BUDGET,
    report_every=0,
) -> SearchResult:
    """Draw epochs, learning rate and weights until a trial converges, within bounds.

    Every draw comes from np.random.default_rng(seed), so a seed fixes the whole
    search (unless max_seconds cuts it short). report_every=k prints one line
    every k trials; 0 keeps it silent.
    """
    if max_trials < 1 or not max_seconds > 0:
        raise ValueError(
            f"search needs max_trials >= 1 and max_seconds > 0 to stay bounded; "
            f"got max_trials={max_trials}, max_seconds={max_seconds}. Pass both."
        )
    rng = np.random.default_rng(seed)
    began = time.perf_counter()
    deadline = began + max_seconds

    for trial in range(1, max_trials + 1):
        epochs = int(rng.integers(0, epoch_budget, endpoint=True))
        learning_rate = float(rng.uniform(0, 1))
        hidden_weights = rng.uniform(size=(INPUT_SIZE, HIDDEN_SIZE))
        output_weights = rng.uniform(size=(HIDDEN_SIZE, OUTPUT_SIZE))

        hidden_weights, output_weights, output, epochs_run, converged = train_trial(
            hidden_weights, output_weights, learning_rate, epochs, tolerance, deadline
        )
        seconds = time.perf_counter() - began
        if converged:
            return SearchResult(
                found=True,
                trials=trial,
                seconds=seconds,
                stopped_by="found",
                epochs=epochs,
                epochs_run=epochs_run,
                learning_rate=learning_rate,
                hidden_weights=hidden_weights,
                output_weights=output_weights,
                output=output,
            )
        if report_every and trial % report_every == 0:
            print(
                f"trial {trial}: not yet ({seconds:.1f} s; last drew "
                f"learning_rate {learning_rate:.3f}, epochs {epochs:,})"
            )
        if _late(deadline):
            return SearchResult(False, trial, seconds, "max_seconds")
    return SearchResult(False, max_trials, time.perf_counter() - began, "max_trials")


def main(argv=None) -> None:
    course = config.load()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-trials", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=30.0)
    parser.add_argument("--tolerance", type=float, default=course.course_tolerance)
    parser.add_argument(
        "--report-every",
        type=int,
        default=20,
        help="print one line every k trials; 0 for none",
    )
    args = parser.parse_args(argv)
    if args.max_trials < 1 or args.max_seconds <= 0:
        parser.error("--max-trials must be at least 1 and --max-seconds positive")

    result = search(
        args.seed,
        args.max_trials,
        args.max_seconds,
        args.tolerance,
        course.epoch_budget,
        args.report_every,
    )
    print(result.summary())


if __name__ == "__main__":
    main()
