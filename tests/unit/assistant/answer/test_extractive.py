"""The offline composer on hand-built hits from the cleaned seed article (no store, no retrieval)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from assistant.answer.extractive.composer import ExtractiveComposer
from assistant.answer.quotes import verify_citations
from ingestion.chunking import chunk_text
from ingestion.clean import prepare_document
from ingestion.loaders import load_file
from tests.conftest import SEED
from vectorstore.records import Hit

OTHER_ID = "woo-vac"
OTHER_TEXT = (
    "Wat gebeurt er nadat ik een Woo-verzoek heb gedaan?\n\n"
    "De overheid moet binnen 4 weken antwoord geven op uw Woo-verzoek. "
    "De overheid geeft nooit vertrouwelijke of privacygevoelige informatie. "
    "Een organisatie kan een document helemaal of gedeeltelijk openbaar maken."
)


@dataclass
class Request:
    """What a composer reads of a request (the pipeline's context provides it in the product)."""

    question: str
    standalone: str
    language: str
    hits: list[Hit]
    query_vector: list[float] | None = None
    deadline: float = float("inf")
    stats: dict = field(default_factory=dict)

    def emit(self, text: str) -> None:
        pass

    def read(self, doc_id: str, start: int, end: int) -> None:
        pass


class Texts:
    def __init__(self, docs: dict[str, str]) -> None:
        self.docs = docs

    def text(self, doc_id: str) -> str | None:
        return self.docs.get(doc_id)


@pytest.fixture(scope="module")
def seed() -> tuple[str, str, str | None, str | None]:
    path = SEED
    doc = prepare_document(load_file(path, path.parent, 10_000_000).documents[0])
    return doc.doc_id, doc.text, doc.title, doc.date


@pytest.fixture(scope="module")
def texts(seed) -> Texts:
    return Texts({seed[0]: seed[1], OTHER_ID: OTHER_TEXT})


def hits_for(seed, focus: str | None = None, other_first: bool = False) -> list[Hit]:
    """All chunks of the seed (the one containing `focus` first) plus one unrelated document."""
    doc_id, text, title, date = seed
    chunks = chunk_text(doc_id, text)
    if focus is not None:
        chunks.sort(key=lambda c: focus not in c.text)
    hits = [
        Hit(0, 1.0, c.chunk_id, doc_id, c.text, c.start, c.end, title=title, date=date, language="nl")
        for c in chunks
    ]
    other = Hit(
        0,
        0.5,
        "woo-1",
        OTHER_ID,
        OTHER_TEXT,
        0,
        len(OTHER_TEXT),
        title="Woo",
        date="2025-05-01",
        language="nl",
    )
    hits = [other, *hits] if other_first else [*hits, other]
    for rank, hit in enumerate(hits, 1):
        hit.rank = rank
    return hits


def compose(seed, texts, question: str, language: str = "nl", standalone: str | None = None, **kw):
    return ExtractiveComposer(texts).compose(
        Request(question, standalone or question, language, hits_for(seed, **kw))
    )


def assert_verified(answer, texts) -> None:
    _, rejected = verify_citations(answer.citations, texts)
    assert not rejected
    for c in answer.citations:
        assert texts.text(c.doc_id)[c.start : c.end] == c.quote
        assert f"[{c.n}]" in answer.answer


def test_which_partnerships_are_public_names_morocco_and_niger_with_a_withheld_remark(seed, texts):
    answer = compose(seed, texts, "Welke partnerschappen zijn openbaar?", focus="Niger")
    assert answer.status == "answered"
    assert "Marokko" in answer.answer and "Niger" in answer.answer
    assert "Niet alles is openbaar gemaakt" in answer.answer
    assert "withheld_remark" in answer.notes
    assert any("wil niet openbaar maken" in c.quote for c in answer.citations)
    assert 2 <= len(answer.citations) <= 4
    assert_verified(answer, texts)


def test_english_question_gets_english_framing_and_dutch_quotes(seed, texts):
    answer = compose(seed, texts, "Which partnerships are public?", language="en", focus="Niger")
    assert answer.status == "answered"
    assert answer.language == "en"
    assert answer.answer.startswith('According to "Migratiepartnerschappen" (2023-06), in Dutch:')
    assert "Marokko" in answer.answer and "Niger" in answer.answer
    assert "Not everything has been made public" in answer.answer
    assert_verified(answer, texts)


def test_withheld_when_the_sources_say_it_is_not_disclosed(seed, texts):
    answer = compose(
        seed, texts, "Met welke landen in Noord-Afrika worden nog meer partnerschappen gesloten?"
    )
    assert answer.status == "withheld"
    assert answer.answer.startswith("De bronnen zeggen dat deze informatie niet openbaar wordt gemaakt.")
    assert any(
        "niet openbaar maken" in c.quote or "geen andere landen noemen" in c.quote for c in answer.citations
    )
    assert_verified(answer, texts)


def test_withheld_in_english(seed, texts):
    answer = compose(
        seed, texts, "With which other countries are partnerships being concluded?", language="en"
    )
    assert answer.status == "withheld"
    assert answer.answer.startswith("The sources say this information is not being made public.")


@pytest.mark.parametrize(
    "question",
    [
        "Hoeveel migranten zijn er teruggestuurd naar Niger?",
        "Wat kost het migratiepartnerschap met Niger?",
        "Hoeveel geld krijgt Marokko voor het partnerschap?",
        "Wat vindt de minister van kernenergie?",
        "Wat zei Mark Rutte over de juridische status?",
        "What is the capital of Australia?",
    ],
)
def test_not_found_has_no_citations(seed, texts, question):
    answer = compose(seed, texts, question)
    assert answer.status == "not_found"
    assert answer.citations == []
    assert "[1]" not in answer.answer


@pytest.mark.parametrize(
    ("question", "standalone", "expected"),
    [
        (
            "Wat zei zij over de juridische status?",
            "Wat zei Liesje Schreinemacher over de juridische status?",
            "juridische status",
        ),
        ("Wat zei Jan Klink?", None, "onduidelijk"),
        ("What did Jan Klink say?", None, "onduidelijk"),
        ("Wat vroeg Stieneke van der Graaf?", None, "controleren"),
        ("Wie is de staatssecretaris van Asiel?", None, "Eric van der Burg"),
        ("Does a migration partnership have a legal status?", None, "juridische status"),
        ("Wat is volgens Schreinemacher het uitgangspunt van een partnerschap?", None, "effectief"),
        ("Binnen hoeveel weken geeft de overheid antwoord op een Woo-verzoek?", None, "4 weken"),
    ],
)
def test_answered_quotes_the_answering_sentence(seed, texts, question, standalone, expected):
    answer = compose(seed, texts, question, standalone=standalone)
    assert answer.status == "answered", answer.answer
    assert expected in answer.answer
    assert 1 <= len(answer.citations) <= 4
    assert_verified(answer, texts)


def test_question_about_withholding_itself_is_answered(seed, texts):
    answer = compose(
        seed, texts, "Welke informatie geeft de overheid nooit bij een Woo-verzoek?", other_first=True
    )
    assert answer.status == "answered"
    assert "vertrouwelijke" in answer.answer


def test_only_cited_sources_are_listed_and_numbered_in_order(seed, texts):
    answer = compose(seed, texts, "Welke partnerschappen zijn openbaar?")
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert {c.doc_id for c in answer.citations} == {seed[0]}
    assert all(c.title == "Migratiepartnerschappen" and c.date == "2023-06" for c in answer.citations)


def test_no_hits_is_not_found(texts):
    answer = ExtractiveComposer(texts).compose(Request("Wat zei Jan Klink?", "Wat zei Jan Klink?", "nl", []))
    assert answer.status == "not_found" and answer.citations == []


def test_other_question_language_gets_english_framing(seed, texts):
    answer = compose(seed, texts, "Was sagte Jan Klink?", language="de", standalone="Wat zei Jan Klink?")
    assert answer.language == "en"
    assert answer.answer.startswith("According to")
