"""Test harness: no network outside loopback, settings and caches pointed at temp folders."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
DATA = REPO / "tests" / "data"  # copies of open-licence data the tests need (see data/ORIGIN.md)
SEED = SAMPLES / "seed" / "2023-06-migratiepartnerschappen.txt"
VAC = SAMPLES / "nl_rijksoverheid_vac" / "docs.jsonl"
SEED_DEV = REPO / "eval" / "seed_dev.jsonl"

# Importing chainlit writes .chainlit/ and .files/ into its app root (the current folder by default): never the checkout.
os.environ["CHAINLIT_APP_ROOT"] = tempfile.mkdtemp(prefix="openbaar-chainlit-")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes | str) and str(host) in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name other than localhost: never resolved in tests


def _guarded(real):
    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise ConnectionRefusedError(f"tests may not reach the network: {address!r}")
        return real(self, address)

    return connect


@pytest.fixture(autouse=True, scope="session")
def _no_network():
    """Any Python socket connection outside loopback fails (the product must not need one)."""
    socket.socket.connect = _guarded(_real_connect)
    socket.socket.connect_ex = _guarded(_real_connect_ex)
    yield
    socket.socket.connect = _real_connect
    socket.socket.connect_ex = _real_connect_ex


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One embedding cache and tiktoken folder for the whole session: same text + model = computed once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path, shared_cache):
    """Each test gets its own store; nothing is read from the developer's .env or OpenAI variables."""
    for name in list(os.environ):
        if name.startswith(("OPENBAAR_", "OPENAI_", "CHAINLIT_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENBAAR_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("OPENBAAR_EMBEDDING_CACHE", str(shared_cache / "embeddings.sqlite"))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(shared_cache / "tiktoken"))
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.chdir(tmp_path)  # so no .env of the checkout is read


@pytest.fixture
def store_dir(tmp_path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def seed_path() -> Path:
    return SEED


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run `openbaar` as a user would, in a separate process."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from assistant.interfaces.cli import main; sys.exit(main())",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=os.getcwd(),
    )


def build_store(folder: Path, paths: list[Path], cache: Path, documents: int):
    """Ingest `paths` into a real store under `folder` (embeddings from the shared cache) and open it."""
    from assistant.factory import ingest_paths
    from assistant.settings import Settings
    from vectorstore.embeddings import build_embedder, with_cache
    from vectorstore.store import Store

    settings = Settings(store=folder / "store", embedding_cache=cache / "embeddings.sqlite")
    embedder = with_cache(build_embedder(settings.embedding_config()), settings.embedding_config())
    summary = ingest_paths(settings, paths, embedder)
    assert summary.ok and summary.documents_total == documents, summary.failures
    return Store(settings.store_config(), embedder)


@pytest.fixture(scope="session")
def pg_server():
    """One throwaway PostgreSQL for the whole session (started on first use): `postgresql://openbaar@127.0.0.1:N`."""
    from tests.integration.servers import postgres_server

    try:
        with postgres_server() as url:
            yield url
    except RuntimeError as exc:
        if "binaries are missing" in str(exc):
            pytest.fail(str(exc))
        raise


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty database on the session's PostgreSQL, dropped afterwards: its plain URL."""
    import uuid

    from tests.integration.servers import create_database, drop_database

    name = f"t_{uuid.uuid4().hex[:12]}"
    url = create_database(pg_server, name)
    yield url
    drop_database(pg_server, name)


@pytest.fixture(params=["files", "postgres"])
def backend(request, monkeypatch) -> str:
    """Run a test against both implementations of the shared state: files in the store folder, and PostgreSQL
    (OPENBAAR_DB_URL set to a fresh database). Vectors stay in embedded Chroma in both."""
    if request.param == "postgres":
        monkeypatch.setenv("OPENBAAR_DB_URL", request.getfixturevalue("pg_url"))
    return request.param
