"""The nbgrader door: course settings for nbgrader, and a preprocessor for Execute.

`nbgrader autograde` sanitizes a submission as usual (read-only and test cells are
restored from the gradebook), then `KitGrade` grades it through the same core as
`python -m autograder grade` and writes one output per test cell: a pass line, or an
error holding the student-facing sentence. nbgrader's own SaveAutoGrades turns those
outputs into gradebook scores, so formgrader, feedback and export work unchanged.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from .config import ConfigError, load

log = logging.getLogger(__name__)

CODE_STUB = "# 여기에 코드를 쓰세요 / YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "여기에 답을 쓰세요 / YOUR ANSWER HERE"

SHIM = '''"""nbgrader settings for this course directory, from the kit's config."""

import sys

KIT = {kit!r}
try:
    sys.path.insert(0, KIT)
    from autograder.nbgrader_door import configure
except BaseException as error:  # stock nbgrader would only log this and go on
    sys.stderr.write(f"nbgrader_config.py: cannot load the grading kit: {{error!r}}\\n")
    raise SystemExit(2) from None

configure(get_config(), {config!r}, course_root={root!r})  # noqa: F821
'''


def configure(c, config_path, course_root) -> None:
    """Fill nbgrader's config `c` from course_config.py, or stop nbgrader outright."""
    try:
        config = load(config_path)
    except ConfigError as error:
        # traitlets logs an exception from a config file and carries on with stock
        # settings; SystemExit is the one thing it lets through.
        sys.stderr.write(f"nbgrader stopped, nothing was graded: {error}\n")
        raise SystemExit(2) from None

    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    c.CourseDirectory.root = str(Path(course_root).resolve())
    c.CourseDirectory.course_id = config.course_id
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.ClearSolutions.text_stub = TEXT_STUB
    c.KitGrade.course_config = str(config.path)
    c.Autograde.autograde_preprocessors = [
        KitGrade,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]


def write_course_shim(course_dir: Path, config_path: Path | None = None) -> Path:
    """Give a course directory elsewhere an nbgrader_config.py that loads this kit."""
    kit = Path(__file__).resolve().parent.parent
    config_path = Path(config_path or kit / "course_config.py").resolve()
    shim = Path(course_dir) / "nbgrader_config.py"
    shim.write_text(
        SHIM.format(kit=str(kit), config=str(config_path), root=str(course_dir)),
        encoding="utf-8",
    )
    return shim


# The student's own printing is kept in the autograded notebook, but only this much.
CELL_OUTPUT_CHARS = 4000


def write_verdicts_into(nb, result, config) -> None:
    """Give each test cell one output from its verdict; code cells their prints.

    SaveAutoGrades scores a test cell by its outputs: an error output is zero, any
    other output full marks. That is the only thing nbgrader learns from us.
    """
    from nbformat.v4 import new_output

    language = config.feedback_language
    by_check = {verdict.check: verdict for verdict in result.verdicts}
    printed = dict(zip(result.cell_indices, result.cell_runs, strict=False))
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        run = printed.get(index)
        if run is not None and run.stdout:
            text = run.stdout[:CELL_OUTPUT_CHARS]
            cell.outputs.append(new_output("stream", name="stdout", text=text))
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or meta.get("solution"):
            continue
        verdict = by_check.get(meta.get("grade_id"))
        cell.outputs = [verdict_output(verdict, language, new_output)]


def verdict_output(verdict, language, new_output):
    if verdict is None:
        text = "이 칸은 채점 항목이 아닙니다 / this cell is not a known check"
        return new_output("error", ename="UnknownCheck", evalue=text, traceback=[text])
    if verdict.passed:
        mark = f"✔ {verdict.check}: {verdict.sentence(language)}"
        return new_output("stream", name="stdout", text=mark + "\n")
    text = verdict.feedback(language)
    return new_output(
        "error",
        ename="CheckFailed",
        evalue=text,
        traceback=[f"✘ {verdict.check}: {text}"],
    )


def _kit_grade_class():
    from nbgrader.preprocessors.base import NbGraderPreprocessor
    from traitlets import Unicode

    class KitGrade(NbGraderPreprocessor):
        """Grades the sanitized notebook in the kit's sandbox; replaces Execute."""

        course_config = Unicode("", help="Path of the kit's course_config.py").tag(
            config=True
        )

        def preprocess(self, nb, resources):
            from .grading import grade_notebook

            config = load(self.course_config or None)
            student = resources.get("nbgrader", {}).get("student", "?")
            result = grade_notebook(nb, config, submission_name=str(student))
            write_verdicts_into(nb, result, config)
            return nb, resources

    return KitGrade


KitGrade = _kit_grade_class()
