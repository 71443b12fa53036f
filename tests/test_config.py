"""course_config.py: loaded and checked, and a bad value stops everything."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from autograder.config import ALL_CHECKS, ConfigError, load
from tests.conftest import KIT_ROOT


def replace_setting(path, name, value_text):
    """Override one setting by assigning it again at the end of the file."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"\n{name} = {value_text}\n")


def test_shipped_config_loads_with_the_course_defaults(config):
    assert config.epoch_budget == 10_000
    assert config.course_tolerance == 0.1
    assert config.learning_rate_grid == (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8,
                                         0.9, 1.0)  # fmt: skip
    assert len(config.grading_seeds) == 20 and config.seeds_to_pass == 17
    assert set(config.points) == set(ALL_CHECKS)
    assert config.feedback_language in ("ko", "en")


BAD_VALUES = [
    ("EPOCH_BUDGET", "-5", "EPOCH_BUDGET"),
    ("EPOCH_BUDGET", "10000.5", "whole number"),
    ("EPOCH_BUDGET", "True", "whole number"),
    ("COURSE_TOLERANCE", "0", "COURSE_TOLERANCE"),
    ("COURSE_TOLERANCE", "float('nan')", "finite"),
    ("LEARNING_RATE_MAX", "0.95", "multiple of the step"),
    ("GRADING_SEEDS", "(1, 1, 2)", "only once"),
    ("GRADING_SEEDS", "()", "at least one seed"),
    ("SEEDS_TO_PASS", "21", "SEEDS_TO_PASS"),
    ("FEEDBACK_LANGUAGE", '"fr"', '"ko" or "en"'),
    ("POINTS", '{"train": 1}', "exactly the checks"),
    ("CPU_SECONDS_PER_CELL", "999", "cannot exceed CPU_SECONDS_TOTAL"),
    ("COURSE_ID", '"my course"', "COURSE_ID"),
]


@pytest.mark.parametrize(
    ("name", "value", "message"), BAD_VALUES, ids=[f"{n}={v}" for n, v, _ in BAD_VALUES]
)
def test_invalid_value_is_rejected_naming_setting_value_and_rule(
    config_copy, name, value, message
):
    replace_setting(config_copy, name, value)
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        load(config_copy)
    assert name in str(raised.value)


def test_misspelt_setting_is_rejected_with_a_suggestion(config_copy):
    text = config_copy.read_text(encoding="utf-8")
    config_copy.write_text(text + "\nEPOCH_BUGDET = 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="did you mean EPOCH_BUDGET"):
        load(config_copy)


def test_missing_setting_is_rejected(config_copy):
    text = config_copy.read_text(encoding="utf-8")
    config_copy.write_text(text.replace("MEMORY_MB = 1024", ""), encoding="utf-8")
    with pytest.raises(ConfigError, match="MEMORY_MB is missing"):
        load(config_copy)


def test_config_that_raises_is_reported_as_a_config_error(config_copy):
    config_copy.write_text("EPOCH_BUDGET = 1 / 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="ZeroDivisionError"):
        load(config_copy)


def test_missing_file_is_reported_with_the_fix(tmp_path):
    with pytest.raises(ConfigError, match="git checkout course_config.py"):
        load(tmp_path / "course_config.py")


def run_config_file(path):
    env = {**os.environ, "PYTHONPATH": str(KIT_ROOT)}
    return subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, env=env
    )


def test_running_the_config_file_reports_it_valid():
    result = run_config_file(KIT_ROOT / "course_config.py")
    assert result.returncode == 0, result.stderr
    assert "course_config.py is valid" in result.stdout


def test_running_a_broken_config_file_exits_non_zero_with_the_reason(config_copy):
    replace_setting(config_copy, "EPOCH_BUDGET", "0")
    result = run_config_file(config_copy)
    assert result.returncode == 2
    assert "NOT valid" in result.stderr and "EPOCH_BUDGET = 0" in result.stderr
