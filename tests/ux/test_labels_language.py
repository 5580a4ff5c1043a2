"""Issue points 7 and 8: labels that tell the truth about the answer at hand, and one language per answer.

Point 7: Chainlit's footer "LLM's kunnen fouten maken..." shows in offline mode, where no model is used, and
"Letterlijk geciteerd uit de bronnen (geen taalmodel)" shows under not-found and refused answers that quote nothing.
Point 8: the UI's language follows the browser, an answer's language follows its question, the same question in two
languages gets the same status, and the Dutch UI says "u", never "je".
"""

from __future__ import annotations

import re

import pytest

from tests.ux.helpers import (
    DESKTOP,
    LLM_DISCLAIMER,
    MODE_LABEL,
    OPENBAAR,
    STATUS_LABELS,
    ask,
    clean_env,
    lang_of,
    new_page,
    open_chat,
    shot,
    status_of,
)

pytestmark = pytest.mark.integration

MODULE = "labels"
NOT_FOUND_Q = {"nl": "Wat is de hoofdstad van Australië?", "en": "What is the capital of Australia?"}
REFUSED_Q = {"nl": "Geef me een recept voor appeltaart", "en": "Give me an apple pie recipe"}
ANSWERED_Q = {"nl": "Welke partnerschappen zijn openbaar?", "en": "Which partnerships are public?"}
ENGLISH_UI = ("Toggle theme", "Light Theme", "Dark Theme", "Follow System", "Search conversations")
INFORMAL = re.compile(r"\b(je|jij|jou|jouw|jullie)\b", re.I)


@pytest.mark.parametrize("locale", ["nl-NL", "en-US"])
def test_no_language_model_disclaimer_in_offline_mode(citizen, browser, locale):
    """With no language model configured, nothing says "LLMs can make mistakes" (not on the welcome screen, not
    under an answer)."""
    page, watch = new_page(browser, locale, DESKTOP)
    try:
        open_chat(page, citizen.url)
        ask(page, ANSWERED_Q[lang_of(locale)])
        shot(page, MODULE, f"footer-{locale}")
        text = page.locator("body").inner_text()
        for disclaimer in LLM_DISCLAIMER.values():
            assert disclaimer not in text, f"{disclaimer!r} is shown although no language model is used"
        watch.assert_clean("with an answer")
    finally:
        page.context.close()


@pytest.mark.parametrize("locale", ["nl-NL", "en-US"])
def test_the_mode_label_shows_only_under_answers_that_quote(citizen, browser, locale):
    """ "Quoted verbatim from the sources (no language model)" is true under a quoted answer, and is not shown under
    a not-found or refused answer (which quotes nothing)."""
    lang = lang_of(locale)
    page, watch = new_page(browser, locale, DESKTOP)
    try:
        open_chat(page, citizen.url)
        quoted = ask(page, ANSWERED_Q[lang])
        assert MODE_LABEL[lang] in quoted, f"the quoted answer lost its mode label: {quoted!r}"
        texts = {
            status: ask(page, q)
            for q, status in ((NOT_FOUND_Q[lang], "not_found"), (REFUSED_Q[lang], "refused"))
        }
        shot(page, MODULE, f"mode-label-{locale}")
        for status, text in texts.items():
            assert status_of(text) == status, text
            assert MODE_LABEL[lang] not in text, f"{status} answer says it quotes the sources: {text!r}"
        watch.assert_clean("with three answers")
    finally:
        page.context.close()


def test_a_too_long_dutch_question_in_an_english_browser_is_answered_in_one_language(citizen, browser):
    """An English browser, a Dutch question over the length limit: the status label and the body of the answer are
    in the same language (the question's: Dutch)."""
    question = "Wat heeft de minister gezegd over de migratiepartnerschappen met andere landen? " * 20
    page, watch = new_page(browser, "en-US", DESKTOP)
    try:
        open_chat(page, citizen.url)
        text = ask(page, question.strip())
        shot(page, MODULE, "too-long-en-US")
        assert "te lang" in text, f"the refusal is not in the question's language: {text!r}"
        english = [label for labels in STATUS_LABELS.values() for label in labels[1:] if label in text]
        english += [MODE_LABEL["en"]] if MODE_LABEL["en"] in text else []
        assert not english, f"English labels over a Dutch answer: {english} in {text!r}"
        watch.assert_clean("with the refusal")
    finally:
        page.context.close()


def test_the_same_question_in_two_languages_gets_the_same_status(citizen, browser):
    """ "Geef me een recept voor appeltaart" (nl-NL browser) and "Give me an apple pie recipe" (en-US browser) get
    the same status (both refused: out of scope)."""
    statuses = {}
    for locale in ("nl-NL", "en-US"):
        page, watch = new_page(browser, locale, DESKTOP)
        try:
            open_chat(page, citizen.url)
            statuses[locale] = status_of(ask(page, REFUSED_Q[lang_of(locale)]))
            shot(page, MODULE, f"apple-pie-{locale}")
            watch.assert_clean("with the answer")
        finally:
            page.context.close()
    assert statuses["nl-NL"] == statuses["en-US"], statuses
    assert statuses["nl-NL"] == "refused", statuses


def _dutch_ui_texts(page, citizen_url: str) -> dict[str, str]:
    """The Dutch texts a visitor meets: placeholder, welcome, readme, theme menu, new-chat and settings dialogs."""
    open_chat(page, citizen_url)
    texts = {
        "placeholder": page.locator("#chat-input").get_attribute("placeholder") or "",
        "page": page.locator("body").inner_text(),
    }
    page.locator("#readme-button").click()
    texts["readme"] = page.locator("[role=dialog]").inner_text()
    page.keyboard.press("Escape")
    page.locator("#theme-toggle").click()
    texts["theme menu"] = " | ".join(page.locator("[role=menuitem]").all_inner_texts())
    page.keyboard.press("Escape")
    page.locator("#starters button").first.click()
    page.wait_for_selector("[data-step-type=assistant_message]")
    page.locator("#new-chat-button").click()
    texts["new chat dialog"] = page.locator("[role=dialog]").first.inner_text()
    page.keyboard.press("Escape")
    page.locator("#chat-settings-open-modal").click()
    page.wait_for_timeout(800)
    texts["settings dialog"] = " | ".join(page.locator("[role=dialog]").all_inner_texts())
    return texts


def test_the_dutch_ui_says_u_not_je(citizen, browser):
    """Every Dutch text of the page (placeholder, welcome, starters, readme, new-chat and settings dialogs)
    addresses the visitor as "u", never "je/jij/jouw"."""
    page, _ = new_page(browser, "nl-NL", DESKTOP)
    try:
        texts = _dutch_ui_texts(page, citizen.url)
        shot(page, MODULE, "dutch-ui")
        informal = {where: INFORMAL.findall(text) for where, text in texts.items() if INFORMAL.search(text)}
        assert not informal, (
            f"informal 'je/jij/jouw' in the Dutch UI: {informal} (placeholder {texts['placeholder']!r})"
        )
    finally:
        page.context.close()


def test_the_dutch_ui_has_no_english_labels(citizen, browser):
    """With a Dutch browser the whole UI is Dutch: no Chainlit English such as "Toggle theme", "Light Theme",
    "Dark Theme", "Follow System" (the theme menu and the theme button's label)."""
    page, _ = new_page(browser, "nl-NL", DESKTOP)
    try:
        texts = _dutch_ui_texts(page, citizen.url)
        english = {
            w: [e for e in ENGLISH_UI if e in t] for w, t in texts.items() if any(e in t for e in ENGLISH_UI)
        }
        assert not english, f"English texts in the Dutch UI: {english}"
    finally:
        page.context.close()


@pytest.mark.parametrize(
    ("lang_env", "question", "heading", "other"),
    [
        ("en_US.UTF-8", "Hoe lang is mijn paspoort geldig?", "Bronnen:", "Sources:"),
        ("nl_NL.UTF-8", "Which partnerships are public?", "Sources:", "Bronnen:"),
    ],
    ids=["dutch-question-english-terminal", "english-question-dutch-terminal"],
)
def test_cli_answer_is_in_the_language_of_the_question(
    samples_store, ux_cache, tmp_path, lang_env, question, heading, other
):
    """`openbaar ask QUESTION`: the sources heading under the answer is in the answer's (the question's) language,
    whatever the terminal's LANG."""
    import subprocess

    env = clean_env(
        OPENBAAR_STORE=str(samples_store),
        OPENBAAR_EMBEDDING_CACHE=str(ux_cache / "embeddings.sqlite"),
        TIKTOKEN_CACHE_DIR=str(ux_cache / "tiktoken"),
    )
    env["LANG"] = lang_env
    done = subprocess.run(
        [*OPENBAAR, "ask", question], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = [line.strip() for line in done.stdout.splitlines()]
    assert heading in lines and other not in lines, f"LANG={lang_env}, question {question!r}:\n{done.stdout}"
