"""Tests of batch grading: parallel workers, the resume manifest, crashes and kills."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autograder import batch, verdicts
from autograder import config as course_config
from autograder.batch import Found, Outcome, grade_batch
from autograder.config import AUTOMATIC_CHECKS, MANUAL_CHECKS
from autograder.grading import GradeResult
from autograder.sandbox import CellRun
from bench.samples import expected_score, write_batch

KIT_ROOT = Path(__file__).resolve().parent.parent
# Slots clear of the ones other tests use (0), so that runs side by side never meet.
FIRST_SLOT = 20

SMALL_BATCH = [
    ("ana", "reference"),
    ("bo", "reference"),
    ("chul", "template"),
    ("dana", "sign_error"),
    ("eun", "numpy_bool"),
    ("김민수", "learning_rate_0.25"),
]


def results_of(out: Path) -> dict[str, dict]:
    return {
        path.parent.name: json.loads(path.read_text(encoding="utf-8"))
        for path in out.glob("*/results.json")
    }


def leftovers(out: Path) -> list[Path]:
    return [path for path in out.rglob("*") if path.name.endswith(".tmp")]


def without_time(document: dict) -> dict:
    return {key: value for key, value in document.items() if key != "execution_time"}


# --- parallel and serial on real submissions -----------------------------------


@pytest.fixture(scope="module")
def small_batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch")
    write_batch(folder / "submitted", SMALL_BATCH)
    return folder


@pytest.fixture(scope="module")
def parallel_and_serial(small_batch):
    config = course_config.load()
    items = batch.find_submissions([small_batch / "submitted"], config)
    runs = {}
    for name, workers in (("parallel", 2), ("serial", 1)):
        out = small_batch / name
        runs[name] = (grade_batch(items, config, out, workers=workers,
                                  first_slot=FIRST_SLOT), out)  # fmt: skip
    return runs


@pytest.mark.slow
def test_parallel_grading_gives_the_serial_scores_and_the_mistake_table(
    parallel_and_serial, config
):
    parallel = results_of(parallel_and_serial["parallel"][1])
    serial = results_of(parallel_and_serial["serial"][1])
    assert {k: without_time(v) for k, v in parallel.items()} == {
        k: without_time(v) for k, v in serial.items()
    }
    want = {student: expected_score(sample, config) for student, sample in SMALL_BATCH}
    assert {student: doc["score"] for student, doc in parallel.items()} == want


@pytest.mark.slow
def test_every_student_gets_exactly_one_results_file(parallel_and_serial):
    report, out = parallel_and_serial["parallel"]
    assert sorted(p.parent.name for p in out.rglob("results.json")) == sorted(
        student for student, _ in SMALL_BATCH
    )
    assert not leftovers(out)
    assert not report.failed and not report.interrupted
    manifest = json.loads((out / batch.MANIFEST_NAME).read_text(encoding="utf-8"))
    assert set(manifest) == {student for student, _ in SMALL_BATCH}


@pytest.mark.slow
def test_peak_memory_of_each_worker_is_reported(parallel_and_serial):
    report, _ = parallel_and_serial["parallel"]
    assert all(outcome.peak_rss_kb > 0 for outcome in report.outcomes)


# --- resume, with a pool that grades nothing -----------------------------------


class RecordingPool:
    """Stands in for the workers: gives every item full marks and remembers it."""

    def __init__(self, config, fail=()):
        self.config = config
        self.fail = set(fail)
        self.graded = []

    def run(self, items):
        for item in items:
            self.graded.append(item.student)
            if item.student in self.fail:
                yield Outcome(item, None, "the worker died (signal 9)")
                continue
            checks = [
                verdicts.passed(check, self.config.points[check])
                for check in AUTOMATIC_CHECKS
            ]
            yield Outcome(item, GradeResult(item.student, checks))


@pytest.fixture
def notebooks(tmp_path, config):
    write_batch(tmp_path / "submitted", [("ana", "reference"), ("bo", "template")])
    return batch.find_submissions([tmp_path / "submitted"], config)


def grade_with(pool, items, config, out, **options):
    grade_batch(items, config, out, pool=pool, **options)
    return sorted(pool.graded)


def test_a_second_run_skips_every_unchanged_submission(notebooks, config, tmp_path):
    out = tmp_path / "out"
    assert grade_with(RecordingPool(config), notebooks, config, out) == ["ana", "bo"]
    assert grade_with(RecordingPool(config), notebooks, config, out) == []


def test_a_changed_submission_is_graded_again(notebooks, config, tmp_path):
    out = tmp_path / "out"
    grade_with(RecordingPool(config), notebooks, config, out)
    with notebooks[1].path.open("a", encoding="utf-8") as stream:
        stream.write("\n")
    assert grade_with(RecordingPool(config), notebooks, config, out) == ["bo"]


def test_changed_hidden_checks_grade_everything_again(
    notebooks, config, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    grade_with(RecordingPool(config), notebooks, config, out)
    monkeypatch.setattr(batch, "checks_digest", lambda: "other checks")
    assert grade_with(RecordingPool(config), notebooks, config, out) == ["ana", "bo"]


def test_a_changed_config_grades_everything_again(notebooks, config, config_copy):
    out = config_copy.parent / "out"
    grade_with(RecordingPool(config), notebooks, config, out)
    with config_copy.open("a", encoding="utf-8") as stream:
        stream.write("# the instructor edited this file\n")
    edited = course_config.load(config_copy)
    assert grade_with(RecordingPool(edited), notebooks, edited, out) == ["ana", "bo"]


def test_regrade_grades_everything_even_when_unchanged(notebooks, config, tmp_path):
    out = tmp_path / "out"
    grade_with(RecordingPool(config), notebooks, config, out)
    graded = grade_with(RecordingPool(config), notebooks, config, out, regrade=True)
    assert graded == ["ana", "bo"]


def test_a_deleted_results_file_is_graded_again(notebooks, config, tmp_path):
    out = tmp_path / "out"
    grade_with(RecordingPool(config), notebooks, config, out)
    (out / "ana" / "results.json").unlink()
    assert grade_with(RecordingPool(config), notebooks, config, out) == ["ana"]


def test_a_submission_that_failed_to_grade_is_tried_on_the_next_run(
    notebooks, config, tmp_path
):
    out = tmp_path / "out"
    pool = RecordingPool(config, fail={"bo"})
    grade_batch(notebooks, config, out, pool=pool)
    written = results_of(out)["bo"]
    assert written["score"] == 0
    assert "could not grade" in written["tests"][0]["output"]
    assert grade_with(RecordingPool(config), notebooks, config, out) == ["bo"]


def test_a_regrade_that_fails_leaves_no_stale_entry_behind(notebooks, config, tmp_path):
    out = tmp_path / "out"
    grade_with(RecordingPool(config), notebooks, config, out)
    pool = RecordingPool(config, fail={"bo"})
    grade_batch(notebooks, config, out, pool=pool, regrade=True)
    assert grade_with(RecordingPool(config), notebooks, config, out) == ["bo"]


def test_a_result_survives_the_trip_through_plain_data(config):
    result = GradeResult(
        "ana",
        [
            verdicts.passed("train", 2),
            verdicts.failed("tolerance", 1, RuntimeError("x"), "log"),
            verdicts.pending(MANUAL_CHECKS[0], 2),
        ],
        [CellRun(0, "ok", None, None, "printed\n")],
        [3],
        choices={"LEARNING_RATE": 0.2},
    )
    data = pickle.loads(pickle.dumps(batch.result_to_dict(result)))
    assert batch.result_from_dict(data) == result


# --- workers that die ----------------------------------------------------------


class Killer(threading.Thread):
    """SIGKILLs the worker that holds one of `victims`, up to `times[victim]` times."""

    def __init__(self, pool, times: dict[str, int]):
        super().__init__(daemon=True)
        self.pool = pool
        self.times = dict(times)
        self.done = threading.Event()
        self.killed = []

    def run(self):
        seen = set()
        while not self.done.is_set():
            for worker in list(self.pool._workers):
                task = worker.task
                if task is None:
                    continue
                key = (task.item.student, task.attempts)
                if self.times.get(task.item.student, 0) > 0 and key not in seen:
                    seen.add(key)
                    self.times[task.item.student] -= 1
                    self.killed.append(key)
                    os.kill(worker.process.pid, signal.SIGKILL)
            time.sleep(0.02)


@pytest.mark.slow
def test_a_crashed_submission_is_retried_elsewhere_once_then_recorded(tmp_path, config):
    pairs = [("once", "template"), ("always", "template"), ("calm", "template")]
    write_batch(tmp_path / "submitted", pairs)
    items = batch.find_submissions([tmp_path / "submitted"], config)
    pool = batch.LocalWorkers(config, 2, first_slot=FIRST_SLOT)
    killer = Killer(pool, {"once": 1, "always": 2})
    killer.start()
    try:
        report = grade_batch(items, config, tmp_path / "out", pool=pool)
    finally:
        killer.done.set()
    by_student = {outcome.item.student: outcome for outcome in report.outcomes}
    assert by_student["once"].result.score == 0
    assert by_student["calm"].result is not None
    failed = by_student["always"]
    assert failed.result is None
    assert failed.reason.count("died (signal 9)") == 2
    assert sorted(results_of(tmp_path / "out")) == ["always", "calm", "once"]


# --- the command line, killed and interrupted -----------------------------------


def start_grader(submitted: Path, out: Path, *extra) -> subprocess.Popen:
    command = [sys.executable, "-m", "autograder", "grade", str(submitted),
               "--out", str(out), "--workers", "2", *extra]  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=KIT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for_manifest(out: Path, entries: int, process, seconds: float = 180):
    deadline = time.monotonic() + seconds
    path = out / batch.MANIFEST_NAME
    while time.monotonic() < deadline and process.poll() is None:
        if path.exists() and len(json.loads(path.read_text())) >= entries:
            return
        time.sleep(0.1)
    pytest.fail(f"the grader did not record {entries} results in {seconds} s")


def descendants(pid: int) -> set[int]:
    """Every living process under `pid` (workers, bubblewrap, sandboxes)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.add(pid)
    return living


def wait_until_gone(pids: set[int], seconds: float = 30) -> set[int]:
    deadline = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pids)


KILL_BATCH = [(f"k{n}", "reference" if n % 2 else "numpy_bool") for n in range(8)]


@pytest.mark.slow
def test_a_grader_killed_midway_resumes_without_duplicates(tmp_path, config):
    write_batch(tmp_path / "submitted", KILL_BATCH)
    out = tmp_path / "out"
    grader = start_grader(tmp_path / "submitted", out)
    try:
        wait_for_manifest(out, 2, grader)
        started = descendants(grader.pid)
        grader.kill()
        grader.wait(timeout=30)
    finally:
        grader.kill()
    assert started and not wait_until_gone(started), "workers or sandboxes survived"
    assert not leftovers(out)

    again = start_grader(tmp_path / "submitted", out)
    output, _ = again.communicate(timeout=600)
    assert again.returncode == 0, output
    assert "unchanged since they were graded, skipped" in output
    assert sorted(p.parent.name for p in out.rglob("results.json")) == sorted(
        student for student, _ in KILL_BATCH
    )
    assert not leftovers(out)
    scores = {student: doc["score"] for student, doc in results_of(out).items()}
    assert scores == {s: expected_score(sample, config) for s, sample in KILL_BATCH}


@pytest.mark.slow
def test_ctrl_c_stops_workers_and_sandboxes_and_says_how_to_resume(tmp_path):
    write_batch(tmp_path / "submitted", KILL_BATCH)
    out = tmp_path / "out"
    grader = start_grader(tmp_path / "submitted", out)
    try:
        wait_for_manifest(out, 1, grader)
        started = descendants(grader.pid)
        os.killpg(grader.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends
        output, _ = grader.communicate(timeout=60)
    finally:
        grader.kill()
    assert grader.returncode == 130, output
    assert "run the same command again" in output
    assert not wait_until_gone(started, 10), "workers or sandboxes survived Ctrl-C"
    assert not leftovers(out)


def test_the_command_refuses_zero_workers(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(tmp_path), "--workers", "0"],
        cwd=KIT_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "--workers must be 1 or more" in done.stderr


# --- the nbgrader gradebook, written by the one writer -------------------------


@pytest.mark.slow
def test_grades_land_in_the_gradebook_once_per_student(tmp_path, config):
    from nbgrader.api import Gradebook

    from autograder.course import generate_release, prepare_course_dir

    course = prepare_course_dir(tmp_path / "course", config)
    generate_release(course, config)
    pairs = [("ana", "reference"), ("bo", "sign_error")]
    write_batch(course / "submitted", pairs)
    items = batch.find_submissions([course], config)
    for regrade in (False, True):
        report = grade_batch(items, config, tmp_path / "out", workers=2,
                             course=course, regrade=regrade,
                             first_slot=FIRST_SLOT)  # fmt: skip
        assert report.gradebook_problem is None

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assignment = gradebook.find_assignment(config.assignment_id)
        assert sorted(s.student.id for s in assignment.submissions) == ["ana", "bo"]
        for student, sample in pairs:
            submission = gradebook.find_submission(config.assignment_id, student)
            assert submission.score == expected_score(sample, config)
            assert submission.needs_manual_grade


def test_a_course_without_a_gradebook_is_reported_not_guessed(tmp_path, config):
    write_batch(tmp_path / "submitted", [("ana", "template")])
    items = batch.find_submissions([tmp_path], config)
    report = grade_batch(items, config, tmp_path / "out", pool=RecordingPool(config),
                         course=tmp_path)  # fmt: skip
    assert "gradebook.db does not exist" in report.gradebook_problem
    assert "gradebook not written" in batch.summary(report, tmp_path / "out")


def test_finding_a_student_folder_without_a_notebook(tmp_path, config):
    (tmp_path / "ana" / config.assignment_id).mkdir(parents=True)
    assert batch.find_submissions([tmp_path], config) == [Found("ana", None)]


def test_copying_the_batch_elsewhere_keeps_it_current(notebooks, config, tmp_path):
    out = tmp_path / "out"
    grade_with(RecordingPool(config), notebooks, config, out)
    moved = tmp_path / "moved"
    shutil.copytree(tmp_path / "submitted", moved)
    items = batch.find_submissions([moved], config)
    assert grade_with(RecordingPool(config), items, config, out) == []
