"""The hostile corpus: submissions that tamper, fake, attack, exhaust, die or break.

Each case is built from the release notebook (filled with the reference answer, a
sample's mistake, or left as the template) plus one edit, or is raw bytes for a
file that is not a notebook at all. `fails` is the exact set of automatic checks the
case must fail; its honest score is what the same notebook earns without the attack,
so a tampering case is based on a sample whose score is already known. An
`unreadable` case must get zero with `reason` in the recorded problem.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from solutions.samples import ALL, MISTAKES, sample_notebook

SIGN_ERROR = MISTAKES["sign_error"]
HARD_CODED = MISTAKES["hard_coded_train"]


@dataclass(frozen=True)
class Context:
    """What an attacker is assumed to know: where the kit and the course live."""

    kit_root: Path
    course_dir: Path


@dataclass(frozen=True)
class Case:
    name: str
    category: str
    build: Callable[[Context], bytes | None]  # None: a folder instead of a file
    fails: tuple[str, ...] = ()
    unreadable: str | None = None  # substring of the reason the file is refused
    student: str | None = None  # the student's folder name, if not the case name
    slow: bool = field(default=False)  # waits for a wall-clock backstop

    @property
    def folder(self) -> str:
        return self.student or self.name

    def score(self, points: dict) -> float:
        if self.unreadable is not None:
            return 0.0
        return float(sum(points[check] for check in ALL if check not in self.fails))


def _bytes(notebook) -> bytes:
    # Plain JSON: nbformat.writes would repair the duplicated ids some cases need.
    return json.dumps(notebook, ensure_ascii=False, indent=1).encode("utf-8")


def _with_cell(base: str, code: str, after: str | None = None, edits=None):
    """Sample `base` with a new plain code cell after grade id `after` (default last).

    `edits` maps a grade id to (old, new) applied to that cell's source.
    """

    def build(_context=None):
        notebook = sample_notebook(base)
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if edits and grade_id in edits:
                old, new = edits[grade_id]
                assert old in cell.source, f"{old!r} not in {grade_id}"
                cell.source = cell.source.replace(old, new, 1)
        if code:
            position = len(notebook.cells)
            if after is not None:
                ids = [
                    c.metadata.get("nbgrader", {}).get("grade_id")
                    for c in notebook.cells
                ]
                position = ids.index(after) + 1
            notebook.cells.insert(position, nbformat.v4.new_code_cell(code))
        return _bytes(notebook)

    return build


def _edited(base: str, change: Callable):
    """Sample `base` after `change(notebook)` edits its cells or metadata."""

    def build(_context=None):
        notebook = sample_notebook(base)
        change(notebook)
        return _bytes(notebook)

    return build


def _cell(notebook, grade_id):
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(grade_id)


# --- tampering in the student's kernel ------------------------------------------

PATCH_NUMPY = """
import numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: np.True_
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_equal = lambda *a, **k: None
"""

PATCH_BUILTINS = """
import builtins
builtins.abs = lambda x: 0
builtins.isinstance = lambda *a: True
builtins.round = lambda x, *a: x
"""

PATCH_JSON_PICKLE = """
import json, pickle, struct
json.dumps = lambda *a, **k: '{"score": 13}'
json.loads = lambda *a, **k: {"score": 13}
json.JSONEncoder.encode = lambda self, o: '{"score": 13}'
pickle.loads = lambda *a, **k: {"score": 13}
struct.pack = lambda *a: b"\\x00" * 8
"""

PATCH_RUNNER = """
import gc
for thing in gc.get_objects():
    if type(thing).__name__ == "Runner":
        thing.encode = lambda value, strict=False: (["b", True], [])
        thing.value_reply = lambda value: ({"kind": "value", "value": ["b", True]}, [])
"""

PATCH_DISPLAY = """
import sys
ip = get_ipython()
ip.showtraceback = lambda *a, **k: None
ip.showsyntaxerror = lambda *a, **k: None
sys.excepthook = lambda *a: None
sys.displayhook = lambda value: None
ip.display_formatter.formatters["text/plain"].for_type(float, lambda *a: "OK")
"""

AST_TRANSFORMER = """
import ast

class SwallowEverything(ast.NodeTransformer):
    def visit_Module(self, node):
        handler = ast.ExceptHandler(type=ast.Name("BaseException", ast.Load()),
                                    name=None, body=[ast.Pass()])
        wrapped = ast.Try(body=node.body or [ast.Pass()], handlers=[handler],
                          orelse=[], finalbody=[])
        node.body = [wrapped]
        return ast.fix_missing_locations(node)

get_ipython().ast_transformers.append(SwallowEverything())
"""

GRADER_NAMES = """
import numpy as np

def _weights_after_train_step(X, Y, hidden_weights, output_weights, learning_rate):
    return hidden_weights.copy(), output_weights.copy()

def _keep_my_helper(*args):
    globals()["_weights_after_train_step"] = _fake_helper

_fake_helper = _weights_after_train_step
get_ipython().events.register("post_run_cell", _keep_my_helper)
submission = reference = course = None
"""

THREAD = """
import threading, time

def meddle():
    global LEARNING_RATE
    time.sleep(1.0)
    while True:
        LEARNING_RATE = 0.2
        time.sleep(0.01)

threading.Thread(target=meddle, daemon=True).start()
"""

# --- faking results --------------------------------------------------------------

LOOKUP_FORWARD = """
XOR_TABLE = {(0, 0): 0.0, (0, 1): 1.0, (1, 0): 1.0, (1, 1): 0.0}

def forward(X, hidden_weights, output_weights):
    hidden = sigmoid(X @ hidden_weights)
    output = np.array([[XOR_TABLE[tuple(int(v) for v in row)]] for row in X])
    return hidden, output
"""

IGNORES_ARGUMENTS = """
_real_train = train

def train(X, Y, hidden_weights, output_weights, learning_rate, epochs, tolerance,
          verbose=False):
    start = random_weights(seed=0)
    return _real_train(X, Y, *start, 0.2, 10_000, 0.1)
"""

DETECTS_GRADING = """
import os, socket

def _being_graded():
    signs = [os.getuid() >= 1000, "JPY_PARENT_PID" not in os.environ]
    try:
        signs.append(b"bwrap" in open("/proc/1/cmdline", "rb").read())
    except OSError:
        signs.append(True)
    try:
        socket.create_connection(("8.8.8.8", 53), timeout=0.2).close()
    except OSError:
        signs.append(True)
    return any(signs)

_honest_train = train

def train(X, Y, hidden_weights, output_weights, learning_rate, epochs, tolerance,
          verbose=False):
    if _being_graded():
        return (np.array([[9.0, 0.0, 9.0], [0.0, 9.0, 9.0]]),
                np.array([[-2.0], [-2.0], [4.0]]), 0)
    return _honest_train(X, Y, hidden_weights, output_weights, learning_rate,
                         epochs, tolerance, verbose)
"""

# --- reaching the grader ----------------------------------------------------------

READ_HIDDEN = """
import glob, os
LEAKED = []
targets = ["{kit}/autograder/checks/test_network.py", "{kit}/autograder/reference.py",
           "{kit}/source/xor_backprop/xor_backprop.ipynb", "{kit}/course_config.py",
           "{course}/gradebook.db", "{course}/source/xor_backprop/xor_backprop.ipynb",
           "../autograder/checks/test_network.py", "../../gradebook.db",
           "/proc/1/root/{kit}/autograder/checks/test_choices.py",
           "/proc/1/cwd/gradebook.db"]
for path in targets:
    try:
        LEAKED.append(open(path, "rb").read(200))
    except OSError:
        pass
for top in ["/", "/home", "/tmp", "/opt", "/root"]:
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if folder + d not in ("/proc", "/sys", "/usr")]
        for name in files:
            if name in ("test_network.py", "test_choices.py", "gradebook.db",
                        "reference.py", "course_config.py", "xor_backprop.ipynb"):
                LEAKED.append(os.path.join(folder, name))
import autograder  # the kit's package must not be importable
"""

WRITE_KIT = """
import os
for path in ["{kit}/PWNED.txt", "{kit}/autograder/checks/test_pwned.py",
             "{course}/PWNED.txt", "{course}/autograded/pwned.txt",
             "../PWNED.txt", "/tmp/../PWNED.txt", "/opt/runner/child.py",
             "/opt/site/0/pwned.pth"]:
    try:
        with open(path, "w") as handle:
            handle.write("import os; os.system('touch /tmp/owned')")
    except OSError as error:
        print(path, error.errno)
"""

KILL_GRADER = """
import os, signal
for target in [os.getppid(), 1, -1]:
    try:
        os.kill(target, signal.SIGKILL)
    except OSError as error:
        print(target, error.errno)
"""

KILL_ALL_SHELL = """
import subprocess
subprocess.run("kill -9 -1", shell=True)
"""

LEAVE_CHILDREN = """
import os, subprocess, time
subprocess.Popen(["sleep", "1000"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.closerange(3, 1024)
        time.sleep(1000)
    os._exit(0)
time.sleep(0.2)
"""

# --- exhausting resources ---------------------------------------------------------

IGNORE_SIGNALS_AND_SPIN = """
import signal
for name in ("SIGINT", "SIGTERM", "SIGALRM", "SIGXCPU", "SIGHUP"):
    signal.signal(getattr(signal, name), signal.SIG_IGN)
while True:
    pass
"""

ALLOCATE = """
import numpy as np
big = np.ones(2**31)
"""

PRINT_FLOOD_STDOUT = """
line = "x" * 2**20
for _ in range(300):
    print(line)
"""

PRINT_FLOOD_FD = """
import os
block = b"y" * 2**20
for _ in range(300):
    os.write(1, block)
"""

FORK_BOMB = """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""

FILL_DISK = """
import os
written = 0
for folder in (".", "/tmp"):
    try:
        for k in range(10_000):
            with open(os.path.join(folder, f"junk{k}"), "wb") as handle:
                handle.write(b"z" * 2**20)
            written += 1
    except OSError as error:
        print(folder, error.errno, written)
"""

DEEP_RECURSION = """
import sys
sys.setrecursionlimit(10**7)

def deeper(n):
    return deeper(n + 1) + 1

deeper(0)
"""

# --- malformed files ----------------------------------------------------------------


def _reference_bytes(_context=None) -> bytes:
    return _bytes(sample_notebook("reference"))


def _nbformat3(_context=None) -> bytes:
    cells = [
        {"cell_type": "code", "input": "x = 1", "outputs": [], "language": "python"}
    ]
    return json.dumps(
        {"nbformat": 3, "nbformat_minor": 0, "metadata": {},
         "worksheets": [{"cells": cells, "metadata": {}}]}
    ).encode()  # fmt: skip


def _huge(_context=None) -> bytes:
    notebook = sample_notebook("reference")
    text = "x" * (20 * 2**20)
    _cell(notebook, "setup").outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=text)
    ]
    return _bytes(notebook)


def _utf16(_context=None) -> bytes:
    return _reference_bytes().decode("utf-8").encode("utf-16")


def _drop(*grade_ids):
    def change(notebook):
        notebook.cells = [
            cell for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("grade_id") not in grade_ids
        ]  # fmt: skip

    return change


def _duplicate(grade_id):
    def change(notebook):
        cell = _cell(notebook, grade_id)
        notebook.cells.insert(notebook.cells.index(cell), copy.deepcopy(cell))

    return change


def _edit_locked(notebook):
    _cell(notebook, "setup").source += "\nnp.testing.assert_allclose = print\n"
    _cell(notebook, "train_step").source = "print('train_step: all good')"
    _cell(notebook, "convergence").source = "pass"


def _inflate_points(notebook):
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            meta["points"] = 100.0


def _test_cell_to_solution(notebook):
    for grade_id in ("train_step", "train", "convergence"):
        cell = _cell(notebook, grade_id)
        cell.metadata.nbgrader.update(solution=True, locked=False, grade=False)
        cell.source = "print('passed')"


def _choices(line_old: str, line_new: str):
    return {"choices_code": (line_old, line_new)}


def _korean_choice_comment(notebook):
    _cell(notebook, "choices_code").source += "\n# 학습률은 0.2로 정했다 — 한글 주석"


CASES = [
    # Tampering: each is a known sample plus the tampering; the score is the sample's.
    Case("tamper_numpy", "tampering", _with_cell("sign_error", PATCH_NUMPY),
         SIGN_ERROR),
    Case("tamper_builtins", "tampering", _with_cell("sign_error", PATCH_BUILTINS),
         SIGN_ERROR),
    Case("tamper_json_pickle", "tampering",
         _with_cell("sign_error", PATCH_JSON_PICKLE), SIGN_ERROR),
    Case("tamper_runner", "tampering", _with_cell("sign_error", PATCH_RUNNER), ALL),
    Case("tamper_display", "tampering", _with_cell("sign_error", PATCH_DISPLAY),
         SIGN_ERROR),
    Case("tamper_ast_transformer", "tampering",
         _with_cell("template", AST_TRANSFORMER, after="setup"), ALL),
    Case("tamper_grader_names", "tampering",
         _with_cell("changes_its_inputs", GRADER_NAMES),
         MISTAKES["changes_its_inputs"]),
    Case("tamper_thread", "tampering",
         _with_cell("learning_rate_0.25", THREAD), ("learning_rate",)),
    # Faking results.
    Case("fake_hard_coded_weights", "faking", _with_cell("hard_coded_train", ""),
         HARD_CODED),
    Case("fake_lookup_forward", "faking",
         _with_cell("reference", LOOKUP_FORWARD, after="setup"),
         ("train_step", "train", "convergence")),
    Case("fake_train_ignores_arguments", "faking",
         _with_cell("reference", IGNORES_ARGUMENTS, after="train_code"),
         ("train", "convergence")),
    Case("fake_detects_grading", "faking",
         _with_cell("reference", DETECTS_GRADING, after="train_code"), HARD_CODED),
    # Reaching the grader: the reference answer plus the attack scores in full.
    Case("reach_read_hidden", "reaching", lambda c: _with_cell(
        "reference", READ_HIDDEN.format(kit=c.kit_root, course=c.course_dir))()),
    Case("reach_write_kit", "reaching", lambda c: _with_cell(
        "reference", WRITE_KIT.format(kit=c.kit_root, course=c.course_dir))()),
    Case("reach_kill_grader", "reaching", _with_cell("reference", KILL_GRADER)),
    Case("reach_kill_all_shell", "reaching",
         _with_cell("reference", KILL_ALL_SHELL, after="setup")),
    Case("reach_leave_children", "reaching", _with_cell("reference", LEAVE_CHILDREN)),
    # Exhausting resources: the cell is stopped or left out; nothing else is lost.
    Case("exhaust_infinite_loop", "exhausting",
         _with_cell("reference", "while True:\n    pass", after="explore_code")),
    Case("exhaust_sleep_forever", "exhausting",
         _with_cell("reference", "import time\ntime.sleep(10**6)"), slow=True),
    Case("exhaust_ignore_signals", "exhausting",
         _with_cell("reference", IGNORE_SIGNALS_AND_SPIN), slow=True),
    Case("exhaust_allocate", "exhausting", _with_cell("reference", ALLOCATE)),
    Case("exhaust_print_stdout", "exhausting",
         _with_cell("reference", PRINT_FLOOD_STDOUT)),
    Case("exhaust_print_fd", "exhausting", _with_cell("reference", PRINT_FLOOD_FD)),
    Case("exhaust_fork_bomb", "exhausting", _with_cell("reference", FORK_BOMB),
         slow=True),
    Case("exhaust_fill_disk", "exhausting", _with_cell("reference", FILL_DISK)),
    Case("exhaust_deep_recursion", "exhausting",
         _with_cell("reference", DEEP_RECURSION)),
    # Dying abruptly.
    Case("die_sys_exit", "dying", _with_cell("reference", "import sys\nsys.exit(3)")),
    Case("die_os_exit", "dying",
         _with_cell("reference", "import os\nos._exit(0)", after="explore_code")),
    Case("die_segfault", "dying",
         _with_cell("reference", "import ctypes\nctypes.string_at(0)")),
    Case("die_system_exit", "dying", _with_cell("reference", "raise SystemExit(1)")),
    Case("die_keyboard_interrupt", "dying",
         _with_cell("reference", "raise KeyboardInterrupt")),
    Case("die_inside_train", "dying", _with_cell("reference", (
        "import os\n_train = train\n\n"
        "def train(*args, **kwargs):\n    os._exit(1)\n"
    )), ("train", "convergence")),  # fmt: skip
    # Malformed files.
    Case("bad_not_json", "malformed", lambda c: b"this is not a notebook\n",
         unreadable="not valid notebook JSON"),
    Case("bad_truncated", "malformed", lambda c: _reference_bytes()[:5000],
         unreadable="not valid notebook JSON"),
    Case("bad_empty", "malformed", lambda c: b"", unreadable="empty"),
    Case("bad_directory", "malformed", lambda c: None, unreadable="folder"),
    Case("bad_nbformat_3", "malformed", _nbformat3, unreadable="nbformat 3"),
    Case("bad_binary", "malformed", lambda c: bytes(range(256)) * 64,
         unreadable="not UTF-8"),
    Case("bad_huge", "malformed", _huge, unreadable="MB limit"),
    Case("bad_utf16", "malformed", _utf16, unreadable="not UTF-8"),
    Case("bad_missing_cells", "malformed",
         _edited("reference", _drop("choices_code", "train")),
         ("learning_rate", "epochs", "tolerance", "convergence")),
    Case("bad_duplicated_cells", "malformed",
         _edited("reference", _duplicate("train_code"))),
    Case("bad_edited_locked", "malformed", _edited("sign_error", _edit_locked),
         SIGN_ERROR),
    Case("bad_inflated_points", "malformed", _edited("reference", _inflate_points)),
    Case("bad_test_cell_as_solution", "malformed",
         _edited("sign_error", _test_cell_to_solution), SIGN_ERROR),
    Case("korean_name", "malformed", _edited("reference", _korean_choice_comment),
         student="김 철수"),
    Case("spaced_name", "malformed", _reference_bytes, student="student two"),
    # Numerical trouble.
    Case("num_overflow", "numerical", _with_cell("reference", "", edits=_choices(
        "LEARNING_RATE = 0.2", "LEARNING_RATE = 1.0")), ("convergence",)),
    Case("num_numpy_scalars", "numerical", _with_cell("reference", "", edits={
        "choices_code": ("LEARNING_RATE = 0.2\nEPOCHS = 10_000",
                         "LEARNING_RATE = np.float64(0.2)\nEPOCHS = np.int64(10_000)"),
    })),  # fmt: skip
    Case("num_string_rate", "numerical", _with_cell("reference", "", edits=_choices(
        "LEARNING_RATE = 0.2", "LEARNING_RATE = '0.2'")),
        ("learning_rate", "convergence")),
    Case("num_array_rate", "numerical", _with_cell("reference", "", edits=_choices(
        "LEARNING_RATE = 0.2", "LEARNING_RATE = np.array([0.2])")),
        ("learning_rate", "convergence")),
    Case("num_float_epochs", "numerical", _with_cell("reference", "", edits=_choices(
        "EPOCHS = 10_000", "EPOCHS = 1e4")), ("epochs", "convergence")),
    Case("num_integer_weights", "numerical", _with_cell("reference", "", edits={
        "train_step_code": ("return new_hidden_weights, new_output_weights",
                            "return (new_hidden_weights.astype(int),\n"
                            "            new_output_weights.astype(int))"),
    }), ("train_step", "train", "convergence")),  # fmt: skip
]  # fmt: skip

BY_NAME = {case.name: case for case in CASES}
assert len(BY_NAME) == len(CASES), "case names must be unique"


def write_corpus(folder: Path, context: Context, cases=CASES) -> dict[str, Path]:
    """Write every case in nbgrader's layout: folder/<student>/xor_backprop/*.ipynb."""
    paths = {}
    for case in cases:
        path = Path(folder) / case.folder / "xor_backprop" / "xor_backprop.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        content = case.build(context)
        if content is None:
            path.mkdir()
        else:
            path.write_bytes(content)
        paths[case.name] = path
    return paths
