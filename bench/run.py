"""`make bench`: the kit against stock nbgrader on one generated batch; prints figures.

(a) stock `nbgrader autograde`, hidden tests inline (bench/stock.py), serial;
(b) the kit with 1 worker; (c) the kit with every core; (d) the floor: the same
notebooks' cells run in the kit's sandbox with nothing else (no checks); (e) the
floor plus the student's `train` from every grading seed, the work the convergence
check cannot skip, with nothing else; (f) the kit on a loopback Dask cluster with
as many workers as (c). Then where the kit's time goes in one submission, and a
line for submissions that hit the time limit. Figures only; nothing here asserts
on time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from autograder import batch, grading, proxy, reference
from autograder import config as course_config
from autograder.distributed import DaskWorkers
from autograder.sandbox import Limits, Sandbox
from autograder.submission import read_notebook, runnable_cells
from bench import stock
from bench.samples import HONEST, batch_names, quick_notebook, write_batch

KIT_ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "xor_backprop"
# The same limits for the kit and for stock nbgrader: a cell may run this long.
CELL_SECONDS = 10
HANG = "while True:\n    pass  # never ends"


def bench_config(folder: Path):
    """course_config.py with CELL_SECONDS per cell, loaded (the rest unchanged)."""
    text = (KIT_ROOT / "course_config.py").read_text(encoding="utf-8")
    setting = f"CPU_SECONDS_PER_CELL = {CELL_SECONDS}"
    text = re.sub(r"CPU_SECONDS_PER_CELL = .*", setting, text)
    path = folder / "course_config.py"
    path.write_text(text, encoding="utf-8")
    return course_config.load(path)


def median_of(seconds) -> float:
    return statistics.median(seconds) if seconds else float("nan")


# --- (a) stock nbgrader --------------------------------------------------------


def run_stock(folder: Path, submitted: Path, students) -> dict:
    """Autograde `students` with stock nbgrader; wall time, scores, peak RSS."""
    course = stock.make_course(folder, _kit_source(), ASSIGNMENT, CELL_SECONDS)
    for student in students:
        shutil.copytree(submitted / student, course / "submitted" / student)
    probe = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], capture_output=True); "
        "print(time.perf_counter() - t, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    command = [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--create"]
    done = subprocess.run([sys.executable, "-c", probe, *command], cwd=course,
                          capture_output=True, text=True, check=True)  # fmt: skip
    wall, rss = done.stdout.split()
    return {
        "wall": float(wall),
        "rss_mb": int(rss) / 1024,
        "scores": _gradebook_scores(course, students),
        "each": _stock_times(course, students, float(wall)),
    }


def _kit_source() -> Path:
    return KIT_ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def _gradebook_scores(course: Path, students) -> dict:
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "bench-stock") as book:
        for student in students:
            with contextlib.suppress(MissingEntry):
                scores[student] = book.find_submission(ASSIGNMENT, student).score
    return scores


def _stock_times(course: Path, students, wall: float) -> list[float]:
    """Per submission: autograded notebooks' modification times, one after another."""
    stamps = sorted(
        path.stat().st_mtime
        for student in students
        for path in (course / "autograded" / student).rglob("*.ipynb")
    )
    return [b - a for a, b in zip(stamps, stamps[1:], strict=False)] or [wall]


# --- (b), (c) the kit ----------------------------------------------------------


def run_kit(items, config, out: Path, workers: int) -> dict:
    began = time.perf_counter()
    report = batch.grade_batch(items, config, out, workers=workers, regrade=True,
                               progress_stream=open(os.devnull, "w"))  # fmt: skip
    wall = time.perf_counter() - began
    rss = {}
    for outcome in report.outcomes:
        own, children = rss.get(outcome.worker, (0, 0))
        rss[outcome.worker] = (max(own, outcome.peak_rss_kb),
                               max(children, outcome.sandbox_rss_kb))  # fmt: skip
    return {
        "wall": wall,
        "each": [result.seconds for result in report.results],
        "scores": {r.submission: r.score for r in report.results},
        "failed": len(report.failed),
        "rss": rss,
    }


# --- (d) the floor: cells in the sandbox, nothing else -------------------------


def run_floor(items, config) -> dict:
    limits = Limits.from_config(config)
    each = []
    began = time.perf_counter()
    for item in items:
        start = time.perf_counter()
        cells = runnable_cells(read_notebook(item.path, config), config)
        with Sandbox(limits) as sandbox:
            sandbox.run_cells([source for _, source in cells])
        each.append(time.perf_counter() - start)
    return {"wall": time.perf_counter() - began, "each": each}


# --- (e) the floor plus the trainings the convergence check needs --------------


def seed_trainings(config) -> str:
    """A cell that calls the student's `train` from every grading seed, as the
    convergence check does (weights written out exactly: repr round-trips)."""
    starts = [
        tuple(weights.tolist() for weights in reference.starting_weights(seed))
        for seed in config.grading_seeds
    ]
    return (
        "import numpy as _np\n"
        f"for _hidden, _output in {starts!r}:\n"
        "    try:\n"
        "        train(X, Y, _np.array(_hidden), _np.array(_output), LEARNING_RATE,\n"
        f"              min(int(EPOCHS), {config.epoch_budget}), TOLERANCE)\n"
        "    except Exception:\n"
        "        pass\n"
    )


def run_floor_with_trainings(items, config) -> dict:
    limits = Limits.from_config(config)
    trainings = seed_trainings(config)
    each = []
    began = time.perf_counter()
    for item in items:
        start = time.perf_counter()
        cells = runnable_cells(read_notebook(item.path, config), config)
        with Sandbox(limits) as sandbox:
            sandbox.run_cells([source for _, source in cells] + [trainings])
        each.append(time.perf_counter() - start)
    return {"wall": time.perf_counter() - began, "each": each}


# --- (f) the kit through a Dask cluster on loopback ----------------------------


def run_dask(items, config, out: Path, workers: int) -> dict:
    """The kit with `workers` Dask worker processes (one thread each) on loopback;
    the cluster's start-up is left out, as a standing cluster's would be."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster:  # fmt: skip
        pool = DaskWorkers(config, cluster.scheduler_address)
        began = time.perf_counter()
        report = batch.grade_batch(items, config, out, regrade=True, pool=pool,
                                   progress_stream=open(os.devnull, "w"))  # fmt: skip
        wall = time.perf_counter() - began
    return {
        "wall": wall,
        "each": [result.seconds for result in report.results],
        "scores": {r.submission: r.score for r in report.results},
        "failed": len(report.failed),
    }


def run_nbconvert(paths, folder: Path) -> list[float]:
    """`jupyter nbconvert --execute` of a few of the same notebooks, for scale."""
    each = []
    for path in paths:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "jupyter", "nbconvert", "--execute",
             "--to", "notebook", "--output-dir", str(folder), str(path)],
            capture_output=True, check=False,
        )  # fmt: skip
        each.append(time.perf_counter() - start)
    return each


# --- where the kit's time goes -------------------------------------------------


class Stopwatch:
    """Wraps functions in place and adds up the time spent in each, by label."""

    def __init__(self):
        self.totals = {}
        self._undo = []

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent = time.perf_counter() - start
                self.totals[label] = self.totals.get(label, 0.0) + spent

        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def restore(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)


def breakdown(items, config, repeats: int = 5) -> dict:
    """Median seconds per stage of grading one honest submission, in this process."""
    rows = []
    for item in items[:repeats]:
        watch = Stopwatch()
        watch.wrap(Sandbox, "_start", "sandbox start")
        watch.wrap(Sandbox, "run_cells", "cells")
        watch.wrap(Sandbox, "_exchange", "talking to the sandbox")
        watch.wrap(grading.pytest, "main", "pytest.main (checks)")
        watch.wrap(grading, "read_choices_again", "second run (choices)")
        watch.wrap(proxy.Submission, "call", "calls into the sandbox")
        start = time.perf_counter()
        grading.grade_file(item.path, config, name=item.student)
        watch.totals["total"] = time.perf_counter() - start
        watch.restore()
        rows.append(watch.totals)
    labels = sorted({label for row in rows for label in row})
    return {label: median_of([row.get(label, 0.0) for row in rows]) for label in labels}


def pytest_fixed_cost(repeats: int = 5) -> float:
    """One in-process pytest.main that only collects the hidden checks."""
    arguments = [*grading.pytest_arguments(), "--collect-only"]
    each = []
    for _ in range(repeats):
        start = time.perf_counter()
        grading.pytest.main(arguments)
        each.append(time.perf_counter() - start)
    return median_of(each)


# --- the run -------------------------------------------------------------------


def machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import nbgrader as nbgrader_package

    return (f"{os.uname().sysname} {os.uname().machine}, {os.cpu_count()} cores "
            f"({model}), Python {sys.version.split()[0]}, nbgrader "
            f"{nbgrader_package.__version__}; load average at start "
            f"{os.getloadavg()[0]:.1f}")  # fmt: skip


def write_hangs(folder: Path, count: int) -> list[str]:
    notebook = quick_notebook(HONEST[0])
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "explore_code":
            cell.source = HANG
    students = [f"h{number}-hangs" for number in range(count)]
    for student in students:
        path = folder / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, path)
    return students


def line(label: str, wall: float, each, count: int, memory: str) -> str:
    return (f"{label:<44} {wall:8.1f} {wall / count:8.2f} {median_of(each):8.2f}"
            f"   {memory}")  # fmt: skip


def rss_text(rss: dict) -> str:
    return ", ".join(
        f"{own / 1024:.0f} MB (+ sandbox {child / 1024:.0f} MB)"
        for own, child in rss.values()
    )


def compare(kit: dict, other: dict, students) -> tuple[int, list[str]]:
    same = [s for s in students if kit["scores"].get(s) == other["scores"].get(s)]
    differ = [f"{s}: kit {kit['scores'].get(s)} stock {other['scores'].get(s)}"
              for s in students if s not in same]  # fmt: skip
    return len(same), differ


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--hangs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--folder", type=Path, default=KIT_ROOT / "build" / "bench")
    args = parser.parse_args(argv)
    folder = args.folder.resolve()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    config = bench_config(folder)
    pairs = batch_names(args.count)
    write_batch(folder / "submitted", pairs)
    students = [student for student, _ in pairs]
    honest = [student for student, sample in pairs if sample in HONEST]
    items = batch.find_submissions([folder / "submitted"], config)
    sys.stdout.reconfigure(line_buffering=True)
    print(f"machine: {machine()}")
    print(f"batch: {len(items)} submissions ({len(honest)} honest, "
          f"{len(items) - len(honest)} with mistakes; exploration cell replaced "
          f"by pass); every cell limited to {CELL_SECONDS} s for all")  # fmt: skip

    results = {
        "a": run_stock(folder / "stock", folder / "submitted", students),
        "b": run_kit(items, config, folder / "kit-1", 1),
        "c": run_kit(items, config, folder / "kit-n", args.workers),
        "d": run_floor(items, config),
        "e": run_floor_with_trainings(items, config),
        "f": run_dask(items, config, folder / "kit-dask", args.workers),
    }
    nbconvert = run_nbconvert([item.path for item in items[:3]], folder / "nbconvert")
    report(results, args.workers, len(items), nbconvert, students, honest)
    report_breakdown(items, config)
    report_hangs(folder, config, args)
    return 0


def report(results, workers, count, nbconvert, students, honest) -> None:
    a, b, c, d, e, f = (results[key] for key in "abcdef")
    print(f"\n{'':<44} {'wall s':>8} {'s/sub':>8} {'median':>8}   peak RSS per worker")
    print(line("(a) stock nbgrader autograde, inline tests", a["wall"], a["each"],
               count, f"{a['rss_mb']:.0f} MB (largest process)"))  # fmt: skip
    print(line("(b) kit, 1 worker", b["wall"], b["each"], count, rss_text(b["rss"])))
    print(line(f"(c) kit, {workers} workers", c["wall"], c["each"], count,
               rss_text(c["rss"])))  # fmt: skip
    print(line("(d) floor: cells in the kit's sandbox only", d["wall"], d["each"],
               count, "-"))  # fmt: skip
    print(line("(e) floor + train from every grading seed", e["wall"], e["each"],
               count, "-"))  # fmt: skip
    print(line(f"(f) kit on a loopback Dask cluster, {workers} workers", f["wall"],
               f["each"], count, "-"))  # fmt: skip
    print(f"jupyter nbconvert --execute of {len(nbconvert)} of the same notebooks: "
          f"median {median_of(nbconvert):.2f} s each")  # fmt: skip
    ab, ac, bd = a["wall"] / b["wall"], a["wall"] / c["wall"], b["wall"] / d["wall"]
    print(f"ratios: (a)/(b) = {ab:.2f}   (a)/(c) = {ac:.2f}   (b)/(d) = {bd:.2f}"
          f"   (b)/(e) = {b['wall'] / e['wall']:.2f}"
          f"   (f)/(c) = {f['wall'] / c['wall']:.2f}")  # fmt: skip
    print(f"at (c)'s rate, 1,000 submissions take {c['wall'] / count * 1000 / 60:.1f}"
          f" min on this machine")  # fmt: skip
    same_bc = b["scores"] == c["scores"] and not b["failed"] and not c["failed"]
    same_bf = b["scores"] == f["scores"] and not f["failed"]
    same_honest, differ_honest = compare(b, a, honest)
    same_all, differ = compare(b, a, students)
    print(f"scores: (b) == (c) for every submission: {'yes' if same_bc else 'NO'}; "
          f"(b) == (f): {'yes' if same_bf else 'NO'}; "
          f"kit == stock for honest submissions: {same_honest} of {len(honest)}; "
          f"for all: {same_all} of {len(students)}")  # fmt: skip
    for text in differ_honest:
        print(f"  honest submission scored differently: {text}")
    if differ:
        print(f"  mistakes scored differently (stock runs hidden tests in the "
              f"student's kernel): {len(differ)}, e.g. {differ[0]}")  # fmt: skip


def report_breakdown(items, config) -> None:
    honest = [item for item in items if "reference" in item.student]
    stages = breakdown(honest, config)
    print("\nwhere the kit's time goes in one honest submission (median of 5, s):")
    print("  " + "   ".join(f"{label} {value:.2f}" for label, value in stages.items()))
    print(f"  pytest.main that only collects the hidden checks: "
          f"{pytest_fixed_cost():.3f} s per call")  # fmt: skip


def report_hangs(folder: Path, config, args) -> None:
    hangs = folder / "hangs"
    students = write_hangs(hangs / "submitted", args.hangs)
    items = batch.find_submissions([hangs / "submitted"], config)
    a = run_stock(hangs / "stock", hangs / "submitted", students)
    c = run_kit(items, config, hangs / "kit", args.workers)
    print(f"\ntime limit: submissions with a cell that never ends: {len(students)} "
          f"({CELL_SECONDS} s per cell for both):")  # fmt: skip
    print(f"  (a) stock: {a['wall']:.1f} s, scores {sorted(a['scores'].values())}"
          f"   (c) kit, {args.workers} workers: {c['wall']:.1f} s, scores "
          f"{sorted(c['scores'].values())}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
