"""Mojibake repair, text normalisation and document preparation."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from ingestion.clean import clean_text, prepare_document, repair_mojibake
from tests.conftest import DATA, SEED, VAC
from vectorstore.records import Document

CORPUS_SAMPLES = {"nl_rijksoverheid_vac": VAC, "nl_tk_plenaire_debatten": DATA / "tk_debates_sample.jsonl"}


# --- mojibake ----------------------------------------------------------------------------------------------


def test_seed_cp437_mojibake_is_repaired_and_curly_quotes_kept() -> None:
    raw = SEED.read_text(encoding="utf-8")
    assert "ge├»nformeerd" in raw  # the fixture still holds the problem
    fixed = repair_mojibake(raw)
    assert "geïnformeerd" in fixed
    assert "├" not in fixed
    assert "“terughoudend”" in fixed
    assert fixed.count("“") == raw.count("“") and fixed.count("”") == raw.count("”")
    assert fixed == raw.replace("ge├»nformeerd", "geïnformeerd")  # nothing else changed


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ("Ã©Ã©n ministerie", "één ministerie"),  # UTF-8 read as Latin-1 (the Handelingen problem)
        ("geÃ¯nformeerd", "geïnformeerd"),
        ("Ã‰Ã©n", "Één"),
        ("â€œterughoudendâ€\x9d, zei ze", "“terughoudend”, zei ze"),  # cp1252 / Latin-1 mix
        ("het kabinetâ€™s besluit â€“ nu", "het kabinet’s besluit – nu"),
        ("ÃƒÂ©Ãƒ©n", "één"),  # encoded twice
        ("ï»¿Hallo", "\ufeffHallo"),  # BOM as seen through Latin-1
        ("Ð¿Ñ€Ð¸Ð²ÐµÑ‚", "привет"),
        ("ðŸ˜€ top", "😀 top"),
        ("ge├»nformeerd en ├®├®n", "geïnformeerd en één"),  # CP437
    ],
)
def test_repairs_mojibake(broken: str, expected: str) -> None:
    assert repair_mojibake(broken) == expected


@pytest.mark.parametrize(
    "correct",
    [
        "Er zal “terughoudend” over worden gecommuniceerd – zei ze… ‘echt’ „zo”.",
        "Één café, één ministerie, geïnformeerd, naïef, coördinatie, reünie, ruïne.",
        "HET CAFÉ” en ACCIÓ”",  # capital + curly quote would decode to IPA/Cyrillic
        "Größe, Škoda, İstanbul, Łódź, São Paulo, façade, smørrebrød",
        "Ça coûte 5 € — ±½ °C, 3×4, µg, §2, ©2023, ™",
        "Ελληνικά και русский текст",
        "├── map\n│   └── bestand",
        "中文 日本語 😀👍🏽",
    ],
)
def test_correct_text_is_not_changed(correct: str) -> None:
    assert repair_mojibake(correct) == correct


def _whitespace_only(text: str) -> str:
    """What clean_text may legitimately change in correct text: NFC and whitespace, nothing else."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\t", " ")
    text = re.sub(r" {2,}", " ", text)
    text = re.sub(r" ?\n ?", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@pytest.mark.parametrize("corpus", ["nl_rijksoverheid_vac", "nl_tk_plenaire_debatten"])
def test_clean_dutch_corpus_comes_out_unchanged(corpus: str) -> None:
    path = CORPUS_SAMPLES[corpus]
    with path.open(encoding="utf-8") as fh:
        docs = [json.loads(line) for _, line in zip(range(200), fh, strict=False)]
    assert len(docs) >= 150  # VAC has 179 documents in all
    changed = [d["id"] for d in docs if clean_text(d["text"]) != _whitespace_only(d["text"])]
    assert changed == []


# --- clean_text --------------------------------------------------------------------------------------------


def test_whitespace_is_normalised_into_paragraphs() -> None:
    raw = (
        "\r\n  Eerste\tregel   met  spaties  \r\nTweede regel\n\n\n\n   \n Tweede alinea.\n\n\f  Derde.  \n\n"
    )
    assert clean_text(raw) == "Eerste regel met spaties\nTweede regel\n\nTweede alinea.\n\nDerde."


def test_invisible_and_control_characters_are_removed() -> None:
    raw = "\ufeffZero\u200bwidth\u200c \u200djoin\u2060er \x00nul\x07bel \U000e0041\U000e007ftag\x9dc1"
    assert clean_text(raw) == "Zerowidth joiner nulbel tagc1"


def test_text_is_nfc_normalised() -> None:
    decomposed = "e\u0301e\u0301n cafe\u0301"
    assert clean_text(decomposed) == "één café"
    assert len(clean_text(decomposed)) == len("één café")


def test_quotes_are_kept_as_in_the_source() -> None:
    assert clean_text("Hij zei \"ja\" en 'nee' en “misschien” ‘ooit’.") == (
        "Hij zei \"ja\" en 'nee' en “misschien” ‘ooit’."
    )


def test_clean_text_repairs_seed_mojibake() -> None:
    raw = SEED.read_text(encoding="utf-8")
    cleaned = clean_text(raw)
    assert cleaned.startswith("date 2023-06 Het kabinet")  # clean_text does not parse headers
    assert "geïnformeerd" in cleaned and "├" not in cleaned and "“terughoudend”" in cleaned


# --- prepare_document --------------------------------------------------------------------------------------


def _doc(**kwargs: object) -> Document:
    base: dict[str, object] = {"doc_id": "d1", "text": "x", "source_path": Path("/tmp/d1.txt")}
    base.update(kwargs)
    return Document(**base)  # type: ignore[arg-type]


def test_prepare_document_cleans_fields_and_normalises_date_and_language() -> None:
    doc = _doc(
        text="  Het kabinet heeft de Kamer  geÃ¯nformeerd over de migratiepartnerschappen.\n\n\n\nEinde. ",
        title="Kamerbrief\n  over   migratie",
        speaker=" Minister\tDe Jonge ",
        party="",
        date="14-06-2023",
        language="NL-nl",
        extra={"source": "repo@abc"},
    )
    out = prepare_document(doc)
    assert out.text == "Het kabinet heeft de Kamer geïnformeerd over de migratiepartnerschappen.\n\nEinde."
    assert out.title == "Kamerbrief over migratie"
    assert out.speaker == "Minister De Jonge"
    assert out.party is None
    assert out.date == "2023-06-14"
    assert out.language == "nl"
    assert out.extra == {"source": "repo@abc"}
    assert doc.text.startswith("  Het kabinet")  # the input is not modified
    assert out is not doc


def test_prepare_document_detects_missing_language() -> None:
    nl = prepare_document(_doc(text="De minister van Financiën stuurt de Kamer een brief over de begroting."))
    en = prepare_document(_doc(text="The minister sends Parliament a letter about the budget for next year."))
    short = prepare_document(_doc(text="Ja."))
    assert (nl.language, en.language, short.language) == ("nl", "en", "und")


def test_prepare_document_keeps_an_unreadable_date_in_extra() -> None:
    out = prepare_document(_doc(date="ergens in juni", language="nl"))
    assert out.date is None
    assert out.extra["date_raw"] == "ergens in juni"
