"""Issue point 1: every control of the chat can be clicked, and none of them blanks the page or logs an error.

The settings (filter) button is the one the README and the welcome point to; today it blanks the whole page
(React: "A <Select.Item /> must have a value prop that is not an empty string").
"""

from __future__ import annotations

import re

import pytest

from tests.ux.helpers import DESKTOP, PHONE, answers, ask, lang_of, new_page, open_chat, shot, wait_answer

pytestmark = pytest.mark.integration

MODULE = "controls"
FILTER_LABELS = {
    "nl": ("Soort document", "Taal van de bron"),
    "en": ("Document type", "Language of the source"),
}
CONFIRM = re.compile(r"^(Bevestigen|Bevestig|Confirm|Opslaan|Save|Toepassen|Apply)$", re.I)
FILTERED = {"nl": "Gefilterd op", "en": "Filtered by"}
QUESTION = {"nl": "Welke partnerschappen zijn openbaar?", "en": "Which partnerships are public?"}

CASES = [("nl-NL", DESKTOP), ("en-US", DESKTOP), ("nl-NL", PHONE)]
IDS = ["nl-NL-desktop", "en-US-desktop", "nl-NL-390x844"]


def settings_dialog(page):
    return page.locator("[role=dialog]").filter(has=page.locator("[role=combobox]"))


def page_is_blank(page) -> bool:
    return (
        page.evaluate("() => document.body.innerText.trim().length === 0")
        or page.locator("#chat-input").count() == 0
    )


@pytest.mark.parametrize(("locale", "viewport"), CASES, ids=IDS)
def test_settings_button_opens_the_filters_and_they_apply(citizen, browser, locale, viewport):
    """Click the settings button beside the message box: a dialog with the date range, document type and language
    filters opens; each select opens and takes an option, the date picker opens; confirming keeps the chat usable
    and the next answer says it was filtered."""
    lang = lang_of(locale)
    name = f"settings-{locale}-{viewport['width']}"
    page, watch = new_page(browser, locale, viewport)
    try:
        open_chat(page, citizen.url)
        page.locator("#chat-settings-open-modal").click()
        page.wait_for_timeout(800)
        shot(page, MODULE, f"{name}-opened")
        watch.assert_clean("after clicking the settings button")
        assert not page_is_blank(page), "the settings button blanked the page"
        dialog = settings_dialog(page)
        assert dialog.count() == 1, "no settings dialog with filters opened"
        dialog_text = dialog.inner_text()
        for label in FILTER_LABELS[lang]:
            assert label in dialog_text, (label, dialog_text)

        selects = dialog.locator("[role=combobox]")
        assert selects.count() >= 2, "expected a select for the document type and one for the language"
        for i in range(selects.count()):
            selects.nth(i).click()
            options = page.locator("[role=option]")
            options.first.wait_for()
            assert options.count() >= 2, "a filter select offers no choice besides 'all'"
            options.last.click()
            page.wait_for_timeout(200)
            watch.assert_clean(f"after choosing in select {i + 1}")

        picker = dialog.locator("button[aria-haspopup=dialog]").or_(
            dialog.locator("button").filter(has_text=re.compile(r"Alle datums|Any date|\d{4}"))
        )
        assert picker.count() >= 1, "no date picker button in the settings dialog"
        picker.first.click()
        page.locator("[role=grid]").first.wait_for()  # the calendar
        shot(page, MODULE, f"{name}-calendar")
        page.keyboard.press("Escape")
        page.wait_for_timeout(200)
        if settings_dialog(page).count() == 0:  # Escape closed the whole dialog: open it again to confirm
            page.locator("#chat-settings-open-modal").click()
        settings_dialog(page).locator("button").filter(has_text=CONFIRM).first.click()
        page.wait_for_timeout(300)
        watch.assert_clean("after confirming the filters")
        assert not page_is_blank(page)

        text = ask(page, QUESTION[lang])
        shot(page, MODULE, f"{name}-filtered-answer")
        assert FILTERED[lang] in text, text
        watch.assert_clean("after a filtered question")
    finally:
        page.context.close()


@pytest.mark.parametrize(
    ("locale", "viewport"), [("nl-NL", DESKTOP), ("en-US", PHONE)], ids=["nl-NL", "en-US-390x844"]
)
def test_every_control_can_be_clicked_without_errors(citizen, browser, locale, viewport):
    """Readme (open, close), theme toggle (each choice), a starter, copy, thumbs up and down with a comment,
    new chat (confirm) and the settings button last: no console error, no page error, the chat stays usable."""
    name = f"sweep-{locale}-{viewport['width']}"
    page, watch = new_page(browser, locale, viewport)
    try:
        open_chat(page, citizen.url)

        page.locator("#readme-button").click()
        page.locator("[role=dialog]").wait_for()
        shot(page, MODULE, f"{name}-readme")
        page.keyboard.press("Escape")
        page.locator("[role=dialog]").wait_for(state="detached")
        watch.assert_clean("after the readme")

        for i in range(3):
            page.locator("#theme-toggle").click()
            items = page.locator("[role=menuitem]")
            items.first.wait_for()
            items.nth(min(i, items.count() - 1)).click()
            page.wait_for_timeout(200)
        shot(page, MODULE, f"{name}-theme")
        watch.assert_clean("after the theme toggle")

        page.locator("#starters button").first.click()
        wait_answer(page, 1)
        answer = answers(page).first
        answer.hover()
        copy = answer.locator("button:has(svg.lucide-copy)")
        if copy.count():
            copy.first.click()
        for icon, comment in (("thumbs-up", "Duidelijk"), ("thumbs-down", "Te lang")):
            answer.hover()
            button = answer.locator(f"button:has(svg.lucide-{icon})")
            assert button.count() >= 1, f"no {icon} button under the answer"
            button.first.click()
            page.locator("[role=dialog] textarea").fill(comment)
            page.locator("#submit-feedback").click()
            page.wait_for_timeout(300)
        shot(page, MODULE, f"{name}-feedback")
        watch.assert_clean("after the starter and the feedback buttons")

        page.locator("#new-chat-button").click()
        page.locator("[role=dialog] button").filter(has_text=CONFIRM).first.click()
        page.wait_for_selector("#starters button")
        watch.assert_clean("after a new chat")

        page.locator("#chat-settings-open-modal").click()
        page.wait_for_timeout(800)
        shot(page, MODULE, f"{name}-settings")
        watch.assert_clean("after the settings button")
        assert not page_is_blank(page), "the settings button blanked the page"
        page.keyboard.press("Escape")
        page.wait_for_timeout(300)
        assert page.locator("#chat-input").is_visible()
    finally:
        page.context.close()
