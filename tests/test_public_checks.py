"""Students' self-check: public checks run in the notebook and via nbgrader validate."""

from __future__ import annotations

import pytest

from autograder.course import nbgrader
from solutions.samples import write_samples

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("validate")
    paths = write_samples(folder, ["reference", "template", "sign_error"])
    return {path.parent.parent.name: path for path in paths}


def validate(path):
    return nbgrader(["validate", str(path)], path.parent, check=False)


def test_reference_answer_passes_validate(samples):
    result = validate(samples["reference"])
    assert result.returncode == 0
    assert "Success! Your notebook passes all the tests." in result.stdout


def test_untouched_template_fails_validate_loudly(samples):
    result = validate(samples["template"])
    assert "NotImplementedError" in result.stdout + result.stderr


def test_public_check_message_names_the_step_that_failed(samples):
    result = validate(samples["sign_error"])
    output = result.stdout + result.stderr
    assert "VALIDATION FAILED" in output
    assert "train_step: the output weights did not move" in output
