"""A stock nbgrader course for the benchmark: the kit's checks as inline hidden tests.

This is how a course without the kit would grade the exercise: the hidden tests
sit in the notebook's test cells between `### BEGIN HIDDEN TESTS` markers and run
in the student's own kernel under nbgrader's stock settings. They follow the
kit's checks (same inputs, tolerances and grading seeds), so that an honest
submission gets the same points either way.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from autograder.course import nbgrader

HELPERS = """
import numpy as _np

def _ref_sigmoid(x):
    with _np.errstate(over="ignore"):
        return 1.0 / (1.0 + _np.exp(-x))

def _ref_step(X, Y, hidden_weights, output_weights, learning_rate):
    hidden = _ref_sigmoid(X @ hidden_weights)
    delta_output = (Y - hidden @ output_weights) * learning_rate
    output_weights = output_weights + hidden.T @ delta_output
    delta_hidden = delta_output @ output_weights.T * hidden * (1 - hidden)
    return hidden_weights + X.T @ delta_hidden, output_weights

def _ref_train(X, Y, hidden_weights, output_weights, learning_rate, epochs, tolerance):
    run = 0
    for _ in range(epochs):
        output = _ref_sigmoid(X @ hidden_weights) @ output_weights
        if _np.all(_np.abs(output - Y) < tolerance):
            break
        hidden_weights, output_weights = _ref_step(
            X, Y, hidden_weights, output_weights, learning_rate)
        run += 1
    return hidden_weights, output_weights, run

def _ref_start(seed):
    rng = _np.random.default_rng(seed)
    return rng.uniform(size=(2, 3)), rng.uniform(size=(3, 1))

def _ref_close(got, want, tolerance):
    got = _np.asarray(got, float)
    assert got.shape == _np.shape(want), "wrong shape"
    assert _np.all(_np.abs(got - want) <= tolerance * (1 + _np.abs(want))), "values"

_RX = _np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
_RY = _np.array([[0], [1], [1], [0]], dtype=float)
"""

HIDDEN = {
    "sigmoid_derivative": """
_a = _ref_sigmoid(_np.array([[-40.0, -3.0, 0.0], [0.7, 3.0, 35.0]]))
_a = _np.concatenate([_a, [[0.0, 0.25, 1.0]]])
_ref_close(sigmoid_derivative(_a.copy()), _a * (1 - _a), 1e-12)
""",
    "train_step": """
for _seed, _rate, _integers in [(11, 0.1, True), (12, 0.3, False), (13, 0.7, True)]:
    _h, _o = _ref_start(1000 + _seed)
    _h = _h * 2 - 0.5
    _x = _RX.astype(_np.int64) if _integers else _RX
    _got = train_step(_x, _RY, _h.copy(), _o.copy(), _rate)
    _want = _ref_step(_RX, _RY, _h, _o, _rate)
    _ref_close(_got[1], _want[1], 1e-9)
    _ref_close(_got[0], _want[0], 1e-9)
""",
    "train_step_keeps_inputs": """
_h, _o = _ref_start(2024)
_h2, _o2 = _h.copy(), _o.copy()
train_step(_RX, _RY, _h2, _o2, 0.1)
assert _np.array_equal(_h, _h2) and _np.array_equal(_o, _o2)
""",
    "has_converged": """
_e = 2.0**-3
_nan = _RY + 0.01
_nan[2, 0] = _np.nan
_off = _RY + 0.01
_off[1, 0] = 1.3
for _out, _tol, _want in [(_RY + 0.01, 0.1, True), (_off, 0.1, False),
                          (_RY + _e, _e, False), (_RY - _e / 2, _e, True),
                          (_nan, 0.1, False)]:
    assert has_converged(_out, _RY, _tol) is _want
""",
    "train": """
_cases = [(_ref_start(3031), 0.2, 4000), (_ref_start(3032), 0.1, 40),
          (_ref_start(3033), 0.2, 0),
          ((_np.array([[9.0, 0, 9], [0, 9, 9]]), _np.array([[-2.0], [-2.0], [4.0]])),
           0.2, 100)]
for (_h, _o), _rate, _epochs in _cases:
    _got = train(_RX, _RY, _h.copy(), _o.copy(), _rate, _epochs, 0.1)
    _want = _ref_train(_RX, _RY, _h, _o, _rate, _epochs, 0.1)
    assert isinstance(_got[2], (int, _np.integer)) and _got[2] == _want[2]
    _ref_close(_got[0], _want[0], 1e-8)
    _ref_close(_got[1], _want[1], 1e-8)
""",
    "learning_rate": """
assert isinstance(LEARNING_RATE, (int, float)) and not isinstance(LEARNING_RATE, bool)
assert 0 < LEARNING_RATE <= 1 + 1e-12
assert abs(LEARNING_RATE / 0.1 - round(LEARNING_RATE / 0.1)) < 1e-9
""",
    "epochs": """
assert isinstance(EPOCHS, (int, _np.integer)) and not isinstance(EPOCHS, bool)
assert 1 <= EPOCHS <= 10_000
""",
    "tolerance": """
assert isinstance(TOLERANCE, (int, float)) and 0 < TOLERANCE <= 0.1
""",
    "convergence": """
_passed = 0
for _seed in range(20):
    _h, _o = _ref_start(_seed)
    _got = train(_RX, _RY, _h.copy(), _o.copy(), float(LEARNING_RATE),
                 min(int(EPOCHS), 10_000), float(TOLERANCE))
    _want = _ref_train(_RX, _RY, _h, _o, float(LEARNING_RATE), _got[2], 0.0)
    _out = _ref_sigmoid(_RX @ _got[0]) @ _got[1]
    _on_path = (_np.allclose(_got[0], _want[0], rtol=0, atol=1e-6)
                and _np.allclose(_got[1], _want[1], rtol=0, atol=1e-6))
    _passed += bool(_on_path and _np.all(_np.abs(_out - _RY) < 0.1))
assert _passed >= 17, f"converged on {_passed} of 20 grading seeds"
""",
}

CONFIG = """c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "bench-stock"
c.ExecutePreprocessor.timeout = {timeout}
"""


def hidden_block(grade_id: str, first: bool) -> str:
    body = (HELPERS if first else "") + HIDDEN[grade_id]
    return f"### BEGIN HIDDEN TESTS\n{body.strip()}\n### END HIDDEN TESTS\n"


def stock_source(kit_source: Path):
    """The kit's source notebook with each check written into its test cell."""
    notebook = nbformat.read(kit_source, as_version=4)
    first = True
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if cell.cell_type == "code" and meta.get("grade") and grade_id in HIDDEN:
            # Hidden first: the public part may raise and must not hide them.
            cell.source = hidden_block(grade_id, first) + "\n" + cell.source
            first = False
    return notebook


def make_course(folder: Path, kit_source: Path, assignment: str, timeout: float):
    """A stock nbgrader course in `folder`, its assignment generated, no kit in it."""
    shutil.rmtree(folder, ignore_errors=True)
    source = folder / "source" / assignment
    source.mkdir(parents=True)
    nbformat.write(stock_source(kit_source), source / f"{assignment}.ipynb")
    (folder / "nbgrader_config.py").write_text(CONFIG.format(timeout=int(timeout)))
    nbgrader(["generate_assignment", assignment, "--force"], folder)
    return folder
