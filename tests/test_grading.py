"""The grading core through both front doors, on the bundled sample submissions.

Every sample is graded once per door (module-scoped), then each test reads the
results: the mistake table row by row, agreement of the doors, and what students
may and may not see.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from autograder import reference
from autograder.config import AUTOMATIC_CHECKS
from autograder.course import generate_release, nbgrader, prepare_course_dir
from solutions.samples import MISTAKES, write_samples
from tests.conftest import KIT_ROOT

pytestmark = pytest.mark.slow
ASSIGNMENT = "xor_backprop"


@pytest.fixture(scope="module")
def cli_results(tmp_path_factory):
    """Grade every sample with `python -m autograder grade`; results by student."""
    folder = tmp_path_factory.mktemp("cli")
    write_samples(folder / "submitted")
    run = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(folder / "submitted"),
         "--out", str(folder / "out")],
        cwd=KIT_ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return {
        path.parent.name: json.loads(path.read_text(encoding="utf-8"))
        for path in (folder / "out").glob("*/results.json")
    }


@pytest.fixture(scope="module")
def nbgrader_course(tmp_path_factory, config):
    """Grade every sample with `nbgrader autograde` in a scratch course directory."""
    course = prepare_course_dir(tmp_path_factory.mktemp("course"), config)
    generate_release(course, config)
    write_samples(course / "submitted")
    nbgrader(["autograde", ASSIGNMENT, "--create"], course)
    nbgrader(["generate_feedback", ASSIGNMENT], course)
    return course


def scores_by_check(document) -> dict[str, float]:
    return {test["name"]: test.get("score") for test in document["tests"]}


def failed_checks(document) -> set[str]:
    return {t["name"] for t in document["tests"] if t["status"] == "failed"}


@pytest.mark.parametrize("sample", list(MISTAKES))
def test_sample_fails_exactly_the_checks_its_mistake_should(cli_results, sample):
    assert failed_checks(cli_results[sample]) == set(MISTAKES[sample])


def test_reference_answer_gets_every_automatic_point(cli_results, config):
    document = cli_results["reference"]
    assert document["score"] == config.automatic_points
    manual = [t for t in document["tests"] if t["name"] == "why_not_random"]
    assert manual[0]["status"] == "pending" and "score" not in manual[0]


def test_untouched_release_gets_zero(cli_results):
    assert cli_results["template"]["score"] == 0


def test_random_search_answer_gets_partial_score_with_lessons_one_and_two(
    cli_results, config
):
    document = cli_results["random_search"]
    assert 0 < document["score"] < config.automatic_points
    feedback = "\n".join(test["output"] for test in document["tests"])
    from autograder.messages import LESSONS

    language = config.feedback_language
    assert LESSONS["learning_rate"][language] in feedback
    assert LESSONS["epochs"][language] in feedback


def test_patched_allclose_changes_no_score(cli_results):
    patched = scores_by_check(cli_results["patched_allclose_sign_error"])
    assert patched == scores_by_check(cli_results["sign_error"])


def gradebook_scores(course, config) -> dict[str, dict[str, float]]:
    from nbgrader.api import Gradebook

    scores: dict[str, dict[str, float]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", config.course_id) as book:
        for student in book.students:
            notebook = book.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student.id)
            scores[student.id] = {g.name: g.auto_score for g in notebook.grades}
    return scores


def test_both_front_doors_give_the_same_score_for_every_check(
    cli_results, nbgrader_course, config
):
    book = gradebook_scores(nbgrader_course, config)
    assert set(book) == set(cli_results)
    for student, document in cli_results.items():
        cli = {k: v for k, v in scores_by_check(document).items() if v is not None}
        door = {k: v for k, v in book[student].items() if k in AUTOMATIC_CHECKS}
        assert door == cli, student


def hidden_check_lines() -> list[str]:
    """Lines of the hidden checks long enough to be telling and not in the release."""
    public = (KIT_ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text(
        encoding="utf-8"
    )
    lines = []
    for path in (KIT_ROOT / "autograder" / "checks").glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if len(line) >= 25 and not line.startswith(("#", '"""')):
                if line not in public:
                    lines.append(line)
    return lines


def reference_values(config) -> list[str]:
    """Reference weights the convergence check compares against, as printed."""
    starts = reference.starting_weights_batch(config.grading_seeds)
    hidden, output, _ = reference.train(
        reference.X, reference.Y, *starts, 0.2, config.epoch_budget, 0.1
    )
    values = np.concatenate([hidden.ravel(), output.ravel()])
    return [f"{value:.6f}" for value in values[:40]]


def student_visible_texts(cli_results, nbgrader_course):
    for document in cli_results.values():
        yield json.dumps(document, ensure_ascii=False)
    for folder in ("autograded", "feedback"):
        for path in (nbgrader_course / folder).rglob("*"):
            if path.suffix in (".ipynb", ".html"):
                yield path.read_text(encoding="utf-8")


def test_nothing_students_see_holds_hidden_check_code_or_reference_values(
    cli_results, nbgrader_course, config
):
    secrets = hidden_check_lines() + reference_values(config)
    assert len(secrets) > 100
    for text in student_visible_texts(cli_results, nbgrader_course):
        leaked = [secret for secret in secrets if secret in text]
        assert leaked == []


def test_grading_the_same_submissions_twice_gives_identical_results(
    cli_results, tmp_path
):
    names = ["reference", "sign_error", "random_search"]
    write_samples(tmp_path / "again", names)
    subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(tmp_path / "again"),
         "--out", str(tmp_path / "out")],
        cwd=KIT_ROOT, check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    for name in names:
        again = json.loads((tmp_path / "out" / name / "results.json").read_text())
        assert scores_by_check(again) == scores_by_check(cli_results[name])
        assert [t["output"] for t in again["tests"]] == [
            t["output"] for t in cli_results[name]["tests"]
        ] or name == "random_search"  # its drawn values appear in the sentence


def test_feedback_sentences_name_no_expected_answer(cli_results):
    for document in cli_results.values():
        for test in document["tests"]:
            assert not re.search(r"expected|기대한 값", test["output"])
