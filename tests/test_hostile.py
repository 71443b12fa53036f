"""The hostile corpus through both front doors: honest scores, and nothing harmed.

Both doors grade the whole corpus once, side by side (one process each), with small
limits; every test below reads what those two runs left behind.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.course import generate_release, prepare_course_dir
from autograder.nbgrader_door import write_course_shim
from autograder.proxy import wall_allowance
from autograder.sandbox import FIRST_SLOT_UID, STARTUP_SECONDS, Limits, probe
from tests.conftest import KIT_ROOT
from tests.hostile.corpus import BY_NAME, CASES, Context, write_corpus

ASSIGNMENT = "xor_backprop"
SMALL_LIMITS = {
    "CPU_SECONDS_PER_CELL": 3,
    "CPU_SECONDS_TOTAL": 20,
    "MEMORY_MB": 512,
    "OUTPUT_KB": 64,
    "MAX_PROCESSES": 32,
}
# Cases that wait for a wall-clock backstop go through the command line only; the
# nbgrader door calls the same core, and the suite must stay within minutes.
NOT_BY_NBGRADER = {case.folder for case in CASES if case.slow}
RERUN = ("tamper_thread", "reach_kill_all_shell", "die_os_exit", "korean_name")
# What an nbgrader course directory may hold after autograde and feedback.
COURSE_ENTRIES = {"nbgrader_config.py", "course_config.py", "source", "release",
                  "submitted", "autograded", "feedback", "gradebook.db"}  # fmt: skip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not probe().bubblewrap, reason="needs a working bubblewrap"),
]


def small_config(folder: Path) -> Path:
    text = (KIT_ROOT / "course_config.py").read_text(encoding="utf-8")
    lines = []
    for line in text.splitlines():
        name = line.split(" = ")[0]
        lines.append(f"{name} = {SMALL_LIMITS[name]}" if name in SMALL_LIMITS else line)
    path = folder / "course_config.py"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def kit_state() -> str:
    done = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        cwd=KIT_ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def python_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(KIT_ROOT)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def base_submissions(doors) -> Path:
    return doors.base / "submissions"


class Doors:
    """The two runs over the corpus and everything they left behind."""

    def __init__(self, base: Path):
        self.base = base
        self.config_path = small_config(base)
        from autograder import config as course_config

        self.config = course_config.load(self.config_path)
        self.course = prepare_course_dir(base / "course", self.config)
        write_course_shim(self.course, self.config_path)
        generate_release(self.course, self.config)
        self.context = Context(KIT_ROOT, self.course)
        self.paths = write_corpus(base / "submissions", self.context)
        by_nbgrader = [case for case in CASES if case.folder not in NOT_BY_NBGRADER]
        write_corpus(self.course / "submitted", self.context, by_nbgrader)
        self.out = base / "results"
        self.kit_before = kit_state()
        self.began = time.time()

    def run(self):
        cli = subprocess.Popen(
            [sys.executable, "-m", "autograder", "--config", str(self.config_path),
             "grade", str(base_submissions(self)), "--out", str(self.out)],
            cwd=self.base, env=python_env(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        nbgrader = subprocess.Popen(
            [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--create"],
            cwd=self.course, env=python_env(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.cli_output = cli.communicate()
        self.cli_code = cli.returncode
        self.nbgrader_output = nbgrader.communicate()
        self.nbgrader_code = nbgrader.returncode
        self.seconds = time.time() - self.began
        self.feedback = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_feedback", ASSIGNMENT],
            cwd=self.course, env=python_env(), capture_output=True, text=True,
        )  # fmt: skip

    def results(self, case) -> dict:
        path = self.out / case.folder / "results.json"
        return json.loads(path.read_text(encoding="utf-8"))

    def gradebook(self) -> dict:
        """student -> {grade cell: (score, max score)} from nbgrader's gradebook."""
        query = """
            select s.student_id, b.name, coalesce(g.manual_score, g.auto_score),
                   gc.max_score
            from grade g
            join grade_cells gc on g.cell_id = gc.id
            join base_cell b on b.id = gc.id
            join submitted_notebook n on g.notebook_id = n.id
            join submitted_assignment s on n.assignment_id = s.id
        """
        rows = {}
        with sqlite3.connect(self.course / "gradebook.db") as db:
            for student, cell, score, max_score in db.execute(query):
                rows.setdefault(student, {})[cell] = (score, max_score)
        return rows


@pytest.fixture(scope="module")
def doors(tmp_path_factory):
    doors = Doors(tmp_path_factory.mktemp("hostile"))
    doors.run()
    return doors


def automatic(points) -> dict:
    from solutions.samples import ALL

    return {check: points[check] for check in ALL}


CASE_IDS = [case.name for case in CASES]
NBGRADER_IDS = [case.name for case in CASES if case.folder not in NOT_BY_NBGRADER]


def test_both_doors_finish_the_whole_corpus(doors):
    assert doors.cli_code == 0, doors.cli_output[1][-3000:]
    assert all((doors.out / case.folder / "results.json").is_file() for case in CASES)
    # The kit reads files for nbgrader, so even the unreadable ones get their zeros
    # and nbgrader has nothing to fail on.
    assert doors.nbgrader_code == 0, doors.nbgrader_output[1][-3000:]
    assert (doors.course / "autograded").is_dir()


@pytest.mark.parametrize("name", CASE_IDS)
def test_command_line_gives_the_honest_score(doors, name):
    case = BY_NAME[name]
    document = doors.results(case)
    got = {test["name"]: test for test in document["tests"]}
    points = doors.config.points

    assert document["score"] == case.score(points)
    assert {name: test["max_score"] for name, test in got.items()} == points
    if case.unreadable is not None:
        assert case.unreadable in document["output"]
    else:
        failed = {name for name, test in got.items() if test["status"] == "failed"}
        assert failed == set(case.fails), document


@pytest.mark.parametrize("name", NBGRADER_IDS)
def test_nbgrader_gives_the_same_score(doors, name):
    case = BY_NAME[name]
    grades = doors.gradebook().get(case.folder, {})
    points = automatic(doors.config.points)
    assert {cell: grades[cell][1] for cell in points} == points  # max from source
    assert all(grades[cell][0] is not None for cell in points)  # no half rows
    assert sum(grades[cell][0] for cell in points) == case.score(doors.config.points)


@pytest.mark.parametrize(
    "name", [name for name in NBGRADER_IDS if BY_NAME[name].unreadable]
)
def test_nbgrader_feedback_says_why_a_file_was_not_graded(doors, name):
    case = BY_NAME[name]
    page = doors.course / "feedback" / case.folder / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert case.unreadable in page.read_text(encoding="utf-8")


def test_wall_time_per_submission_stays_within_the_limits(doors):
    limits = Limits.from_config(doors.config)
    # Two sandboxed runs at most (the second only for non-constant choices).
    bound = 2 * (wall_allowance(limits) + STARTUP_SECONDS)
    times = {case.name: doors.results(case)["execution_time"] for case in CASES}
    assert max(times.values()) <= bound, times


def test_nothing_student_visible_holds_hidden_checks_or_their_code(doors):
    # Lines the student wrote or was given are theirs to see, even where the hidden
    # reference happens to read the same.
    public = [KIT_ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
              doors.course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
              *doors.paths.values()]  # fmt: skip
    release = "\n".join(
        unescaped(path.read_bytes().decode("utf-8", "replace"))
        for path in public
        if path.is_file()
    )
    secret = set()
    for path in [*(KIT_ROOT / "autograder" / "checks").glob("*.py"),
                 KIT_ROOT / "autograder" / "reference.py"]:  # fmt: skip
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if len(line) >= 30 and line not in release:
                secret.add(line)
    visible = [*doors.out.rglob("results.json"),
               *(doors.course / "autograded").rglob("*.ipynb"),
               *(doors.course / "feedback").rglob("*.html")]  # fmt: skip
    assert visible
    for path in visible:
        text = unescaped(path.read_text(encoding="utf-8"))
        leaked = [line for line in secret if line in text]
        assert not leaked, (path, leaked[:3])


def unescaped(text: str) -> str:
    """JSON-escaped text as it reads, so that lines can be compared."""
    return text.replace("\\n", "\n").replace('\\"', '"')


def test_kit_checkout_and_course_dir_hold_nothing_the_corpus_wrote(doors):
    strangers = []
    for top in (KIT_ROOT, doors.course, Path(doors.base)):
        for folder, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if d not in (".git", ".venv")]
            for name in dirs + files:
                path = Path(folder) / name
                if path.lstat().st_uid >= FIRST_SLOT_UID or "pwned" in name.lower():
                    strangers.append(path)
    assert strangers == []
    assert {path.name for path in doors.course.iterdir()} <= COURSE_ENTRIES
    assert not Path("/tmp/owned").exists()


def test_kit_checkout_is_unchanged_apart_from_others_editing_it(doors):
    # Others may edit the kit while this runs; what the corpus could have added
    # would be new paths under the kit's own folders.
    before = set(doors.kit_before.splitlines())
    new = [
        line for line in set(kit_state().splitlines()) - before
        if line[3:].startswith(("autograder/checks", "source/", "release/"))
        or "pwned" in line.lower()
    ]  # fmt: skip
    assert new == []


def test_no_sandbox_process_outlives_the_runs(doors):
    assert orphaned_sandbox_processes() == []


def test_regrading_gives_identical_scores(doors, tmp_path):
    again = tmp_path / "again"
    for name in RERUN:
        case = BY_NAME[name]
        target = again / case.folder / ASSIGNMENT
        target.mkdir(parents=True)
        (target / f"{ASSIGNMENT}.ipynb").write_bytes(doors.paths[name].read_bytes())
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "--config", str(doors.config_path),
         "grade", str(again), "--out", str(tmp_path / "out")],
        env=python_env(), capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    for name in RERUN:
        case = BY_NAME[name]
        first = doors.results(case)
        second = json.loads(
            (tmp_path / "out" / case.folder / "results.json").read_text("utf-8")
        )
        scores = [(t["name"], t.get("score")) for t in first["tests"]]
        assert scores == [(t["name"], t.get("score")) for t in second["tests"]]


def _status(pid: int) -> dict:
    text = Path(f"/proc/{pid}/status").read_text()
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def orphaned_sandbox_processes() -> list[int]:
    """Processes of a sandbox uid whose grader is gone (no root ancestor but init).

    Graders of other runs may be working at the same time; their sandboxes still
    hang from a live grader and are not orphans.
    """
    orphans = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = _status(int(entry))
            if int(status["Uid"].split()[0]) < FIRST_SLOT_UID:
                continue
            if status["State"].startswith("Z"):
                continue
            pid, held = int(entry), False
            while pid > 1:
                status = _status(pid)
                command = Path(f"/proc/{pid}/comm").read_text().strip()
                if int(status["Uid"].split()[0]) == 0 and command not in (
                    "bwrap", "setpriv"
                ):  # fmt: skip
                    held = True
                    break
                pid = int(status["PPid"])
        except (OSError, KeyError, ValueError):
            continue
        if not held:
            orphans.append(int(entry))
    return orphans
