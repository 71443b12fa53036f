"""`make demo`: the whole path on bundled samples, from release to graded feedback."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from .config import KIT_ROOT, CourseConfig
from .course import generate_release, nbgrader, prepare_course_dir


def run_demo(config: CourseConfig, out: Path) -> int:
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    step_release(config)
    step_solutions(config)
    step_sweep(config, out)
    course = step_grade_samples(config, out / "course")
    print(f"\ndemo finished in {time.perf_counter() - began:.0f} s; "
          f"everything it wrote is under {out}")  # fmt: skip
    print(f"feedback pages: {course / 'feedback'}/<student>/{config.assignment_id}/")
    return 0


def heading(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 70 - len(text)))


def step_release(config: CourseConfig) -> None:
    heading("1. release/ from source/ (nbgrader generate_assignment)")
    name = config.assignment_id
    notebook = KIT_ROOT / "release" / name / f"{name}.ipynb"
    before = notebook.read_bytes() if notebook.exists() else b""
    generate_release(KIT_ROOT, config)
    same = notebook.read_bytes() == before
    print(
        f"{notebook.relative_to(KIT_ROOT)}: "
        f"{'unchanged, in sync with source/' if same else 'REGENERATED: commit it'}"
    )


def step_solutions(config: CourseConfig) -> None:
    from solutions import random_search
    from solutions.samples import reference_answers

    from . import reference

    heading("2. the two solutions")
    answers = reference_answers()["choices_code"]
    choices = dict(line.split(" = ") for line in answers.splitlines() if " = " in line)
    rate = float(choices["LEARNING_RATE"])
    epochs = int(choices["EPOCHS"].replace("_", ""))
    tolerance = float(choices["TOLERANCE"])
    starts = reference.starting_weights_batch(config.grading_seeds)
    needed = reference.first_converged_epoch(*starts, rate, epochs, tolerance)
    converged = int((needed >= 0).sum())
    print(
        f"reference answer: LEARNING_RATE={rate:g} EPOCHS={epochs:,} "
        f"TOLERANCE={tolerance:g} (chosen by trying the 0.1 grid at the budget)"
    )
    print(
        f"  converged from {converged} of {len(config.grading_seeds)} grading "
        f"seeds (needs {config.seeds_to_pass}); "
        f"epochs needed {needed.min()}–{needed.max()}"
    )
    found = random_search.search(seed=0, max_trials=200, max_seconds=30)
    print(f"random-search answer (seed 0): {found.summary()}")
    print("  its feedback notes: solutions/feedback_notes.md")


def step_sweep(config: CourseConfig, out: Path) -> None:
    from solutions import sweep

    heading("3. sweep over the learning-rate grid at the epoch budget")
    rows = sweep.sweep(config.learning_rate_grid, 1000, config.epoch_budget,
                       config.course_tolerance)  # fmt: skip
    print(sweep.format_table(rows))
    path = sweep.plot(rows, config.epoch_budget, config.course_tolerance,
                      out / "sweep.png")  # fmt: skip
    print(f"plot: {path}")


def step_grade_samples(config: CourseConfig, course: Path) -> Path:
    from solutions.samples import MISTAKES, write_samples

    heading("4. grading the sample submissions with nbgrader autograde")
    shutil.rmtree(course, ignore_errors=True)
    prepare_course_dir(course, config)
    generate_release(course, config)
    write_samples(course / "submitted", list(MISTAKES))
    began = time.perf_counter()
    nbgrader(["autograde", config.assignment_id, "--create"], course)
    seconds = time.perf_counter() - began
    nbgrader(["generate_feedback", config.assignment_id], course)
    print(gradebook_table(course, config))
    print(
        f"{len(MISTAKES)} submissions autograded in {seconds:.0f} s "
        f"({seconds / len(MISTAKES):.1f} s each)"
    )
    return course


def gradebook_table(course: Path, config: CourseConfig) -> str:
    """Scores as the gradebook holds them: total, then each check that lost points."""
    from nbgrader.api import Gradebook

    lines = [f"{'student':<28} {'score':>9}  checks that lost points"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", config.course_id) as book:
        for student in sorted(s.id for s in book.students):
            submission = book.find_submission(config.assignment_id, student)
            lost = [
                grade.name
                for notebook in submission.notebooks
                for grade in notebook.grades
                if grade.auto_score is not None and grade.auto_score < grade.max_score
            ]
            score = f"{submission.score:g} / {submission.max_score:g}"
            lines.append(f"{student:<28} {score:>9}  {', '.join(lost) or '-'}")
    return "\n".join(lines)
