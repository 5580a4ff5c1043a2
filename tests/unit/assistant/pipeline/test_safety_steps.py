"""The safety steps of the answer path on a real store: personal data masked before anything sees the question, the
answer made inert (titles, speakers, the rewritten question), every streamed piece inert."""

from __future__ import annotations

import json

import pytest

from assistant.answer.extractive.composer import ExtractiveComposer
from assistant.pipeline import answer_pipeline
from assistant.safety.markdown import GFM_URL, has_markup
from tests.conftest import build_store
from vectorstore.retrieval.hybrid import HybridRetriever

ZEEWOLDE = (
    "De Zeewolde-regeling geeft huishoudens met een laag inkomen een extra zorgtoeslag van 40 euro per maand."
)
DOCS = [
    {
        "id": "zeewolde",
        "title": "Zorgtoeslag [Klik hier](https://evil.example/phish) ![t](//evil.example/t.png)",
        "date": "2024-03-01",
        "url": "https://www.rijksoverheid.nl/zeewolde",
        "language": "nl",
        "speaker": "Minister [Bel](https://evil.example/call) de Vries",
        "text": f"{ZEEWOLDE} De regeling loopt tot eind 2025.",
    }
]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, shared_cache):
    folder = tmp_path_factory.mktemp("safety-steps")
    docs = folder / "docs.jsonl"
    docs.write_text("".join(json.dumps(d) + "\n" for d in DOCS))
    store = build_store(folder, [docs], shared_cache, documents=1)
    yield answer_pipeline(HybridRetriever(store), ExtractiveComposer(store.catalog), store.catalog)
    store.close()


def test_personal_data_is_masked_and_the_user_told(pipeline):
    seen: list[str] = []
    ctx = pipeline.run_context(
        "Mijn BSN is 123456782 en mijn mail jan@example.nl: wat is de Zeewolde-regeling voor de zorgtoeslag?",
        history=["Bel mij op 06-12345678"],
        on_token=seen.append,
    )
    answer = ctx.answer
    shown = json.dumps(answer.to_dict(), ensure_ascii=False) + "".join(seen)
    assert "123456782" not in shown and "jan@example.nl" not in shown
    assert ctx.history == ["Bel mij op [PHONE]"] and ctx.stats["personal_data"] == ["bsn", "email", "phone"]
    assert answer.answer.startswith("Uw vraag bevatte persoonsgegevens (burgerservicenummer, e-mailadres")
    assert "personal_data_masked" in answer.notes


def test_answer_and_sources_are_inert(pipeline):
    seen: list[str] = []
    answer = pipeline.run("Wat is de Zeewolde-regeling voor de zorgtoeslag?", on_token=seen.append)
    assert answer.status == "answered" and "40 euro" in answer.answer
    assert answer.citations
    for citation in answer.citations:
        assert citation.title == "Zorgtoeslag Klik hier" and citation.speaker == "Minister Bel de Vries"
    shown = [answer.answer, "".join(seen)] + [v for c in answer.citations for v in (c.title, c.speaker)]
    for text in shown:
        assert "evil.example" not in text and not has_markup(text) and not GFM_URL.search(text), text
