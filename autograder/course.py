"""Course-directory chores: generating release/ and the solution through nbgrader."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .config import KIT_ROOT, CourseConfig
from .nbgrader_door import write_course_shim

log = logging.getLogger(__name__)

# nbgrader writes these into every notebook it generates; they change from run to
# run or machine to machine and carry nothing a student needs.
VOLATILE_NOTEBOOK_KEYS = ("execution",)


def nbgrader(args: list[str], course_dir: Path, *, check: bool = True):
    """Run one nbgrader command in `course_dir` with the kit's venv on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    command = [sys.executable, "-m", "nbgrader", *args]
    log.info("running %s in %s", " ".join(args), course_dir)
    result = subprocess.run(
        command, cwd=course_dir, env=env, capture_output=True, text=True
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"nbgrader {' '.join(args)} failed with exit {result.returncode} in "
            f"{course_dir}:\n{result.stderr[-3000:]}"
        )
    return result


def prepare_course_dir(course_dir: Path, config: CourseConfig) -> Path:
    """A course directory elsewhere: the kit's source/ and an nbgrader_config.py."""
    course_dir = Path(course_dir).resolve()
    course_dir.mkdir(parents=True, exist_ok=True)
    source = course_dir / "source" / config.assignment_id
    if course_dir != KIT_ROOT:
        shutil.rmtree(source, ignore_errors=True)
        shutil.copytree(KIT_ROOT / "source" / config.assignment_id, source)
        write_course_shim(course_dir, config.path)
    return course_dir


def generate_release(course_dir: Path, config: CourseConfig) -> Path:
    """`nbgrader generate_assignment`: release/<assignment>/ from source/."""
    nbgrader(["generate_assignment", config.assignment_id, "--force"], course_dir)
    return course_dir / "release" / config.assignment_id


def generate_solution(course_dir: Path, config: CourseConfig) -> Path:
    """`nbgrader generate_solution`: the reference answer, executed."""
    nbgrader(["generate_solution", config.assignment_id, "--force"], course_dir)
    return course_dir / "solution" / config.assignment_id


def write_reference_solution(config: CourseConfig, scratch: Path) -> Path:
    """solutions/reference/<assignment>.ipynb: the source's answer, executed once.

    Built in a scratch course so the kit's own folders get nothing but the result;
    per-run metadata (timings) is dropped so that regenerating it changes nothing.
    """
    import nbformat

    course = prepare_course_dir(scratch, config)
    generate_release(course, config)
    folder = generate_solution(course, config)
    name = f"{config.assignment_id}.ipynb"
    notebook = nbformat.read(folder / name, as_version=4)
    for cell in notebook.cells:
        for key in VOLATILE_NOTEBOOK_KEYS:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = merged_streams(cell.outputs)
    notebook.metadata.pop("language_info", None)
    target = KIT_ROOT / "solutions" / "reference" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return target


def merged_streams(outputs):
    """Join consecutive prints to one stream: how the kernel split them is chance."""
    merged = []
    for output in outputs:
        last = merged[-1] if merged else None
        same_stream = (
            last is not None
            and output.output_type == last.output_type == "stream"
            and output.name == last.name
        )
        if same_stream:
            last.text += output.text
        else:
            merged.append(output)
    return merged


def source_mismatches(config: CourseConfig) -> list[str]:
    """Where the source notebook disagrees with course_config.py, one line each.

    The notebook states points in its metadata and the epoch budget in its text and
    public checks; an instructor who edits the config must update both.
    """
    import nbformat

    path = KIT_ROOT / "source" / config.assignment_id / f"{config.assignment_id}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    problems = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        check = meta.get("grade_id")
        if meta.get("grade") and meta.get("points") != config.points.get(check):
            problems.append(
                f"cell {check!r} is worth {meta.get('points')} points in the notebook "
                f"but POINTS[{check!r}] = {config.points.get(check)} in the config"
            )
    text = path.read_text(encoding="utf-8")
    for spelling in (f"{config.epoch_budget:,}", f"{config.epoch_budget:_}"):
        if spelling not in text:
            problems.append(
                f"the notebook never mentions the epoch budget as {spelling}; "
                f"EPOCH_BUDGET = {config.epoch_budget:_} in course_config.py"
            )
    return problems


def release(config: CourseConfig, scratch: Path) -> Path:
    """release/ and solutions/reference/ regenerated, if source/ agrees with config."""
    problems = source_mismatches(config)
    if problems:
        raise ValueError(
            "source/ does not match course_config.py:\n  - "
            + "\n  - ".join(problems)
            + "\nEdit the source notebook (or the config) so they agree, then "
            "run `make release` again."
        )
    folder = generate_release(KIT_ROOT, config)
    write_reference_solution(config, scratch)
    return folder
