"""Tests for the student's feedback page: what it shows, and what it must never show."""

from __future__ import annotations

import dataclasses
import functools
import html
from pathlib import Path

import numpy as np
import pytest

from autograder import messages, reference
from autograder.grading import grade_file
from autograder.recorders.feedback import (
    FILE_NAME,
    feedback_page,
    loss_curves,
    seed_runs,
    usable_choices,
    write_feedback,
)
from autograder.recorders.results import write_results
from solutions.samples import write_samples

CHECKS_DIR = Path(__file__).resolve().parent.parent / "autograder" / "checks"
SAMPLES = ("reference", "random_search", "template")


def hidden_check_lines() -> list[str]:
    """Every line of the hidden checks long enough to be recognisable if leaked."""
    lines = set()
    for path in sorted(CHECKS_DIR.glob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if len(line.strip()) > 20:
                lines.add(line.strip())
    return sorted(lines)


def reference_weight_strings(config) -> list[str]:
    """The grading seeds' starting weights and the reference's trained weights.

    Written as a page would print them; six decimals, so that a match is a leak and
    not a coincidence.
    """
    return _weight_strings(
        config.grading_seeds, config.epoch_budget, config.course_tolerance
    )


@functools.cache
def _weight_strings(seeds, epoch_budget, tolerance) -> list[str]:
    hidden, output = reference.starting_weights_batch(seeds)
    arrays = [hidden, output]
    for learning_rate in (0.1, 0.2):
        trained = reference.train(
            reference.X,
            reference.Y,
            hidden,
            output,
            learning_rate,
            epoch_budget,
            tolerance,
        )
        arrays += trained[:2]
    values = np.concatenate([array.ravel() for array in arrays])
    return sorted({f"{value:.6f}" for value in values} | {repr(v) for v in values})


def leaks(text: str, config) -> list[str]:
    """Hidden check lines and reference weights found in `text`."""
    found = [line for line in hidden_check_lines() if line in text]
    found += [value for value in reference_weight_strings(config) if value in text]
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory, config):
    """Three samples graded once: {name: (result, feedback page path)}."""
    folder = tmp_path_factory.mktemp("feedback")
    out = folder / "graded"
    results = {}
    for path in write_samples(folder / "submitted", SAMPLES):
        name = path.parent.parent.name
        result = grade_file(path, config, name=name)
        write_results(result, config, out)
        results[name] = (result, write_feedback(result, config, out))
    return results


def page(graded, name) -> str:
    return graded[name][1].read_text(encoding="utf-8")


def test_every_student_gets_a_page_beside_results_json(graded):
    for name, (_, path) in graded.items():
        assert path.name == FILE_NAME
        assert (path.parent / "results.json").is_file(), name
        assert path.parent.name == name


@pytest.mark.parametrize("name", SAMPLES)
def test_pages_hold_no_hidden_check_line_and_no_reference_weight(graded, config, name):
    assert leaks(page(graded, name), config) == []


def test_leak_check_finds_a_planted_check_line_and_weight(config):
    line = hidden_check_lines()[0]
    weight = reference_weight_strings(config)[0]

    assert leaks(f"<p>{line}</p><td>{weight}</td>", config) == [line, weight]


def test_random_search_page_gives_the_lessons_in_korean(graded):
    text = page(graded, "random_search")

    assert '<html lang="ko">' in text
    for topic in ("learning_rate", "epochs"):
        assert html.escape(messages.lesson(topic, "ko")) in text
        assert f'href="#lesson-{topic}"' in text


def test_reference_page_earns_no_lesson(graded):
    text = page(graded, "reference")

    for topic in messages.LESSONS:
        assert messages.lesson(topic, "ko") not in text


def test_page_shows_each_check_with_its_points_and_sentence(graded, config):
    result, path = graded["random_search"]
    text = path.read_text(encoding="utf-8")

    for verdict in result.verdicts:
        assert html.escape(messages.check_title(verdict.check, "ko")) in text
        assert html.escape(verdict.sentence("ko")) in text
        assert html.escape(verdict.sentence("en")) in text


def test_reference_page_reports_the_reference_trainer_on_every_grading_seed(
    graded, config
):
    result, path = graded["reference"]
    text = path.read_text(encoding="utf-8")
    runs = seed_runs(usable_choices(result.choices, config), config)

    assert messages.page_text("reference_only", "ko") in text
    assert int(runs.converged.sum()) == len(config.grading_seeds)
    assert f"{len(config.grading_seeds)}개 중 {len(config.grading_seeds)}개" in text
    assert text.count("data:image/png;base64,") == 1


def test_unreadable_choices_get_a_reason_and_no_curve(graded):
    text = page(graded, "template")

    assert "data:image/png" not in text
    assert html.escape(messages.PAGE["no_reference_run"]["ko"].split(":")[0]) in text


def test_page_follows_the_configured_language(graded, config):
    result, _ = graded["random_search"]
    text = feedback_page(result, dataclasses.replace(config, feedback_language="en"))

    assert '<html lang="en">' in text
    assert html.escape(messages.lesson("epochs", "en")) in text
    assert f'<span class="other" lang="ko">{messages.lesson("epochs", "ko")}' in text


def test_student_written_text_is_escaped(graded, config):
    result, _ = graded["reference"]
    hostile = dataclasses.replace(
        result,
        submission="<script>alert(1)</script>",
        choices={**result.choices, "TOLERANCE": "'<img src=x onerror=alert(1)>'"},
    )

    text = feedback_page(hostile, config)

    assert "<script>alert" not in text
    assert "<img src=x" not in text


def test_loss_curves_match_a_step_by_step_run_and_end_with_each_start():
    hidden, output = reference.starting_weights_batch([3, 4])
    updates = np.array([0, 3])

    losses = loss_curves(hidden, output, 0.2, updates)

    assert losses.shape == (4, 2)
    assert np.isnan(losses[1:, 0]).all()
    h, o = hidden[1], output[1]
    for epoch in range(4):
        _, out = reference.forward(reference.X, h, o)
        want = np.mean((reference.Y - out) ** 2)
        np.testing.assert_allclose(losses[epoch, 1], want, rtol=1e-12, atol=0)
        h, o = reference.train_step(reference.X, reference.Y, h, o, 0.2)
