"""results.json in Gradescope's autograder format, one per submission.

Only the student-facing sentences and lessons go in; pytest's reports (which quote
check source and compared values) stay in the instructor's log.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ..config import CourseConfig


def results_document(result, config: CourseConfig) -> dict:
    language = config.feedback_language
    tests = [test_entry(verdict, language) for verdict in result.verdicts]
    document = {
        "score": result.score,
        "execution_time": round(result.seconds, 3),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "submission": result.submission,
            "automatic_max_score": result.automatic_max,
            "choices": result.choices,
        },
    }
    if result.problem:
        document["output"] = tests[0]["output"]
    return document


def test_entry(verdict, language: str) -> dict:
    entry = {
        "name": verdict.check,
        "max_score": verdict.max_score,
        "status": verdict.status,
        "output": verdict.feedback(language),
        "visibility": "visible",
    }
    if verdict.status != "pending":
        entry["score"] = verdict.score
    return entry


def write_results(result, config: CourseConfig, out_dir: Path) -> Path:
    """Write DIR/<student>/results.json atomically (no half-written file, ever)."""
    folder = Path(out_dir) / result.submission
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results_document(result, config), ensure_ascii=False, indent=2)
    return atomic_write(folder / "results.json", text)


def atomic_write(path: Path, text: str) -> Path:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
