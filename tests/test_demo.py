"""`make demo` runs the whole path and leaves the checkout exactly as it found it."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import KIT_ROOT

pytestmark = pytest.mark.slow


def git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=KIT_ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def test_demo_prints_both_solutions_and_the_scores_and_leaves_git_clean(tmp_path):
    before = git_status()
    run = subprocess.run(
        [sys.executable, "-m", "autograder", "demo", "--out", str(tmp_path / "demo")],
        cwd=KIT_ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    assert "unchanged, in sync with source/" in out
    assert "reference answer: LEARNING_RATE=0.2" in out
    assert "random-search answer (seed 0): found" in out
    assert (tmp_path / "demo" / "sweep.png").stat().st_size > 10_000
    assert re.search(r"^reference\s+13 / 15\s+-$", out, re.M)
    assert re.search(r"^template\s+0 / 15\s", out, re.M)
    assert git_status() == before
