"""Batches of sample submissions for benchmarks and batch tests, none that hangs.

The reference answer's exploration cell (`compare_learning_rates(epochs=10_000,
...)`, about 2 s) is replaced by `pass` in every sample, so that a batch
measures grading rather than that one cell.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from solutions.samples import ASSIGNMENT, MISTAKES, sample_notebook

# Honest answers first; then mistakes that run quickly. random_search is left
# out: its bounded search takes seconds of student time, not grading time.
HONEST = ("reference",)
WRONG = (
    "template", "sign_error", "textbook_order", "changes_its_inputs",
    "sigmoid_twice", "numpy_bool", "counts_checks", "learning_rate_0.3",
    "learning_rate_0.25", "course_epochs_3", "epochs_over_budget",
    "loose_tolerance", "hard_coded_train", "patched_allclose_sign_error",
)  # fmt: skip
EXPLORE = "explore_code"


def quick_notebook(name: str):
    """Sample `name` with its exploration cell replaced by `pass`."""
    notebook = sample_notebook(name)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == EXPLORE:
            cell.source = "pass  # exploration left out of the benchmark batch"
    return notebook


def batch_names(count: int, honest_share: float = 0.5) -> list[tuple[str, str]]:
    """(student, sample) pairs: about `honest_share` honest, the rest mistakes."""
    pairs = []
    wrong = 0
    for number in range(count):
        if number < round(count * honest_share):
            sample = HONEST[number % len(HONEST)]
        else:
            sample = WRONG[wrong % len(WRONG)]
            wrong += 1
        pairs.append((f"s{number:03d}-{sample}", sample))
    return pairs


def write_batch(folder: Path, pairs) -> dict[str, str]:
    """Write folder/<student>/xor_backprop/xor_backprop.ipynb; student -> sample."""
    cache = {}
    for student, sample in pairs:
        if sample not in cache:
            cache[sample] = quick_notebook(sample)
        path = Path(folder) / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(cache[sample], path)
    return dict(pairs)


def expected_score(sample: str, config) -> float:
    """The automatic points sample `sample` must get, from the mistake table."""
    lost = sum(config.points[check] for check in MISTAKES[sample])
    return config.automatic_points - lost
