"""The class report: scores, pass rates, choices over the landscape, an LMS CSV.

`python -m autograder report GRADED_DIR [--out DIR]` reads every
GRADED_DIR/<student>/results.json and writes into DIR (default GRADED_DIR/_report)
three PNGs, report.html that shows them, and grades.csv for the school's LMS.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import messages, reference
from .config import ALL_CHECKS, AUTOMATIC_CHECKS, KIT_ROOT, CourseConfig
from .recorders.html import FONT_STACK, page

log = logging.getLogger(__name__)

LANDSCAPE_STARTS = 200
LANDSCAPE_COLUMNS = 120  # epoch columns drawn between 0 and the budget
DEFAULT_CACHE = KIT_ROOT / "build" / "cache"
CHOICE_NAMES = ("LEARNING_RATE", "EPOCHS", "TOLERANCE")
FILES = {
    "scores": "scores.png",
    "checks": "checks.png",
    "landscape": "landscape.png",
    "html": "report.html",
    "csv": "grades.csv",
}


@dataclass(frozen=True)
class Graded:
    """One student's results.json, as the report needs it."""

    student: str
    score: float
    automatic_max: float
    tests: dict  # check -> its results.json entry
    choices: dict


@dataclass(frozen=True, eq=False)
class Landscape:
    """Fraction of starts converged per grid learning rate (rows) by epoch (columns)."""

    learning_rates: np.ndarray  # (rates,)
    epochs: np.ndarray  # (columns,)
    fraction: np.ndarray  # (rates, columns)
    starts: int


# --- reading a graded batch ------------------------------------------------------


def read_batch(graded_dir: Path) -> list[Graded]:
    """Every GRADED_DIR/<student>/results.json, sorted by student; bad files logged."""
    students = []
    for path in sorted(Path(graded_dir).glob("*/results.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            students.append(_graded(document, path.parent.name))
        except (ValueError, KeyError, TypeError) as error:
            log.warning(
                "%s: skipped, not a results.json the kit wrote: %s", path, error
            )
    return students


def _graded(document: dict, folder: str) -> Graded:
    extra = document.get("extra_data", {})
    return Graded(
        student=str(extra.get("submission", folder)),
        score=float(document["score"]),
        automatic_max=float(extra.get("automatic_max_score", 0.0)),
        tests={test["name"]: test for test in document["tests"]},
        choices=dict(extra.get("choices", {})),
    )


def sentence_key(line: str, language: str) -> str | None:
    """Which sentence of messages.SENTENCES `line` is, or None."""
    for key, pattern in _sentence_patterns(language):
        if pattern.fullmatch(line):
            return key
    return None


def _sentence_patterns(language: str):
    patterns = []
    for key, texts in messages.SENTENCES.items():
        parts = re.split(r"\{[^}]*\}", texts[language])
        pattern = "(.+?)".join(re.escape(part) for part in parts)
        patterns.append((len("".join(parts)), key, re.compile(pattern, re.S)))
    # The sentence with the most fixed text first: it is the most specific.
    return [(key, pattern) for _, key, pattern in sorted(patterns, reverse=True)]


def lesson_topics(output: str, language: str) -> list[str]:
    """The lessons a test's output carries, by topic."""
    texts = {messages.lesson(topic, language): topic for topic in messages.LESSONS}
    return [texts[line[2:]] for line in output.splitlines() if line[2:] in texts]


# --- summaries ---------------------------------------------------------------------


def pass_rates(students: list[Graded]) -> dict[str, float]:
    """Per automatic check, the fraction of students who passed it."""
    rates = {}
    for check in AUTOMATIC_CHECKS:
        passed = [s.tests.get(check, {}).get("status") == "passed" for s in students]
        rates[check] = float(np.mean(passed)) if students else 0.0
    return rates


def common_mistakes(students, language: str) -> list[tuple[str, str, list[str]]]:
    """(check, sentence key, students) for every failure, most frequent first."""
    found: dict[tuple[str, str], list[str]] = {}
    for student in students:
        for check, test in student.tests.items():
            if test.get("status") != "failed":
                continue
            first_line = test.get("output", "").split("\n", 1)[0]
            key = sentence_key(first_line, language) or "?"
            found.setdefault((check, key), []).append(student.student)
    ranked = sorted(found.items(), key=lambda item: (-len(item[1]), item[0]))
    return [(check, key, names) for (check, key), names in ranked]


def lessons_earned(students, language: str) -> Counter:
    """How many students were given each of the instructor's lessons."""
    counts = Counter()
    for student in students:
        topics = set()
        for test in student.tests.values():
            topics.update(lesson_topics(test.get("output", ""), language))
        counts.update(topics)
    return counts


# --- the convergence landscape -------------------------------------------------------


def landscape(config: CourseConfig, starts=LANDSCAPE_STARTS, cache_dir=DEFAULT_CACHE):
    """The landscape for this course's settings, from the cache when it is there."""
    path = Path(cache_dir) / f"landscape-{_landscape_key(config, starts)}.npz"
    if path.is_file():
        with np.load(path) as saved:
            return Landscape(
                saved["learning_rates"],
                saved["epochs"],
                saved["fraction"],
                int(saved["starts"]),
            )
    began = time.perf_counter()
    result = compute_landscape(config, starts)
    log.info(
        "landscape of %d starts computed in %.1f s", starts, time.perf_counter() - began
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        learning_rates=result.learning_rates,
        epochs=result.epochs,
        fraction=result.fraction,
        starts=result.starts,
    )
    return result


def _landscape_key(config: CourseConfig, starts: int) -> str:
    """Config digest, start count and the rule's own code: any change, new key."""
    digest = hashlib.sha256(f"{config.digest}:{starts}".encode())
    digest.update(Path(reference.__file__).read_bytes())
    return digest.hexdigest()[:16]


def compute_landscape(config: CourseConfig, starts: int) -> Landscape:
    """Train starts 0..starts-1 at every grid rate with the vectorized reference."""
    from solutions.sweep import epochs_needed

    hidden, output = reference.starting_weights_batch(range(starts))
    epochs = np.linspace(0, config.epoch_budget, LANDSCAPE_COLUMNS + 1).round()
    rates = np.array(config.learning_rate_grid)
    fraction = np.zeros((rates.size, epochs.size))
    for row, learning_rate in enumerate(rates):
        with np.errstate(all="ignore"):
            needed = epochs_needed(
                hidden,
                output,
                learning_rate,
                config.epoch_budget,
                config.course_tolerance,
            )
        needed = needed[needed >= 0]
        # train() with `epochs` converges exactly when it first converges by then.
        fraction[row] = (needed[:, None] <= epochs[None, :]).sum(axis=0) / starts
    return Landscape(rates, epochs, fraction, starts)


# --- plots ---------------------------------------------------------------------------


def _figure(size):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from solutions.plotting import use_korean_font

    use_korean_font()
    figure = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def plot_scores(students, path: Path) -> Path:
    figure = _figure((6.4, 3.6))
    axes = figure.subplots()
    top = max([s.automatic_max for s in students] + [1])
    scores = [s.score for s in students]
    bins = np.arange(0, np.ceil(top) + 2) - 0.5
    axes.hist(scores, bins=bins, color="tab:blue", edgecolor="white")
    axes.set_xticks(np.arange(0, np.ceil(top) + 1))
    axes.set_xlabel(f"자동 채점 점수 (만점 {top:g}) / automatic score (of {top:g})")
    axes.set_ylabel("학생 수 / students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title(f"점수 분포 / score histogram  (n = {len(students)})")
    figure.savefig(path, dpi=110)
    return path


def plot_pass_rates(rates: dict, path: Path) -> Path:
    figure = _figure((7.4, 4.0))
    axes = figure.subplots()
    checks = list(rates)[::-1]
    values = [rates[check] for check in checks]
    bars = axes.barh(
        [messages.check_title(c, "ko") for c in checks],
        values,
        color=[
            "tab:green" if v >= 0.8 else "tab:orange" if v >= 0.5 else "tab:red"
            for v in values
        ],
    )
    axes.bar_label(bars, labels=[f"{v:.0%}" for v in values], fontsize=8, padding=2)
    axes.set_xlim(0, 1.12)
    axes.set_xlabel("통과한 학생의 비율 / fraction of students who passed")
    axes.set_title("점검 항목별 통과율 / pass rate per check")
    axes.tick_params(axis="y", labelsize=8)
    figure.savefig(path, dpi=110)
    return path


def class_choices(students) -> Counter:
    """(learning rate, epochs) -> how many students chose it; numbers only."""
    counts = Counter()
    for student in students:
        rate, epochs = (student.choices.get(n) for n in CHOICE_NAMES[:2])
        numbers = all(
            isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v)
            for v in (rate, epochs)
        )
        if numbers:
            counts[(float(rate), float(epochs))] += 1
    return counts


def plot_landscape(land: Landscape, choices: Counter, config, path: Path) -> Path:
    """The fraction converged as a heat map, the class's choices on top of it."""
    figure = _figure((8.2, 4.8))
    axes = figure.subplots()
    step, budget = config.learning_rate_step, config.epoch_budget
    top = land.learning_rates[-1] + step / 2
    image = axes.imshow(
        land.fraction,
        origin="lower",
        aspect="auto",
        cmap="viridis",
        vmin=0,
        vmax=1,
        interpolation="nearest",
        extent=(0, budget, step / 2, top),
    )
    figure.colorbar(image, ax=axes, label="수렴한 시작점의 비율 / fraction converged")
    needed = config.seeds_to_pass / len(config.grading_seeds)
    _plot_pass_line(axes, land, needed, step)
    _plot_choices(axes, choices, budget, top)
    axes.set_xlim(0, budget * 1.04)
    axes.set_ylim(0, top + step / 2)
    axes.set_xlabel("에포크 / epochs")
    axes.set_ylabel("학습률 / learning rate")
    axes.set_title(
        f"학생들이 고른 값과 수렴 지형 (기준 학습기, 시작점 {land.starts}개, "
        f"허용 오차 {config.course_tolerance:g})\nthe class's choices over the "
        f"convergence landscape; white bar: {needed:.0%} of starts have converged",
        fontsize=9,
    )
    figure.savefig(path, dpi=110)
    return path


def _plot_pass_line(axes, land: Landscape, needed: float, step: float):
    """Per rate, a white bar at the first epoch count where `needed` have converged."""
    for rate, row in zip(land.learning_rates, land.fraction, strict=True):
        reached = np.flatnonzero(row >= needed)
        if reached.size:
            epochs = land.epochs[reached[0]]
            axes.plot(
                [epochs, epochs],
                [rate - step * 0.45, rate + step * 0.45],
                color="white",
                linewidth=2.5,
            )


def _plot_choices(axes, choices: Counter, budget, top):
    """One white-edged dot per distinct choice, sized and labelled by its count.

    A choice beyond the plot (epochs over the budget, a rate above the grid) is
    drawn on the edge as a triangle pointing outward.
    """
    for (rate, epochs), count in choices.items():
        x, y, marker = min(epochs, budget * 1.02), min(rate, top + 0.02), "o"
        if epochs > budget:
            marker = ">"
        elif rate > top:
            marker = "^"
        axes.scatter(
            [x],
            [y],
            s=30 + 25 * count,
            marker=marker,
            color="tab:red",
            edgecolors="white",
            linewidths=1,
            zorder=3,
        )
        axes.annotate(
            str(count),
            (x, y),
            xytext=(8, 6) if marker == "o" else (8, -14),
            textcoords="offset points",
            fontsize=8,
            zorder=4,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "linewidth": 0},
        )


# --- the CSV for the LMS ------------------------------------------------------------


def write_csv(students, path: Path) -> Path:
    """One row per student, one column per check; UTF-8 with a BOM for Excel."""
    header = ["student", "score", "automatic_max_score", *ALL_CHECKS, *CHOICE_NAMES]
    with open(path, "w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        for student in students:
            checks = [
                student.tests.get(check, {}).get("score", "") for check in ALL_CHECKS
            ]
            choices = [student.choices.get(name, "") for name in CHOICE_NAMES]
            row = [student.student, student.score, student.automatic_max]
            writer.writerow([_cell(value) for value in row + checks + choices])
    return path


def _cell(value):
    """Excel runs a cell that starts with = + - @ as a formula; text is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


# --- the page -----------------------------------------------------------------------


def write_report(
    graded_dir: Path,
    config: CourseConfig,
    out_dir: Path | None = None,
    *,
    starts=LANDSCAPE_STARTS,
    cache_dir=DEFAULT_CACHE,
) -> dict:
    """Write the PNGs, report.html and grades.csv; returns {part: path}."""
    students = read_batch(graded_dir)
    if not students:
        raise FileNotFoundError(
            f"no results.json under {graded_dir}/<student>/; grade first with "
            f"python -m autograder grade ... --out {graded_dir}"
        )
    out = Path(out_dir or Path(graded_dir) / "_report")
    out.mkdir(parents=True, exist_ok=True)
    paths = {part: out / name for part, name in FILES.items()}
    language = config.feedback_language

    rates = pass_rates(students)
    plot_scores(students, paths["scores"])
    plot_pass_rates(rates, paths["checks"])
    land = landscape(config, starts, cache_dir)
    plot_landscape(land, class_choices(students), config, paths["landscape"])
    write_csv(students, paths["csv"])
    page = report_page(students, rates, config, language)
    paths["html"].write_text(page, encoding="utf-8")
    return paths


def report_page(students, rates, config, language) -> str:
    scores = np.array([s.score for s in students])
    top = max(s.automatic_max for s in students)
    summary = (
        f"학생 {len(students)}명 · 평균 {scores.mean():.1f} / {top:g}점 · 중앙값 "
        f"{np.median(scores):g} · 만점 {int(np.sum(scores >= top))}명"
        f'<span class="other">{len(students)} students · mean {scores.mean():.1f} '
        f"of {top:g} · median {np.median(scores):g} · "
        f"{int(np.sum(scores >= top))} full marks</span>"
    )
    body = [
        f"<h1>{html.escape(config.assignment_id)} · 반 전체 보고서 "
        f'<span class="other">class report</span></h1>',
        f"<p>{summary}</p>",
        _figure_html(FILES["scores"], "점수 분포", "score histogram"),
        _figure_html(FILES["checks"], "점검 항목별 통과율", "pass rate per check"),
        _rates_table(rates),
        _figure_html(
            FILES["landscape"],
            "학생들이 고른 학습률·에포크와 수렴 지형",
            "the class's learning rates and epochs over the landscape",
        ),
        _mistakes_table(students, language),
        _lessons_table(students, language),
        f'<p><a href="{FILES["csv"]}">{FILES["csv"]}</a>: 학생별 한 줄, 점검 항목별 '
        "한 열 (UTF-8, BOM 포함: Excel에서 한글 이름이 그대로 열립니다)"
        '<span class="other">one row per student, one column per check; UTF-8 with '
        "a byte-order mark so Korean names open in Excel</span></p>",
    ]
    return page(
        title=f"{config.assignment_id} class report",
        body="\n".join(body),
        style=STYLE,
        language=config.feedback_language,
    )


def _figure_html(src, korean, english) -> str:
    return (
        f'<figure><img src="{src}" alt="{english}"><figcaption>{korean} '
        f'<span class="other">{english}</span></figcaption></figure>'
    )


def _rates_table(rates) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(messages.check_title(check, 'ko'))}</td>"
        f'<td class="n">{rate:.0%}</td></tr>'
        for check, rate in rates.items()
    )
    return (
        '<table><thead><tr><th>점검 항목 <span class="other">check</span></th>'
        '<th>통과율 <span class="other">passed</span></th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _mistakes_table(students, language) -> str:
    rows = []
    for check, key, names in common_mistakes(students, language)[:12]:
        what = _generic(key, language)
        shown = ", ".join(html.escape(name) for name in names[:4])
        more = f" 외 {len(names) - 4}명" if len(names) > 4 else ""
        rows.append(
            f"<tr><td>{html.escape(messages.check_title(check, 'ko'))}</td>"
            f"<td>{html.escape(what)}</td><td class='n'>{len(names)}</td>"
            f"<td>{shown}{more}</td></tr>"
        )
    if not rows:
        return (
            "<h2>흔한 실수 <span class='other'>common mistakes</span></h2><p>없음</p>"
        )
    return (
        "<h2>흔한 실수 <span class='other'>most common mistakes</span></h2>"
        "<table><thead><tr><th>점검 항목</th><th>학생이 받은 문장 "
        "<span class='other'>sentence the student read</span></th>"
        "<th>학생 수</th><th>예</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _generic(key, language) -> str:
    if key not in messages.SENTENCES:
        return "(알 수 없는 문장 / unrecognised sentence)"
    return re.sub(r"\{[^}]*\}", "…", messages.SENTENCES[key][language])


def _lessons_table(students, language) -> str:
    counts = lessons_earned(students, language)
    rows = "".join(
        f"<tr><td>{number}. {html.escape(messages.lesson_title(topic, 'ko'))}</td>"
        f"<td>{html.escape(messages.lesson(topic, 'ko'))}</td>"
        f"<td class='n'>{counts.get(topic, 0)}</td></tr>"
        for number, topic in enumerate(messages.LESSONS, start=1)
    )
    return (
        "<h2>강사의 조언을 받은 학생 수 <span class='other'>students given each "
        "of the instructor's lessons</span></h2><table><thead><tr><th>조언</th>"
        f"<th>내용</th><th>학생 수</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def run_report(args, config) -> int:
    """The `report` subcommand: write the report and say where it is."""
    try:
        paths = write_report(args.graded_dir, config, args.out)
    except FileNotFoundError as error:
        print(f"report: {error}")
        return 2
    for part in ("html", "csv", "scores", "checks", "landscape"):
        print(f"{part:>9}: {paths[part]}")
    return 0


STYLE = """
body { font-family: FONT_STACK; max-width: 62rem; margin: 2rem auto;
  padding: 0 1rem; color: #1d232a; line-height: 1.5; }
h1 { font-size: 1.5rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #d6dbe0; }
.other { font-size: .8em; font-weight: normal; color: #5b6670; margin-left: .3em; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { text-align: left; vertical-align: top; padding: .35rem .6rem;
  border-bottom: 1px solid #e4e8ec; font-size: .92rem; }
th { background: #f3f5f7; }
td.n { text-align: right; }
figure { margin: 1.2rem 0; }
figure img { max-width: 100%; border: 1px solid #e4e8ec; }
figcaption { font-size: .9rem; }
""".replace("FONT_STACK", FONT_STACK)
