"""Sentence-aware chunking: offsets, sizes, overlap and stable ids."""

from __future__ import annotations

import itertools

import pytest

from ingestion.chunking import chunk_text, split_sentences
from ingestion.tokens import count_tokens

TEXT = (
    "Het kabinet wil niet openbaar maken met welke landen partnerschappen worden afgesloten. "
    "Er zal “terughoudend” over worden gecommuniceerd, zei de minister. “We informeren de Kamer.”\n\n"
    "Dhr. J. Klink (VVD) vond het onduidelijk, o.a. over de kosten. Ze noemde alleen Marokko.\n\n"
    "Het is al bekend dat ook met Niger een partnerschap is gesloten."
)


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_sentences_split_at_quotes_and_paragraphs_but_not_abbreviations():
    assert sentences(TEXT) == [
        "Het kabinet wil niet openbaar maken met welke landen partnerschappen worden afgesloten.",
        "Er zal “terughoudend” over worden gecommuniceerd, zei de minister.",
        "“We informeren de Kamer.”",
        "Dhr. J. Klink (VVD) vond het onduidelijk, o.a. over de kosten.",
        "Ze noemde alleen Marokko.",
        "Het is al bekend dat ook met Niger een partnerschap is gesloten.",
    ]


def test_chunk_text_is_exactly_the_slice_of_the_document():
    chunks = chunk_text("doc", TEXT, max_tokens=30, overlap_tokens=10)
    assert len(chunks) > 2
    for c in chunks:
        assert TEXT[c.start : c.end] == c.text
        assert c.tokens == count_tokens(c.text)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[0].start == 0 and chunks[-1].end == len(TEXT)


def test_chunks_respect_the_token_budget_and_overlap():
    chunks = chunk_text("doc", TEXT, max_tokens=30, overlap_tokens=15)
    assert all(c.tokens <= 30 for c in chunks)
    # consecutive chunks share the trailing sentence(s) that fit in the overlap
    assert any(b.start < a.end for a, b in itertools.pairwise(chunks))
    # every sentence is in at least one chunk
    for s, e in split_sentences(TEXT):
        assert any(c.start <= s and e <= c.end for c in chunks)


def test_without_overlap_chunks_do_not_overlap():
    chunks = chunk_text("doc", TEXT, max_tokens=30, overlap_tokens=0)
    assert all(b.start >= a.end for a, b in itertools.pairwise(chunks))


def test_a_sentence_longer_than_the_budget_is_split_at_words():
    long_sentence = " ".join(["migratiepartnerschap"] * 200) + "."
    chunks = chunk_text("doc", long_sentence, max_tokens=50, overlap_tokens=0)
    assert len(chunks) > 3
    assert all(c.tokens <= 50 for c in chunks)
    assert " ".join(c.text for c in chunks) == long_sentence


@pytest.mark.parametrize("overlap", [0, 20])
def test_ids_are_stable_and_depend_on_text(overlap):
    first = chunk_text("doc", TEXT, 30, overlap)
    again = chunk_text("doc", TEXT, 30, overlap)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    assert len({c.chunk_id for c in first}) == len(first)
    other_doc = chunk_text("other", TEXT, 30, overlap)
    assert not {c.chunk_id for c in first} & {c.chunk_id for c in other_doc}
    edited = chunk_text("doc", TEXT.replace("Marokko", "Tunesië"), 30, overlap)
    changed = {c.chunk_id for c in edited} - {c.chunk_id for c in first}
    assert changed and len(changed) < len(edited)  # only chunks holding the edit get new ids


def test_repeated_paragraphs_get_distinct_ids():
    text = "Dank u wel.\n\nDank u wel.\n\nDank u wel."
    chunks = chunk_text("doc", text, max_tokens=count_tokens("Dank u wel."), overlap_tokens=0)
    assert [c.text for c in chunks] == ["Dank u wel."] * 3
    assert len({c.chunk_id for c in chunks}) == 3


def test_empty_text_gives_no_chunks():
    assert chunk_text("doc", "", 50, 10) == []
    assert chunk_text("doc", "  \n\n ", 50, 10) == []
