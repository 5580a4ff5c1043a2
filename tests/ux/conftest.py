"""Fixtures of the visitor tests: a store of the bundled samples, `openbaar serve`, and one headless Chromium.

Black-box only: the CLI runs as a subprocess (the `openbaar` console script of this virtualenv), the app is started
with `openbaar serve`, the page is driven by Playwright. No product module (assistant.*, ingestion.*, vectorstore.*)
is imported here or in any tests/ux module.
"""

from __future__ import annotations

import functools
import http.server
import json
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.integration.servers import BROWSER_ARGS, CHROMIUM, free_port
from tests.ux.helpers import CACHE, OPENBAAR, SAMPLES, SHOTS, STAFF, Server, clean_env, start_server

# Every server of the run lives for the whole session. The test that stops a second server on the citizen server's
# run folder (test_polish.py::test_stopping_one_server_keeps_the_others_working) runs at the end: when a stopping
# server took the others' upload folder with it, the servers still running showed no sources any more.
LAST = ("test_stopping_one_server_keeps_the_others_working",)


# The first visitor test of a run builds the samples' store; on a machine whose embedding cache is still empty that
# embeds every sample passage and sentence (minutes on 2 busy cores), more than the suite's 300 s per test.
SETUP_TIMEOUT = 900


def pytest_collection_modifyitems(session, config, items):
    """Run the tests in LAST after every other visitor test (they stop a server); give visitor tests time to build
    the store of the samples the first time."""
    for item in items:
        if "tests/ux/" in item.nodeid and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(SETUP_TIMEOUT))
    last = [i for i in items if i.originalname in LAST and "tests/ux/" in i.nodeid]
    for item in last:
        items.remove(item)
        items.append(item)


@pytest.fixture(scope="session")
def ux_cache() -> Path:
    """Embeddings of the samples, kept across runs in var/ux-cache (gitignored): same text + model = same vector,
    so the first run on a machine embeds the samples once and later runs reuse them."""
    (CACHE / "tiktoken").mkdir(parents=True, exist_ok=True)
    return CACHE


@pytest.fixture(scope="session")
def samples_store(tmp_path_factory, ux_cache) -> Path:
    """A store of the bundled samples (`openbaar ingest samples/`), as `make run` builds it."""
    root = tmp_path_factory.mktemp("ux-store")
    env = clean_env(
        OPENBAAR_STORE=str(root / "store"),
        OPENBAAR_EMBEDDING_CACHE=str(ux_cache / "embeddings.sqlite"),
        TIKTOKEN_CACHE_DIR=str(ux_cache / "tiktoken"),
    )
    done = subprocess.run(
        [*OPENBAAR, "ingest", str(SAMPLES), "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["documents_total"] >= 2, summary
    return root / "store"


@contextmanager
def serving(
    name: str, store: Path, root: Path, ux_cache: Path, port: int | None = None, **extra: str
) -> Iterator[Server]:
    """`openbaar serve` on a free loopback port, started in its own empty folder `root/name`."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    env = clean_env(
        OPENBAAR_STORE=str(store),
        OPENBAAR_EMBEDDING_CACHE=str(ux_cache / "embeddings.sqlite"),
        TIKTOKEN_CACHE_DIR=str(ux_cache / "tiktoken"),
        OPENBAAR_CHAT_DB=str(folder / "chat.sqlite"),
        **extra,
    )
    with start_server(folder, env, port) as server:
        yield server


@pytest.fixture(scope="session")
def citizen(samples_store, tmp_path_factory, ux_cache) -> Iterator[Server]:
    """The open chat (no login), as `make run` serves it; shared by the modules that need no special settings."""
    root = tmp_path_factory.mktemp("ux-citizen")
    with serving("citizen", samples_store, root, ux_cache) as server:
        yield server


@pytest.fixture(scope="session")
def staff(samples_store, tmp_path_factory, ux_cache) -> Iterator[Server]:
    """Staff login on: users from `openbaar hash-password` (password piped on stdin), a random auth secret."""
    root = tmp_path_factory.mktemp("ux-staff")
    users = []
    for name, password in STAFF.items():
        done = subprocess.run(
            [*OPENBAAR, "hash-password", name],
            input=password + "\n",
            capture_output=True,
            text=True,
            env=clean_env(),
            cwd=root,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        users.append(done.stdout.strip())
    extra = {"OPENBAAR_STAFF_USERS": ",".join(users), "CHAINLIT_AUTH_SECRET": secrets.token_urlsafe(48)}
    with serving("staff", samples_store, root, ux_cache, **extra) as server:
        yield server


@contextmanager
def static_site(folder: Path) -> Iterator[str]:
    """Serve `folder` on another loopback port: another origin, like a municipality's web site."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="session")
def widget_sites(samples_store, tmp_path_factory, ux_cache) -> Iterator[dict[str, str]]:
    """Two host sites (folders filled by the widget tests) and an app whose allow-list holds only the first:
    {"app": url, "allowed": (url, folder), "refused": (url, folder)}."""
    root = tmp_path_factory.mktemp("ux-widget")
    allowed_dir, refused_dir = root / "allowed-site", root / "refused-site"
    allowed_dir.mkdir()
    refused_dir.mkdir()
    port = free_port()
    with (
        static_site(allowed_dir) as allowed,
        static_site(refused_dir) as refused,
        serving("widget-app", samples_store, root, ux_cache, port=port, OPENBAAR_ALLOWED_ORIGINS=allowed),
    ):
        yield {
            "app": f"http://127.0.0.1:{port}",
            "allowed": allowed,
            "allowed_dir": str(allowed_dir),
            "refused": refused,
            "refused_dir": str(refused_dir),
        }


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make browser does this)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session", autouse=True)
def _shots_folder():
    """Screenshots of every run go to var/ux-shots/<module>/ (gitignored); the previous run's are replaced."""
    if SHOTS.exists():
        shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield
