"""The kit's command line: grade, demo, release, report and calibrate."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from . import config as course_config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Grade the XOR back-propagation assignment.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="course_config.py to use (default: the kit's)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log what the grader does (for instructors)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    grade = commands.add_parser("grade", help="grade notebooks into results.json")
    grade.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="notebooks, or folders of <student>/<assignment>/*.ipynb",
    )
    grade.add_argument(
        "--course",
        type=Path,
        help="an nbgrader course directory: grades its submitted/",
    )
    grade.add_argument(
        "--out",
        type=Path,
        default=Path("graded"),
        help="where results go: OUT/<student>/results.json",
    )
    grade.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="grading processes on this machine, one sandbox each (default: cores)",
    )
    grade.add_argument(
        "--regrade",
        action="store_true",
        help="grade again even what is unchanged since the last run",
    )
    grade.add_argument(
        "--scheduler",
        help="grade on a Dask cluster: tls://HOST:PORT, or tcp://127.0.0.1:PORT",
    )
    grade.add_argument("--tls-ca-file", type=Path, help="Dask TLS: the CA certificate")
    grade.add_argument("--tls-cert", type=Path, help="Dask TLS: this client's cert")
    grade.add_argument("--tls-key", type=Path, help="Dask TLS: this client's key")

    demo = commands.add_parser("demo", help="the whole path on bundled samples")
    demo.add_argument("--out", type=Path, default=Path("build/demo"))

    commands.add_parser("release", help="regenerate release/ from source/")

    report = commands.add_parser("report", help="the class report of a graded batch")
    report.add_argument("graded_dir", type=Path, help="the folder grade --out wrote")
    report.add_argument(
        "--out", type=Path, help="where the report goes (default GRADED_DIR/_report)"
    )

    calibrate = commands.add_parser(
        "calibrate", help="propose an EPOCH_BUDGET measured on this machine"
    )
    calibrate.add_argument(
        "--seconds-per-submission",
        type=float,
        required=True,
        help="the longest one submission's grading may take",
    )
    calibrate.add_argument(
        "--slot", type=int, default=0, help="sandbox slot to measure in (default 0)"
    )
    return parser  # fmt: skip


def run_grade(args, config) -> int:
    from .batch import UsageError, find_submissions, grade_batch, score_table, summary

    paths = list(args.paths) + ([args.course] if args.course else [])
    if not paths:
        print("grade: give notebooks, folders, or --course DIR", file=sys.stderr)
        return 2
    if args.workers < 1:
        print(f"grade: --workers must be 1 or more, not {args.workers}",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        items = find_submissions(paths, config)
        pool = _dask_pool(args, config) if args.scheduler else None
    except UsageError as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2
    if not items:
        print(f"grade: no submissions of {config.assignment_id} found under "
              f"{', '.join(map(str, paths))}", file=sys.stderr)  # fmt: skip
        return 2
    try:
        report = grade_batch(
            items, config, args.out, workers=args.workers, regrade=args.regrade,
            course=args.course, pool=pool,
        )  # fmt: skip
    except UsageError as error:  # the Dask scheduler could not be reached
        print(f"grade: {error}", file=sys.stderr)
        return 2
    if report.results:
        print()
        print(score_table(sorted(report.results, key=lambda r: r.submission)))
    print()
    print(summary(report, args.out))
    if report.interrupted:
        return 130
    return 1 if report.failed else 0


def _dask_pool(args, config):
    from .distributed import DaskWorkers

    tls = (args.tls_ca_file, args.tls_cert, args.tls_key)
    return DaskWorkers(config, args.scheduler, tls=tls)


def run_release(config) -> int:
    import tempfile

    from .course import release

    with tempfile.TemporaryDirectory(prefix="kit-release-") as scratch:
        try:
            folder = release(config, Path(scratch))
        except ValueError as error:
            print(f"release: {error}", file=sys.stderr)
            return 2
    print(f"release regenerated: {folder}")
    print("reference solution executed: solutions/reference/")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        config = course_config.load(args.config)
    except course_config.ConfigError as error:
        print(f"stopped, nothing was graded: {error}", file=sys.stderr)
        return 2
    if args.command == "grade":
        return run_grade(args, config)
    if args.command == "report":
        from .report import run_report

        return run_report(args, config)
    if args.command == "calibrate":
        from .calibrate import run_calibrate

        return run_calibrate(args, config)
    if args.command == "release":
        return run_release(config)
    from .demo import run_demo

    return run_demo(config, args.out)


if __name__ == "__main__":
    sys.exit(main())
