"""Issue point 4: an answer quotes the sentences that together answer the question, so it does not mislead by
omission.

"Hoe lang is mijn paspoort geldig?" quotes only "Voor personen jonger dan 18 jaar blijft een paspoort of
identiteitskaart 5 jaar geldig." today and leaves out the sentence before it (10 years from 18): an adult reads
5 years. In English the same question is "not found" (point 3).
"""

from __future__ import annotations

import pytest

from tests.ux.helpers import DESKTOP, ask, new_page, open_chat, quotes_in, shot, status_of

pytestmark = pytest.mark.integration

MODULE = "answers"
ADULT = "Voor personen vanaf 18 jaar is het paspoort of de Nederlandse identiteitskaart (ID-kaart) 10 jaar geldig."
CHILD = "Voor personen jonger dan 18 jaar blijft een paspoort of identiteitskaart 5 jaar geldig."


@pytest.mark.parametrize(
    ("locale", "question"),
    [("nl-NL", "Hoe lang is mijn paspoort geldig?"), ("en-US", "How long is my passport valid?")],
)
def test_passport_validity_quotes_the_adult_and_the_child_rule(citizen, browser, locale, question):
    """Both sentences of the source are quoted: 10 years from 18 and 5 years under 18."""
    page, watch = new_page(browser, locale, DESKTOP)
    try:
        open_chat(page, citizen.url)
        text = ask(page, question)
        shot(page, MODULE, f"passport-{locale}")
        assert status_of(text) == "answered", text
        quotes = quotes_in(text)
        assert ADULT in quotes, f"the adult rule (10 years) is not quoted; quotes: {quotes}"
        assert CHILD in quotes, f"the under-18 rule (5 years) is not quoted; quotes: {quotes}"
        watch.assert_clean("while answering")
    finally:
        page.context.close()
