"""The nbgrader door: course settings for nbgrader, and a preprocessor for Execute.

`nbgrader autograde` reads a submission with the kit's file checks (`KitExporter`),
puts it in the release's shape (`KitAdmit`) and sanitizes it as usual (read-only and
test cells are restored from the gradebook). Then `KitGrade` grades it through the
same core as `python -m autograder grade` and writes one output per test cell: a
pass line, or an error holding the student-facing sentence. nbgrader's own
SaveAutoGrades turns those outputs into gradebook scores, so formgrader, feedback
and export work unchanged.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from .config import ConfigError, load

log = logging.getLogger(__name__)

CODE_STUB = "# 여기에 코드를 쓰세요 / YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "여기에 답을 쓰세요 / YOUR ANSWER HERE"
# Notebook metadata that carries "this file could not be read" from reader to grader.
PROBLEM_KEY = "kit_problem"

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
        ClearOutput,
        DeduplicateIds,
        IgnorePattern,
        LimitOutput,
        OverwriteCells,
        OverwriteKernelspec,
        SaveAutoGrades,
    )

    c.CourseDirectory.root = str(Path(course_root).resolve())
    c.CourseDirectory.course_id = config.course_id
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.ClearSolutions.text_stub = TEXT_STUB
    c.KitPreprocessor.course_config = str(config.path)
    c.KitExporter.course_config = str(config.path)
    c.Autograde.exporter_class = KitExporter
    c.Autograde.sanitize_preprocessors = [
        KitAdmit,
        ClearOutput,
        DeduplicateIds,
        OverwriteKernelspec,
        OverwriteCells,
        CheckCellMetadata,
    ]
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


def admit(nb, config) -> None:
    """Bring a submission to the release's cell structure, in place.

    nbgrader aborts a whole autograde run on one notebook with odd nbgrader metadata
    and keeps no score for a test cell the student deleted or retyped. So before
    nbgrader looks: a cell with a known grade id gets the release's metadata (the
    first one only), any other nbgrader metadata is dropped, missing graded cells
    are appended from the release, and cell ids are made unique.
    """
    import copy

    from .submission import grade_id, released_notebook

    release = {grade_id(cell): cell for cell in released_notebook(config).cells}
    seen = set()
    for index, cell in enumerate(nb.cells):
        gid = grade_id(cell)
        if "nbgrader" not in cell.get("metadata", {}):
            continue
        if gid in release and gid not in seen:
            seen.add(gid)
            if cell.cell_type != release[gid].cell_type:
                nb.cells[index] = cell = copy.deepcopy(release[gid])
            cell.metadata["nbgrader"] = copy.deepcopy(release[gid].metadata["nbgrader"])
        else:
            del cell.metadata["nbgrader"]
    for gid, cell in release.items():
        graded = cell.metadata.get("nbgrader", {}).get("grade")
        if graded and gid not in seen:
            nb.cells.append(copy.deepcopy(cell))
    _unique_ids(nb)


def read_or_stand_in(path, config):
    """The submitted notebook, or the untouched release marked with why not.

    nbgrader makes a submission's grade rows before it reads the file, and leaves
    them empty when the file is not a notebook. Reading it with the kit's own rules
    instead lets a broken file go through nbgrader as the release: every row gets
    its zero, and KitGrade records the reason.
    """
    from .submission import BadSubmission, read_notebook, released_notebook

    try:
        return read_notebook(path, config)
    except BadSubmission as problem:
        stand_in = released_notebook(config)
        stand_in.metadata[PROBLEM_KEY] = str(problem)
        return stand_in


def _unique_ids(nb) -> None:
    taken = set()
    for number, cell in enumerate(nb.cells):
        if cell.get("id") in taken or not cell.get("id"):
            cell["id"] = f"kit-{number}"
        taken.add(cell["id"])


def _door_classes():
    from nbconvert.exporters import NotebookExporter
    from nbconvert.exporters.exporter import ResourcesDict
    from nbgrader.preprocessors.base import NbGraderPreprocessor
    from traitlets import Unicode

    class KitPreprocessor(NbGraderPreprocessor):
        course_config = Unicode("", help="Path of the kit's course_config.py").tag(
            config=True
        )

    class KitExporter(NotebookExporter):
        """Autograde's reader: the kit's file checks in place of nbformat.read."""

        course_config = Unicode("", help="Path of the kit's course_config.py").tag(
            config=True
        )

        def from_filename(self, filename, resources=None, **kw):
            resources = resources if resources is not None else ResourcesDict()
            if not resources.get("metadata"):
                resources["metadata"] = ResourcesDict()
            path = Path(filename)
            resources["metadata"]["name"] = path.stem
            resources["metadata"]["path"] = str(path.parent)
            nb = read_or_stand_in(path, load(self.course_config or None))
            return self.from_notebook_node(nb, resources=resources, **kw)

    class KitAdmit(KitPreprocessor):
        """First sanitize step: the submission in the release's shape (see admit)."""

        def preprocess(self, nb, resources):
            if PROBLEM_KEY not in nb.metadata:
                admit(nb, load(self.course_config or None))
            return nb, resources

    class KitGrade(KitPreprocessor):
        """Grades the sanitized notebook in the kit's sandbox; replaces Execute."""

        def preprocess(self, nb, resources):
            from .grading import grade_notebook, unreadable

            config = load(self.course_config or None)
            student = str(resources.get("nbgrader", {}).get("student", "?"))
            problem = nb.metadata.pop(PROBLEM_KEY, None)
            if problem is not None:
                log.warning("%s: not graded: %s", student, problem)
                result = unreadable(student, config, problem)
            else:
                result = grade_notebook(nb, config, submission_name=student)
            write_verdicts_into(nb, result, config)
            return nb, resources

    return KitExporter, KitAdmit, KitGrade


KitExporter, KitAdmit, KitGrade = _door_classes()
