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
