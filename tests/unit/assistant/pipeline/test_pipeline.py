"""The whole answering pipeline on a real store (seed article + a few VAC pages), and its fail-closed checks."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from assistant.answer.base import Answer, Citation
from assistant.answer.extractive.composer import ExtractiveComposer
from assistant.pipeline import Pipeline, answer_pipeline
from tests.conftest import SEED, SEED_DEV, VAC, build_store
from vectorstore.retrieval.hybrid import HybridRetriever
from vectorstore.store import Store

VAC_TITLES = (
    "Wat gebeurt er nadat ik een Woo-verzoek heb gedaan?",
    "Hoe vraag ik DigiD aan?",
    "Wat kost een paspoort of identiteitskaart?",
)
DEV = [json.loads(line) for line in SEED_DEV.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def store(tmp_path_factory, shared_cache):
    folder = tmp_path_factory.mktemp("pipeline")
    vac = folder / "vac.jsonl"
    lines = [line for line in VAC.read_text().splitlines() if json.loads(line)["title"] in VAC_TITLES]
    vac.write_text("\n".join(lines) + "\n")
    opened = build_store(folder, [SEED, vac], shared_cache, documents=4)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def pipeline(store) -> Pipeline:
    return answer_pipeline(HybridRetriever(store), ExtractiveComposer(store.catalog), store.catalog)


def assert_quotes_verbatim(answer: Answer, store: Store) -> None:
    for c in answer.citations:
        text = store.catalog.text(c.doc_id)
        assert c.quote in text
        assert text[c.start : c.end] == c.quote


@pytest.mark.parametrize("case", DEV, ids=[c["id"] for c in DEV])
def test_seed_dev_questions(pipeline, store, case):
    answer = pipeline.run(case["question"], case.get("history"))
    assert answer.status == case["expect_status"], answer.answer
    for group in case["must_mention"]:
        assert any(alt.lower() in answer.answer.lower() for alt in group), (group, answer.answer)
    if answer.status in ("answered", "withheld"):
        assert answer.citations
    else:
        assert answer.citations == []
    assert_quotes_verbatim(answer, store)
    assert set(answer.timings_ms) >= {"guard", "condense", "retrieve", "compose", "verify", "total"}


def test_english_question_over_dutch_sources(pipeline, store):
    answer = pipeline.run("Which partnerships are public?")
    assert answer.status == "answered" and answer.language == "en"
    assert answer.answer.startswith("According to") and "in Dutch" in answer.answer
    assert "Marokko" in answer.answer and "Niger" in answer.answer
    assert_quotes_verbatim(answer, store)


def test_follow_up_is_condensed(pipeline, store):
    answer = pipeline.run("En van welke partij is hij?", history=["Wat zei Jan Klink?"])
    assert answer.standalone_question == "Van welke partij is Jan Klink?"
    assert answer.status == "answered" and "VVD" in answer.answer
    assert_quotes_verbatim(answer, store)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Hoe vraag ik DigiD aan?", "DigiD"),
        ("Binnen hoeveel weken moet de overheid antwoorden op een Woo-verzoek?", "4 weken"),
        ("What did Jan Klink say?", "onduidelijk"),
    ],
)
def test_other_answered_questions(pipeline, store, question, expected):
    answer = pipeline.run(question)
    assert answer.status == "answered", answer.answer
    assert expected in answer.answer
    assert_quotes_verbatim(answer, store)


@pytest.mark.parametrize(
    "question",
    [
        "Wat vindt de minister van kernenergie?",
        "Wie is de burgemeester van Amsterdam?",
        "What is the capital of Australia?",
    ],
)
def test_not_found_has_no_citations(pipeline, question):
    answer = pipeline.run(question)
    assert answer.status == "not_found" and answer.citations == []


class CountingRetriever:
    def __init__(self) -> None:
        self.calls = 0

    def embed(self, query):
        return None

    def search(self, query, k=10, filters=None, vector=None):
        self.calls += 1
        return []


@pytest.mark.parametrize(
    ("question", "note"),
    [
        ("", "refusal.empty"),
        ("   \n\t", "refusal.empty"),
        ("\x00\x07\x1b", "refusal.empty"),
        ("\u200b\U000e0041", "refusal.empty"),
        ("Schrijf een gedicht over de minister", "refusal.off_topic"),
        ("What's the weather forecast for tomorrow?", "refusal.off_topic"),
        ("x" * 5000, "refusal.too_long"),
    ],
)
def test_refused_without_retrieval(question, note):
    retriever = CountingRetriever()
    answer = answer_pipeline(retriever, ExtractiveComposer(_NoTexts()), _NoTexts()).run(question)
    assert answer.status == "refused" and answer.citations == [] and note in answer.notes
    assert retriever.calls == 0
    assert answer.answer


def test_in_scope_question_is_not_refused():
    retriever = CountingRetriever()
    answer = answer_pipeline(retriever, ExtractiveComposer(_NoTexts()), _NoTexts()).run(
        "Welke partnerschappen zijn openbaar?"
    )
    assert answer.status == "not_found" and retriever.calls == 1


class _NoTexts:
    def text(self, doc_id):
        return None


class _FixedComposer(ExtractiveComposer):
    """Returns a prepared answer, to test what verification does with it (and finalises like the offline one)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(_NoTexts())
        self.answer = answer

    def compose(self, request):
        return replace(self.answer, citations=list(self.answer.citations))


class _Texts:
    def __init__(self, docs):
        self.docs = docs

    def text(self, doc_id):
        return self.docs.get(doc_id)


DOC = "Ze noemde alleen Marokko als land waar een partnerschap mee is. Ook voor Jan Klink (VVD) bleef het onduidelijk."


def _citation(n: int, quote: str) -> Citation:
    return Citation(n, "d1", "c1", "T", "2023-06", None, None, quote)


def test_tampered_citation_is_dropped_with_its_line_and_the_rest_renumbered():
    answer = Answer(
        "q", "q", "answered",
        "Volgens \"T\" (2023-06):\n“Marokko is een vijand.” [1]\n“Ook voor Jan Klink (VVD) bleef het onduidelijk.” [2]",
        "nl",
        citations=[_citation(1, "Marokko is een vijand."), _citation(2, "Ook voor Jan Klink (VVD) bleef het onduidelijk.")],
    )  # fmt: skip
    result = answer_pipeline(CountingRetriever(), _FixedComposer(answer), _Texts({"d1": DOC})).run(
        "Wat zei Jan Klink?"
    )
    assert result.status == "answered"
    assert "vijand" not in result.answer and "[2]" not in result.answer
    assert [c.n for c in result.citations] == [1]
    assert result.citations[0].quote in DOC and "citations_rejected:1" in result.notes


def test_answer_without_any_valid_citation_becomes_not_found():
    answer = Answer(
        "q",
        "q",
        "withheld",
        "“Het kabinet zegt alles.” [1]",
        "nl",
        citations=[_citation(1, "Het kabinet zegt alles.")],
    )
    result = answer_pipeline(CountingRetriever(), _FixedComposer(answer), _Texts({"d1": DOC})).run(
        "Wat zei het kabinet?"
    )
    assert result.status == "not_found" and result.citations == []
    assert "kabinet zegt alles" not in result.answer


def test_missing_document_fails_closed():
    answer = Answer("q", "q", "answered", "“Ook voor Jan Klink (VVD) bleef het onduidelijk.” [1]", "nl",
                    citations=[_citation(1, "Ook voor Jan Klink (VVD) bleef het onduidelijk.")])  # fmt: skip
    result = answer_pipeline(CountingRetriever(), _FixedComposer(answer), _Texts({})).run(
        "Wat zei Jan Klink?"
    )
    assert result.status == "not_found" and result.citations == []
