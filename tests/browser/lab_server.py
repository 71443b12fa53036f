"""A throwaway `jupyter lab` with the nbgrader extensions, serving one course folder."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

START_SECONDS = 60
STOP_SECONDS = 10


@dataclass
class LabServer:
    process: subprocess.Popen
    url: str
    token: str
    log: Path

    def at(self, path: str) -> str:
        joiner = "&" if "?" in path else "?"
        return f"{self.url}{path}{joiner}token={self.token}"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def lab_command(course_dir: Path, scratch: Path, port: int, token: str) -> list[str]:
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser", "--ServerApp.open_browser=False",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={course_dir}",
        f"--LabApp.workspaces_dir={scratch / 'workspaces'}",
        f"--LabApp.user_settings_dir={scratch / 'settings'}",
        "--LabApp.expose_app_in_browser=True",
    ]  # fmt: skip
    if os.geteuid() == 0:
        command.append("--allow-root")
    return command


def isolated_env(scratch: Path) -> dict[str, str]:
    """The venv first on PATH, and no Jupyter state shared with the machine's user."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for name, folder in [
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("IPYTHONDIR", "ipython"),
    ]:
        env[name] = str(scratch / folder)
        (scratch / folder).mkdir(parents=True, exist_ok=True)
    return env


def quiet_settings(settings_dir: Path) -> None:
    """No "official Jupyter news?" toast over the buttons the test clicks."""
    plugin = settings_dir / "@jupyterlab" / "apputils-extension"
    plugin.mkdir(parents=True, exist_ok=True)
    news = plugin / "notification.jupyterlab-settings"
    news.write_text('{"fetchNews": "false"}', encoding="utf-8")


def start_lab(course_dir: Path, scratch: Path) -> LabServer:
    """Start Lab in `course_dir` (also its cwd: the Assignment List fetches into it)."""
    scratch.mkdir(parents=True, exist_ok=True)
    quiet_settings(scratch / "settings")
    port, token = free_port(), secrets.token_hex(16)
    log = scratch / "jupyter-lab.log"
    with log.open("w", encoding="utf-8") as handle:
        process = subprocess.Popen(
            lab_command(course_dir, scratch, port, token),
            cwd=course_dir,
            env=isolated_env(scratch),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its kernels go down with it in stop_lab
        )
    server = LabServer(process, f"http://127.0.0.1:{port}", token, log)
    try:
        wait_until_up(server)
    except BaseException:
        stop_lab(server)
        raise
    return server


def wait_until_up(server: LabServer) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with {server.process.returncode} before it "
                f"served; its log:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(server.at("/api/status"), timeout=2):
                return
        except OSError:
            time.sleep(0.3)  # no browser yet, so no page to wait on
    raise TimeoutError(
        f"jupyter lab did not answer on {server.url} within {START_SECONDS} s; "
        f"its log:\n{server.log_tail()}"
    )


def stop_lab(server: LabServer) -> None:
    """Terminate, then kill the server's own process group; waits are bounded."""
    if server.process.poll() is None:
        server.process.terminate()
    try:
        server.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=STOP_SECONDS)
    try:  # a kernel the server left behind
        os.killpg(server.process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
