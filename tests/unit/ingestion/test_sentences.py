"""Sentences: what is embedded on its own and what an offline answer may quote."""

from __future__ import annotations

from ingestion.sentences import document_sentences, sentence_id, sentence_spans

PAGE = (
    "Hoe lang is een paspoort geldig?\n\n"
    "Voor personen vanaf 18 jaar is het paspoort 10 jaar geldig. Voor kinderen is het 5 jaar geldig.\n\n"
    "Verschillen paspoort en ID-kaart\n\n"
    "De verschillen zijn:\n"
    "- een ID-kaart is goedkoper dan een paspoort;\n"
    "- met een paspoort kunt u wereldwijd reizen.\n"
    "## Kosten\n"
    "Ja."
)


def _kinds(text):
    return [(text[s:e], kind) for s, e, kind in sentence_spans(text)]


def test_statements_questions_and_headings_are_told_apart():
    kinds = dict(_kinds(PAGE))
    assert kinds["Hoe lang is een paspoort geldig?"] == "question"
    assert kinds["Voor personen vanaf 18 jaar is het paspoort 10 jaar geldig."] == "statement"
    assert kinds["Voor kinderen is het 5 jaar geldig."] == "statement"
    assert (
        kinds["Verschillen paspoort en ID-kaart"] == "heading"
    )  # a title line is never quoted as a sentence
    assert kinds["De verschillen zijn:"] == "statement"


def test_list_items_are_sentences_without_their_marker_and_short_bits_are_left_out():
    spans = _kinds(PAGE)
    assert ("een ID-kaart is goedkoper dan een paspoort;", "statement") in spans
    assert not any(text.startswith(("-", "#")) for text, _ in spans)
    assert all(text != "Ja." for text, _ in spans)


def test_document_sentences_are_statements_and_questions_with_stable_ids():
    sentences = document_sentences("doc", PAGE)
    texts = [s.text for s in sentences]
    assert "Verschillen paspoort en ID-kaart" not in texts and "Hoe lang is een paspoort geldig?" in texts
    assert [s.index for s in sentences] == list(range(len(sentences)))
    for s in sentences:
        assert PAGE[s.start : s.end] == s.text
        assert s.sentence_id == sentence_id("doc", s.start, s.text)
    assert document_sentences("doc", PAGE)[0].sentence_id == sentences[0].sentence_id
