"""The kit's command line: python -m autograder grade | demo | release."""

from __future__ import annotations

import argparse
import logging
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

    demo = commands.add_parser("demo", help="the whole path on bundled samples")
    demo.add_argument("--out", type=Path, default=Path("build/demo"))

    commands.add_parser("release", help="regenerate release/ from source/")
    return parser  # fmt: skip


def run_grade(args, config) -> int:
    from .batch import UsageError, find_submissions, grade_batch, score_table

    paths = list(args.paths) + ([args.course] if args.course else [])
    if not paths:
        print("grade: give notebooks, folders, or --course DIR", file=sys.stderr)
        return 2
    try:
        items = find_submissions(paths, config)
    except UsageError as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2
    if not items:
        print(f"grade: no submissions of {config.assignment_id} found under "
              f"{', '.join(map(str, paths))}", file=sys.stderr)  # fmt: skip
        return 2
    results, seconds = grade_batch(items, config, args.out)
    print()
    print(score_table(results))
    print(f"\n{len(results)} graded in {seconds:.1f} s; results in {args.out}/")
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
    if args.command == "release":
        from .course import generate_release

        folder = generate_release(course_config.KIT_ROOT, config)
        print(f"release regenerated: {folder}")
        return 0
    from .demo import run_demo

    return run_demo(config, args.out)


if __name__ == "__main__":
    sys.exit(main())
