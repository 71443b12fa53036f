"""Tests for calibrate: the budget it proposes, its figures, the file it leaves."""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder import calibrate
from autograder.__main__ import main
from autograder.calibrate import Measurement, budget_to_pass, round_down

# A machine about as fast as the kit's CI: 50 µs an epoch, 6 s + 4 s fixed.
TYPICAL = Measurement(epoch=50e-6, notebook=4.0, overhead=6.0, seeds=20)


@pytest.mark.parametrize(
    ("value", "want"),
    [(7, 7), (99, 99), (100, 100), (93_712, 93_000), (1_049, 1_000), (10_000, 10_000)],
    ids=["one digit", "two digits", "hundred", "thousands", "just over", "exact"],
)
def test_round_down_keeps_two_significant_digits(value, want):
    assert round_down(value) == want


@pytest.mark.parametrize("seconds", [15, 60, 600])
def test_proposed_budget_fits_in_the_seconds_and_a_tenth_more_would_not(seconds):
    budget = TYPICAL.budget_for(seconds)

    assert TYPICAL.worst_case(budget) <= seconds
    assert TYPICAL.worst_case(int(budget * 1.1) + 100) > seconds


def test_no_budget_when_the_seconds_do_not_cover_the_fixed_cost(config):
    lines, budget, fits = calibrate.report(TYPICAL, 9.0, config)

    assert (budget, fits) == (0, False)
    assert "no budget fits" in "\n".join(lines)


def test_report_prints_the_figures_it_used(config):
    lines, budget, fits = calibrate.report(TYPICAL, 60, config)
    text = "\n".join(lines)

    assert fits and budget == 50_000
    for figure in ("50.0 µs", "4.00 s", "6.00 s", "50,000", "LEARNING_RATE 0.1"):
        assert figure in text


def test_too_small_a_budget_fails_the_reference_choices(config):
    hurried = Measurement(epoch=5e-3, notebook=4.0, overhead=6.0, seeds=20)

    lines, budget, fits = calibrate.report(hurried, 60, config)

    assert budget == 500
    assert not fits
    assert "NOT within the budget" in "\n".join(lines)


def test_budget_to_pass_is_the_epochs_of_the_last_seed_needed():
    needed = np.array([900, -1, 300, 1200, 500])

    assert budget_to_pass(needed, 3) == 900
    assert budget_to_pass(needed, 5) is None


@pytest.mark.slow
def test_calibrate_measures_proposes_and_leaves_course_config_alone(config, capsys):
    before = config.path.read_bytes()

    code = main(["calibrate", "--seconds-per-submission", "60"])

    out = capsys.readouterr().out
    assert config.path.read_bytes() == before
    assert code == 0, out
    proposed = int(re.search(r"^EPOCH_BUDGET = ([\d_]+)$", out, re.M)[1])
    assert 2_000 <= proposed <= 2_000_000, out
    epoch = float(re.search(r"one epoch\s+([\d.]+) µs", out)[1])
    assert 1 <= epoch <= 5_000, out
    assert "fixed overhead" in out and "notebook run" in out
