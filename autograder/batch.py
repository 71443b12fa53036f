"""Finding submissions on disk and grading a batch of them, one result file each."""

from __future__ import annotations

import logging
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .config import CourseConfig
from .grading import grade_file, unreadable
from .recorders.results import write_results

log = logging.getLogger(__name__)


class UsageError(ValueError):
    """The command was asked for something that cannot be done as given."""


@dataclass(frozen=True)
class Found:
    student: str
    path: Path | None  # None: the student's folder holds no notebook


def student_name(raw: str) -> str:
    """Student ids as nbgrader folders spell them, in one Unicode form (NFC)."""
    return unicodedata.normalize("NFC", raw).strip()


def find_submissions(paths, config: CourseConfig) -> list[Found]:
    """Every submission under `paths`: notebooks, plain folders or nbgrader layout."""
    found: dict[str, Found] = {}
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UsageError(f"{path} does not exist; give a notebook or a folder")
        for item in _submissions_under(path, config.assignment_id):
            if item.student in found:
                log.warning("%s: a second submission at %s is ignored", item.student,
                            item.path)  # fmt: skip
                continue
            found[item.student] = item
    return sorted(found.values(), key=lambda item: item.student)


def _submissions_under(path: Path, assignment: str):
    if path.is_file():
        parent = path.parent
        owner = parent.parent.name if parent.name == assignment else path.stem
        yield Found(student_name(owner), path)
        return
    if (path / "submitted").is_dir():  # an nbgrader course directory
        path = path / "submitted"
    if path.name == assignment:  # <student>/<assignment>/ itself
        yield Found(student_name(path.parent.name), _notebook_in(path, assignment))
        return
    students = sorted(p for p in path.iterdir() if (p / assignment).is_dir())
    if students:
        for folder in students:
            notebook = _notebook_in(folder / assignment, assignment)
            yield Found(student_name(folder.name), notebook)
        return
    for notebook in sorted(path.glob("*.ipynb")):
        yield Found(student_name(notebook.stem), notebook)


def _notebook_in(folder: Path, assignment: str) -> Path | None:
    expected = folder / f"{assignment}.ipynb"
    if expected.exists():
        return expected
    others = sorted(folder.glob("*.ipynb"))
    return others[0] if others else None


def grade_one(item: Found, config: CourseConfig, slot: int = 0):
    if item.path is None:
        return unreadable(item.student, config, "no notebook was submitted")
    return grade_file(item.path, config, name=item.student, slot=slot)


def grade_batch(items, config: CourseConfig, out_dir: Path, *, report=print):
    """Grade `items` one after another; every submission gets a results.json."""
    began = time.perf_counter()
    results = []
    for number, item in enumerate(items, start=1):
        result = grade_one(item, config)
        write_results(result, config, out_dir)
        results.append(result)
        report(f"[{number}/{len(items)}] {item.student}: "
               f"{result.score:g} / {result.automatic_max:g}")  # fmt: skip
    return results, time.perf_counter() - began


def score_table(results) -> str:
    """One line per student: score, and the checks that failed."""
    width = max([len("student")] + [len(result.submission) for result in results])
    lines = [f"{'student':<{width}}  score       failed checks"]
    for result in results:
        failed = [v.check for v in result.verdicts if v.status == "failed"]
        note = result.problem or ", ".join(failed) or "-"
        score = f"{result.score:g} / {result.automatic_max:g}"
        lines.append(f"{result.submission:<{width}}  {score:<10}  {note}")
    return "\n".join(lines)
