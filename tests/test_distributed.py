"""Tests of the Dask door: a real scheduler and two workers on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autograder import batch
from autograder.batch import UsageError, grade_batch
from autograder.distributed import DaskWorkers, check_address
from bench.samples import expected_score, write_batch
from tests.test_batch import descendants, wait_until_gone

KIT_ROOT = Path(__file__).resolve().parent.parent
DASK = Path(sys.executable).parent / "dask"
START_SECONDS = 120

BATCH = [(f"d{n}", "reference" if n % 2 else "numpy_bool") for n in range(8)]


def _start(arguments, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(KIT_ROOT)}
    with log.open("w") as stream:
        return subprocess.Popen(
            [str(DASK), *arguments],
            cwd=KIT_ROOT,
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: the nanny and worker end together
        )


def _stop(process: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


class Cluster:
    def __init__(self, folder: Path):
        self.folder = folder
        self.processes = []
        self.workers = []
        self.address = None

    def start(self, workers: int = 2) -> Cluster:
        scheduler_file = self.folder / "scheduler.json"
        self.processes.append(_start(
            ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(scheduler_file)],
            self.folder / "scheduler.log",
        ))  # fmt: skip
        self.address = self._read_address(scheduler_file)
        for number in range(workers):
            worker = _start(
                ["worker", self.address, "--nworkers", "1", "--nthreads", "1",
                 "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{number}"],
                self.folder / f"worker-{number}.log",
            )  # fmt: skip
            self.processes.append(worker)
            self.workers.append(worker)
        self._wait_for_workers(workers)
        return self

    def _read_address(self, scheduler_file: Path) -> str:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if scheduler_file.exists():
                try:
                    return json.loads(scheduler_file.read_text())["address"]
                except ValueError:
                    pass  # being written
            time.sleep(0.2)
        raise TimeoutError("the Dask scheduler did not start")

    def _wait_for_workers(self, count: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=START_SECONDS) as client:
            client.wait_for_workers(count, timeout=START_SECONDS)

    def stop(self) -> None:
        for process in reversed(self.processes):
            _stop(process)


@pytest.fixture
def cluster(tmp_path):
    running = Cluster(tmp_path)
    try:
        yield running.start()
    finally:
        running.stop()


def wait_until_busy(address: str, name: str, seconds: float = 60) -> bool:
    """Wait until the worker called `name` is grading a submission."""
    from distributed import Client

    with Client(address, timeout=START_SECONDS) as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            workers = client.scheduler_info()["workers"]
            mine = [a for a, w in workers.items() if str(w.get("name")) == name]
            if mine and client.processing(mine).get(mine[0]):
                return True
            time.sleep(0.05)
    return False


def graded_once(report, out: Path) -> list[str]:
    students = [outcome.item.student for outcome in report.outcomes]
    assert len(students) == len(set(students)), "a submission was counted twice"
    assert sorted(p.parent.name for p in out.rglob("results.json")) == sorted(students)
    return sorted(students)


@pytest.mark.slow
def test_a_batch_graded_on_the_cluster_gets_the_local_scores(cluster, tmp_path, config):
    write_batch(tmp_path / "submitted", BATCH[:4])
    items = batch.find_submissions([tmp_path / "submitted"], config)
    out = tmp_path / "out"
    report = grade_batch(items, config, out, pool=DaskWorkers(config, cluster.address))
    assert graded_once(report, out) == sorted(student for student, _ in BATCH[:4])
    for outcome in report.outcomes:
        sample = dict(BATCH)[outcome.item.student]
        assert outcome.result.score == expected_score(sample, config)


@pytest.mark.slow
def test_a_killed_worker_loses_and_doubles_nothing(cluster, tmp_path, config):
    write_batch(tmp_path / "submitted", BATCH)
    items = batch.find_submissions([tmp_path / "submitted"], config)
    out = tmp_path / "out"
    victim = cluster.workers[0]
    killed = {}

    def kill_after_first_result():
        manifest = out / batch.MANIFEST_NAME
        deadline = time.monotonic() + START_SECONDS
        while not manifest.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        killed["was_busy"] = wait_until_busy(cluster.address, "w0")
        killed["processes"] = descendants(victim.pid) | {victim.pid}
        os.killpg(victim.pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_after_first_result, daemon=True)
    killer.start()
    report = grade_batch(items, config, out, pool=DaskWorkers(config, cluster.address))
    killer.join(timeout=10)
    assert killed.get("was_busy"), "the worker was not grading when it was killed"
    assert graded_once(report, out) == sorted(student for student, _ in BATCH)
    assert not report.failed
    for outcome in report.outcomes:
        sample = dict(BATCH)[outcome.item.student]
        assert outcome.result.score == expected_score(sample, config)
    assert not wait_until_gone(killed["processes"]), "the dead worker's sandbox lives"
    manifest = json.loads((out / batch.MANIFEST_NAME).read_text())
    assert sorted(manifest) == sorted(student for student, _ in BATCH)


@pytest.mark.parametrize(
    "address",
    ["tcp://10.1.2.3:8786", "tcp://example.org:8786", "tcp://0.0.0.0:8786",
     "ws://127.0.0.1:8786", "127.0.0.1:8786"],
)  # fmt: skip
def test_plain_tcp_off_loopback_is_refused(address):
    with pytest.raises(UsageError, match="tls://"):
        check_address(address, (None, None, None))


def test_tls_without_certificates_is_refused():
    with pytest.raises(UsageError, match="--tls-ca-file"):
        check_address("tls://grader.example.org:8786", (None, None, None))


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "tcp://localhost:1"])
def test_loopback_tcp_is_accepted(address):
    check_address(address, (None, None, None))
