"""Grading a batch of submissions: in parallel, resumable, one writer for every result.

Worker processes (or Dask workers, see `distributed.py`) grade; this process alone
writes results.json files, the resume manifest and the nbgrader gradebook.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import dataclasses
import hashlib
import json
import logging
import multiprocessing
import os
import resource
import signal
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from . import verdicts
from .config import CourseConfig
from .grading import CHECKS_DIR, GradeResult, grade_file, unreadable
from .recorders.feedback import write_feedback
from .recorders.results import atomic_write, write_results
from .sandbox import CellRun

log = logging.getLogger(__name__)

MANIFEST_NAME = ".kit-manifest.json"
# A submission whose grading crashed a worker (or raised) is tried this many times.
ATTEMPTS = 2
# Workers that die before they can take any work: give up after this many.
START_FAILURES = 3
STOP_SECONDS = 10


class UsageError(ValueError):
    """The command was asked for something that cannot be done as given."""


# --- finding submissions ------------------------------------------------------


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
    if (path / assignment).is_dir():  # one <student>/ folder
        yield Found(
            student_name(path.name), _notebook_in(path / assignment, assignment)
        )
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


# --- results as plain data, to cross process boundaries ------------------------


def result_to_dict(result: GradeResult) -> dict:
    """A GradeResult as plain dicts and lists (what workers send back)."""
    return dataclasses.asdict(result)


def result_from_dict(data: dict) -> GradeResult:
    data = dict(data)
    data["verdicts"] = [
        verdicts.Verdict(**{**v, "lessons": tuple(v["lessons"])})
        for v in data["verdicts"]
    ]
    data["cell_runs"] = [CellRun(**run) for run in data["cell_runs"]]
    return GradeResult(**data)


# --- resume: what was graded, from which inputs --------------------------------


def checks_digest() -> str:
    """sha256 of the hidden checks: the files in autograder/checks/ pytest reads."""
    digest = hashlib.sha256()
    files = sorted([*CHECKS_DIR.glob("*.py"), CHECKS_DIR / "pytest.ini"])
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def fingerprint(item: Found, config: CourseConfig, checks: str) -> dict:
    """What a grade depends on: the submission's bytes, the checks and the config."""
    submission = None
    if item.path is not None and Path(item.path).is_file():
        submission = hashlib.sha256(Path(item.path).read_bytes()).hexdigest()
    return {"submission": submission, "checks": checks, "config": config.digest}


class Manifest:
    """OUT/.kit-manifest.json: student -> fingerprint of the grade on disk."""

    def __init__(self, out_dir: Path):
        self.path = Path(out_dir) / MANIFEST_NAME
        self.entries = {}
        if self.path.exists():
            try:
                self.entries = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                log.warning("%s is unreadable (%s); grading everything", self.path,
                            error)  # fmt: skip

    def is_current(self, student: str, prints: dict) -> bool:
        entry = self.entries.get(student, {})
        results = self.path.parent / student / "results.json"
        same = all(entry.get(key) == value for key, value in prints.items())
        return same and results.is_file()

    def record(self, student: str, prints: dict, score: float) -> None:
        self.entries[student] = {**prints, "score": score, "graded_at": time.time()}
        self._save()

    def forget(self, student: str) -> None:
        """The grade on disk is not a real one: the next run grades it again."""
        if self.entries.pop(student, None) is not None:
            self._save()

    def _save(self) -> None:
        text = json.dumps(self.entries, ensure_ascii=False, indent=1, sort_keys=True)
        atomic_write(self.path, text)


# --- local worker processes ----------------------------------------------------


@dataclass
class Task:
    item: Found
    attempts: int = 0
    tried_on: set = field(default_factory=set)
    reasons: list = field(default_factory=list)


@dataclass
class Outcome:
    """One submission's end: graded (with its result) or failed to grade (why)."""

    item: Found
    result: GradeResult | None
    reason: str | None = None
    worker: str = ""
    peak_rss_kb: int = 0  # the worker's own peak, and its sandboxes' peak
    sandbox_rss_kb: int = 0


def grade_one(item: Found, config: CourseConfig, slot: int = 0):
    if item.path is None:
        return unreadable(item.student, config, "no notebook was submitted")
    return grade_file(item.path, config, name=item.student, slot=slot)


def grade_for_worker(item: Found, config: CourseConfig, slot: int) -> tuple:
    """Grade in a worker: ('graded', dict, rss...) or ('error', why); never raises."""
    try:
        result = grade_one(item, config, slot)
    except Exception as error:  # reported to the writer, which retries elsewhere
        log.exception("%s: grading raised", item.student)
        return ("error", f"{type(error).__name__}: {str(error)[:300]}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return ("graded", result_to_dict(result), own, children)


def _die_with_parent(parent_pid: int) -> None:
    """SIGTERM this worker when the grader dies, even by SIGKILL (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        log.warning("workers cannot follow the grader's death on this system")
    if os.getppid() != parent_pid:
        raise SystemExit(0)


def _on_sigterm(number, frame):
    raise SystemExit(128 + number)  # unwinds through the sandbox's `with`: it closes


def worker_main(conn, config: CourseConfig, preferred: int, parent_pid: int):
    """A local worker: grade what the writer sends until None, starting its sandbox
    uid search at `preferred` (the sandbox locks the uid it takes)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the writer decides on Ctrl-C
    signal.signal(signal.SIGTERM, _on_sigterm)
    _die_with_parent(parent_pid)
    conn.send(("ready", preferred))
    with contextlib.suppress(EOFError, BrokenPipeError, KeyboardInterrupt):
        while (item := conn.recv()) is not None:
            conn.send(grade_for_worker(item, config, preferred))


@dataclass(eq=False)
class _Worker:
    index: int
    preferred: int
    process: object
    conn: object
    slot: int | None = None
    task: Task | None = None


class LocalWorkers:
    """N worker processes, each with its own sandbox slot; one submission at a time."""

    def __init__(self, config: CourseConfig, count: int, first_slot: int = 0):
        self.config = config
        self.count = max(1, count)
        self.first_slot = first_slot
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []
        self._start_failures = 0

    def _start(self, index: int) -> _Worker:
        parent_end, child_end = self._context.Pipe()
        preferred = self.first_slot + index
        process = self._context.Process(
            target=worker_main,
            args=(child_end, self.config, preferred, os.getpid()),
            name=f"grader-{index}",
            daemon=True,
        )
        process.start()
        child_end.close()
        return _Worker(index, preferred, process, parent_end)

    def run(self, items):
        """Yield one Outcome per item, in the order they finish."""
        pending = collections.deque(Task(item) for item in items)
        if not pending:
            return
        self._workers = [self._start(index) for index in range(self.count)]
        try:
            while pending or any(w.task for w in self._workers):
                for worker in self._workers:
                    self._dispatch(worker, pending)
                yield from self._collect(pending)
        finally:
            self.stop()

    def _dispatch(self, worker: _Worker, pending) -> None:
        if worker.slot is None or worker.task is not None or not pending:
            return
        others = {w.index for w in self._workers} - {worker.index}
        for task in pending:
            if worker.index not in task.tried_on or others <= task.tried_on:
                pending.remove(task)
                task.tried_on.add(worker.index)
                worker.task = task
                worker.conn.send(task.item)
                return

    def _collect(self, pending):
        by_handle = {}
        for worker in self._workers:
            by_handle[worker.conn] = worker
            by_handle[worker.process.sentinel] = worker
        for handle in wait(list(by_handle), timeout=1.0):
            worker = by_handle[handle]
            if worker not in self._workers:
                continue  # already replaced after its death this round
            try:
                if handle is worker.conn:
                    yield from self._message(worker, worker.conn.recv(), pending)
                    continue
            except (EOFError, OSError):
                pass
            yield from self._died(worker, pending)

    def _message(self, worker: _Worker, message, pending):
        kind = message[0]
        if kind == "ready":
            worker.slot = message[1]
            return
        task, worker.task = worker.task, None
        name = f"worker {worker.index} (slot {worker.slot})"
        if kind == "graded":
            _, data, own, children = message
            yield Outcome(task.item, result_from_dict(data), None, name, own, children)
            return
        yield from self._failed(task, f"{name}: {message[1]}", pending)

    def _died(self, worker: _Worker, pending):
        worker.process.join(timeout=5)
        code = worker.process.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit {code}"
        worker.conn.close()
        self._workers[self._workers.index(worker)] = self._start(worker.index)
        if worker.slot is None:
            self._start_failures += 1
            if self._start_failures >= START_FAILURES:
                yield from self._give_up(pending, f"workers die at start ({how})")
        if worker.task is None:
            return
        reason = f"worker {worker.index} (slot {worker.slot}) died ({how})"
        yield from self._failed(worker.task, reason, pending)

    def _failed(self, task: Task, reason: str, pending):
        task.attempts += 1
        task.reasons.append(reason)
        log.warning("%s: grading failed on attempt %d: %s", task.item.student,
                    task.attempts, reason)  # fmt: skip
        if task.attempts < ATTEMPTS:
            pending.appendleft(task)
            return
        yield Outcome(task.item, None, "; then ".join(task.reasons))

    def _give_up(self, pending, reason: str):
        while pending:
            yield Outcome(pending.popleft().item, None, reason)
        for worker in self._workers:
            if worker.task is not None:
                yield Outcome(worker.task.item, None, reason)
                worker.task = None

    def stop(self) -> None:
        """End the workers: politely, else SIGTERM (sandboxes close), else SIGKILL."""
        for worker in self._workers:
            if worker.task is not None:
                worker.process.terminate()
                continue
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        deadline = time.monotonic() + STOP_SECONDS
        for worker in self._workers:
            worker.process.join(timeout=max(deadline - time.monotonic(), 0.1))
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(timeout=3)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._workers = []


# --- the single writer ----------------------------------------------------------


class GradebookWriter:
    """Autograde scores into a course's gradebook.db, the way SaveAutoGrades does.

    One connection for the whole run, in the writer process only, so no two
    writers ever hold the database. `problem` says why it writes nothing.
    """

    def __init__(self, course_dir: Path, config: CourseConfig):
        from nbgrader.api import Gradebook, MissingEntry

        self.config = config
        self.course_dir = Path(course_dir)
        self.problem = None
        self._gradebook = None
        database = self.course_dir / "gradebook.db"
        if not database.is_file():
            self.problem = f"{database} does not exist; run generate_assignment"
            return
        self._gradebook = Gradebook(f"sqlite:///{database}", course_id=config.course_id)
        try:
            self._gradebook.find_assignment(config.assignment_id)
        except MissingEntry:
            self.problem = (
                f"the gradebook has no assignment {config.assignment_id}; "
                "run nbgrader generate_assignment in the course directory"
            )
            self.close()

    def record(self, item: Found, result: GradeResult) -> None:
        from nbgrader.api import MissingEntry
        from nbgrader.utils import parse_utc

        if self._gradebook is None or item.path is None:
            return
        gradebook, assignment = self._gradebook, self.config.assignment_id
        gradebook.update_or_create_student(item.student)
        stamp = item.path.parent / "timestamp.txt"
        extra = {}
        if stamp.is_file() and stamp.read_text().strip():
            extra["timestamp"] = parse_utc(stamp.read_text().strip())
        gradebook.update_or_create_submission(assignment, item.student, **extra)
        for verdict in result.verdicts:
            try:
                grade = gradebook.find_grade(
                    verdict.check, item.path.stem, assignment, item.student
                )
            except MissingEntry:
                log.warning("gradebook: no grade cell %s in %s", verdict.check,
                            item.path.stem)  # fmt: skip
                continue
            manual = verdict.status == "pending"
            grade.auto_score = None if manual else verdict.score
            grade.needs_manual_grade = manual or grade.manual_score is not None
        gradebook.db.commit()

    def close(self) -> None:
        if self._gradebook is not None:
            self._gradebook.close()
            self._gradebook = None


class Progress:
    """One line on stderr: counts and time left; redrawn in place on a terminal."""

    def __init__(self, total: int, stream=None):
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.began = time.monotonic()
        self.done = 0
        self.failed = 0

    def advance(self, outcome: Outcome) -> None:
        self.done += 1
        self.failed += outcome.result is None
        elapsed = time.monotonic() - self.began
        left = (self.total - self.done) * elapsed / self.done
        note = f", {self.failed} failed to grade" if self.failed else ""
        if outcome.result is not None:
            result = outcome.result
            last = f"{outcome.item.student} {result.score:g}/{result.automatic_max:g}"
        else:
            last = f"{outcome.item.student} not graded"
        line = (
            f"graded {self.done}/{self.total}{note} · {elapsed:.0f} s · "
            f"about {left:.0f} s left · last: {last}"
        )
        if self.tty:
            self.stream.write("\r\033[K" + line[:150])
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty and self.done:
            self.stream.write("\n")
            self.stream.flush()


@dataclass
class BatchReport:
    """What a run did, for the summary and the exit code."""

    results: list = field(default_factory=list)  # GradeResults of this run
    outcomes: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # students unchanged since graded
    seconds: float = 0.0
    interrupted: bool = False
    gradebook_problem: str | None = None

    @property
    def failed(self) -> list:
        return [outcome for outcome in self.outcomes if outcome.result is None]

    @property
    def unreadable(self) -> list:
        return [result for result in self.results if result.problem]


def to_grade(items, config: CourseConfig, manifest: Manifest, regrade: bool):
    """Split `items` into (tasks with their fingerprints, students skipped)."""
    checks = checks_digest()
    todo, skipped = [], []
    for item in items:
        prints = fingerprint(item, config, checks)
        if not regrade and manifest.is_current(item.student, prints):
            skipped.append(item.student)
        else:
            todo.append((item, prints))
    return todo, skipped


def grade_batch(items, config: CourseConfig, out_dir: Path, *, workers: int = 1,
                regrade: bool = False, course: Path | None = None, pool=None,
                first_slot: int = 0, progress_stream=None) -> BatchReport:  # fmt: skip
    """Grade what changed since the last run; every result is written here alone.

    `pool` is anything with run(items) yielding Outcomes (default: local workers).
    """
    began = time.monotonic()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(out_dir)
    todo, skipped = to_grade(items, config, manifest, regrade)
    report = BatchReport(skipped=skipped)
    gradebook = GradebookWriter(course, config) if course else None
    report.gradebook_problem = gradebook.problem if gradebook else None
    pool = pool or LocalWorkers(config, min(workers, max(len(todo), 1)), first_slot)
    prints = {item.student: value for item, value in todo}
    progress = Progress(len(todo), progress_stream)
    outcomes = pool.run([item for item, _ in todo])
    try:
        with contextlib.closing(outcomes):
            for outcome in outcomes:
                _write(outcome, config, out_dir, manifest, prints, gradebook, report)
                progress.advance(outcome)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        progress.finish()
        if gradebook is not None:
            gradebook.close()
    report.seconds = time.monotonic() - began
    return report


def _write(outcome, config, out_dir, manifest, prints, gradebook, report) -> None:
    """Record one outcome: results.json first, the manifest last (resume trusts it)."""
    student = outcome.item.student
    if any(done.item.student == student for done in report.outcomes):
        log.error("%s: a second outcome arrived and was ignored", student)
        return
    report.outcomes.append(outcome)
    if outcome.result is None:
        reason = f"the grader could not grade this submission: {outcome.reason}"
        manifest.forget(student)
        write_results(unreadable(student, config, reason), config, out_dir)
        return
    report.results.append(outcome.result)
    write_results(outcome.result, config, out_dir)
    write_feedback(outcome.result, config, out_dir)
    if gradebook is not None:
        gradebook.record(outcome.item, outcome.result)
    manifest.record(student, prints[student], outcome.result.score)


# --- what the instructor reads -------------------------------------------------


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


def summary(report: BatchReport, out_dir: Path) -> str:
    """The closing lines: graded, skipped, unreadable, failed, time."""
    graded = len(report.results) - len(report.unreadable)
    lines = [f"{graded} graded in {report.seconds:.1f} s; results in {out_dir}/"]
    if report.skipped:
        lines.append(
            f"{len(report.skipped)} unchanged since they were graded, skipped "
            "(--regrade grades them again)"
        )
    for result in report.unreadable:
        lines.append(f"could not be read: {result.submission}: {result.problem}")
    for outcome in report.failed:
        lines.append(f"FAILED to grade: {outcome.item.student}: {outcome.reason}")
    if report.gradebook_problem:
        lines.append(f"gradebook not written: {report.gradebook_problem}")
    if report.interrupted:
        lines.append("interrupted: run the same command again to grade the rest")
    return "\n".join(lines)
