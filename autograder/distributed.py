"""The Dask door: submissions graded on a Dask cluster, results back to the one writer.

A Dask scheduler runs whatever pickled function it is sent, on every worker. So
the kit talks to one only over loopback `tcp://` or over `tls://` with
certificates, and the sandboxes it starts have no network at all.

Starting workers for the kit (one sandbox slot per worker thread, claimed on the
worker's machine with a file lock, so any number of workers can share a machine):

    cd /path/to/kit && PYTHONPATH=$PWD .venv/bin/dask worker tls://HOST:8786 \\
        --nworkers 2 --nthreads 1 \\
        --tls-ca-file ca.pem --tls-cert worker.pem --tls-key worker.key

Workers must run the same kit (the same hidden checks): a worker whose checks
differ from the grader's refuses to grade, and the submission goes elsewhere.
"""

from __future__ import annotations

import ipaddress
import logging
import shutil
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

from .batch import (
    ATTEMPTS,
    Found,
    Outcome,
    UsageError,
    checks_digest,
    grade_for_worker,
    grade_one,
    result_from_dict,
)
from .config import CourseConfig

log = logging.getLogger(__name__)

CONNECT_SECONDS = 30


def check_address(address: str, tls_files: tuple) -> None:
    """Refuse any scheduler address but loopback tcp:// or tls:// with certificates."""
    parts = urlsplit(address)
    if parts.scheme == "tls":
        if not all(tls_files):
            raise UsageError(
                f"--scheduler {address} is TLS: give --tls-ca-file, --tls-cert "
                "and --tls-key (the client's certificate and key)"
            )
        return
    if parts.scheme != "tcp":
        raise UsageError(
            f"--scheduler {address}: use tls://HOST:PORT, or tcp://127.0.0.1:PORT "
            "on this machine"
        )
    if not _is_loopback(parts.hostname or ""):
        raise UsageError(
            f"--scheduler {address} is plain tcp:// off this machine; a Dask "
            "scheduler runs any code it is sent, so the kit uses tcp:// only on "
            "loopback (127.0.0.1). Use tls://HOST:PORT with certificates instead."
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def security(ca_file, cert, key):
    """Dask's mutual-TLS settings for the client, or None for loopback tcp://."""
    if not ca_file:
        return None
    from distributed.security import Security

    for path in (ca_file, cert, key):
        if not Path(path).is_file():
            raise UsageError(f"TLS file {path} does not exist")
    return Security(
        tls_ca_file=str(ca_file),
        tls_client_cert=str(cert),
        tls_client_key=str(key),
        require_encryption=True,
    )


# --- on the worker -------------------------------------------------------------


def _thread_slot() -> int:
    """Where this worker thread's sandboxes look for a free uid: its thread number
    (the sandbox locks the uid it takes, so any number is safe)."""
    return threading.get_ident() % 64


def grade_task(student: str, filename: str, data: bytes, config: CourseConfig,
               checks: str) -> tuple:  # fmt: skip
    """Runs on a Dask worker: grade one notebook sent as bytes; never raises."""
    if checks_digest() != checks:
        return ("error", "this worker's hidden checks differ from the grader's")
    folder = Path(tempfile.mkdtemp(prefix="kit-dask-"))
    try:
        path = folder / Path(filename).name
        path.write_bytes(data)
        return grade_for_worker(Found(student, path), config, _thread_slot())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- in the grader (the Dask client) -------------------------------------------


class DaskWorkers:
    """Sends each submission to the cluster; yields Outcomes as they come back."""

    def __init__(self, config: CourseConfig, address: str, *, tls=(None,) * 3):
        check_address(address, tuple(tls))
        self.config = config
        self.address = address
        self.security = security(*tls)

    def _client(self):
        from distributed import Client

        try:
            return Client(self.address, security=self.security, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError) as error:
            raise UsageError(
                f"cannot reach the Dask scheduler at {self.address}: {error}"
            ) from None

    def run(self, items):
        from distributed import as_completed

        client = self._client()
        checks = checks_digest()
        futures = as_completed()
        tasks = {}
        try:
            for item in items:
                if item.path is None:
                    yield Outcome(item, grade_one(item, self.config), None, "client")
                    continue
                data = Path(item.path).read_bytes()
                args = (item.student, item.path.name, data, self.config, checks)
                futures.add(self._submit(client, args, tasks, item, 1))
            for future in futures:
                yield from self._outcome(client, future, futures, tasks)
        finally:
            for item, _, _ in tasks.values():
                log.info("%s: not graded, the run stopped", item.student)
            client.cancel(list(futures.futures))
            client.close()

    def _submit(self, client, args, tasks, item, attempt):
        future = client.submit(grade_task, *args, pure=False, retries=0)
        tasks[future.key] = (item, args, attempt)
        return future

    def _outcome(self, client, future, futures, tasks):
        item, args, attempt = tasks.pop(future.key)
        try:
            message = future.result()
        except Exception as error:  # KilledWorker: the scheduler gave up on it
            message = ("error", f"{type(error).__name__}: {str(error)[:300]}")
        worker = _worker_of(client, future)
        if message[0] == "graded":
            _, data, own, children = message
            yield Outcome(item, result_from_dict(data), None, worker, own, children)
            return
        log.warning("%s: grading failed on attempt %d: %s", item.student, attempt,
                    message[1])  # fmt: skip
        if attempt < ATTEMPTS:
            futures.add(self._submit(client, args, tasks, item, attempt + 1))
            return
        yield Outcome(item, None, f"on the Dask cluster: {message[1]}", worker)


def _worker_of(client, future) -> str:
    try:
        who = client.who_has([future]).get(future.key) or ()
    except Exception:  # only a label for the report
        who = ()
    return ", ".join(who) or "dask"
