"""The comparison tolerances of the hidden checks, against measured differences.

Correct code written differently must land far inside the tolerance, the textbook
update order far outside it. The figures printed here are the margins recorded in
the checks' comments.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder import reference
from autograder.checks.test_choices import TRAJECTORY_TOLERANCE
from autograder.checks.test_network import STEP_TOLERANCE

X, Y = reference.X, reference.Y


def stable_sigmoid(x):
    out = np.empty_like(x, dtype=float)
    positive = x >= 0
    out[positive] = 1 / (1 + np.exp(-x[positive]))
    exp_x = np.exp(x[~positive])
    out[~positive] = exp_x / (1 + exp_x)
    return out


def variant_step(hidden_weights, output_weights, learning_rate, *, variant):
    sigmoid = stable_sigmoid if variant == "stable sigmoid" else reference.sigmoid
    hidden = sigmoid(np.dot(X, hidden_weights))
    delta_output = (Y - hidden.dot(output_weights)) * learning_rate
    new_output = output_weights.copy()
    new_output += hidden.T.dot(delta_output)
    used = output_weights if variant == "textbook order" else new_output
    delta_hidden = delta_output.dot(used.T) * hidden * (1 - hidden)
    new_hidden = hidden_weights.copy()
    new_hidden += X.T.dot(delta_hidden)
    return new_hidden, new_output


def variant_trajectory_gap(seed, learning_rate, variant):
    """Largest distance from the reference trajectory after the variant's updates."""
    hidden_weights, output_weights = reference.starting_weights(seed)
    updates = 0
    for _ in range(10_000):
        _, output = reference.forward(X, hidden_weights, output_weights)
        if reference.converged(output, Y, 0.1):
            break
        hidden_weights, output_weights = variant_step(
            hidden_weights, output_weights, learning_rate, variant=variant
        )
        updates += 1
    want = reference.weights_after(
        X, Y, *reference.starting_weights(seed), learning_rate, np.array(updates)
    )
    return max(np.abs(hidden_weights - want[0]).max(),
               np.abs(output_weights - want[1]).max())  # fmt: skip


@pytest.mark.parametrize("learning_rate", [0.1, 0.2])
def test_trajectory_tolerance_separates_correct_variants_from_textbook_order(
    learning_rate,
):
    seeds = range(5)
    correct = max(
        variant_trajectory_gap(seed, learning_rate, variant)
        for seed in seeds
        for variant in ("stable sigmoid", "np.dot, copies")
    )
    textbook = min(
        variant_trajectory_gap(seed, learning_rate, "textbook order") for seed in seeds
    )
    print(
        f"lr {learning_rate}: correct variants <= {correct:.1e}, "
        f"textbook >= {textbook:.1e}, tolerance {TRAJECTORY_TOLERANCE:.0e}"
    )
    assert correct * 1e6 < TRAJECTORY_TOLERANCE
    assert textbook > TRAJECTORY_TOLERANCE * 1e3


def test_step_tolerance_separates_correct_variants_from_textbook_order():
    gaps = {"stable sigmoid": 0.0, "np.dot, copies": 0.0, "textbook order": np.inf}
    for seed, learning_rate in [(1011, 0.1), (1012, 0.3), (1013, 0.7)]:
        hidden_weights, output_weights = reference.starting_weights(seed)
        hidden_weights = hidden_weights * 2 - 0.5  # as the hidden check does
        want = reference.train_step(X, Y, hidden_weights, output_weights,
                                    learning_rate)  # fmt: skip
        for variant in gaps:
            got = variant_step(hidden_weights, output_weights, learning_rate,
                               variant=variant)  # fmt: skip
            gap = max(np.abs(g - w).max() for g, w in zip(got, want, strict=True))
            pick = min if variant == "textbook order" else max
            gaps[variant] = pick(gaps[variant], gap)
    print({variant: f"{gap:.1e}" for variant, gap in gaps.items()})
    assert gaps["stable sigmoid"] < STEP_TOLERANCE / 1e3
    assert gaps["np.dot, copies"] < STEP_TOLERANCE / 1e3
    assert gaps["textbook order"] > STEP_TOLERANCE * 1e3
