"""The course's update rule, written once and vectorized over many starting weights.

Every array here carries a leading *batch* axis so that thousands of starts train
in one numpy call. The rule is the course's, step for step: the output weights are
updated first, and the hidden delta is computed with the *updated* output weights.
"""

from __future__ import annotations

import numpy as np

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([[0], [1], [1], [0]], dtype=float)
INPUT_SIZE, HIDDEN_SIZE, OUTPUT_SIZE = 2, 3, 1


def sigmoid(x):
    # errstate: a diverging run overflows exp(); the course's sigmoid saturates
    # to 0 there, which is what we want, so the warning is noise.
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def sigmoid_derivative(activation):
    return activation * (1.0 - activation)


def starting_weights(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform [0, 1) starting weights, as the course draws them, from one seed."""
    rng = np.random.default_rng(seed)
    hidden_weights = rng.uniform(size=(INPUT_SIZE, HIDDEN_SIZE))
    output_weights = rng.uniform(size=(HIDDEN_SIZE, OUTPUT_SIZE))
    return hidden_weights, output_weights


def starting_weights_batch(seeds) -> tuple[np.ndarray, np.ndarray]:
    """Stack `starting_weights` for many seeds: shapes (n, 2, 3) and (n, 3, 1)."""
    pairs = [starting_weights(int(seed)) for seed in seeds]
    return np.stack([h for h, _ in pairs]), np.stack([o for _, o in pairs])


def forward(X, hidden_weights, output_weights):
    """Hidden activations and outputs; works for one start or a batch of them."""
    hidden = sigmoid(X @ hidden_weights)
    output = hidden @ output_weights
    return hidden, output


def train_step(X, Y, hidden_weights, output_weights, learning_rate):
    """One epoch of the course's rule; returns new arrays, never touches its inputs."""
    hidden, output = forward(X, hidden_weights, output_weights)
    delta_output = (Y - output) * learning_rate

    with np.errstate(over="ignore", invalid="ignore"):
        output_weights = output_weights + _transpose(hidden) @ delta_output
        # The course computes the hidden delta with the output weights it has
        # just updated; the textbook uses the old ones. We keep the course's.
        delta_hidden = delta_output @ _transpose(output_weights)
        delta_hidden = delta_hidden * sigmoid_derivative(hidden)
        hidden_weights = hidden_weights + _transpose(X) @ delta_hidden
    return hidden_weights, output_weights


def converged(output, Y, tolerance) -> np.ndarray:
    """Per start: is every |output - Y| strictly below tolerance? NaN never is."""
    with np.errstate(invalid="ignore"):
        inside = np.abs(output - Y) < tolerance
    return inside.all(axis=(-2, -1))


def train(X, Y, hidden_weights, output_weights, learning_rate, epochs, tolerance):
    """The contract's `train`, for a batch: stop a start as soon as it has converged.

    Before each update the current weights are checked; a start that has converged
    is frozen. Returns the final weights and, per start, how many updates it got.
    """
    hidden_weights = np.array(hidden_weights, dtype=float)
    output_weights = np.array(output_weights, dtype=float)
    batch_shape = hidden_weights.shape[:-2]
    epochs_run = np.zeros(batch_shape, dtype=np.int64)
    active = np.ones(batch_shape, dtype=bool)

    for _ in range(int(epochs)):
        _, output = forward(X, hidden_weights, output_weights)
        active &= ~converged(output, Y, tolerance)
        if not active.any():
            break
        stepped = train_step(X, Y, hidden_weights, output_weights, learning_rate)
        hidden_weights = np.where(active[..., None, None], stepped[0], hidden_weights)
        output_weights = np.where(active[..., None, None], stepped[1], output_weights)
        epochs_run += active
    return hidden_weights, output_weights, epochs_run


def first_converged_epoch(
    hidden_weights, output_weights, learning_rate, epochs, tolerance
):
    """Per start, the number of updates `train` needs, or -1 if it never stops."""
    hidden_weights, output_weights, epochs_run = train(
        X, Y, hidden_weights, output_weights, learning_rate, epochs, tolerance
    )
    _, output = forward(X, hidden_weights, output_weights)
    return np.where(converged(output, Y, tolerance), epochs_run, -1)


def _transpose(a):
    return np.swapaxes(a, -1, -2)


def weights_after(X, Y, hidden_weights, output_weights, learning_rate, updates):
    """Per start, the weights after exactly `updates[i]` steps of the rule.

    No stopping rule here: this is the reference trajectory a student's `train` is
    compared against, at whatever number of updates it reports.
    """
    hidden_weights = np.array(hidden_weights, dtype=float)
    output_weights = np.array(output_weights, dtype=float)
    updates = np.asarray(updates)
    for epoch in range(int(updates.max(initial=0))):
        stepped = train_step(X, Y, hidden_weights, output_weights, learning_rate)
        moving = (epoch < updates)[..., None, None]
        hidden_weights = np.where(moving, stepped[0], hidden_weights)
        output_weights = np.where(moving, stepped[1], output_weights)
    return hidden_weights, output_weights
