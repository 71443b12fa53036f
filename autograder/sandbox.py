"""The sandbox: a child interpreter that sees only the submission, and calls into it.

The child runs autograder/child.py under bubblewrap (its own mount, PID and network
namespaces), as its own uid when the grader is root, with CPU-time, memory,
process and output caps. The grader talks to it over a pipe pair using
autograder/wire.py and never unpickles or evaluates anything the child sends.
"""

from __future__ import annotations

import fcntl
import functools
import json
import logging
import os
import resource
import select
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from autograder import wire
from autograder.wire import Opaque, WireError

__all__ = [
    "CallFailed",
    "CallTimedOut",
    "CellRun",
    "Isolation",
    "Limits",
    "Opaque",
    "Sandbox",
    "SandboxError",
    "SubmissionDied",
    "probe",
]

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
RUNNER_DIR = "/opt/runner"
HOME = "/home/student"
FIRST_SLOT_UID = 61000
SETPRIV = "/usr/bin/setpriv"
# Wall-clock backstop for a cell or call: WALL_FACTOR x its CPU budget + margin.
WALL_FACTOR = 3
WALL_MARGIN_SECONDS = 5.0
STARTUP_SECONDS = 60.0
GET_SECONDS = 30.0
# Whole-run CPU cap past cpu_seconds_total before the kernel kills the child.
TOTAL_CPU_MARGIN_SECONDS = 5
FILE_SIZE_BYTES = 64 * 2**20
# /tmp and the home folder are each a tmpfs of this size: nothing lands on the disk.
TMP_BYTES = 64 * 2**20
HOME_BYTES = 64 * 2**20
# Slot uids are claimed with a lock file, so that two graders on one machine never
# share a uid (and never kill each other's submissions when they clean up).
UID_LOCKS = Path(tempfile.gettempdir()) / "xor-kit-sandbox-uids"
UID_SEARCH = 1000
MESSAGE_CHARS = 500


@dataclass(frozen=True)
class Limits:
    cpu_seconds_per_cell: float = 60
    cpu_seconds_total: float = 240
    memory_mb: int = 1024
    output_kb: int = 256
    max_processes: int = 64

    @classmethod
    def from_config(cls, config) -> Limits:
        names = cls.__dataclass_fields__
        return cls(**{name: getattr(config, name) for name in names})


@dataclass(frozen=True)
class CellRun:
    index: int
    status: str
    error_name: str | None
    error_message: str | None
    stdout: str


class SandboxError(RuntimeError):
    """Something went wrong with the sandboxed submission."""


class SubmissionDied(SandboxError):
    """The child ended (exit, signal, memory, CPU, output flood or a broken reply)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class CallTimedOut(SandboxError):
    """A call used up its CPU budget or wall-clock backstop; the child was stopped."""


class CallFailed(SandboxError):
    """The student's function raised, or the name is undefined or not callable."""

    def __init__(self, error_name: str, error_message: str):
        super().__init__(f"{error_name}: {error_message}")
        self.error_name = error_name
        self.error_message = error_message


class _WallTimeout(Exception):
    pass


@dataclass(frozen=True)
class Isolation:
    bubblewrap: bool
    separate_uid: bool
    pid_namespace: bool
    no_network: bool
    memory_limit: bool
    cpu_limit: bool
    process_limit: bool

    def describe(self) -> list[str]:
        return [
            holds if getattr(self, name) else lacks for name, holds, lacks in _LINES
        ]


_LINES = [
    (
        "bubblewrap",
        "filesystem: only /usr, the interpreter and the kit's runner are visible, "
        "read-only; home and /tmp are small tmpfs (bubblewrap)",
        "filesystem: NOT isolated; the submission can read every file the grader's "
        "user can (bubblewrap is missing or does not work here)",
    ),
    (
        "separate_uid",
        f"user: each worker slot runs as its own uid ({FIRST_SLOT_UID} + slot)",
        "user: NOT separate; the submission runs as the grader's own user",
    ),
    (
        "pid_namespace",
        "processes: own PID namespace; the grader's processes are invisible",
        "processes: NOT in their own PID namespace; the submission sees the grader",
    ),
    (
        "no_network",
        "network: none (own network namespace with only loopback)",
        "network: NOT cut off; the submission can reach the network",
    ),
    (
        "memory_limit",
        "memory: address space capped (RLIMIT_AS)",
        "memory: NOT capped",
    ),
    (
        "cpu_limit",
        "CPU: per-cell, per-call and total CPU time capped (RLIMIT_CPU)",
        "CPU: NOT capped",
    ),
    (
        "process_limit",
        "process count: capped per slot uid (RLIMIT_NPROC)",
        "process count: NOT capped; the submission runs as root, which "
        "RLIMIT_NPROC does not bind",
    ),
]


# --- how the child is started ---------------------------------------------------


def _interpreter() -> str:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidate = Path(sys.base_prefix) / "bin" / version
    return str(candidate if candidate.exists() else Path(sys.executable).resolve())


def _site_dirs() -> list[str]:
    return [path for path in site.getsitepackages() if os.path.isdir(path)]


def _ancestors(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[: k + 1]) for k in range(len(parts))]


def _bwrap_argv(mode: str, env: dict) -> list[str]:
    """bubblewrap's options: what the child sees, and which namespaces it gets."""
    if mode == "root":
        spaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        spaces += ["--unshare-cgroup-try"]
    else:
        spaces = ["--unshare-all"]
    argv = ["bwrap", *spaces, "--die-with-parent", "--new-session", "--clearenv"]
    for name, value in env.items():
        argv += ["--setenv", name, value]
    argv += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib32", "lib64", "sbin"):
        path = "/" + name
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]

    # bwrap makes missing parents mode 0700, which the slot uid could not enter.
    made = set()

    def mount(kind, source, target):
        for parent in _ancestors(target):
            if parent not in made and parent not in ("/usr", "/bin", "/lib"):
                made.add(parent)
                argv.extend(["--dir", parent])
        argv.extend([kind, source, target])

    base = str(Path(sys.base_prefix).resolve())
    if not base.startswith("/usr/"):
        mount("--ro-bind", base, base)
    for index, path in enumerate(_site_dirs()):
        target = f"/opt/site/{index}"
        mount("--ro-bind", path, target)
        if os.path.exists(os.path.join(path, "autograder")):
            argv += ["--tmpfs", f"{target}/autograder"]
    for name in ("child.py", "wire.py"):
        mount("--ro-bind", str(HERE / name), f"{RUNNER_DIR}/{name}")
    for parent in _ancestors(HOME + "/"):
        argv += ["--dir", parent]
    argv += ["--perms", "1777", "--size", str(HOME_BYTES), "--tmpfs", HOME]
    argv += ["--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    argv += ["--proc", "/proc", "--dev", "/dev", "--chdir", HOME]
    return argv


def _setpriv_argv(uid: int) -> list[str]:
    return [
        SETPRIV,
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
    ]


def _child_env(home: str, seed: int) -> dict:
    return {
        "PATH": f"{Path(_interpreter()).parent}:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": str(seed % 2**32),
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
    }


def _command(mode: str, scratch: str, uid: int, seed: int, tail: list[str]):
    """(argv, env, cwd) that run the interpreter with `tail` as its arguments."""
    if mode == "plain":
        env = _child_env(scratch, seed)
        return [_interpreter(), "-S", *tail], env, scratch
    env = _child_env(HOME, seed)
    argv = _bwrap_argv(mode, env) + ["--"]
    if mode == "root":
        argv += _setpriv_argv(uid)
    return argv + [_interpreter(), "-S", *tail], env, None


def _options_through_pipe(argv: list[str]):
    """bwrap's options handed over on a pipe (`--args FD`), so that /proc/1/cmdline
    inside the sandbox does not list the grader's paths; (argv, the fd to pass)."""
    if argv[0] != "bwrap":
        return argv, None
    split = argv.index("--")
    options = ("\0".join(argv[1:split]) + "\0").encode()
    assert len(options) < 2**16, "bwrap's options must fit in one pipe buffer"
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, options)
    finally:
        os.close(write_fd)
    return ["bwrap", "--args", str(read_fd), *argv[split:]], read_fd


def _claim_uid(first: int) -> tuple[int, int]:
    """(uid, lock fd): the first uid from `first` on that no other sandbox holds.

    The lock lives as long as the fd (or the grader's process), so a crashed grader
    frees its uid and the next claimant kills whatever it left behind.
    """
    UID_LOCKS.mkdir(mode=0o755, exist_ok=True)
    for uid in range(first, first + UID_SEARCH):
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
        fd = os.open(UID_LOCKS / f"{uid}.lock", flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return uid, fd
    raise SandboxError(
        f"all {UID_SEARCH} sandbox uids from {first} on are in use by other graders "
        f"(locks in {UID_LOCKS}); wait for them or remove stale ones"
    )


def _pids_of_uid(uid: int) -> list[int]:
    """Live (not zombie) processes whose real uid is `uid`."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        uids = fields.get("Uid", "").split()
        if uids and int(uids[0]) == uid and not fields["State"].strip().startswith("Z"):
            pids.append(int(entry))
    return pids


def _kill_uid(uid: int) -> None:
    for _ in range(50):
        pids = _pids_of_uid(uid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)
    log.error("processes of uid %d survived SIGKILL: %s", uid, _pids_of_uid(uid))


def _rlimits(limits: Limits, mode: str) -> dict:
    memory = limits.memory_mb * 2**20
    cpu = int(limits.cpu_seconds_total) + TOTAL_CPU_MARGIN_SECONDS
    chosen = {
        resource.RLIMIT_AS: memory,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_FSIZE: FILE_SIZE_BYTES,
        resource.RLIMIT_CPU: cpu,
    }
    if mode == "root":
        chosen[resource.RLIMIT_NPROC] = limits.max_processes
    else:
        # The count is shared with the grader's own processes under its uid.
        mine = len(_pids_of_uid(os.getuid()))
        chosen[resource.RLIMIT_NPROC] = mine + limits.max_processes
    return chosen


def _preexec(chosen: dict):
    def apply():
        os.umask(0o077)
        for which, value in chosen.items():
            resource.setrlimit(which, (value, value))

    return apply


# --- the isolation probe ----------------------------------------------------------

_PROBE = (
    "import os, json, resource\n"
    "net = [l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]]\n"
    "print(json.dumps([os.getuid(), os.getpid(), net,"
    " resource.getrlimit(resource.RLIMIT_NPROC)[0]]))\n"
)


def _modes() -> list[str]:
    modes = []
    if shutil.which("bwrap"):
        if os.geteuid() == 0 and os.access(SETPRIV, os.X_OK):
            modes.append("root")
        modes.append("userns")
    return modes + ["plain"]


def _try_mode(mode: str):
    """Run the probe script in `mode`; its facts, or None if the mode fails."""
    scratch = tempfile.mkdtemp(prefix="sandbox-probe-")
    lock = options_fd = None
    try:
        uid = FIRST_SLOT_UID
        if mode == "root":
            uid, lock = _claim_uid(FIRST_SLOT_UID)
        argv, env, cwd = _command(mode, scratch, uid, 0, ["-c", _PROBE])
        argv, options_fd = _options_through_pipe(argv)
        chosen = _rlimits(Limits(), mode)
        done = subprocess.run(
            argv,
            env=env,
            cwd=cwd,
            capture_output=True,
            timeout=60,
            pass_fds=() if options_fd is None else (options_fd,),
            preexec_fn=_preexec(chosen),
        )
        if done.returncode != 0:
            log.info("sandbox mode %s does not work: %s", mode, done.stderr[-300:])
            return None
        uid, pid, net, nproc = json.loads(done.stdout)
        return uid, pid, net, nproc
    except (OSError, ValueError, SandboxError, subprocess.SubprocessError) as error:
        log.info("sandbox mode %s does not work: %s", mode, error)
        return None
    finally:
        for fd in (options_fd, lock):
            if fd is not None:
                os.close(fd)
        shutil.rmtree(scratch, ignore_errors=True)


@functools.cache
def _probe() -> tuple[str, Isolation]:
    for mode in _modes():
        facts = _try_mode(mode)
        if facts is not None:
            break
    else:
        raise SandboxError("the sandbox cannot start even a plain child interpreter")
    uid, pid, net, nproc = facts
    isolation = Isolation(
        bubblewrap=mode != "plain",
        separate_uid=mode == "root" and uid >= FIRST_SLOT_UID,
        pid_namespace=mode != "plain" and pid < 10,
        no_network=net == ["lo"],
        memory_limit=True,
        cpu_limit=True,
        process_limit=uid != 0 and nproc != resource.RLIM_INFINITY,
    )
    for (name, *_), line in zip(_LINES, isolation.describe(), strict=True):
        level = logging.INFO if getattr(isolation, name) else logging.WARNING
        log.log(level, "sandbox %s", line)
    return mode, isolation


def probe() -> Isolation:
    """What isolation holds on this machine; found once, each line logged."""
    return _probe()[1]


# --- the sandbox --------------------------------------------------------------


def _exit_reason(code: int | None, limits: Limits) -> str:
    if code is None:
        return "the submission's interpreter stopped answering"
    if code < 0 or code > 128:
        number = -code if code < 0 else code - 128
        name = signal.Signals(number).name if number in signal.valid_signals() else ""
        if number == signal.SIGKILL:
            return (
                f"the submission was killed ({name}), most likely for using more "
                f"than {limits.cpu_seconds_total:g} s of CPU time in total"
            )
        return f"the submission was killed by signal {number} {name}".strip()
    return f"the submission's interpreter exited with code {code}"


class Sandbox:
    """One running child interpreter for one submission; use it as a context manager.

    `deadline` (a time.monotonic() value) bounds the wall-clock time of everything
    the sandbox does; past it the child is stopped and every request fails.
    """

    def __init__(self, limits: Limits, *, slot: int = 0, seed: int | None = None,
                 deadline: float | None = None):  # fmt: skip
        self.limits = limits
        self.slot = slot
        self.seed = 0 if seed is None else seed
        self.uid = FIRST_SLOT_UID + slot  # the first uid tried; see _claim_uid
        self.deadline = deadline
        self.fatal_cell = None  # index in run_cells of the cell that ended the child
        self._uid_lock = None
        self._mode = None
        self._proc = None
        self._scratch = None
        self._fds = []
        self._dead_reason = None
        self._flood_reason = None
        self._kept_output = bytearray()
        self._drain_thread = None
        self._closed = False

    def __enter__(self) -> Sandbox:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return (
            self._proc is not None
            and self._dead_reason is None
            and self._proc.poll() is None
        )

    @property
    def output(self) -> str:
        """What the child wrote to its fds 1 and 2 outside cell capture (capped)."""
        return bytes(self._kept_output).decode("utf-8", "replace")

    def _start(self) -> None:
        mode, _ = _probe()
        self._mode = mode
        if mode == "plain":
            self._scratch = tempfile.mkdtemp(prefix=f"sandbox-{self.slot}-")
        if mode == "root":
            # The uid must belong to this sandbox alone: leftovers are killed.
            self.uid, self._uid_lock = _claim_uid(self.uid)
            _kill_uid(self.uid)
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        self._fds = [from_parent, to_parent]
        output_chars = self.limits.output_kb * 1024
        runner = RUNNER_DIR if mode != "plain" else str(HERE)
        site_dirs = _site_dirs()
        if mode != "plain":
            site_dirs = [f"/opt/site/{k}" for k in range(len(site_dirs))]
        tail = [f"{runner}/child.py", str(to_child), str(from_child), str(self.seed)]
        tail += [str(output_chars), *site_dirs]
        argv, env, cwd = _command(mode, self._scratch, self.uid, self.seed, tail)
        argv, options_fd = _options_through_pipe(argv)
        passed = (to_child, from_child) + (() if options_fd is None else (options_fd,))
        try:
            self._proc = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=passed,
                start_new_session=True,
                preexec_fn=_preexec(_rlimits(self.limits, mode)),
            )
        finally:
            for fd in passed:
                os.close(fd)
        self._drain_thread = threading.Thread(target=self._drain, daemon=True)
        self._drain_thread.start()
        header, _ = self._receive(STARTUP_SECONDS)
        if header.get("kind") != "ready":
            self._die("the submission's runner did not start properly")

    def _drain(self) -> None:
        """Keep the first output_kb of fds 1 and 2; stop a child that floods them."""
        keep = self.limits.output_kb * 1024
        flood = 100 * keep
        total = 0
        stream = self._proc.stdout
        while chunk := stream.read1(2**16):
            total += len(chunk)
            room = keep - len(self._kept_output)
            if room > 0:
                self._kept_output += chunk[:room]
            if total > flood:
                self._flood_reason = (
                    f"the submission printed more than {flood // 1024:,} KB, "
                    "so it was stopped"
                )
                self._kill_group()
                return

    def _kill_group(self) -> None:
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _stop(self, reason: str) -> str:
        """Stop the child for `reason`; every later request raises SubmissionDied."""
        if self._dead_reason is None:
            self._dead_reason = reason
            log.info("sandbox slot %d stopped: %s", self.slot, reason)
        self._kill_all()
        return self._dead_reason

    def _die(self, reason: str):
        raise SubmissionDied(self._stop(reason))

    def _kill_all(self) -> None:
        if self._proc is None:
            return
        self._kill_group()
        if self._mode == "root":
            _kill_uid(self.uid)
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log.error("bubblewrap (pid %d) did not exit after SIGKILL", self._proc.pid)

    def _waiter(self, deadline: float, for_write: bool):
        """A wait(fd) for wire that gives up when the child dies or time runs out."""

        def wait(fd):
            while True:
                if self._flood_reason:
                    self._die(self._flood_reason)
                now = time.monotonic()
                if self.deadline is not None and now >= self.deadline:
                    self._die(
                        "the submission used up the wall-clock time allowed for "
                        "grading it, so it was stopped"
                    )
                remaining = deadline - now
                if remaining <= 0:
                    raise _WallTimeout()
                if self.deadline is not None:
                    remaining = min(remaining, self.deadline - now)
                poller = select.poll()
                poller.register(fd, select.POLLOUT if for_write else select.POLLIN)
                if poller.poll(min(remaining, 0.2) * 1000):
                    return
                if self._proc.poll() is not None:
                    self._die(self._ended_reason())

        return wait

    def _receive(self, seconds: float):
        deadline = time.monotonic() + seconds
        try:
            return wire.read_frame(self._fds[1], self._waiter(deadline, False))
        except EOFError:
            self._die(self._ended_reason())
        except WireError as error:
            self._die(f"the submission sent a malformed reply ({error})")

    def _ended_reason(self) -> str:
        try:
            code = self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        return self._flood_reason or _exit_reason(code, self.limits)

    def _exchange(self, header: dict, buffers: list, seconds: float):
        """Send one request and return the reply's (header, buffers)."""
        if self._dead_reason is not None:
            raise SubmissionDied(self._dead_reason)
        if self._proc is None or self._closed:
            raise SandboxError("the sandbox is not running; use `with Sandbox(...)`")
        deadline = time.monotonic() + seconds
        frame = wire.pack(header, buffers)
        try:
            wire.write_frame(self._fds[0], frame, self._waiter(deadline, True))
        except BrokenPipeError:
            self._die(self._ended_reason())
        return self._receive(max(deadline - time.monotonic(), 0.01))

    def run_cells(self, sources: list[str]) -> list[CellRun]:
        """Run every cell in order like Jupyter's Run All, errors allowed."""
        runs = []
        for index, source in enumerate(sources):
            if self._dead_reason is not None:
                message = f"not run: {self._dead_reason}"
                runs.append(CellRun(index, "died", None, message, ""))
                continue
            runs.append(self._run_cell(index, source))
            if self._dead_reason is not None:
                self.fatal_cell = index
        return runs

    def _run_cell(self, index: int, source: str) -> CellRun:
        budget = self.limits.cpu_seconds_per_cell
        request = {"op": "cell", "source": source, "budget": budget}
        try:
            reply, _ = self._exchange(
                request, [], WALL_FACTOR * budget + WALL_MARGIN_SECONDS
            )
        except SubmissionDied as died:
            return CellRun(index, "died", None, died.reason, "")
        except _WallTimeout:
            message = self._wall_limit("cell", budget)
            return CellRun(index, "timeout", "TimeoutError", message, "")
        status = reply.get("status")
        if status not in ("ok", "error", "timeout"):
            self._reject(f"cell status {str(status)[:20]!r}")
        name = self._text(reply, "error_name", 200, optional=True)
        message = self._text(reply, "error_message", MESSAGE_CHARS, optional=True)
        stdout = self._text(reply, "stdout", self.limits.output_kb * 1024 + 100)
        return CellRun(index, status, name, message, stdout)

    def _wall_limit(self, what: str, budget: float) -> str:
        seconds = WALL_FACTOR * budget + WALL_MARGIN_SECONDS
        return self._stop(
            f"the {what} ran for more than {seconds:g} s of wall-clock time "
            f"(its CPU budget is {budget:g} s), so the submission was stopped"
        )

    def _reject(self, what: str):
        self._die(f"the submission sent a malformed reply (bad {what})")

    def _text(self, reply: dict, key: str, cap: int, optional: bool = False):
        value = reply.get(key)
        if value is None and optional:
            return None
        if type(value) is not str or len(value) > cap:
            self._reject(key)
        return value

    def call(self, name: str, *args, cpu_seconds: float | None = None):
        """Call the submission's global function `name` with plain `args`."""
        try:
            tree, buffers = wire.encode(list(args), strict=True)
        except WireError as error:
            raise TypeError(
                f"argument to {name}() {error}; pass plain values"
            ) from None
        budget = (
            self.limits.cpu_seconds_per_cell if cpu_seconds is None else cpu_seconds
        )
        request = {"op": "call", "name": name, "args": tree, "budget": budget}
        try:
            reply, reply_buffers = self._exchange(
                request, buffers, WALL_FACTOR * budget + WALL_MARGIN_SECONDS
            )
        except _WallTimeout:
            raise CallTimedOut(self._wall_limit(f"call to {name}()", budget)) from None
        if reply.get("kind") == "timeout":
            # The student may have caught the exception halfway; start afresh.
            reason = f"{name}() used more than {budget:g} s of CPU time"
            raise CallTimedOut(self._stop(reason))
        return self._value(reply, reply_buffers)

    def define(self, source: str) -> None:
        """Define the grader's helper functions in `source` inside the child.

        `call` finds them before the notebook's names; see child.Runner.define.
        """
        try:
            reply, buffers = self._exchange(
                {"op": "define", "source": source}, [], GET_SECONDS
            )
        except _WallTimeout:
            raise CallTimedOut(self._wall_limit("grader helper", 0)) from None
        self._value(reply, buffers)

    def get(self, name: str):
        """The value of the submission's global `name`, or Opaque if it cannot cross."""
        try:
            reply, buffers = self._exchange(
                {"op": "get", "name": name}, [], GET_SECONDS
            )
        except _WallTimeout:
            raise CallTimedOut(self._wall_limit(f"reading of {name}", 0)) from None
        return self._value(reply, buffers)

    def _value(self, reply: dict, buffers: list):
        kind = reply.get("kind")
        if kind == "error":
            error_name = self._text(reply, "error_name", 200)
            raise CallFailed(
                error_name, self._text(reply, "error_message", MESSAGE_CHARS)
            )
        if kind != "value":
            self._reject(f"reply kind {str(kind)[:20]!r}")
        try:
            return wire.decode(reply.get("value"), buffers)
        except (WireError, RecursionError) as error:
            self._die(f"the submission sent a malformed reply ({str(error)[:200]})")

    def close(self) -> None:
        """Stop the child and everything it started, then remove its scratch dir."""
        if self._closed:
            return
        self._closed = True
        self._kill_all()
        if self._uid_lock is not None:
            os.close(self._uid_lock)
            self._uid_lock = None
        for fd in self._fds:
            os.close(fd)
        self._fds = []
        if self._drain_thread is not None:
            self._drain_thread.join(timeout=5)
        if self._proc is not None and self._proc.stdout is not None:
            self._proc.stdout.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
