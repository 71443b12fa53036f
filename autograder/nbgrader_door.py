"""The nbgrader door: course settings for nbgrader, and a preprocessor in place of Execute.

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

SHIM = '''"""nbgrader settings for this course directory, read from the kit's course_config.py."""

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


def _kit_grade_class():
    from nbgrader.preprocessors.base import NbGraderPreprocessor
    from traitlets import Unicode

    class KitGrade(NbGraderPreprocessor):
        """Grades the sanitized notebook in the kit's sandbox; replaces Execute."""

        course_config = Unicode("", help="Path of the kit's course_config.py").tag(
            config=True
        )

        def preprocess(self, nb, resources):
            from .grading import grade_notebook, write_verdicts_into

            config = load(self.course_config or None)
            student = resources.get("nbgrader", {}).get("student", "?")
            result = grade_notebook(nb, config, submission_name=str(student))
            write_verdicts_into(nb, result, config)
            return nb, resources

    return KitGrade


KitGrade = _kit_grade_class()
