"""Start real servers on loopback for tests: a free port, a readiness wait, and a clean stop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent

# Debian's Chromium, driven by Playwright (never a downloaded browser); the flags keep it off the network.
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(
    ready: Callable[[], bool], timeout: float, what: str, process: subprocess.Popen | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} before it was ready")
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} was not ready after {timeout} s")


def listens_on(pid: int, port: int) -> bool:
    """True when process `pid` (or one of its children) listens on `port`: the server is ours, not another one
    that took the port between `free_port()` and our start (concurrent test runs on one machine)."""
    import psutil

    try:
        parent = psutil.Process(pid)
        for process in (parent, *parent.children(recursive=True)):
            for conn in process.net_connections(kind="inet"):
                if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port:
                    return True
    except psutil.Error:
        return False
    return False


@contextmanager
def running(
    cmd: list[str],
    ready: Callable[[], bool],
    what: str,
    log: Path,
    timeout: float = 60,
    env: dict[str, str] | None = None,
    port: int | None = None,
) -> Iterator[subprocess.Popen]:
    """Run `cmd` until the block ends; its output goes to `log` (shown when it fails to start).
    With `port`, ready also requires that the listening socket belongs to this process."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        is_ready = ready if port is None else (lambda: listens_on(process.pid, port) and ready())
        try:
            try:
                wait_until(is_ready, timeout, what, process)
            except (RuntimeError, TimeoutError) as exc:
                raise RuntimeError(
                    f"{exc}\n--- {log} ---\n{log.read_text(errors='replace')[-3000:]}"
                ) from exc
            yield process
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def http_ok(url: str) -> bool:
    import urllib.request

    with urllib.request.urlopen(url, timeout=2) as response:  # loopback only
        return response.status == 200


@contextmanager
def chroma_server(data: Path, log: Path) -> Iterator[int]:
    """`chroma run` on a free loopback port with its data in `data`."""
    port = free_port()
    cmd = [str(BIN / "chroma"), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data)]
    with running(
        cmd, lambda: http_ok(f"http://127.0.0.1:{port}/api/v2/heartbeat"), "chroma server", log, port=port
    ):
        yield port


# `openbaar` as a user runs it, from this virtualenv (the console script may not be on PATH in tests).
OPENBAAR = [sys.executable, "-c", "import sys; from assistant.interfaces.cli import main; sys.exit(main())"]


@contextmanager
def openbaar_serve(
    log: Path, env: dict[str, str] | None = None, timeout: float = 90, port: int | None = None
) -> Iterator[str]:
    """`openbaar serve` on loopback (a free port unless given) until the block ends; yields its base URL."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [*OPENBAAR, "serve", "--port", str(port)]
    ready = lambda: http_ok(f"{base}/api/health")  # noqa: E731
    with running(cmd, ready, "openbaar serve", log, timeout=timeout, env=env, port=port):
        yield base
