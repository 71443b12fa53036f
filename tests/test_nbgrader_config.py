"""nbgrader takes its settings from course_config.py and will not grade without it."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from autograder.course import generate_release, nbgrader, prepare_course_dir
from tests.conftest import KIT_ROOT

ASSIGNMENT = "xor_backprop"


@pytest.fixture
def course_with_submission(tmp_path, config_copy, config):
    """A course directory with one released assignment and one submitted notebook."""
    course = prepare_course_dir(tmp_path / "course", config)
    from autograder.nbgrader_door import write_course_shim

    write_course_shim(course, config_copy)
    generate_release(course, config)
    submitted = course / "submitted" / "student one" / ASSIGNMENT
    submitted.mkdir(parents=True)
    shutil.copy(KIT_ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", submitted)
    return course


def grade_rows(course):
    with sqlite3.connect(course / "gradebook.db") as db:
        return db.execute("select count(*) from grade").fetchone()[0]


BROKEN_CONFIGS = {
    "invalid value": "\nEPOCH_BUDGET = -1\n",
    "raises on load": "\nraise RuntimeError('half-edited')\n",
    "unknown setting": "\nTOLERANCE_TYPO = 0.1\n",
}


@pytest.mark.parametrize("breakage", BROKEN_CONFIGS.values(), ids=BROKEN_CONFIGS)
def test_broken_config_stops_autograde_with_no_grades(
    course_with_submission, config_copy, breakage
):
    with config_copy.open("a", encoding="utf-8") as handle:
        handle.write(breakage)
    result = nbgrader(
        ["autograde", ASSIGNMENT, "--create"], course_with_submission, check=False
    )
    assert result.returncode != 0
    assert "nbgrader stopped, nothing was graded" in result.stderr
    assert grade_rows(course_with_submission) == 0
    assert not (course_with_submission / "autograded").exists()


def copy_of_the_shim(folder):
    """The kit's nbgrader_config.py, copied into a folder that holds nothing else."""
    shim = folder / "nbgrader_config.py"
    shim.write_text(
        (KIT_ROOT / "nbgrader_config.py").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    return shim


def test_kit_that_cannot_be_imported_stops_nbgrader(tmp_path):
    copy_of_the_shim(tmp_path)
    # The shim puts its own folder first on sys.path, so this half-installed kit
    # shadows the one pip installed into the venv.
    (tmp_path / "autograder").mkdir()
    (tmp_path / "autograder" / "__init__.py").write_text(
        "raise ImportError('half-installed kit')\n", encoding="utf-8"
    )
    result = nbgrader(["autograde", ASSIGNMENT, "--create"], tmp_path, check=False)
    assert result.returncode != 0
    assert "cannot load the grading kit" in result.stderr
    assert "half-installed kit" in result.stderr
    assert not (tmp_path / "gradebook.db").exists()


def test_shim_without_its_course_config_stops_nbgrader(tmp_path):
    copy_of_the_shim(tmp_path)
    result = nbgrader(["autograde", ASSIGNMENT, "--create"], tmp_path, check=False)
    assert result.returncode != 0
    assert "nothing was graded" in result.stderr
    assert "course_config.py does not exist" in result.stderr
    assert not (tmp_path / "gradebook.db").exists()


def test_course_settings_reach_nbgrader(course_with_submission, config):
    result = nbgrader(["db", "assignment", "list"], course_with_submission)
    assert ASSIGNMENT in result.stdout + result.stderr
    shim = (course_with_submission / "nbgrader_config.py").read_text(encoding="utf-8")
    assert str(KIT_ROOT) in shim
