"""F9, F4b, F6: index faults (issue point 8).

- F9  `kill -9` while the lexical (BM25) index is rebuilt: the next command that opens the store, and a normal
      re-run of the ingestion, must find the BM25 index matching the catalog again (today the re-run says
      "unchanged", exit 0, and BM25 keeps the old chunks only);
- F4b `kill -9` during a first-ever ingest: `stats` and `serve` must report a half-built store as such, not
      "there is no store yet";
- F6  ingesting while `serve` runs: the running app answers from the new document within 30 s (the time the fix
      must state), never silently from the old index.

Embeddings come from the fake OpenAI-compatible server (fast, deterministic), chunks are small (32 tokens) so the
stores hold about a thousand chunks. The kill is timed by watching the store's catalog (`catalog.sqlite`, read only)
reach the final document count: from then on the run only rebuilds the lexical index and writes the manifest.
BM25 is queried alone through `openbaar search` with `OPENBAAR_RETRIEVAL_DENSE_WEIGHT=0`.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.servers import OPENBAAR, free_port
from tests.security.conftest import Servers, clean_env, cli, llm_env, wait_for, write_jsonl

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
    "burger",
    "wet",
    "register",
]


def documents(prefix: str, count: int, start: int = 0) -> list[dict]:
    """`count` documents of about 4 small chunks each; each holds a unique word `{prefix}woord{n}`."""
    docs = []
    for n in range(start, start + count):
        sentences = [
            f"Document {prefix} {n} gaat over de {WORDS[(n + i) % len(WORDS)]} en de {WORDS[(n * 3 + i) % len(WORDS)]} "
            f"in het jaar {2000 + (n + i) % 25}, met kenmerk {prefix}woord{n} en volgnummer {i}."
            for i in range(10)
        ]
        docs.append(
            {"id": f"{prefix}-{n}", "title": f"{prefix} {n}", "language": "nl", "text": " ".join(sentences)}
        )
    return docs


def catalog_documents(store: Path) -> int:
    try:
        with sqlite3.connect(f"file:{store / 'catalog.sqlite'}?mode=ro", uri=True, timeout=0.05) as db:
            return db.execute("SELECT count(*) FROM documents").fetchone()[0]
    except sqlite3.Error:
        return -1


def ingest_killed_when(paths: list[Path], env: dict, cwd: Path, ready) -> None:
    """Start `openbaar ingest`, SIGKILL it as soon as `ready()` holds (polled every few ms)."""
    process = subprocess.Popen(
        [*OPENBAAR, "ingest", *map(str, paths)],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    while process.poll() is None and time.monotonic() < deadline:
        if ready():
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.003)
    process.wait(30)


def lexical_hits(word: str, env: dict, cwd: Path) -> list[str]:
    done = cli(
        "search", word, "--k", "5", "--json", env={**env, "OPENBAAR_RETRIEVAL_DENSE_WEIGHT": "0"}, cwd=cwd
    )
    assert done.returncode == 0, done.stderr
    return [h["doc_id"] for h in json.loads(done.stdout)["results"]]


@pytest.fixture
def env(tmp_path, shared_cache, fake):
    return clean_env(
        tmp_path,
        shared_cache,
        **llm_env(fake),
        OPENBAAR_CHUNK_TOKENS="32",
        OPENBAAR_CHUNK_OVERLAP="0",
        OPENBAAR_EMBEDDING_BATCH="256",
    )


def test_F9_kill_during_the_lexical_rebuild_then_a_rerun_repairs_the_index(tmp_path, env):
    store = Path(env["OPENBAAR_STORE"])
    corpus = tmp_path / "corpus"
    write_jsonl(corpus / "a.jsonl", documents("alfa", 27))
    first = cli("ingest", str(corpus), "--json", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = json.loads(first.stdout)["chunks_total"]

    killed_in_rebuild = False
    for attempt in range(3):  # the kill must land after the last catalog write and before the manifest
        write_jsonl(corpus / f"b{attempt}.jsonl", documents(f"beta{attempt}", 27))
        expected = 27 * (attempt + 2)
        manifest_before = (store / "manifest.json").read_text()
        ingest_killed_when(
            [corpus], env, tmp_path, lambda expected=expected: catalog_documents(store) >= expected
        )
        if (store / "manifest.json").read_text() == manifest_before and catalog_documents(store) == expected:
            killed_in_rebuild = True
            break
    assert killed_in_rebuild, "could not kill the ingestion between its last catalog write and its manifest"

    new_words = (f"beta{attempt}woord5", f"beta{attempt}woord20")
    problems = []
    on_start = [w for w in new_words if not lexical_hits(w, env, tmp_path)]  # a command opening the store
    if on_start:
        problems.append(f"on start (openbaar search, before any re-run) BM25 does not know {on_start}")
    rerun = cli("ingest", str(corpus), "--json", env=env, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["chunks_total"] > before
    after = [w for w in new_words if not lexical_hits(w, env, tmp_path)]
    if after:
        problems.append(
            f"after the re-run (exit 0, {summary['unchanged']} documents unchanged, {summary['chunks_total']} chunks) "
            f"BM25 still does not know {after}"
        )
    assert problems == [], "; ".join(problems) + ": the lexical index is not checked against the catalog"


def test_F4b_a_half_built_first_store_is_reported_as_such(tmp_path, env):
    store = Path(env["OPENBAAR_STORE"])
    corpus = tmp_path / "corpus"
    write_jsonl(corpus / "a.jsonl", documents("gamma", 100))
    ingest_killed_when([corpus], env, tmp_path, lambda: catalog_documents(store) >= 20)
    assert (
        catalog_documents(store) >= 20 and not (store / "manifest.json").exists()
    )  # guard: really half-built

    stats = cli("stats", "--json", env=env, cwd=tmp_path)
    said = stats.stdout + stats.stderr
    assert "no store" not in said.lower(), (
        f"stats says there is no store, with {catalog_documents(store)} documents in it: {said.strip()}"
    )

    serve = subprocess.Popen(
        [*OPENBAAR, "serve", "--port", str(free_port())],
        env={**env, "OPENBAAR_CHAT_DB": str(tmp_path / "c.sqlite")},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = serve.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(serve.pid, signal.SIGKILL)
        out, _ = serve.communicate()
    assert "no store" not in out.lower(), f"serve says there is no store: {out.strip()[-300:]}"
    assert any(
        w in out.lower() for w in ("incomplete", "interrupted", "half", "onvolledig", "onderbroken")
    ), out[-300:]


def test_F6_running_app_answers_from_a_document_ingested_while_it_runs(tmp_path, env):
    corpus = tmp_path / "corpus"
    write_jsonl(corpus / "a.jsonl", documents("delta", 10))
    assert cli("ingest", str(corpus), env=env, cwd=tmp_path).returncode == 0
    servers = Servers(tmp_path, env)
    try:
        server = servers.start("f6", OPENBAAR_API_RATE_LIMIT="0")
        question = {"question": "Wanneer opent Zwartewaterland het nieuwe stadhuis?", "mode": "extractive"}
        before = httpx.post(f"{server.url}/api/ask", json=question, timeout=60).json()
        assert before["status"] == "not_found", before  # guard: not in the store yet
        write_jsonl(
            corpus / "new.jsonl",
            [
                {
                    "id": "zwartewaterland",
                    "title": "Nieuw stadhuis Zwartewaterland",
                    "date": "2024-09-01",
                    "language": "nl",
                    "text": "Zwartewaterland opent het nieuwe stadhuis op 3 maart 2025. Het stadhuis staat in Hasselt.",
                }
            ],
        )
        assert cli("ingest", str(corpus), env=env, cwd=tmp_path).returncode == 0

        def answered():
            answer = httpx.post(f"{server.url}/api/ask", json=question, timeout=60).json()
            return answer["status"] == "answered" and any(
                c["doc_id"] == "zwartewaterland" for c in answer["citations"]
            )

        wait_for(answered, 30, "the running app answering from the newly ingested document", interval=1)
    finally:
        servers.close()
