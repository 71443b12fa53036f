"""Tests for the reference solutions: the sweep, the bounded random search, the font."""

from __future__ import annotations

import importlib.util
import time

import numpy as np
import pytest

from autograder import config, reference
from autograder import messages as lessons
from solutions import plotting, random_search
from solutions.sweep import epochs_needed, format_table, sweep


@pytest.fixture(scope="module")
def course():
    return config.load()


# The random search ------------------------------------------------------------------


def test_random_search_with_impossible_tolerance_stops_at_max_seconds():
    began = time.perf_counter()
    result = random_search.search(
        seed=0, max_trials=10**6, max_seconds=2.0, tolerance=0.0
    )
    elapsed = time.perf_counter() - began

    assert not result.found
    assert result.stopped_by == "max_seconds"
    assert elapsed < 3.0, f"search with max_seconds=2 took {elapsed:.2f} s"


def test_random_search_with_impossible_tolerance_stops_at_max_trials():
    result = random_search.search(seed=0, max_trials=3, max_seconds=60.0, tolerance=0.0)

    assert (result.found, result.trials, result.stopped_by) == (
        False,
        3,
        "max_trials",
    )


def test_random_search_repeats_itself_from_the_same_seed():
    first = random_search.search(seed=5, max_trials=50, max_seconds=60.0)
    second = random_search.search(seed=5, max_trials=50, max_seconds=60.0)

    assert first.found and second.found
    assert (first.trials, first.epochs, first.epochs_run, first.learning_rate) == (
        second.trials,
        second.epochs,
        second.epochs_run,
        second.learning_rate,
    )
    np.testing.assert_array_equal(first.hidden_weights, second.hidden_weights)
    np.testing.assert_array_equal(first.output_weights, second.output_weights)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4], ids=lambda s: f"seed{s}")
def test_random_search_success_means_every_output_is_within_tolerance(seed):
    result = random_search.search(seed=seed, max_trials=200, max_seconds=30.0)
    assert result.found, f"seed {seed}: {result.summary()}"

    _, output = reference.forward(
        reference.X, result.hidden_weights, result.output_weights
    )
    np.testing.assert_allclose(output, result.output, rtol=0, atol=1e-12)
    worst = np.max(np.abs(output - reference.Y))
    assert worst < random_search.TOLERANCE, f"largest |output - Y| is {worst}"
    assert 0 <= result.learning_rate < 1
    assert 0 <= result.epochs_run <= result.epochs <= random_search.EPOCH_BUDGET


@pytest.mark.parametrize(
    ("learning_rate", "converges"),
    [(0.05, False), (0.1, True), (0.3, True)],
    ids=["0.05-runs-out", "0.1-converges", "0.3-converges"],
)
def test_random_search_trial_trains_exactly_like_the_reference(
    learning_rate, converges
):
    hidden_weights, output_weights = reference.starting_weights(11)

    got = random_search.train_trial(
        hidden_weights, output_weights, learning_rate, epochs=3000, tolerance=0.1
    )
    want = reference.train(
        reference.X,
        reference.Y,
        hidden_weights,
        output_weights,
        learning_rate,
        epochs=3000,
        tolerance=0.1,
    )

    np.testing.assert_allclose(got[0], want[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-12)
    assert (got[3], got[4]) == (int(want[2]), converges)


def test_random_search_trial_stops_early_when_training_overflows():
    hidden_weights, output_weights = reference.starting_weights(11)

    *_, output, epochs_run, converged = random_search.train_trial(
        hidden_weights, output_weights, 0.7, epochs=3000, tolerance=0.1
    )

    assert not converged
    assert not np.all(np.isfinite(output))
    assert epochs_run < 3000, f"ran {epochs_run} epochs after overflowing"


def test_random_search_rejects_an_unbounded_call():
    with pytest.raises(ValueError, match="max_trials >= 1 and max_seconds > 0"):
        random_search.search(seed=0, max_trials=0)


# The learning-rate sweep ------------------------------------------------------------


@pytest.fixture(scope="module")
def small_sweep():
    return sweep([0.2, 0.3, 0.4], starts=50, epochs=3000, tolerance=0.1)


def test_sweep_fractions_lie_between_zero_and_one(small_sweep):
    for row in small_sweep:
        assert 0.0 <= row.fraction_converged <= 1.0, row
        assert row.starts == 50


def test_sweep_learning_rate_0_4_never_converges(small_sweep):
    assert small_sweep[2].learning_rate == pytest.approx(0.4)
    assert small_sweep[2].converged == 0


def test_sweep_learning_rate_0_2_mostly_converges(small_sweep):
    assert small_sweep[0].learning_rate == pytest.approx(0.2)
    assert small_sweep[0].fraction_converged >= 0.9


def test_sweep_epochs_needed_stay_within_the_budget(small_sweep):
    for row in small_sweep:
        assert np.all((row.epochs_needed >= 0) & (row.epochs_needed <= 3000))


@pytest.mark.parametrize("learning_rate", [0.1, 0.3, 0.5])
def test_sweep_epochs_needed_match_reference_first_converged_epoch(learning_rate):
    hidden_weights, output_weights = reference.starting_weights_batch(range(40))

    got = epochs_needed(hidden_weights, output_weights, learning_rate, 2500, 0.1)
    want = reference.first_converged_epoch(
        hidden_weights, output_weights, learning_rate, 2500, 0.1
    )
    np.testing.assert_array_equal(got, want)


def test_sweep_table_has_one_line_per_learning_rate(small_sweep):
    lines = format_table(small_sweep).splitlines()
    assert len(lines) == 1 + len(small_sweep)
    assert lines[-1].split()[0] == "0.4"


# The reference trainer on the grading seeds -----------------------------------------


def _converged_seeds(course, learning_rate):
    hidden_weights, output_weights = reference.starting_weights_batch(
        course.grading_seeds
    )
    needed = reference.first_converged_epoch(
        hidden_weights,
        output_weights,
        learning_rate,
        course.epoch_budget,
        course.course_tolerance,
    )
    return int(np.sum(needed >= 0))


@pytest.mark.parametrize("learning_rate", [0.1, 0.2])
def test_grading_seeds_pass_with_a_dependable_learning_rate(course, learning_rate):
    converged = _converged_seeds(course, learning_rate)
    assert converged >= course.seeds_to_pass, (
        f"learning_rate {learning_rate}: {converged} of "
        f"{len(course.grading_seeds)} grading seeds converged, "
        f"{course.seeds_to_pass} needed"
    )


def test_grading_seeds_fail_with_learning_rate_0_3(course):
    converged = _converged_seeds(course, 0.3)
    assert converged < course.seeds_to_pass, (
        f"learning_rate 0.3: {converged} of {len(course.grading_seeds)} "
        f"grading seeds converged; it must stay below {course.seeds_to_pass}"
    )


# Korean font and lessons ------------------------------------------------------------


def test_korean_font_helper_finds_nanum():
    name = plotting.use_korean_font()
    assert "Nanum" in name


def test_korean_font_helper_names_the_fix_when_the_package_is_missing(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="pip install koreanize-matplotlib"):
        plotting.korean_font_path()


@pytest.mark.parametrize("topic", ["learning_rate", "epochs", "tolerance"])
def test_lessons_are_given_in_korean_and_english(topic):
    lesson = lessons.LESSONS[topic]
    assert set(lesson) == {"ko", "en"}
    assert any("\uac00" <= char <= "\ud7a3" for char in lesson["ko"])
    assert lesson["en"].isascii() and lesson["en"].strip()
