"""Tests for the class report: its files, its numbers, and the CSV for the LMS."""

from __future__ import annotations

import csv
import json
import string

import numpy as np
import pytest

from autograder import messages, report
from autograder.__main__ import main
from autograder.config import ALL_CHECKS, AUTOMATIC_CHECKS
from autograder.grading import GradeResult
from autograder.recorders.results import write_results
from autograder.verdicts import CheckFailed, failed, passed, pending
from tests.test_feedback import leaks

# Few starts keep the landscape quick; the report's default is 200.
STARTS = 40

# student -> (failed checks with their CheckFailed, choices)
CLASS = {
    "김민준": ({}, {"LEARNING_RATE": 0.2, "EPOCHS": 10_000, "TOLERANCE": 0.1}),
    "이서연": (
        {
            "convergence": CheckFailed(
                "not_converged", passed=0, tried=4, seeds=20, needed=17
            )
        },
        {"LEARNING_RATE": 0.2, "EPOCHS": 3, "TOLERANCE": 0.1},
    ),
    "박지호": (
        {
            "learning_rate": CheckFailed("off_grid", value="0.25", step=0.1, top=1.0),
            "convergence": CheckFailed(
                "not_converged", passed=9, tried=13, seeds=20, needed=17
            ),
        },
        {"LEARNING_RATE": 0.25, "EPOCHS": 10_000, "TOLERANCE": 0.1},
    ),
    "=HYPERLINK(1)": ({}, {"LEARNING_RATE": 0.1, "EPOCHS": 5_000, "TOLERANCE": 0.1}),
    "template": ({}, {}),
}


def graded_result(student, failures, choices, config) -> GradeResult:
    verdicts = []
    for check in AUTOMATIC_CHECKS:
        points = config.points[check]
        error = failures.get(check)
        verdicts.append(
            failed(check, points, error) if error else passed(check, points)
        )
    verdicts += [pending("why_not_random", config.points["why_not_random"])]
    return GradeResult(student, verdicts, choices=choices)


@pytest.fixture(scope="module")
def written(tmp_path_factory, config):
    """A small class graded by hand, then reported once: {part: path}."""
    folder = tmp_path_factory.mktemp("report")
    graded = folder / "graded"
    for student, (failures, choices) in CLASS.items():
        write_results(graded_result(student, failures, choices, config), config, graded)
    return report.write_report(
        graded, config, folder / "out", starts=STARTS, cache_dir=folder / "cache"
    )


def test_report_writes_its_pngs_html_and_csv(written):
    for part, path in written.items():
        assert path.is_file() and path.stat().st_size > 0, part
    for part in ("scores", "checks", "landscape"):
        assert written[part].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_page_shows_every_png_it_wrote(written):
    page = written["html"].read_text(encoding="utf-8")

    for part in ("scores", "checks", "landscape"):
        assert f'src="{written[part].name}"' in page
    assert f'href="{written["csv"].name}"' in page


def test_csv_opens_in_excel_with_korean_names_intact(written):
    raw = written["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")

    with open(written["csv"], encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))

    assert [row["student"] for row in rows] == sorted(
        "'" + name if name.startswith("=") else name for name in CLASS
    )
    assert set(ALL_CHECKS) <= set(rows[0])


def test_csv_has_one_column_per_check_with_the_points(written, config):
    with open(written["csv"], encoding="utf-8-sig", newline="") as stream:
        rows = {row["student"]: row for row in csv.DictReader(stream)}

    seoyeon = rows["이서연"]
    assert float(seoyeon["convergence"]) == 0
    assert float(seoyeon["train"]) == config.points["train"]
    assert seoyeon["why_not_random"] == ""  # graded by hand, later
    assert float(seoyeon["score"]) == config.automatic_points - 3


def test_report_names_the_most_common_mistake_first(written):
    page = written["html"].read_text(encoding="utf-8")
    mistakes = page[page.index("흔한 실수") :]

    generic = report._generic("not_converged", "ko")
    assert generic in mistakes
    assert mistakes.index(generic) < mistakes.index(report._generic("off_grid", "ko"))


def test_report_and_csv_hold_no_hidden_check_line_and_no_reference_weight(
    written, config
):
    for part in ("html", "csv"):
        assert leaks(written[part].read_text(encoding="utf-8-sig"), config) == []


@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("key", sorted(messages.SENTENCES))
def test_every_sentence_is_recognised_from_results_json(key, language):
    template = messages.SENTENCES[key][language]
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    # 7 fits every format spec the sentences use: {:g}, {:.3g}, {:,} and plain.
    line = messages.sentence(key, language, **dict.fromkeys(names, 7))

    assert report.sentence_key(line, language) == key


def test_landscape_converges_at_the_reference_rates_and_never_at_one(config, tmp_path):
    land = report.landscape(config, STARTS, tmp_path)
    rows = dict(zip(np.round(land.learning_rates, 1), land.fraction, strict=True))

    assert rows[0.1][-1] >= 0.95 and rows[0.2][-1] >= 0.95
    assert rows[1.0].max() == 0
    assert (np.diff(land.fraction, axis=1) >= 0).all()  # more epochs never hurt


def test_landscape_is_read_from_the_cache_the_second_time(
    config, tmp_path, monkeypatch
):
    first = report.landscape(config, STARTS, tmp_path)

    def recompute(*_):
        raise AssertionError("the cached landscape was computed again")

    monkeypatch.setattr(report, "compute_landscape", recompute)
    second = report.landscape(config, STARTS, tmp_path)

    np.testing.assert_array_equal(first.fraction, second.fraction)


def test_report_command_writes_into_out(written, tmp_path, capsys):
    graded = written["html"].parent.parent / "graded"
    assert main(["report", str(graded), "--out", str(tmp_path / "r")]) == 0

    assert (tmp_path / "r" / "report.html").is_file()
    assert "report.html" in capsys.readouterr().out


def test_report_on_an_empty_folder_says_to_grade_first(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2

    assert "grade first" in capsys.readouterr().out


def test_a_broken_results_json_is_skipped(tmp_path):
    (tmp_path / "kim").mkdir()
    (tmp_path / "kim" / "results.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "lee").mkdir()
    good = {"score": 1, "tests": [], "extra_data": {"submission": "lee"}}
    (tmp_path / "lee" / "results.json").write_text(json.dumps(good), encoding="utf-8")

    assert [student.student for student in report.read_batch(tmp_path)] == ["lee"]
