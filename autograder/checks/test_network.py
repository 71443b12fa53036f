"""Hidden checks of the network's pieces, each against the course's rule."""

import numpy as np
import pytest

from autograder import reference
from autograder.proxy import as_array, as_tuple
from autograder.verdicts import CheckFailed

# Measured by tests/test_margins.py: on these checks' inputs, correct code written
# differently (a stable sigmoid, np.dot, in-place updates on copies) is within 3e-17
# of the reference after one step and 2.3e-14 after a whole run at 0.1 or 0.2; the
# textbook update order is at least 6.4e-3 off after one step, 1.6e-3 after a run.
STEP_TOLERANCE = 1e-9
TRAIN_TOLERANCE = 1e-8

X_INTEGERS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.int64)


def largest_difference(got, want) -> float:
    with np.errstate(invalid="ignore"):
        difference = np.abs(np.asarray(got, float) - np.asarray(want, float))
    return float(np.nan_to_num(difference, nan=np.inf).max(initial=0.0))


def assert_close(got, want, tolerance, *, call, what):
    scale = 1.0 + np.abs(np.asarray(want, float))
    with np.errstate(invalid="ignore"):
        close = np.abs(np.asarray(got, float) - want) <= tolerance * scale
    if not np.all(close):
        raise CheckFailed(
            "wrong_values", call=call, what=what,
            difference=largest_difference(got, want),
        )  # fmt: skip


@pytest.mark.check("sigmoid_derivative")
def test_sigmoid_derivative_matches_the_slope_in_terms_of_the_activation(submission):
    # Activations of the sigmoid at large inputs included: 1 - 1e-15 and 4e-18.
    activation = reference.sigmoid(np.array([[-40.0, -3.0, 0.0], [0.7, 3.0, 35.0]]))
    activation = np.concatenate([activation, [[0.0, 0.25, 1.0]]])
    call = "sigmoid_derivative(activation of shape (3, 3))"
    got = as_array(submission.call("sigmoid_derivative", activation, label=call),
                   call, activation.shape)  # fmt: skip
    assert_close(got, reference.sigmoid_derivative(activation), 1e-12,
                 call=call, what="the slope of the sigmoid")  # fmt: skip


TRAIN_STEP_CASES = [
    # (seed of the weights, learning rate, X as integers?)
    (11, 0.1, True),
    (12, 0.3, False),
    (13, 0.7, True),
]


@pytest.mark.check("train_step")
def test_train_step_applies_the_course_rule_once(submission):
    for seed, learning_rate, integer_x in TRAIN_STEP_CASES:
        hidden_weights, output_weights = reference.starting_weights(1000 + seed)
        hidden_weights = hidden_weights * 2 - 0.5  # signs of both kinds
        inputs = X_INTEGERS if integer_x else reference.X
        call = f"train_step(X, Y, weights, weights, {learning_rate})"
        result = submission.call(
            "train_step", inputs, reference.Y, hidden_weights, output_weights,
            learning_rate, label=call,
        )  # fmt: skip
        new_hidden, new_output = as_tuple(result, call, 2)
        want_hidden, want_output = reference.train_step(
            reference.X, reference.Y, hidden_weights, output_weights, learning_rate
        )
        what = "the course's update rule"
        assert_close(as_array(new_output, call + " output_weights", (3, 1)),
                     want_output, STEP_TOLERANCE, call=call, what=what)  # fmt: skip
        assert_close(as_array(new_hidden, call + " hidden_weights", (2, 3)),
                     want_hidden, STEP_TOLERANCE, call=call, what=what)  # fmt: skip


KEEPS_INPUTS_HELPER = """
def _weights_after_train_step(X, Y, hidden_weights, output_weights, learning_rate):
    train_step(X, Y, hidden_weights, output_weights, learning_rate)
    return hidden_weights, output_weights
"""


@pytest.mark.check("train_step_keeps_inputs")
def test_train_step_leaves_the_arrays_it_is_given_unchanged(submission):
    # The helper hands back the very arrays the student's train_step received;
    # the comparison happens here, in the grader's process.
    submission.define(KEEPS_INPUTS_HELPER)
    hidden_weights, output_weights = reference.starting_weights(2024)
    call = "train_step(X, Y, hidden_weights, output_weights, 0.1)"
    after = submission.call(
        "_weights_after_train_step", reference.X, reference.Y, hidden_weights,
        output_weights, 0.1, label=call, blame="train_step",
    )  # fmt: skip
    hidden_after, output_after = as_tuple(after, call, 2)
    hidden_after = as_array(hidden_after, call, (2, 3))
    output_after = as_array(output_after, call, (3, 1))
    unchanged = np.array_equal(hidden_after, hidden_weights) and np.array_equal(
        output_after, output_weights
    )
    if not unchanged:
        raise CheckFailed("changed_inputs")


def converged_cases():
    """Outputs next to Y, with what `has_converged` must say about each."""
    y = reference.Y
    eighth = 2.0**-3  # exact in binary, so |output - Y| == tolerance exactly
    nan_output = y + 0.01
    nan_output[2, 0] = np.nan
    one_off = y + 0.01
    one_off[1, 0] = 1.3
    return [
        ("outputs within 0.01 of Y, tolerance 0.1", y + 0.01, 0.1, True),
        ("one output 0.3 away, tolerance 0.1", one_off, 0.1, False),
        ("outputs exactly the tolerance 0.125 away", y + eighth, eighth, False),
        ("outputs 0.0625 away, tolerance 0.125", y - eighth / 2, eighth, True),
        ("an output that is NaN", nan_output, 0.1, False),
    ]


@pytest.mark.check("has_converged")
def test_has_converged_says_true_only_when_every_output_is_strictly_inside(
    submission,
):
    for case, output, tolerance, want in converged_cases():
        got = submission.call(
            "has_converged", output, reference.Y, tolerance,
            label=f"has_converged({case})",
        )  # fmt: skip
        if type(got) is not bool:
            kind = type(got).__name__
            raise CheckFailed("wrong_type", call=f"has_converged({case})", type=kind,
                              want="a Python bool (True or False)")  # fmt: skip
        if got is not want:
            raise CheckFailed("wrong_verdict", case=case, got=got)


TRAIN_CASES = [
    # (seed of the start, learning rate, epochs, tolerance, why)
    (31, 0.2, 4000, 0.1, "runs until it converges"),
    (32, 0.1, 40, 0.1, "stops at the epoch limit"),
    (33, 0.2, 0, 0.1, "epochs=0 applies no update"),
]


@pytest.mark.check("train")
def test_train_follows_the_rule_and_stops_before_the_first_converged_update(
    submission,
):
    for seed, learning_rate, epochs, tolerance, _why in TRAIN_CASES:
        start = reference.starting_weights(3000 + seed)
        check_train_case(submission, start, learning_rate, epochs, tolerance)
    # A start that has already converged: train must apply no update at all.
    solved = (np.array([[9.0, 0, 9], [0, 9, 9]]), np.array([[-2.0], [-2.0], [4.0]]))
    check_train_case(submission, solved, 0.2, 100, 0.1)


def check_train_case(submission, start, learning_rate, epochs, tolerance):
    call = f"train(X, Y, ..., {learning_rate}, {epochs}, {tolerance})"
    result = submission.call(
        "train", reference.X, reference.Y, *start, learning_rate, epochs, tolerance,
        label=call,
    )  # fmt: skip
    hidden, output, epochs_run = as_tuple(result, call, 3)
    want_hidden, want_output, want_run = reference.train(
        reference.X, reference.Y, *start, learning_rate, epochs, tolerance
    )
    if not isinstance(epochs_run, int | np.integer) or isinstance(epochs_run, bool):
        raise CheckFailed("wrong_type", call=call, type=type(epochs_run).__name__,
                          want="a whole number for epochs_run")  # fmt: skip
    if epochs_run > epochs:
        raise CheckFailed("wrong_count", call=call, got=int(epochs_run),
                          what=f"more updates than epochs={epochs}")  # fmt: skip
    if epochs_run != want_run:
        raise CheckFailed("wrong_count", call=call, got=int(epochs_run),
                          what="not the number of updates the course's rule "
                          "applies before the outputs converge")  # fmt: skip
    what = "the weights the course's rule reaches"
    assert_close(as_array(hidden, call, (2, 3)), want_hidden, TRAIN_TOLERANCE,
                 call=call, what=what)  # fmt: skip
    assert_close(as_array(output, call, (3, 1)), want_output, TRAIN_TOLERANCE,
                 call=call, what=what)  # fmt: skip
