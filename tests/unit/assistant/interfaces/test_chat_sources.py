"""The chat's sources under an answer ("show in the source"), Chainlit's texts in our words, and the app root."""

from __future__ import annotations

import json
import re

import pytest

from assistant.answer.base import Answer, Citation
from assistant.interfaces.chat import chainlit_compat as compat
from assistant.interfaces.chat.sources import paragraphs, sources_props, window
from assistant.interfaces.chat.texts import chainlit_overrides, widget_texts

TEXT = (
    "Het kabinet wil niet openbaar maken met welke landen.\n\n"
    "Ze noemde alleen Marokko als land waar een partnerschap mee is. Verder worden ze aangegaan met\n"
    "landen in de Sahel.\n\n"
    "Het is trouwens al bekend dat ook met Niger een migratiepartnerschap is gesloten.\n"
)
QUOTE = "Ze noemde alleen Marokko als land waar een partnerschap mee is."


class Texts:
    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts
        self.asked: list[str] = []

    def text(self, doc_id: str) -> str | None:
        self.asked.append(doc_id)
        return self.texts.get(doc_id)


def _citation(n: int, quote: str, **kw) -> Citation:
    start = TEXT.find(quote)
    base = {
        "n": n,
        "doc_id": "seed",
        "chunk_id": "seed:0",
        "title": "Migratiepartnerschappen",
        "date": "2023-06",
        "speaker": "Liesje Schreinemacher",
        "url": None,
        "quote": quote,
        "start": start,
        "end": start + len(quote),
    }
    return Citation(**{**base, **kw})


def _answer(text: str, citations: list[Citation], language: str = "nl") -> Answer:
    return Answer(
        question="q", standalone_question="q", status="answered", answer=text, language=language,
        citations=citations,
    )  # fmt: skip


def test_paragraphs_are_separated_by_blank_lines_and_the_window_grows_around_the_quote():
    spans = paragraphs(TEXT)
    assert TEXT[spans[0][0] : spans[0][1]] == "Het kabinet wil niet openbaar maken met welke landen."
    assert len(spans) == 3
    start = TEXT.find(QUOTE)
    assert window(spans, start, start + len(QUOTE)) == (0, 2)  # a short document: all of it
    assert window(spans, start, start + len(QUOTE), budget=len(QUOTE) + 60) == (1, 1)  # only its paragraph


def test_show_in_the_source_uses_the_stored_text_and_the_verified_offsets():
    niger = "Het is trouwens al bekend dat ook met Niger een migratiepartnerschap is gesloten."
    texts = Texts({"seed": TEXT})
    answer = _answer(f"“{QUOTE}” [1]\n“{niger}” [2]", [_citation(2, niger), _citation(1, QUOTE)])
    props = sources_props(answer, texts, "nl", "openbaar-abc")
    assert props["anchor"] == "openbaar-abc" and props["labels"]["show"] == "Toon in de bron"
    assert [s["n"] for s in props["sources"]] == [1, 2]  # in [n] order, whatever order they came in
    first = props["sources"][0]
    assert first["quote"] is None  # already shown in the answer: each quote is shown once
    passage = props["passages"][first["passage"]]
    shown = "".join(p["text"] for p in passage["paragraphs"])
    start, end = first["mark"]
    assert TEXT[start:end] == QUOTE and QUOTE in shown
    paragraph = next(p for p in passage["paragraphs"] if p["start"] <= start < p["start"] + len(p["text"]))
    assert paragraph["text"][start - paragraph["start"] : end - paragraph["start"]] == QUOTE
    assert props["sources"][1]["passage"] == first["passage"]  # one copy of a passage for both quotes
    assert texts.asked == ["seed"]


def test_a_quote_the_answer_does_not_show_is_in_the_source_list_and_offsets_are_found_when_missing():
    citation = _citation(1, QUOTE, start=None, end=None, language="nl")
    props = sources_props(
        _answer("The minister named Morocco only [1].", [citation], "en"), Texts({"seed": TEXT}), "en", "a"
    )
    source = props["sources"][0]
    assert source["quote"] == QUOTE and source["note"] == "Quote in Dutch"
    assert TEXT[source["mark"][0] : source["mark"][1]] == QUOTE
    assert props["labels"]["show"] == "Show in the source"


def test_only_plain_web_links_and_only_stored_text_reach_the_page():
    citation = _citation(1, QUOTE, url="javascript:alert(1)", title="<img src=x onerror=alert(1)>")
    props = sources_props(_answer(f"“{QUOTE}” [1]", [citation]), Texts({"seed": TEXT}), "nl", "a")
    source = props["sources"][0]
    assert source["url"] is None
    assert source["title"] == "<img src=x onerror=alert(1)>"  # plain text: the element shows it as text
    missing = sources_props(_answer("x [1]", [_citation(1, QUOTE, doc_id="gone")]), Texts({}), "nl", "a")
    assert missing["sources"][0]["passage"] is None and missing["passages"] == {}


def test_the_element_renders_text_never_html():
    element = (compat.assets() / "public" / "elements" / "OpenbaarSources.jsx").read_text(encoding="utf-8")
    assert "dangerouslySetInnerHTML" not in element and "innerHTML" not in element
    assert 'rel="noopener noreferrer"' in element


@pytest.mark.parametrize("mode", ["extractive", "llm"])
def test_chainlit_texts_say_u_and_tell_how_answers_are_made(mode):
    overrides = chainlit_overrides(mode)
    flat: dict[str, str] = {}

    def walk(tree, path=""):
        for key, value in tree.items():
            walk(value, f"{path}{key}.") if isinstance(value, dict) else flat.__setitem__(path + key, value)

    walk(overrides["nl"])
    informal = {k: v for k, v in flat.items() if re.search(r"\b(je|jij|jou|jouw|jullie)\b", v, re.I)}
    assert not informal
    assert flat["chat.input.placeholder"] == "Typ hier uw vraag..."
    assert flat["auth.login.form.email.label"] == "Gebruikersnaam"
    footer = overrides["en"]["chat"]["watermark"]
    assert ("language model writes" in footer) is (mode == "llm") and "personal data" in footer
    assert "LLMs can make mistakes" not in footer


def test_the_app_root_speaks_dutch_to_dutch_browsers_and_english_to_all_others(tmp_path):
    entry = compat.prepare_app_root(tmp_path, chainlit_overrides("extractive"))
    assert entry.is_file() and (tmp_path / "public" / "elements" / "OpenbaarSources.jsx").is_file()
    folder = tmp_path / ".chainlit" / "translations"

    def read(name: str) -> dict:
        return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))

    assert read("nl-NL")["chat"]["input"]["placeholder"] == "Typ hier uw vraag..."
    assert read("nl-BE")["navigation"]["header"]["theme"]["light"] == "Licht"
    assert read("de-DE")["chat"]["input"]["placeholder"] == "Type your question here..."
    assert read("en-GB")["auth"]["login"]["form"]["email"]["label"] == "User name"
    assert read("en-US")["common"]["actions"]["confirm"] == "Confirm"  # Chainlit's own texts stay


def test_widget_texts_exist_in_both_languages():
    texts = widget_texts()
    assert set(texts) == {"nl", "en"}
    assert "mag de chat niet gebruiken" in texts["nl"]["refused"]
    assert "may not use the chat" in texts["en"]["refused"]
    assert all(texts[lang][key] for lang in texts for key in ("button", "welcome", "unreachable"))


def test_stored_element_props_are_read_back_as_a_dict():
    assert compat._props('{"anchor": "a"}') == {"anchor": "a"}
    assert compat._props({"anchor": "a"}) == {"anchor": "a"}
    assert compat._props(None) == {} and compat._props("not json") == {}
