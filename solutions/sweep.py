"""How often each learning rate on the 0.1 grid converges, and how many epochs it needs.

Run `python -m solutions.sweep [--starts N] [--out PATH]` from the repository root.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from autograder import config, reference
from solutions.plotting import use_korean_font

DEFAULT_STARTS = 1000
DEFAULT_OUT = Path(__file__).resolve().parent / "sweep.png"


@dataclass(frozen=True, eq=False)
class SweepRow:
    """One learning rate: how many of the starts converged, and after how many epochs.

    `epochs_needed` holds, for the converged starts only, the number of updates
    `reference.train` makes before it stops; shape (converged,).
    """

    learning_rate: float
    starts: int
    epochs_needed: np.ndarray

    @property
    def converged(self) -> int:
        return int(self.epochs_needed.size)

    @property
    def fraction_converged(self) -> float:
        return self.converged / self.starts

    def percentile(self, q: float) -> float:
        """Epochs needed at the q-th percentile of the converged starts; NaN if none."""
        if self.converged == 0:
            return float("nan")
        return float(np.percentile(self.epochs_needed, q))


def epochs_needed(hidden_weights, output_weights, learning_rate, epochs, tolerance):
    """Per start, the updates `reference.train` makes before it stops, or -1 if never.

    The stopping rule is `reference.train`'s: check before each update, stop once
    every output is within tolerance. Only the starts still training are stepped,
    and a start whose output is NaN is dropped: a NaN spreads to every weight at
    the next update and stays there, so it can never converge.
    """
    result = np.full(hidden_weights.shape[0], -1, dtype=np.int64)
    index = np.arange(hidden_weights.shape[0])

    for epoch in range(int(epochs)):
        _, output = reference.forward(reference.X, hidden_weights, output_weights)
        done = reference.converged(output, reference.Y, tolerance)
        lost = np.isnan(output).any(axis=(-2, -1))
        if done.any() or lost.any():
            result[index[done]] = epoch
            keep = ~(done | lost)
            index = index[keep]
            hidden_weights, output_weights = hidden_weights[keep], output_weights[keep]
            if index.size == 0:
                return result
        hidden_weights, output_weights = reference.train_step(
            reference.X, reference.Y, hidden_weights, output_weights, learning_rate
        )

    _, output = reference.forward(reference.X, hidden_weights, output_weights)
    result[index[reference.converged(output, reference.Y, tolerance)]] = epochs
    return result


def sweep(learning_rates, starts, epochs, tolerance) -> list[SweepRow]:
    """Train starts 0..starts-1 once per learning rate; one SweepRow per rate."""
    hidden_weights, output_weights = reference.starting_weights_batch(range(starts))
    rows = []
    for learning_rate in learning_rates:
        needed = epochs_needed(
            hidden_weights, output_weights, learning_rate, epochs, tolerance
        )
        rows.append(SweepRow(float(learning_rate), int(starts), needed[needed >= 0]))
    return rows


def format_table(rows: list[SweepRow]) -> str:
    """The sweep as a fixed-width text table, one learning rate a line."""
    lines = [
        "learning_rate  converged  fraction  median_epochs  p99_epochs",
    ]
    for row in rows:
        median, p99 = row.percentile(50), row.percentile(99)
        lines.append(
            f"{row.learning_rate:>13.1f}  {row.converged:>4d}/{row.starts:<4d}"
            f"  {row.fraction_converged:>8.3f}  {_epochs(median):>13}"
            f"  {_epochs(p99):>10}"
        )
    return "\n".join(lines)


def _epochs(value: float) -> str:
    return "-" if np.isnan(value) else f"{value:,.0f}"


def plot(rows: list[SweepRow], epochs: int, tolerance: float, path: Path) -> Path:
    """Save the two-panel figure: fraction converged, and epochs needed, per rate."""
    use_korean_font()
    figure = Figure(figsize=(11, 4.8), layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)
    labels = [f"{row.learning_rate:.1f}" for row in rows]

    _plot_fractions(left, rows, labels)
    _plot_epochs(right, rows, labels, epochs)

    starts = rows[0].starts if rows else 0
    figure.suptitle(
        f"XOR 2-3-1: 학습률별 수렴 / convergence per learning rate\n"
        f"시작 가중치 {starts:,}개, epoch 예산 {epochs:,}, 허용 오차 {tolerance:g} / "
        f"{starts:,} starts, epoch budget {epochs:,}, tolerance {tolerance:g}"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    return path


def _plot_fractions(axes, rows, labels):
    fractions = [row.fraction_converged for row in rows]
    bars = axes.bar(labels, fractions, color="tab:blue")
    axes.bar_label(bars, labels=[f"{f:.1%}" for f in fractions], fontsize=8)
    axes.set_ylim(0, 1.1)
    axes.set_title("수렴한 비율 / fraction converged")
    axes.set_xlabel("학습률 / learning rate")
    axes.set_ylabel("수렴한 시작점의 비율 / fraction of starts")


def _plot_epochs(axes, rows, labels, epochs):
    positions = [i for i, row in enumerate(rows) if row.converged]
    axes.boxplot(
        [rows[i].epochs_needed for i in positions],
        positions=positions,
        whis=(1, 99),
        flierprops={"markersize": 2, "alpha": 0.4},
    )
    for i, row in enumerate(rows):
        if not row.converged:
            axes.text(i, epochs * 0.03, "없음\nnone", ha="center", fontsize=8)
    axes.axhline(epochs, color="tab:red", linestyle="--", linewidth=1)
    axes.annotate(
        "epoch 예산 / budget",
        (len(rows) - 0.5, epochs),
        xytext=(0, 3),
        textcoords="offset points",
        color="tab:red",
        ha="right",
        va="bottom",
        fontsize=8,
    )
    axes.set_xticks(range(len(rows)), labels)
    axes.set_xlim(-0.6, len(rows) - 0.4)
    axes.set_ylim(0, epochs * 1.08)
    axes.set_title(
        "필요한 epoch (수렴한 시작점, 수염 1–99%)\nepochs needed "
        "(converged starts, whiskers 1st–99th pct)"
    )
    axes.set_xlabel("학습률 / learning rate")
    axes.set_ylabel("epoch")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--starts",
        type=int,
        default=DEFAULT_STARTS,
        help=f"starting weights per learning rate, seeds 0..N-1 "
        f"(default {DEFAULT_STARTS})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="where to save the figure (default solutions/sweep.png)",
    )
    args = parser.parse_args(argv)
    if args.starts < 1:
        parser.error(f"--starts must be at least 1, got {args.starts}")

    course = config.load()
    began = time.perf_counter()
    rows = sweep(
        course.learning_rate_grid,
        args.starts,
        course.epoch_budget,
        course.course_tolerance,
    )
    seconds = time.perf_counter() - began

    print(
        f"{args.starts:,} starts per learning rate, epoch budget "
        f"{course.epoch_budget:,}, tolerance {course.course_tolerance:g}"
    )
    print(format_table(rows))
    print(
        f"swept in {seconds:.1f} s; figure saved to "
        f"{plot(rows, course.epoch_budget, course.course_tolerance, args.out)}"
    )


if __name__ == "__main__":
    main()
