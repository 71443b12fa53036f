"""The student's feedback page: one self-contained HTML file beside results.json.

Each check shows its points, its one sentence and, where a rule attaches one, the
instructor's lesson, in the configured language with the other one beside it. The
choices section runs the kit's reference trainer with the student's learning rate,
epochs and tolerance from the grading seeds, and says so: nothing on the page comes
from the hidden checks' code or their expected values.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import messages, reference
from ..config import MANUAL_CHECKS, CourseConfig
from .html import FONT_STACK, page
from .results import atomic_write

FILE_NAME = "feedback.html"
# The loss curve follows this many grading starts; more lines only blur it.
CURVE_STARTS = 3
LOSS_CEILING = 1e3
CHOICES = (
    ("LEARNING_RATE", "learning_rate"),
    ("EPOCHS", "epochs"),
    ("TOLERANCE", "tolerance"),
)


@dataclass(frozen=True)
class Choices:
    """The student's choices as the reference trainer uses them."""

    learning_rate: float
    epochs: int  # capped at the epoch budget, as grading caps it
    tolerance: float


@dataclass(frozen=True, eq=False)
class SeedRuns:
    """What the reference trainer did with one set of choices from the grading seeds.

    `converged` and `epochs_run` have one entry per grading seed; `losses` has shape
    (longest run + 1, CURVE_STARTS): the mean squared error before each update and
    after the last, NaN once a start has stopped.
    """

    converged: np.ndarray
    epochs_run: np.ndarray
    losses: np.ndarray


def write_feedback(result, config: CourseConfig, out_dir: Path) -> Path:
    """Write OUT/<student>/feedback.html beside results.json; returns its path."""
    folder = Path(out_dir) / result.submission
    folder.mkdir(parents=True, exist_ok=True)
    return atomic_write(folder / FILE_NAME, feedback_page(result, config))


def feedback_page(result, config: CourseConfig) -> str:
    """The whole page for one graded submission, as one HTML string."""
    language = config.feedback_language
    title = messages.page_text(
        "title", language, assignment=config.assignment_id, student=result.submission
    )
    body = "\n".join(
        [
            _header(result, config, language),
            _advice_section(result, language),
            _checks_section(result, language),
            _choices_section(result, config, language),
            f"<footer>{_both(messages.page_text, 'footer', language)}</footer>",
        ]
    )
    return page(title=title, body=body, style=STYLE, language=language)


# --- what the reference trainer does with the student's choices ------------------


def unusable(choices: dict) -> list[str]:
    """`NAME = value` for each choice the reference trainer cannot use."""
    bad = []
    for name, _ in CHOICES:
        value = choices.get(name)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        usable = number and math.isfinite(value) and value > 0
        if name == "EPOCHS":
            usable = usable and isinstance(value, int)
        if not usable:
            bad.append(f"{name} = {'?' if value is None else value}")
    return bad


def usable_choices(choices: dict, config: CourseConfig) -> Choices:
    """The choices with EPOCHS capped at the budget; call only if `unusable` is []."""
    return Choices(
        float(choices["LEARNING_RATE"]),
        min(int(choices["EPOCHS"]), config.epoch_budget),
        float(choices["TOLERANCE"]),
    )


def seed_runs(choices: Choices, config: CourseConfig) -> SeedRuns:
    """Train from every grading seed with `choices`; judge by the course tolerance."""
    return _seed_runs(
        choices, tuple(config.grading_seeds), float(config.course_tolerance)
    )


@functools.lru_cache(maxsize=64)  # a class shares a handful of choices
def _seed_runs(choices: Choices, seeds: tuple, course_tolerance: float) -> SeedRuns:
    hidden, output = reference.starting_weights_batch(seeds)
    with np.errstate(all="ignore"):
        trained_hidden, trained_output, epochs_run = reference.train(
            reference.X,
            reference.Y,
            hidden,
            output,
            choices.learning_rate,
            choices.epochs,
            choices.tolerance,
        )
        _, outputs = reference.forward(reference.X, trained_hidden, trained_output)
        converged = reference.converged(outputs, reference.Y, course_tolerance)
        shown = slice(0, CURVE_STARTS)
        losses = loss_curves(
            hidden[shown], output[shown], choices.learning_rate, epochs_run[shown]
        )
    return SeedRuns(converged, epochs_run, losses)


def loss_curves(hidden_weights, output_weights, learning_rate, updates):
    """Per start, the mean squared error before each of its `updates` and after.

    Inputs: a batch of n starts, shapes (n, 2, 3) and (n, 3, 1); updates (n,).
    Returns shape (max(updates) + 1, n), NaN past a start's own last update.
    """
    losses = np.full((int(np.max(updates, initial=0)) + 1, len(updates)), np.nan)
    for epoch in range(losses.shape[0]):
        _, output = reference.forward(reference.X, hidden_weights, output_weights)
        error = np.mean((reference.Y - output) ** 2, axis=(-2, -1))
        losses[epoch] = np.where(epoch <= updates, error, np.nan)
        hidden_weights, output_weights = reference.train_step(
            reference.X, reference.Y, hidden_weights, output_weights, learning_rate
        )
    return losses


def seed_runs_plot(choices: Choices, config: CourseConfig) -> bytes:
    """The loss curves of `seed_runs` as PNG bytes, drawn once per set of choices."""
    return _seed_runs_plot(
        choices, tuple(config.grading_seeds), float(config.course_tolerance)
    )


@functools.lru_cache(maxsize=64)  # drawing costs more than the page around it
def _seed_runs_plot(choices: Choices, seeds: tuple, course_tolerance: float) -> bytes:
    runs = _seed_runs(choices, seeds, course_tolerance)
    # A diverging start's losses reach 1e300; matplotlib's log scale overflows
    # on them while it autoscales, before the limits below are set.
    with np.errstate(over="ignore"):
        return loss_plot(runs, choices.tolerance)


def loss_plot(runs: SeedRuns, tolerance: float) -> bytes:
    """The loss curves as PNG bytes, labelled as the reference trainer's."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    from solutions.plotting import use_korean_font

    use_korean_font()
    figure = Figure(figsize=(6.4, 3.3), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    epochs = np.arange(runs.losses.shape[0])
    for start in range(runs.losses.shape[1]):
        _plot_start(axes, epochs, runs.losses[:, start], runs.epochs_run[start], start)
    axes.axhline(tolerance**2, color="tab:red", linestyle="--", linewidth=1)
    axes.annotate(
        "TOLERANCE²",
        (1, tolerance**2),
        xycoords=("axes fraction", "data"),
        xytext=(-4, 3),
        textcoords="offset points",
        ha="right",
        color="tab:red",
        fontsize=8,
    )
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    finite = runs.losses[np.isfinite(runs.losses)]
    if finite.size:
        # A diverging start reaches 1e300 before it overflows; keep the rest legible.
        low = min(finite.min(), tolerance**2) / 3
        axes.set_ylim(low, min(finite.max() * 3, LOSS_CEILING))
    axes.set_xlabel("에포크 / epoch")
    axes.set_ylabel("평균제곱오차 / MSE")
    axes.set_title(
        "기준 학습기 + 여러분의 값 / reference trainer, your choices", fontsize=10
    )
    axes.legend(fontsize=8)
    stream = io.BytesIO()
    figure.savefig(stream, format="png", dpi=110)
    return stream.getvalue()


def _plot_start(axes, epochs, losses, epochs_run, start):
    """One start's curve; a start whose loss overflowed ends in a cross."""
    label = f"채점용 시작 가중치 {start + 1} / grading start {start + 1}"
    finite = np.isfinite(losses)
    diverged = not finite[: int(epochs_run) + 1].all()
    if diverged:
        label += " (발산 / diverged)"
    (line,) = axes.plot(
        epochs, np.where(finite, losses, np.nan), linewidth=1.4, label=label
    )
    if diverged and finite.any():
        last = np.flatnonzero(finite)[-1]
        axes.plot(last, min(losses[last], LOSS_CEILING), "x", color=line.get_color())


# --- the page's parts ------------------------------------------------------------


def _both(text, key, language, **facts) -> str:
    """`text(key, language)` escaped, the other language's beside it in small type."""
    return _pair(language, lambda lang: text(key, lang, **facts))


def _pair(language, make) -> str:
    other = "en" if language == "ko" else "ko"
    first, second = html.escape(make(language)), html.escape(make(other))
    return f'{first} <span class="other" lang="{other}">{second}</span>'


def _header(result, config, language) -> str:
    score = _both(
        messages.page_text,
        "score",
        language,
        score=result.score,
        automatic=result.automatic_max,
    )
    manual = sum(config.points[check] for check in MANUAL_CHECKS)
    later = _both(messages.page_text, "manual_later", language, points=manual)
    title = messages.page_text(
        "title", language, assignment=config.assignment_id, student=result.submission
    )
    return (
        f"<header><h1>{html.escape(title)}</h1>"
        f'<p class="score">{score}</p><p>{later}</p></header>'
    )


def _advice_section(result, language) -> str:
    """The instructor's lessons this submission earned, in the instructor's order."""
    earned = {topic: [] for topic in messages.LESSONS}
    for verdict in result.verdicts:
        for topic in verdict.lessons:
            earned[topic].append(verdict.check)
    items = []
    for topic, checks in earned.items():
        if not checks:
            continue
        tag = _lesson_tag(topic, language)
        text = _both(messages.lesson, topic, language)
        where = _where_it_showed(checks, language)
        items.append(
            f'<li id="lesson-{topic}"><b>{tag}</b>'
            f'<p>{text}</p><p class="where">{where}</p></li>'
        )
    if not items:
        return ""
    heading = _both(messages.page_text, "advice", language)
    return (
        f'<section class="advice"><h2>{heading}</h2><ul>{"".join(items)}</ul></section>'
    )


def _where_it_showed(checks, language) -> str:
    def listed(lang):
        names = ", ".join(messages.check_title(check, lang) for check in checks)
        return messages.page_text("advice_from", lang, checks=names)

    return _pair(language, listed)


def _lesson_tag(topic, language) -> str:
    number = list(messages.LESSONS).index(topic) + 1
    return _pair(
        language,
        lambda lang: messages.page_text(
            "advice_tag", lang, number=number, topic=messages.lesson_title(topic, lang)
        ),
    )


def _checks_section(result, language) -> str:
    heads = "".join(
        f"<th>{_both(messages.page_text, key, language)}</th>"
        for key in ("check", "points", "reason")
    )
    rows = "\n".join(_check_row(verdict, language) for verdict in result.verdicts)
    return (
        f"<section><h2>{_both(messages.page_text, 'checks', language)}</h2>"
        f"<table><thead><tr>{heads}</tr></thead><tbody>\n{rows}\n</tbody></table>"
        "</section>"
    )


def _check_row(verdict, language) -> str:
    mark = {"passed": "✔", "failed": "✘", "pending": "✎"}[verdict.status]
    status = _both(messages.page_text, verdict.status, language)
    scored = f"{verdict.score:g}" if verdict.status != "pending" else "–"
    sentence = _both(messages.sentence, verdict.key, language, **verdict.facts)
    tags = "".join(
        f'<a class="tag" href="#lesson-{topic}">{_lesson_tag(topic, language)}</a>'
        for topic in messages.LESSONS
        if topic in verdict.lessons
    )
    return (
        f'<tr class="{verdict.status}">'
        f"<td>{_both(messages.check_title, verdict.check, language)}</td>"
        f'<td class="points"><span class="mark">{mark}</span> '
        f"{scored} / {verdict.max_score:g}<br>"
        f'<span class="status">{status}</span></td>'
        f"<td><p>{sentence}</p>{tags}</td></tr>"
    )


def _choices_section(result, config, language) -> str:
    heading = f"<h2>{_both(messages.page_text, 'choices', language)}</h2>"
    if result.problem:
        note = _both(messages.page_text, "not_graded", language)
        return f"<section>{heading}<p>{note}</p></section>"
    parts = [heading, _choices_table(result.choices, config, language)]
    bad = unusable(result.choices)
    if bad:
        which = ", ".join(bad)
        note = _both(messages.page_text, "no_reference_run", language, which=which)
        parts.append(f"<p>{note}</p>")
    else:
        parts.append(_reference_part(result.choices, config, language))
    return "<section>" + "\n".join(parts) + "</section>"


def _choices_table(choices, config, language) -> str:
    rules = {
        "LEARNING_RATE": (
            "rule_learning_rate",
            {"step": config.learning_rate_step, "top": config.learning_rate_max},
        ),
        "EPOCHS": ("rule_epochs", {"budget": config.epoch_budget}),
        "TOLERANCE": ("rule_tolerance", {"course": config.course_tolerance}),
    }
    rows = []
    for name, _ in CHOICES:
        value = choices.get(name)
        shown = (
            _both(messages.page_text, "not_given", language)
            if value is None
            else f"<code>{html.escape(str(value))}</code>"
        )
        key, facts = rules[name]
        rule = _both(messages.page_text, key, language, **facts)
        rows.append(
            f"<tr><td><code>{name}</code></td><td>{shown}</td><td>{rule}</td></tr>"
        )
    heads = "".join(
        f"<th>{_both(messages.page_text, key, language)}</th>"
        for key in ("your_value", "course_rule")
    )
    return (
        f'<table class="choices"><thead><tr><th></th>{heads}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _reference_part(raw_choices, config, language) -> str:
    choices = usable_choices(raw_choices, config)
    runs = seed_runs(choices, config)

    def say(key, **facts):
        return _both(messages.page_text, key, language, **facts)

    lines = [f'<p class="reference">{say("reference_only")}</p>']
    if raw_choices["EPOCHS"] > config.epoch_budget:
        capped = say(
            "epochs_capped", value=raw_choices["EPOCHS"], budget=config.epoch_budget
        )
        lines.append(f"<p>{capped}</p>")
    if choices.tolerance > config.course_tolerance:
        loose = say(
            "loose_tolerance", value=choices.tolerance, course=config.course_tolerance
        )
        lines.append(f"<p>{loose}</p>")

    converged = int(runs.converged.sum())
    outcome = say(
        "converged_on",
        converged=converged,
        seeds=len(runs.converged),
        needed=config.seeds_to_pass,
        tolerance=config.course_tolerance,
    )
    lines.append(f"<p><b>{outcome}</b></p>")
    if converged:
        needed = runs.epochs_run[runs.converged]
        spread = say(
            "epochs_needed",
            low=int(needed.min()),
            median=int(np.median(needed)),
            high=int(needed.max()),
        )
        lines.append(f"<p>{spread}</p>")

    image = base64.b64encode(seed_runs_plot(choices, config)).decode("ascii")
    caption = say("curve", count=runs.losses.shape[1])
    lines.append(
        f'<figure><img alt="loss curve" src="data:image/png;base64,{image}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )
    return "\n".join(lines)


STYLE = """
body { font-family: FONT_STACK; max-width: 60rem; margin: 2rem auto;
  padding: 0 1rem; color: #1d232a; line-height: 1.55; }
h1 { font-size: 1.5rem; margin-bottom: .3rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #d6dbe0; }
.score { font-size: 1.25rem; font-weight: bold; margin: .2rem 0; }
.other { display: block; font-size: .8em; font-weight: normal; color: #5b6670; }
th .other, h2 .other, td:first-child .other { display: inline; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem;
  border-bottom: 1px solid #e4e8ec; }
th { background: #f3f5f7; font-size: .9rem; }
td p { margin: 0 0 .3rem; }
td.points { white-space: nowrap; }
.status { font-size: .8rem; color: #5b6670; }
tr.passed .mark { color: #1a7f37; }
tr.failed .mark { color: #c62828; }
tr.failed { background: #fff8f7; }
tr.pending .mark { color: #8a6d00; }
.advice { padding: .2rem 1rem .6rem; background: #fff6d6;
  border-left: 5px solid #e0a800; border-radius: 3px; }
.advice h2 { border-bottom: none; margin-top: .8rem; }
.advice ul { list-style: none; padding-left: 0; margin: 0; }
.advice li { margin-bottom: .8rem; }
.advice li p { margin: .2rem 0; }
.advice li b .other { display: inline; }
.advice .where { font-size: .85rem; color: #5b6670; }
.advice .where .other { display: inline; }
a.tag { display: inline-block; margin: .2rem 0; padding: .05rem .5rem;
  font-size: .85rem; color: #6b4f00; background: #fff0bf; border-radius: 1rem;
  text-decoration: none; }
a.tag .other { display: inline; }
.reference { padding: .45rem .7rem; background: #eef4fb;
  border-left: 4px solid #4a7fbf; border-radius: 3px; }
table.choices { width: auto; margin-bottom: 1rem; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; border: 1px solid #e4e8ec; }
figcaption { font-size: .9rem; }
footer { margin-top: 2.5rem; font-size: .85rem; color: #5b6670; }
""".replace("FONT_STACK", FONT_STACK)
