"""Tests of the sandbox that runs a submission's cells and calls into it."""

from __future__ import annotations

import resource

import numpy as np
import pytest

from autograder import sandbox as sandbox_module
from autograder.sandbox import (
    CallFailed,
    CallTimedOut,
    Limits,
    Opaque,
    Sandbox,
    SubmissionDied,
    probe,
)

SMALL = Limits(
    cpu_seconds_per_cell=1,
    cpu_seconds_total=30,
    memory_mb=1024,
    output_kb=64,
    max_processes=32,
)

needs_bubblewrap = pytest.mark.skipif(
    not probe().bubblewrap, reason="bubblewrap does not work on this machine"
)
needs_separate_uid = pytest.mark.skipif(
    not probe().separate_uid, reason="separate uids need the grader to run as root"
)

DEFINITIONS = """
import numpy as np

def double(a):
    return a * 2

def scalar_and_float():
    return np.float64(0.2), 0.2

def fail():
    raise ValueError("bad weights")

def spin():
    while True:
        pass

def mixed(n):
    return [np.arange(n, dtype=np.int32), (True, None, "text"), np.float32(1.5)]

weights = np.linspace(0, 1, 6).reshape(2, 3)
"""


@pytest.fixture(scope="module")
def box():
    with Sandbox(SMALL, slot=1) as box:
        runs = box.run_cells([DEFINITIONS])
        assert runs[0].status == "ok", runs[0]
        yield box


def run(cells, limits=SMALL, slot=2, **kwargs):
    with Sandbox(limits, slot=slot, **kwargs) as box:
        return box.run_cells(cells)


def test_cells_run_in_order_and_an_error_does_not_stop_the_next():
    runs = run(["x = 1", "print(x + 1)", "1 / 0", "print(x + 2)"])

    assert [r.status for r in runs] == ["ok", "ok", "error", "ok"]
    assert [r.index for r in runs] == [0, 1, 2, 3]
    assert runs[1].stdout == "2\n"
    assert runs[2].error_name == "ZeroDivisionError"
    assert runs[3].stdout == "3\n"


def test_not_implemented_cell_reports_the_error_name():
    runs = run(["def train():\n    raise NotImplementedError()\ntrain()"])

    assert runs[0].status == "error"
    assert runs[0].error_name == "NotImplementedError"


def test_magics_and_shell_commands_work():
    runs = run(
        [
            "%time total = sum(range(10))",
            "%%capture captured\nprint('hidden')",
            "lines = !echo shell\nprint(lines, captured.stdout.strip(), total)",
        ]
    )

    assert [r.status for r in runs] == ["ok", "ok", "ok"], runs
    assert "Wall time" in runs[0].stdout
    assert runs[2].stdout == "['shell'] hidden 45\n"


def test_call_returns_float64_array_bit_identical(box):
    rng = np.random.default_rng(7)
    weights = rng.random((3, 4)) * 1e-3 + np.nextafter(1.0, 2.0)

    result = box.call("double", weights)

    assert result.dtype == np.float64 and result.shape == (3, 4)
    assert result.tobytes() == (weights * 2).tobytes()


def test_call_keeps_numpy_scalar_apart_from_python_float(box):
    numpy_value, python_value = box.call("scalar_and_float")

    assert type(numpy_value) is np.float64 and numpy_value == 0.2
    assert type(python_value) is float and python_value == 0.2


def test_call_returns_nested_lists_tuples_and_dtypes(box):
    array, flags, half = box.call("mixed", 4)

    assert array.dtype == np.int32 and array.tolist() == [0, 1, 2, 3]
    assert flags == (True, None, "text")
    assert type(half) is np.float32 and half == 1.5


def test_get_returns_global_array_and_opaque_for_a_function(box):
    assert box.get("weights").tobytes() == np.linspace(0, 1, 6).reshape(2, 3).tobytes()
    assert box.get("double") == Opaque(type_name="function")


def test_function_that_raises_gives_call_failed_with_its_error_name(box):
    with pytest.raises(CallFailed, match="bad weights") as raised:
        box.call("fail")

    assert raised.value.error_name == "ValueError"
    assert box.alive


@pytest.mark.parametrize("name", ["undefined_name"], ids=["undefined"])
def test_undefined_name_gives_call_failed_name_error(box, name):
    with pytest.raises(CallFailed) as called:
        box.call(name)
    with pytest.raises(CallFailed) as got:
        box.get(name)

    assert called.value.error_name == got.value.error_name == "NameError"


def test_calling_a_non_function_gives_call_failed_type_error(box):
    with pytest.raises(CallFailed) as raised:
        box.call("weights")

    assert raised.value.error_name == "TypeError"


def test_argument_that_cannot_cross_is_refused_in_the_grader(box):
    with pytest.raises(TypeError, match="plain values"):
        box.call("double", object())


@needs_bubblewrap
def test_child_cannot_read_the_kit_or_import_it():
    runs = run(
        [
            "open('/work/main/course_config.py').read()",
            "import autograder",
            "import os; print(os.path.exists('/work/main'))",
        ]
    )

    assert runs[0].error_name == "FileNotFoundError"
    assert runs[1].error_name == "ModuleNotFoundError"
    assert runs[2].stdout == "False\n"


def test_child_cannot_see_the_grader_environment(monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "hidden-answer")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")

    with Sandbox(SMALL, slot=2, seed=5) as box:
        box.run_cells(["import os; names = sorted(os.environ)"])
        names = box.get("names")

    assert "GRADER_SECRET" not in names and "NBGRADER_EXECUTION" not in names
    assert "PYTHONHASHSEED" in names and len(names) <= 12


def test_seed_sets_random_and_numpy_random_before_the_first_cell():
    cell = "import random, numpy as np; print(random.random(), np.random.rand())"

    first = run([cell], seed=3)[0].stdout
    again = run([cell], seed=3)[0].stdout
    other = run([cell], seed=4)[0].stdout

    assert first == again != other


def test_cell_that_loops_forever_is_stopped_by_cpu_limit_and_next_cell_runs():
    runs = run(["while True:\n    pass", "print('after')"])

    assert runs[0].status == "timeout"
    assert "1 s of CPU time" in runs[0].error_message
    assert runs[1].status == "ok" and runs[1].stdout == "after\n"


def test_call_past_its_cpu_budget_times_out_and_stops_the_child(box):
    with Sandbox(SMALL, slot=2) as box:
        box.run_cells([DEFINITIONS])

        with pytest.raises(CallTimedOut, match="0.5 s of CPU time"):
            box.call("spin", cpu_seconds=0.5)

        assert not box.alive


def test_sleeping_cell_is_stopped_by_the_wall_clock_backstop(monkeypatch):
    monkeypatch.setattr(sandbox_module, "WALL_MARGIN_SECONDS", 0.5)
    limits = Limits(cpu_seconds_per_cell=0.5, cpu_seconds_total=30)

    runs = run(["import time\ntime.sleep(10**6)", "print('never')"], limits)

    assert runs[0].status == "timeout"
    assert "wall-clock" in runs[0].error_message
    assert runs[1].status == "died"


def test_four_gigabyte_allocation_fails_with_memory_error_inside_the_cell():
    runs = run(["import numpy as np\nbig = np.ones(2**29)", "print('alive')"])

    assert runs[0].status == "error" and runs[0].error_name == "MemoryError"
    assert runs[1].stdout == "alive\n"


def test_printing_100_mb_keeps_the_grader_small_and_the_run_ends():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cells = [
        "for _ in range(100):\n    print('x' * 2**20)",
        "import os\nwhile True:\n    os.write(1, b'y' * 2**20)",
        "print('never')",
    ]

    with Sandbox(SMALL, slot=2) as box:
        runs = box.run_cells(cells)
        assert len(box.output) <= SMALL.output_kb * 1024
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    assert runs[0].status == "ok" and len(runs[0].stdout) < 66 * 1024
    assert "more characters of output not shown" in runs[0].stdout
    assert runs[1].status == "died" and "printed more than" in runs[1].error_message
    assert runs[2].status == "died"
    assert after - before < 50 * 1024  # ru_maxrss is in KB


def test_exit_in_a_cell_marks_it_and_the_rest_died():
    runs = run(["x = 1", "import os\nos._exit(3)", "print(x)"])

    assert [r.status for r in runs] == ["ok", "died", "died"]
    assert "code 3" in runs[1].error_message


def test_call_after_the_child_exited_raises_submission_died():
    with Sandbox(SMALL, slot=2) as box:
        box.run_cells(["import os\nos._exit(3)"])

        with pytest.raises(SubmissionDied, match="code 3"):
            box.call("anything")


def test_child_that_corrupts_the_channel_is_treated_as_died():
    cell = "import os, sys\nos.write(int(sys.argv[2]), b'\\xff' * 16)"

    runs = run([cell, "print('never')"])

    assert runs[0].status == "died" and "malformed reply" in runs[0].error_message
    assert runs[1].status == "died"


@needs_separate_uid
def test_daemon_started_with_setsid_and_double_fork_is_gone_after_close():
    daemon = """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(1000)
    os._exit(0)
"""
    slot = 7
    with Sandbox(SMALL, slot=slot) as box:
        runs = box.run_cells([daemon, "import time; time.sleep(0.2)"])
        assert runs[0].status == "ok"
        uid = box.uid
        assert len(sandbox_module._pids_of_uid(uid)) >= 2  # runner, daemon

    assert sandbox_module._pids_of_uid(uid) == []


@needs_separate_uid
def test_child_runs_as_a_non_root_uid_when_the_grader_is_root():
    with Sandbox(SMALL, slot=3) as box:
        box.run_cells(["import os; ids = (os.getuid(), os.geteuid(), os.getgid())"])

        assert box.get("ids") == (box.uid,) * 3
        assert box.uid >= 61003


def test_channel_survives_monkeypatched_json_and_numpy(box):
    box.run_cells(
        [
            "import json, builtins, numpy as np\n"
            "json.dumps = None\njson.loads = None\n"
            "np.frombuffer = None\nnp.asarray = None\nbuiltins.print = None"
        ]
    )

    result = box.call("double", np.arange(3.0))

    assert result.tobytes() == np.arange(0.0, 6.0, 2.0).tobytes()


def test_close_is_idempotent_and_leaves_the_sandbox_dead():
    box = Sandbox(SMALL, slot=2)
    with box:
        assert box.alive

    box.close()
    assert not box.alive


def test_probe_describes_one_line_per_property():
    isolation = probe()

    assert len(isolation.describe()) == 7
    assert all(isinstance(line, str) and line for line in isolation.describe())


def test_limits_from_config_reads_the_same_names():
    class Config:
        cpu_seconds_per_cell = 2
        cpu_seconds_total = 9
        memory_mb = 512
        output_kb = 8
        max_processes = 4

    assert Limits.from_config(Config) == Limits(2, 9, 512, 8, 4)


@needs_bubblewrap
def test_home_is_a_small_tmpfs_that_fills_up_without_touching_the_disk():
    fill = """
written = 0
try:
    for k in range(200):
        with open(f"f{k}", "wb") as handle:
            handle.write(b"x" * 2**20)
        written += 1
except OSError as error:
    full = error.errno
"""
    with Sandbox(SMALL, slot=2) as box:
        box.run_cells([fill])

        assert box._scratch is None
        assert box.get("written") < sandbox_module.HOME_BYTES // 2**20
        assert box.get("full") == 28  # ENOSPC


@needs_separate_uid
def test_two_sandboxes_asking_for_one_slot_get_different_uids():
    with Sandbox(SMALL, slot=9) as first, Sandbox(SMALL, slot=9) as second:
        assert first.uid != second.uid
        second.run_cells(["import os, signal\nos.kill(-1, signal.SIGKILL)"])

        assert first.alive


@pytest.fixture
def without_bubblewrap(monkeypatch):
    monkeypatch.setattr(sandbox_module, "_modes", lambda: ["plain"])
    sandbox_module._probe.cache_clear()
    yield
    sandbox_module._probe.cache_clear()


def test_without_bubblewrap_probe_warns_and_cells_still_run(without_bubblewrap, caplog):
    with caplog.at_level("WARNING", logger="autograder.sandbox"):
        isolation = probe()
        runs = run(["print(1 + 1)", "while True:\n    pass"])

    assert not isolation.bubblewrap and not isolation.separate_uid
    assert "filesystem: NOT isolated" in caplog.text
    assert [r.status for r in runs] == ["ok", "timeout"]
