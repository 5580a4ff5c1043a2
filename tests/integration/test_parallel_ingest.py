"""Parallel ingestion through the database (issue 13.3): `openbaar ingest` (the coordinator) and `openbaar worker`
processes split one run's documents (`FOR UPDATE SKIP LOCKED`), each embedding through the shared cache; a second
coordinator is refused; a worker or the coordinator killed mid-run loses nothing, and the store ends with exactly
one copy of every chunk (Chroma's count equal to the catalog's).

Real parts: `chroma run`, the session's PostgreSQL (a database of its own), the CLI in subprocesses. Embeddings
come from the fake OpenAI-compatible server, slowed down per text so that a run lasts long enough to be shared
and interrupted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.fakellm import FakeLLM
from tests.integration.servers import OPENBAAR, chroma_server, create_database, drop_database

pytestmark = pytest.mark.integration

WORDS = [
    "regeling",
    "gemeente",
    "inwoners",
    "toeslag",
    "aanvraag",
    "termijn",
    "besluit",
    "minister",
    "kabinet",
]


def documents(prefix: str, count: int) -> str:
    lines = []
    for n in range(count):
        text = " ".join(
            f"Document {prefix} {n} gaat over de {WORDS[(n + i) % len(WORDS)]} in het jaar {2000 + (n + i) % 25},"
            f" met kenmerk {prefix}woord{n} en volgnummer {i}."
            for i in range(8)
        )
        lines.append(
            json.dumps({"id": f"{prefix}-{n}", "title": f"{prefix} {n}", "language": "nl", "text": text})
        )
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def shared(tmp_path_factory, pg_server):
    root = tmp_path_factory.mktemp("parallel")
    name = f"parallel_{uuid.uuid4().hex[:8]}"
    db_url = create_database(pg_server, name)
    try:
        with chroma_server(root / "chroma-data", root / "chroma.log") as port, FakeLLM(dimension=32) as fake:
            fake.embed_delay = 0.03
            env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENBAAR_", "OPENAI_"))}
            env.update(
                OPENBAAR_DB_URL=db_url,  # no OPENBAAR_EMBEDDING_CACHE: the cache is the database's table
                OPENBAAR_CHROMA_HOST="127.0.0.1",
                OPENBAAR_CHROMA_PORT=str(port),
                OPENBAAR_STORE=str(root / "no-store"),
                OPENBAAR_EMBEDDING_PROVIDER="openai",
                OPENBAAR_EMBEDDING_MODEL="fake-embed",
                OPENBAAR_EMBEDDING_BATCH="8",
                OPENBAAR_CHUNK_TOKENS="32",
                OPENBAAR_CHUNK_OVERLAP="0",
                OPENAI_BASE_URL=fake.url,
                OPENAI_API_KEY="sk-test-not-a-real-key",
                LANG="en_US.UTF-8",
            )
            yield root, env, db_url
    finally:
        drop_database(pg_server, name)


def start(root: Path, env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*OPENBAAR, *args], env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen, timeout: float = 240) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def stats(root: Path, env: dict) -> dict:
    code, out, err = finish(start(root, env, "stats", "--json"))
    assert code == 0, err
    return json.loads(out)


def one_copy_of_every_chunk(root: Path, env: dict, db_url: str) -> dict:
    data = stats(root, env)
    with psycopg.connect(db_url) as conn:
        expected = conn.execute("SELECT coalesce(sum(n_chunks), 0) FROM documents").fetchone()[0]
    assert data["vectors"] == data["chunks"] == expected, data
    assert data["sentence_vectors"] == data["sentences"], data
    assert data["lexical_current"] is True
    return data


def done_by(db_url: str, pid: int) -> int:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM ingest_queue WHERE done AND worker LIKE %s", (f"%:{pid}",)
        ).fetchone()[0]


def test_two_workers_split_a_run_and_a_second_coordinator_is_refused(shared):
    root, env, db_url = shared
    corpus = root / "one"
    corpus.mkdir()
    (corpus / "docs.jsonl").write_text(documents("alfa", 40), encoding="utf-8")
    worker = start(root, env, "worker", "--wait", "60", "--json")
    time.sleep(1)
    coordinator = start(root, env, "ingest", str(corpus), "--json")
    time.sleep(4)  # the coordinator holds the lock and works through the queue with the worker
    assert coordinator.poll() is None, "the run ended too soon to test a second coordinator"
    code, _, err = finish(start(root, env, "ingest", str(corpus)), timeout=240)
    assert code == 2 and "Another ingestion is running" in err, err
    code, out, err = finish(coordinator)
    assert code == 0, err
    summary = json.loads(out)
    code, out, err = finish(worker)
    assert code == 0, err
    helped = json.loads(out)
    assert summary["added"] == 40 and summary["failed"] == 0
    assert helped["joined"] and 5 <= helped["documents"] <= 35, helped  # both took a real share
    data = one_copy_of_every_chunk(root, env, db_url)
    assert data["documents"] == 40 and summary["chunks_total"] == data["chunks"]
    with psycopg.connect(db_url) as conn:
        cached = conn.execute("SELECT count(*) FROM embeddings").fetchone()[0]
        runs = conn.execute("SELECT count(*) FROM ingest_runs").fetchone()[0]
    assert cached >= data["chunks"] and runs == 0  # one shared cache; the run is forgotten
    again = finish(start(root, env, "ingest", str(corpus), "--json"))
    assert again[0] == 0 and json.loads(again[1])["unchanged"] == 40


def test_a_killed_worker_or_coordinator_loses_nothing(shared):
    root, env, db_url = shared
    corpus = root / "two"
    corpus.mkdir()
    (corpus / "docs.jsonl").write_text(documents("beta", 30), encoding="utf-8")
    # 1. A worker killed in the middle of the run: its claimed document goes back to the queue.
    worker = start(root, env, "worker", "--wait", "60")
    time.sleep(1)
    coordinator = start(root, env, "ingest", str(corpus), "--json")
    deadline = time.monotonic() + 60
    while done_by(db_url, worker.pid) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert done_by(db_url, worker.pid) >= 3, "the worker did not take part"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)
    code, out, err = finish(coordinator)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["added"] == 30 and summary["failed"] == 0, summary
    one_copy_of_every_chunk(root, env, db_url)

    # 2. The coordinator killed in the middle of a run: the worker finishes the queue; a re-run completes it.
    (corpus / "more.jsonl").write_text(documents("gamma", 30), encoding="utf-8")
    worker = start(root, env, "worker", "--wait", "60", "--json")
    time.sleep(1)
    coordinator = start(root, env, "ingest", str(corpus), "--json")
    deadline = time.monotonic() + 60
    while done_by(db_url, coordinator.pid) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(coordinator.pid, signal.SIGKILL)
    coordinator.wait(10)
    code, out, err = finish(worker)
    assert code == 0, err
    rerun = finish(start(root, env, "ingest", str(corpus), "--json"))
    assert rerun[0] == 0, rerun[2]
    summary = json.loads(rerun[1])
    assert summary["added"] + summary["unchanged"] == 60, summary
    data = one_copy_of_every_chunk(root, env, db_url)
    assert data["documents"] == 40 + 60
