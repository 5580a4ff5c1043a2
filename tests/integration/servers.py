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


# --- PostgreSQL: a throwaway server (Debian's binaries, `make postgres`) -----------------------------------------
# Who runs the server when we are root: Debian's package creates `postgres`; `nobody` is in every base image.
PG_SERVER_USERS = ("postgres", "nobody")


def pg_bin() -> Path:
    import glob

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise RuntimeError(
            "PostgreSQL server binaries are missing (/usr/lib/postgresql/*/bin/initdb): "
            "run `make postgres` (apt-get install -y postgresql); `make test` does this"
        )
    return Path(found[-1]).parent


def _pg_as_user() -> tuple[list[str], str | None]:
    """The command prefix that runs the server unprivileged, and that user's name (None: as ourselves)."""
    import pwd
    import shutil

    if os.geteuid() != 0:
        return [], None
    for name in PG_SERVER_USERS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        runuser = shutil.which("runuser")
        if runuser is None:
            raise RuntimeError("running as root but `runuser` (util-linux) is missing: initdb refuses root")
        return [runuser, "-u", name, "--"], name
    raise RuntimeError(
        "running as root and neither a `postgres` nor a `nobody` user exists to run PostgreSQL"
    )


def _pg_run(cmd: list[str], what: str, cwd: Path, log: Path | None = None) -> None:
    done = subprocess.run(
        cmd, capture_output=True, text=True, cwd=cwd, env={**os.environ, "LC_ALL": "C"}, timeout=120
    )
    if done.returncode != 0:
        extra = f"--- {log} ---\n{log.read_text(errors='replace')[-3000:]}" if log and log.exists() else ""
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{extra}")


@contextmanager
def postgres_server(max_connections: int = 200) -> Iterator[str]:
    """A fresh PostgreSQL on 127.0.0.1 (trust auth, user `openbaar`), stopped and deleted afterwards; yields
    `postgresql://openbaar@127.0.0.1:PORT` (add `/DATABASE`)."""
    import pwd
    import shutil
    import tempfile

    bin_dir = pg_bin()
    prefix, user = _pg_as_user()
    # Not pytest's tmp_path: that is private to root, and the socket path must stay short.
    root = Path(tempfile.mkdtemp(prefix="openbaar-pg-"))
    data, sockets, log = root / "data", root / "sock", root / "postgres.log"
    sockets.mkdir()
    if user is not None:  # initdb creates `data` inside `root`, so the user owns both
        info = pwd.getpwnam(user)
        for path in (root, sockets):
            os.chown(path, info.pw_uid, info.pw_gid)
    port = free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c synchronous_commit=off"
        f" -c full_page_writes=off -c max_connections={max_connections}"
    )
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "openbaar", "--auth=trust", "--no-locale"]
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-t", "60"]
    started = False
    try:
        _pg_run([*prefix, *initdb, "--encoding=UTF8", "--no-sync"], "initdb", cwd=root)
        # `pg_ctl -w` returns once the server accepts connections; a failure shows the server's log.
        _pg_run([*prefix, *pg_ctl, "-l", str(log), "-o", options, "start"], "starting PostgreSQL", root, log)
        started = True
        yield f"postgresql://openbaar@127.0.0.1:{port}"
    finally:
        if started:
            _pg_run([*prefix, *pg_ctl, "-m", "fast", "stop"], "stopping PostgreSQL", cwd=root, log=log)
        shutil.rmtree(root, ignore_errors=True)


def create_database(server: str, name: str) -> str:
    """A new empty database on `server` (a `postgres_server` URL); its URL."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
