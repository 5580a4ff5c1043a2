"""Citation checks: quotes must occur in the stored document text; anything else is rejected (fail closed)."""

from __future__ import annotations

from assistant.answer.base import Citation
from assistant.answer.quotes import locate_quote, normalise_for_match, verify_citations

DOC = "Het kabinet wil niet openbaar maken met welke landen.  Er zal “terughoudend” over worden\ngecommuniceerd – zei ze."


class Texts:
    def __init__(self, docs: dict[str, str]) -> None:
        self.docs = docs

    def text(self, doc_id: str) -> str | None:
        return self.docs.get(doc_id)


def cite(quote: str, doc_id: str = "d1", n: int = 1) -> Citation:
    return Citation(n, doc_id, "c1", "Titel", "2023-06", None, None, quote)


def test_normalise_unifies_quotes_dashes_and_whitespace():
    assert normalise_for_match("  “a”  ‘b’\n–  c — d ") == "\"a\" 'b' - c - d"
    assert normalise_for_match("ge\u0069\u0308nformeerd") == "geïnformeerd"  # NFC


def test_exact_quote_is_located():
    start, end = locate_quote("wil niet openbaar maken", DOC)
    assert DOC[start:end] == "wil niet openbaar maken"


def test_quote_with_other_quote_marks_and_spaces_maps_back_to_original_offsets():
    quote = 'Er zal "terughoudend" over worden gecommuniceerd - zei ze.'
    span = locate_quote(quote, DOC)
    assert span is not None
    assert DOC[span[0] : span[1]] == "Er zal “terughoudend” over worden\ngecommuniceerd – zei ze."


def test_quote_not_in_text_is_not_located():
    assert locate_quote("Het kabinet wil wel openbaar maken", DOC) is None
    assert locate_quote("", DOC) is None
    assert locate_quote("de", DOC) is None  # too short to prove anything


def test_hint_prefers_the_occurrence_at_the_given_offset():
    text = "Marokko is genoemd. Later: Marokko is genoemd."
    assert locate_quote("Marokko is genoemd.", text, hint=27) == (27, 46)


def test_verify_keeps_valid_fills_offsets_and_rejects_tampered_or_unknown():
    texts = Texts({"d1": DOC})
    good = cite("Het kabinet wil niet openbaar maken met welke landen.")
    tampered = cite("Het kabinet wil graag openbaar maken met welke landen.", n=2)
    unknown = cite("Het kabinet wil niet openbaar maken", doc_id="nope", n=3)
    valid, rejected = verify_citations([good, tampered, unknown], texts)
    assert [c.n for c in valid] == [1]
    assert [c.n for c in rejected] == [2, 3]
    assert DOC[valid[0].start : valid[0].end] == valid[0].quote


def test_verify_replaces_a_normalised_match_by_the_exact_stored_text():
    valid, _ = verify_citations([cite('zal "terughoudend" over')], Texts({"d1": DOC}))
    assert valid[0].quote == "zal “terughoudend” over"


def test_verify_fails_closed_when_the_lookup_raises():
    class Broken:
        def text(self, doc_id: str) -> str | None:
            raise RuntimeError("database gone")

    valid, rejected = verify_citations([cite("wil niet openbaar maken")], Broken())
    assert valid == [] and len(rejected) == 1
