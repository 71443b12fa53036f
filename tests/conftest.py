"""Shared fixtures for the kit's own tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autograder import config as course_config

KIT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def config():
    return course_config.load()


@pytest.fixture
def config_copy(tmp_path):
    """A writable copy of course_config.py, for tests that break it on purpose."""
    path = tmp_path / "course_config.py"
    shutil.copy(KIT_ROOT / "course_config.py", path)
    return path
