"""release/ is exactly what source/ generates, and gives nothing away."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from autograder.course import generate_release, prepare_course_dir
from tests.conftest import KIT_ROOT

ASSIGNMENT = "xor_backprop"
SOURCE = KIT_ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
RELEASE = KIT_ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def comparable(notebook_path):
    """The notebook as JSON, with metadata that differs between machines dropped."""
    notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
    notebook["metadata"].pop("language_info", None)
    return notebook


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory, config):
    course = prepare_course_dir(tmp_path_factory.mktemp("course"), config)
    return generate_release(course, config) / f"{ASSIGNMENT}.ipynb"


def test_release_is_exactly_what_source_generates(regenerated):
    assert comparable(RELEASE) == comparable(regenerated), (
        "release/ is out of date with source/: run `make release` and commit it"
    )


def release_text():
    return RELEASE.read_text(encoding="utf-8")


def test_release_holds_no_solution_code():
    text = release_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN", "HIDDEN TESTS"):
        assert marker not in text
    # Lines that only the reference answer contains.
    for answer_line in (
        "slope = activation * (1 - activation)",
        "new_output_weights = output_weights + hidden.T @ delta_output",
        "epochs_run += 1",
        "LEARNING_RATE = 0.2",
    ):
        assert answer_line not in text


def test_every_solution_region_in_release_raises_not_implemented():
    notebook = nbformat.read(RELEASE, as_version=4)
    solution_cells = [
        cell
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
        and cell.cell_type == "code"
    ]
    assert len(solution_cells) == 6
    for cell in solution_cells:
        assert "raise NotImplementedError()" in cell.source, cell.id


def test_release_carries_no_tooling_leftovers():
    text = release_text()
    for leftover in ("autograder", "course_config", "/work/", "gradebook", "XXX"):
        assert leftover not in text, leftover
    notebook = nbformat.read(RELEASE, as_version=4)
    imports = [
        line
        for cell in notebook.cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if re.match(r"\s*(import|from) ", line)
    ]
    assert imports == ["import numpy as np"]


@pytest.mark.parametrize("path", [SOURCE, RELEASE], ids=["source", "release"])
def test_notebook_is_valid_nbformat_4_with_cell_ids(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4 and notebook.nbformat_minor >= 5
    ids = [cell.id for cell in notebook.cells]
    assert all(ids) and len(set(ids)) == len(ids)


def test_source_has_no_stored_outputs():
    notebook = nbformat.read(SOURCE, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id


def test_source_points_match_the_points_table(config):
    notebook = nbformat.read(SOURCE, as_version=4)
    graded = {
        cell.metadata.nbgrader["grade_id"]: cell.metadata.nbgrader["points"]
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    }
    assert graded == config.points


def test_source_agrees_with_the_course_config(config):
    from autograder.course import source_mismatches

    assert source_mismatches(config) == []


def test_release_refuses_when_points_in_config_disagree_with_source(config_copy):
    from autograder.config import load
    from autograder.course import source_mismatches

    with config_copy.open("a", encoding="utf-8") as handle:
        handle.write('\nPOINTS = {**POINTS, "train": 5}\nEPOCH_BUDGET = 20_000\n')
    problems = source_mismatches(load(config_copy))
    assert any("'train' is worth 2.0 points" in problem for problem in problems)
    assert any("20,000" in problem for problem in problems)


def test_reference_solution_is_the_source_answer_executed():
    reference = KIT_ROOT / "solutions" / "reference" / f"{ASSIGNMENT}.ipynb"
    notebook = nbformat.read(reference, as_version=4)
    outputs = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "converged: True" in outputs
    assert not any(
        output.output_type == "error"
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
