"""K1-K4: only our own source links are clickable links (issue point 3).

A document title that is a markdown link (`[Klik hier voor uw toeslag](https://evil.example/phish)`), a quote holding
`[klik [hier]](//host/x)` and a bare URL in the "understood as" line must be shown as text, never as a link. After each
answer, every `<a href>` in the assistant's messages (answer and sources) must point at a source URL of the store.
"""

from __future__ import annotations

import pytest

from tests.fakellm import Reply, answer_json, passage_with
from tests.security.conftest import (
    DINKELLAND,
    SAFE_URL,
    ZEEWOLDE,
    answer_links,
    ask_in_page,
    open_chat,
    wait_for_answers,
)

pytestmark = pytest.mark.integration


def foreign_links(page, app_url: str) -> list[str]:
    """Links in the assistant's messages that are neither a source URL of ours nor the app itself."""
    return [h for h in answer_links(page) if not h.startswith(SAFE_URL) and not h.startswith(app_url + "/")]


def test_K1_title_written_as_a_markdown_link_is_not_a_link(hostile, browser):
    page, _ = open_chat(browser, hostile.extractive.url)
    try:
        ask_in_page(page, "Wat doet de Hoorn-regeling met de huur van sociale huurwoningen?")
        text = wait_for_answers(page, 1)
        assert "Hoorn" in text, text
        links = foreign_links(page, hostile.extractive.url)
        assert links == [], f"a document title or speaker became a clickable link: {links}"
    finally:
        page.context.close()


def test_K2_quote_with_nested_link_markup_is_not_a_link(hostile, browser):
    """The model repeats a passage sentence holding `[klik [hier]](//host/x)` beside a valid citation."""
    host = hostile.sink.host

    def reply(body):
        n = passage_with(body, DINKELLAND) or 1
        return answer_json(
            f"De regeling vergoedt reiskosten tot 300 euro per jaar [{n}]. "
            f"Meer staat op [klik [hier]](//{host}/quote-link) bij de gemeente [{n}].",
            citations=[(n, DINKELLAND)],
        )

    hostile.fake.reset()
    hostile.fake.script(Reply(reply))
    page, _ = open_chat(browser, hostile.llm.url)
    try:
        ask_in_page(page, "Wat vergoedt de Dinkelland-regeling aan mantelzorgers?")
        text = wait_for_answers(page, 1)
        assert "300 euro" in text, text
        links = foreign_links(page, hostile.llm.url)
        assert links == [], f"text from a quote became a clickable link: {links}"
    finally:
        page.context.close()


def test_K3_bare_url_in_the_understood_as_line_is_not_a_link(hostile, browser):
    def answer(body):
        n = passage_with(body, ZEEWOLDE) or 1
        return answer_json(f"Het gaat om 40 euro per maand [{n}].", citations=[(n, ZEEWOLDE)])

    hostile.fake.reset()
    hostile.fake.script(
        Reply(answer),
        Reply("Wat staat er op https://evil.example/phish over de Zeewolde-regeling?"),
        Reply(answer),
    )
    page, _ = open_chat(browser, hostile.llm.url)
    try:
        ask_in_page(page, "Wat is de Zeewolde-regeling voor de zorgtoeslag?")
        wait_for_answers(page, 1)
        ask_in_page(page, "En wat staat er nog meer?")
        text = wait_for_answers(page, 2)
        assert "Opgevat als" in text or "Understood as" in text, text  # the rewrite was shown
        links = [h for h in foreign_links(page, hostile.llm.url) if "evil.example" in h]
        assert links == [], f"a URL in the rewritten question became a link: {links}"
    finally:
        page.context.close()


def test_K4_bare_and_markdown_links_in_model_text_are_not_links(hostile, browser):
    """Guard: outside links written by the model (markdown and bare) are already removed."""

    def reply(body):
        n = passage_with(body, DINKELLAND) or 1
        return answer_json(
            f"De regeling vergoedt tot 300 euro per jaar, zie [de regeling](https://evil.example/phish) [{n}]. "
            f"Aanvragen via https://evil.example/form of www.evil.example [{n}].",
            citations=[(n, DINKELLAND)],
        )

    hostile.fake.reset()
    hostile.fake.script(Reply(reply))
    page, _ = open_chat(browser, hostile.llm.url)
    try:
        ask_in_page(page, "Wat vergoedt de Dinkelland-regeling aan mantelzorgers?")
        text = wait_for_answers(page, 1)
        assert "300 euro" in text, text
        links = foreign_links(page, hostile.llm.url)
        assert links == [], links
    finally:
        page.context.close()
