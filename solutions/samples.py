"""Sample submissions, generated from the released notebook: the reference answer,
the untouched template, the random-search answer and the typical mistakes.

Each sample is the release with its solution cells filled in, the way a student
would fill them. `MISTAKES` says which checks each sample must fail; the kit's
tests and `make demo` both use it.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

KIT_ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "xor_backprop"
SOURCE = KIT_ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
RELEASE = KIT_ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"

_REGION = re.compile(r"[ \t]*### BEGIN SOLUTION\n(.*?)[ \t]*### END SOLUTION\n?", re.S)

RANDOM_SEARCH_CHOICES = """
import random

# The random-search answer: draw epochs and a learning rate until one start
# converges (bounded here so that it always ends).
TOLERANCE = 0.1
for trial in range(200):
    EPOCHS = random.randrange(0, 10_001)
    LEARNING_RATE = random.uniform(0, 1)
    hidden_weights = np.random.uniform(size=(INPUT_SIZE, HIDDEN_SIZE))
    output_weights = np.random.uniform(size=(HIDDEN_SIZE, OUTPUT_SIZE))
    with np.errstate(all="ignore"):
        hidden_weights, output_weights, _ = train(
            X, Y, hidden_weights, output_weights, LEARNING_RATE, EPOCHS, TOLERANCE
        )
        _, output = forward(X, hidden_weights, output_weights)
    if has_converged(output, Y, TOLERANCE):
        break
print(hidden_weights, output_weights, output, EPOCHS, LEARNING_RATE, sep="\\n")
"""

WRITTEN_DIFFERENTLY = {
    "sigmoid_derivative_code": """
def sigmoid_derivative(activation):
    slope = activation - activation**2
    return slope
""",
    "train_step_code": """
def stable_sigmoid(x):
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    positive = x >= 0
    out[positive] = 1 / (1 + np.exp(-x[positive]))
    exp_x = np.exp(x[~positive])
    out[~positive] = exp_x / (1 + exp_x)
    return out


def train_step(X, Y, hidden_weights, output_weights, learning_rate):
    hidden = stable_sigmoid(np.dot(X, hidden_weights))
    output = np.dot(hidden, output_weights)
    dZ = (Y - output) * learning_rate
    new_output_weights = output_weights.copy()
    new_output_weights += np.dot(hidden.T, dZ)
    dH = np.dot(dZ, new_output_weights.T) * sigmoid_derivative(hidden)
    new_hidden_weights = hidden_weights.copy()
    new_hidden_weights += np.dot(X.T, dH)
    return new_hidden_weights, new_output_weights
""",
    "has_converged_code": """
def has_converged(output, Y, tolerance):
    worst = np.max(np.abs(np.asarray(output) - Y))
    return bool(worst < tolerance)
""",
    "train_code": """
def train(X, Y, hidden_weights, output_weights, learning_rate, epochs, tolerance,
          verbose=False):
    epochs_run = 0
    while epochs_run < epochs:
        _, output = forward(X, hidden_weights, output_weights)
        if has_converged(output, Y, tolerance):
            break
        hidden_weights, output_weights = train_step(
            X, Y, hidden_weights, output_weights, learning_rate
        )
        epochs_run = epochs_run + 1
    return hidden_weights, output_weights, epochs_run
""",
    "choices_code": """
LEARNING_RATE = 0.7 - 0.5
EPOCHS = 10**4
TOLERANCE = 0.05
""",
}

# sample -> {grade id of a solution cell: (text in the reference, replacement)}
# (None, text) replaces the whole answer.
EDITS = {
    "reference": {},
    "written_differently": {
        grade_id: (None, code) for grade_id, code in WRITTEN_DIFFERENTLY.items()
    },
    "random_search": {
        "explore_code": ("compare_learning_rates(", "pass  # compare_learning_rates("),
        "choices_code": (None, RANDOM_SEARCH_CHOICES),
    },
    "sign_error": {
        "train_step_code": ("output_weights + hidden.T", "output_weights - hidden.T"),
    },
    "textbook_order": {
        "train_step_code": (
            "delta_output @ new_output_weights.T",
            "delta_output @ output_weights.T",
        ),
    },  # fmt: skip
    "changes_its_inputs": {
        "train_step_code": (
            "new_output_weights = output_weights + hidden.T @ delta_output",
            "output_weights += hidden.T @ delta_output\n"
            "    new_output_weights = output_weights",
        ),
    },
    "sigmoid_twice": {
        "sigmoid_derivative_code": (
            "activation * (1 - activation)",
            "sigmoid(activation) * (1 - sigmoid(activation))",
        ),
    },  # fmt: skip
    "numpy_bool": {
        "has_converged_code": ("bool(np.all(", "(np.all("),
    },
    "counts_checks": {
        "train_code": (
            "    epochs_run = 0\n",
            "    epochs_run = 0\n"
            "    epochs_run += 1  # counts the check before the loop\n",
        ),
    },  # fmt: skip
    "learning_rate_0.3": {
        "choices_code": ("LEARNING_RATE = 0.2", "LEARNING_RATE = 0.3")
    },
    "learning_rate_0.25": {
        "choices_code": ("LEARNING_RATE = 0.2", "LEARNING_RATE = 0.25")
    },
    "course_epochs_3": {"choices_code": ("EPOCHS = 10_000", "EPOCHS = 3")},
    "epochs_over_budget": {"choices_code": ("EPOCHS = 10_000", "EPOCHS = 20_000")},
    "loose_tolerance": {"choices_code": ("TOLERANCE = 0.1", "TOLERANCE = 0.2")},
    "hard_coded_train": {
        "train_code": (
            "    epochs_run = 0\n",
            "    hidden_weights = np.array([[9.0, 0.0, 9.0], [0.0, 9.0, 9.0]])\n"
            "    output_weights = np.array([[-2.0], [-2.0], [4.0]])\n"
            "    return hidden_weights, output_weights, 0\n"
            "    epochs_run = 0\n",
        ),
    },
    "patched_allclose_sign_error": {
        "train_step_code": ("output_weights + hidden.T", "output_weights - hidden.T"),
        "choices_code": (
            "LEARNING_RATE = 0.2",
            "np.allclose = lambda *a, **k: True\n"
            "np.testing.assert_allclose = lambda *a, **k: None\n"
            "LEARNING_RATE = 0.2",
        ),
    },  # fmt: skip
}

ALL = ("sigmoid_derivative", "train_step", "train_step_keeps_inputs",
       "has_converged", "train", "learning_rate", "epochs", "tolerance",
       "convergence")  # fmt: skip

# sample -> the automatic checks it must fail; every other check must pass.
MISTAKES = {
    "reference": (),
    "written_differently": (),
    "template": ALL,
    "random_search": ("learning_rate", "epochs", "convergence"),
    "sign_error": ("train_step", "train", "convergence"),
    "textbook_order": ("train_step", "train", "convergence"),
    "changes_its_inputs": ("train_step_keeps_inputs",),
    "sigmoid_twice": ("sigmoid_derivative", "train_step", "train", "convergence"),
    "numpy_bool": ("has_converged",),
    "counts_checks": ("train", "convergence"),
    "learning_rate_0.3": ("convergence",),
    "learning_rate_0.25": ("learning_rate",),
    "course_epochs_3": ("convergence",),
    "epochs_over_budget": ("epochs",),
    "loose_tolerance": ("tolerance", "convergence"),
    "hard_coded_train": ("train", "convergence"),
    "patched_allclose_sign_error": ("train_step", "train", "convergence"),
}


def reference_answers() -> dict[str, str]:
    """grade id -> the reference answer for every solution cell, written answer too."""
    source = nbformat.read(SOURCE, as_version=4)
    answers = {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            answers[meta["grade_id"]] = _REGION.sub(r"\1", cell.source)
    return answers


def sample_notebook(name: str):
    """The release notebook filled in as sample `name` would fill it."""
    notebook = nbformat.read(RELEASE, as_version=4)
    if name == "template":
        return notebook
    answers = reference_answers()
    for grade_id, (old, new) in EDITS[name].items():
        if old is None:
            answers[grade_id] = new.strip("\n")
            continue
        if old not in answers[grade_id]:
            raise ValueError(f"sample {name}: {old!r} is not in {grade_id}")
        answers[grade_id] = answers[grade_id].replace(old, new, 1)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def write_samples(folder: Path, names=None) -> list[Path]:
    """Write samples in nbgrader's layout: folder/<name>/xor_backprop/*.ipynb."""
    paths = []
    for name in names or MISTAKES:
        path = Path(folder) / name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(sample_notebook(name), path)
        paths.append(path)
    return paths
