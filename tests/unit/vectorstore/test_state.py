"""The shared state, the same tests against both implementations (`backend`: files in the store folder, and a
real PostgreSQL): catalog, published state and its generation, saved BM25 index checked against the catalog,
embedding cache, writer lock, half-built stores, reloading a new generation, dense hits not in the catalog."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.factory import ingest_paths
from assistant.settings import Settings
from tests.conftest import run_cli
from vectorstore.embeddings import CachedEmbedder, Embedder, build_embedder, with_cache
from vectorstore.errors import StoreError
from vectorstore.lexical import LexicalIndex, LexicalIndexError
from vectorstore.records import Chunk, Document, Sentence
from vectorstore.retrieval.hybrid import HybridRetriever
from vectorstore.state import open_state
from vectorstore.store import Store


def settings() -> Settings:
    return Settings(_env_file=None)


def document(doc_id: str, text: str, **meta) -> tuple[Document, list[Chunk], list[Sentence]]:
    half = len(text) // 2
    cut = text.index(" ", half)
    chunks = [
        Chunk(f"{doc_id}#0", doc_id, 0, 0, cut, text[:cut], 10),
        Chunk(f"{doc_id}#1", doc_id, 1, cut + 1, len(text), text[cut + 1 :], 10),
    ]
    sentences = [Sentence(f"{doc_id}.s{i}", doc_id, i, c.start, c.end, c.text) for i, c in enumerate(chunks)]
    return Document(doc_id, text, Path(f"/corpus/{doc_id}.txt"), **meta), chunks, sentences


def test_catalog_queries(backend):
    state = open_state(settings().store_config(), create=True)
    catalog = state.catalog
    try:
        assert catalog.stats()["documents"] == 0 and not state.has_documents()
        empty = catalog.fingerprint()
        doc, chunks, sentences = document(
            "a", "De minister sprak over de begroting. Het tekort daalt.", date="2024-09", language="nl",
            speaker="Minister Eerste", type="toespraak", extra={"topic": "geld"},
        )  # fmt: skip
        catalog.put(doc, "raw-a", "text-a", chunks, sentences)
        other, other_chunks, _ = document(
            "b", "The cabinet decided to build houses. Rents go down.", language="en"
        )
        catalog.put(other, "raw-b", "text-b", other_chunks)

        assert set(catalog.states()) == {"a", "b"}
        assert catalog.states()["a"].n_chunks == 2 and catalog.states()["a"].raw_hash == "raw-a"
        stored = catalog.document("a")
        assert stored["extra"] == {"topic": "geld"} and stored["speaker"] == "Minister Eerste"
        assert stored["ingested_at"].endswith("Z")
        assert catalog.text("a") == doc.text and catalog.text("nope") is None
        assert [s.sentence_id for s in catalog.sentences("a")] == ["a.s0", "a.s1"]
        assert catalog.doc_with_text_hash("text-b") == "b"
        assert catalog.chunk_ids("a") == ["a#0", "a#1"] or sorted(catalog.chunk_ids("a")) == ["a#0", "a#1"]
        assert catalog.known_chunks(["a#0", "b#1", "ghost#0"]) == {"a#0", "b#1"}
        texts = {chunk_id: text for chunk_id, text, _ in catalog.iter_chunks()}
        assert texts["a#1"] == chunks[1].text and texts["b#0"] == other_chunks[0].text
        meta = {row[0]: row for row in catalog.iter_chunk_metadata()}
        assert meta["a#0"][1:] == ("a", 0, "2024-09", "nl", "toespraak", "Minister Eerste")
        stats = catalog.stats()
        assert (stats["documents"], stats["chunks"], stats["sentences"]) == (2, 4, 2)
        assert stats["languages"] == {"en": 1, "nl": 1} and stats["date_range"]["undated"] == 1

        full = catalog.fingerprint()
        assert full != empty and full.startswith("4:")
        catalog.touch_source("a", "/elsewhere/a.txt")
        assert catalog.states()["a"].source_path == "/elsewhere/a.txt"
        assert catalog.fingerprint() == full  # where a document came from does not change the index

        changed, changed_chunks, _ = document("a", "De minister trok de begroting in. Er komt een nieuwe.")
        catalog.put(changed, "raw-a2", "text-a2", changed_chunks)  # replaces chunks and sentences
        assert catalog.sentences("a") == [] and catalog.text("a") == changed.text
        catalog.delete(["b"])
        assert set(catalog.states()) == {"a"} and catalog.known_chunks(["b#0"]) == set()
        assert catalog.fingerprint() not in (full, empty)
    finally:
        state.close()


def test_publish_keeps_the_generation_unless_something_changed(backend):
    state = open_state(settings().store_config(), create=True)
    try:
        assert state.read_manifest() is None and state.generation() == 0
        with pytest.raises(LexicalIndexError):
            state.load_lexical()
        assert state.lexical_fingerprint() is None
        index = LexicalIndex.build([("c1", "De minister sprak", "nl")], fingerprint="1:abc")
        first = state.publish({"counts": {"chunks": 1}, "updated_at": "t1"}, index)
        assert first["generation"] == 1 and state.generation() == 1
        same = state.publish({"counts": {"chunks": 1}, "updated_at": "t2"})  # only the time differs
        assert same["generation"] == 1 and state.read_manifest()["updated_at"] == "t2"
        more = state.publish({"counts": {"chunks": 2}, "updated_at": "t3"})
        assert more["generation"] == 2 == state.read_manifest()["generation"]
        loaded = state.load_lexical()
        assert loaded.chunk_ids == ["c1"] and loaded.fingerprint == "1:abc" == state.lexical_fingerprint()
        assert loaded.search("minister")[0][0] == "c1"
        again = state.publish(
            {"counts": {"chunks": 2}, "updated_at": "t4"}, index
        )  # a new index: a new generation
        assert again["generation"] == 3
    finally:
        state.close()


class Counting(Embedder):
    provider = "test"
    model_id = "counting-4"

    def __init__(self) -> None:
        self.calls = 0

    @property
    def dimension(self) -> int:
        return 4

    def embed_documents(self, texts):
        self.calls += len(texts)
        return [[float(len(t)), 1.0, 0.5, 0.25] for t in texts]

    def embed_query(self, text):
        return self.embed_documents([text])[0]


def test_embedding_cache_is_shared_by_every_process_of_the_store(backend, monkeypatch):
    monkeypatch.delenv("OPENBAAR_EMBEDDING_CACHE")  # the store's own cache: a file, or the database's table
    config = settings().embedding_config()
    assert (config.cache_database is not None) == (backend == "postgres")
    first = CachedEmbedder(Counting(), with_cache(Counting(), config).cache, 2)
    vectors = first.embed_documents(["een", "twee", "een", "drie"])
    assert first.inner.calls == 3 and vectors[0] == vectors[2] == [3.0, 1.0, 0.5, 0.25]
    first.cache.close()
    second = with_cache(Counting(), config)  # another process, later
    assert second.embed_documents(["drie", "twee"]) == [[4.0, 1.0, 0.5, 0.25], [4.0, 1.0, 0.5, 0.25]]
    assert second.inner.calls == 0 and second.computed == 0
    second.cache.close()


HOLD_LOCK = """
import sys, time
from assistant.settings import Settings
from vectorstore.state import open_state
state = open_state(Settings(_env_file=None).store_config(), create=True)
lock = state.writer_lock(5)
print("locked", flush=True)
time.sleep(600)
"""


def test_the_writer_lock_refuses_a_second_writer_and_dies_with_its_holder(backend, tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        state = open_state(settings().store_config(), create=True)
        try:
            started = time.monotonic()
            with pytest.raises(StoreError) as refused:
                state.writer_lock(1.0)
            assert refused.value.code == "ingest_running" and 0.9 < time.monotonic() - started < 4
            os.kill(holder.pid, signal.SIGKILL)  # the holder dies without releasing anything
            holder.wait(10)
            lock = state.writer_lock(5)  # the lock went with it
            with pytest.raises(StoreError):
                open_state(settings().store_config(), create=True).writer_lock(0.3)
            lock.release()
            state.writer_lock(0.5).release()
        finally:
            state.close()
    finally:
        holder.kill()
        holder.wait()


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in list(folder.glob("*.txt")):
        if name.stem not in docs:
            name.unlink()
    for name, text in docs.items():
        (folder / f"{name}.txt").write_text(f"title: {name}\n{text}", encoding="utf-8")
    return folder


def ingest(folder: Path, **kw):
    config = settings()
    embedder = with_cache(build_embedder(config.embedding_config()), config.embedding_config())
    try:
        summary = ingest_paths(config, [folder], embedder, **kw)
    finally:
        embedder.cache.close()
    assert summary.ok, summary.failures
    return summary


def reader() -> Store:
    config = settings()
    return Store(config.store_config(), build_embedder(config.embedding_config()))


DOC_A = "De gemeente Zwolle opent een nieuw zwembad. Het bad heeft vijf banen."
DOC_B = "Zwartewaterland opent het nieuwe stadhuis op 3 maart 2025. Het stadhuis staat in Hasselt."


def test_a_running_store_picks_up_a_new_generation_and_a_prune(backend, tmp_path):
    corpus = write_docs(tmp_path / "corpus", {"zwolle": DOC_A})
    first = ingest(corpus)
    store = reader()
    try:
        retriever = HybridRetriever(store, settings().retrieval_config())
        store.on_reload(retriever.refresh)
        assert store.generation == first.generation >= 1
        assert retriever.lexical_only("stadhuis Hasselt") == []
        assert store.refresh() is False  # nothing new

        second = ingest(write_docs(corpus, {"zwolle": DOC_A, "zwartewaterland": DOC_B}))
        assert second.generation == first.generation + 1 and second.added == 1
        assert retriever.lexical_only("stadhuis Hasselt") == []  # not before the refresh ...
        assert store.refresh() is True and store.generation == second.generation
        hits = retriever.search("Wanneer opent het stadhuis in Hasselt?", k=3)
        assert hits[0].doc_id == "zwartewaterland.txt"  # ... and right after it
        assert retriever.search("stadhuis", k=3, filters=None)[0].doc_id == "zwartewaterland.txt"

        unchanged = ingest(corpus)
        assert (
            unchanged.unchanged == 2 and unchanged.generation == second.generation
        )  # no change, same generation

        pruned = ingest(write_docs(corpus, {"zwolle": DOC_A}), prune=True)
        assert pruned.removed == 1 and pruned.generation == second.generation + 1
        assert store.refresh() is True
        assert all(h.doc_id != "zwartewaterland.txt" for h in retriever.search("stadhuis Hasselt", k=5))
    finally:
        store.close()


def test_a_watching_store_reloads_by_itself(backend, tmp_path):
    corpus = write_docs(tmp_path / "corpus", {"zwolle": DOC_A})
    ingest(corpus)
    store = reader()
    try:
        before = store.generation
        store.watch(0.2)
        ingest(write_docs(corpus, {"zwolle": DOC_A, "zwartewaterland": DOC_B}))
        deadline = time.monotonic() + 10
        while store.generation == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.generation == before + 1
        assert store.lexical.search("Hasselt")[0][0] in store.catalog.chunk_ids("zwartewaterland.txt")
    finally:
        store.close()


def test_a_half_built_store_is_reported_as_such(backend, tmp_path):
    missing = run_cli("stats")
    assert missing.returncode == 2 and "no store" in missing.stderr.lower()
    # What a first ingestion killed before its end leaves: documents, no published state.
    config = settings()
    half = Store(config.store_config(), build_embedder(config.embedding_config()), create=True)
    doc, chunks, _ = document("a", DOC_A, language="nl")
    vectors = half.embedder.embed_documents([c.text for c in chunks])
    half.replace_document(doc, "raw", "text", chunks, vectors)
    half.close()

    with pytest.raises(StoreError) as refused:
        reader()
    assert refused.value.code == "store_incomplete" and refused.value.params["documents"] == 1
    stats = run_cli("stats", "--json")
    assert stats.returncode == 0, stats.stderr
    assert "incomplete" in stats.stderr and "no store" not in (stats.stdout + stats.stderr).lower()
    data = json.loads(stats.stdout)
    assert data["complete"] is False and data["documents"] == 1 and data["generation"] == 0
    ask = run_cli("ask", "Wat opent Zwolle?")
    assert ask.returncode == 2 and "incomplete" in ask.stderr and "Traceback" not in ask.stderr

    corpus = write_docs(tmp_path / "corpus", {"zwolle": DOC_A})
    ingest(corpus)
    assert reader().stats()["complete"] is True


def test_a_saved_index_that_does_not_match_the_catalog_is_rebuilt_on_open_and_on_the_next_run(
    backend, tmp_path
):
    corpus = write_docs(tmp_path / "corpus", {"zwolle": DOC_A})
    first = ingest(corpus)
    # An ingestion killed after writing a document but before saving the index: the catalog is ahead of it.
    config = settings()
    writer = Store(config.store_config(), build_embedder(config.embedding_config()), create=True)
    doc, chunks, _ = document("late", DOC_B, language="nl")
    writer.replace_document(
        doc, "raw", "text", chunks, writer.embedder.embed_documents([c.text for c in chunks])
    )
    writer.close()

    store = reader()
    try:
        assert store.stats()["lexical_current"] is False
        assert store.snapshot().rebuilt is True  # not the saved (stale) index ...
        assert store.lexical.search("Hasselt")[0][0] in {
            "late#0",
            "late#1",
        }  # ... one that knows the document
    finally:
        store.close()
    rerun = ingest(corpus)
    assert rerun.unchanged == 1 and rerun.generation == first.generation + 1  # saved again, published again
    store = reader()
    try:
        assert store.stats()["lexical_current"] is True and store.snapshot().rebuilt is False
        assert store.lexical.search("Hasselt")[0][0] in {"late#0", "late#1"}
    finally:
        store.close()


def test_a_dense_hit_whose_text_is_not_in_the_catalog_is_never_shown(backend, tmp_path):
    ingest(write_docs(tmp_path / "corpus", {"zwolle": DOC_A}))
    store = reader()
    try:
        # Vectors are written before the catalog row: a document caught in between.
        doc, chunks, _ = document("between", DOC_B, language="nl")
        from vectorstore.chroma import chunk_metadata

        store.collection.upsert(
            ids=[c.chunk_id for c in chunks],
            embeddings=store.embedder.embed_documents([c.text for c in chunks]),
            documents=[c.text for c in chunks],
            metadatas=[chunk_metadata(doc, c) for c in chunks],
        )
        retriever = HybridRetriever(store, settings().retrieval_config())
        assert store.collection.count() > len(store.catalog.chunk_ids("zwolle.txt"))
        hits = retriever.dense_only(DOC_B, k=5)
        assert hits and all(h.doc_id == "zwolle.txt" for h in hits)
        assert all(h.doc_id == "zwolle.txt" for h in retriever.search(DOC_B, k=5))
    finally:
        store.close()


def test_a_metadata_change_is_a_new_generation_and_filters_follow_it(backend, tmp_path):
    from vectorstore.records import Filters

    corpus = tmp_path / "meta"
    corpus.mkdir()
    doc = {"id": "zwolle", "title": "Zwembad", "type": "nieuws", "language": "nl", "text": DOC_A}
    (corpus / "docs.jsonl").write_text(json.dumps(doc) + "\n", encoding="utf-8")
    first = ingest(corpus)
    store = reader()
    try:
        retriever = HybridRetriever(store, settings().retrieval_config())
        store.on_reload(retriever.refresh)
        assert retriever.search("zwembad", k=3, filters=Filters(type="persbericht")) == []
        (corpus / "docs.jsonl").write_text(
            json.dumps({**doc, "type": "persbericht"}) + "\n", encoding="utf-8"
        )
        second = ingest(corpus)
        assert second.updated == 1 and second.generation == first.generation + 1  # same text, same index
        assert store.refresh() is True
        hits = retriever.search("zwembad", k=3, filters=Filters(type="persbericht"))
        assert [h.doc_id for h in hits] == ["zwolle"] and hits[0].type == "persbericht"
    finally:
        store.close()


def test_an_unreachable_or_wrong_database_url_is_one_line_without_the_password():
    down = run_cli("stats", env={"OPENBAAR_DB_URL": "postgresql://staff:s3cret-pw@127.0.0.1:9/openbaar"})
    assert down.returncode == 2 and down.stderr.strip().count("\n") == 0, down.stderr
    assert "cannot be reached" in down.stderr and "postgresql://staff@127.0.0.1:9/openbaar" in down.stderr
    assert "s3cret-pw" not in down.stderr + down.stdout and "Traceback" not in down.stderr
    wrong = run_cli("stats", env={"OPENBAAR_DB_URL": "postgresql+asyncpg://staff:s3cret-pw@db/openbaar"})
    assert wrong.returncode == 2 and "OPENBAAR_DB_URL" in wrong.stderr and "s3cret-pw" not in wrong.stderr
